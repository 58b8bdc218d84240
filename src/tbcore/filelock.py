"""Exclusive locks on local files across processes and threads, for read-modify-write asset updates.

The lock on ``path`` is an ``flock`` on the sidecar file ``path + ".lock"``, created when the
lock is taken and removed when it is released (so no lock file stays in the log directory).
A waiter that wakes up holding a lock file that was removed meanwhile opens the new one
and waits again. ``flock`` locks belong to an open file, so two threads of one process
exclude each other as two processes do. The operating system drops the lock of a process
that dies; its lock file is then removed by the next holder.

Windows has no ``flock``: there the functions here lock nothing (documented limitation).
"""

from __future__ import annotations

import contextlib
import os
import sys
from collections.abc import Iterable, Iterator

if sys.platform != "win32":
    import fcntl

__all__ = ["LOCK_SUFFIX", "locked"]

LOCK_SUFFIX = ".lock"


@contextlib.contextmanager
def locked(paths: Iterable[str]) -> Iterator[None]:
    """Hold an exclusive lock on each of ``paths`` (taken in sorted order, so that two callers never deadlock)."""
    with contextlib.ExitStack() as stack:
        for path in sorted(set(paths)):
            stack.enter_context(_locked(path))
        yield


@contextlib.contextmanager
def _locked(path: str) -> Iterator[None]:
    if sys.platform == "win32":
        yield
        return
    lock_path = path + LOCK_SUFFIX
    os.makedirs(os.path.dirname(lock_path) or ".", exist_ok=True)
    fd = _acquire(lock_path)
    try:
        yield
    finally:
        try:
            if _is_at(fd, lock_path):  # else removed by someone else (a cleanup of *.lock files), maybe replaced
                os.unlink(lock_path)  # while holding the lock: a waiter on this file then sees it is gone
        finally:
            os.close(fd)


def _is_at(fd: int, lock_path: str) -> bool:
    """Return True if the open file ``fd`` is still the file at ``lock_path``."""
    try:
        return os.path.samestat(os.fstat(fd), os.stat(lock_path))
    except FileNotFoundError:
        return False


def _acquire(lock_path: str) -> int:
    """Return an open descriptor of ``lock_path`` holding its lock, the file still being the one at that path."""
    while True:
        fd = os.open(lock_path, os.O_RDWR | os.O_CREAT | os.O_NOFOLLOW, 0o644)  # never through a symbolic link
        try:
            fcntl.flock(fd, fcntl.LOCK_EX)
            if _is_at(fd, lock_path):
                return fd
            # else the holder removed the file while we waited: take the next one
        except BaseException:
            os.close(fd)
            raise
        os.close(fd)
