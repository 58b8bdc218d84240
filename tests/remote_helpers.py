"""Helpers for the remote-storage tests: copy a store's objects to a local directory, count uploads, fork."""

from __future__ import annotations

import os
import pathlib
import threading
import traceback
from collections.abc import Callable
from typing import Any

from reliability_helpers import wait_child
from tbcore.reader import list_runs
from tbcore.testing import read_events


def download(fs: Any, root: str, target: pathlib.Path) -> list[str]:
    """Copy every object under ``root`` of ``fs`` into ``target`` (same relative paths); return them sorted."""
    root = fs._strip_protocol(root).rstrip("/")
    names = []
    for path in sorted(fs.find(root)):
        relative = path[len(root) + 1 :]
        local = target / relative
        local.parent.mkdir(parents=True, exist_ok=True)
        local.write_bytes(fs.cat_file(path))
        names.append(relative)
    return names


class UploadCounter:
    """Wraps a ``pipe_file``-like callable and records the size of every upload."""

    def __init__(self, inner: Any) -> None:
        self.inner = inner
        self.sizes: list[int] = []
        self.fail_next: list[BaseException] = []

    def __call__(self, path: str, data: bytes, *args: Any, **kwargs: Any) -> Any:
        if self.fail_next:
            raise self.fail_next.pop(0)
        self.sizes.append(len(data))
        return self.inner(path, data, *args, **kwargs)


def log_dir_contents(root: pathlib.Path) -> tuple[dict[str, bytes], dict[str, list]]:
    """Asset files (name -> bytes) and each run's events without wall times, for comparing two log dirs."""
    assets, runs = {}, {}
    for path in sorted(root.rglob("*")):
        if path.is_file() and "tfevents" not in path.name:
            assets[str(path.relative_to(root))] = path.read_bytes()
    for run in list_runs(root):
        events = read_events(root, run)
        for event in events:
            event.wall_time = 0
        runs[run] = [event for event in events if not event.HasField("file_version")]
    return assets, runs


def fork_while_held(lock: Any, work: Callable[[], None], timeout: float = 60.0) -> int:
    """Fork while another thread holds ``lock``, run ``work()`` in the child; return the child's exit status.

    The status is 0 if ``work`` returned and 1 if it raised (printed). A child still running after
    ``timeout`` seconds (deadlocked) is killed, and AssertionError is raised.
    """
    held, release = threading.Event(), threading.Event()

    def hold() -> None:
        with lock:
            held.set()
            release.wait(timeout)

    holder = threading.Thread(target=hold, daemon=True)
    holder.start()
    assert held.wait(timeout)
    try:
        pid = os.fork()
        if pid == 0:  # the child: never return into pytest
            status = 1
            try:
                work()
                status = 0
            except BaseException:  # noqa: BLE001 - reported through the exit status
                traceback.print_exc()
            finally:
                os._exit(status)
    finally:
        release.set()
    holder.join(timeout)
    return wait_child(pid, timeout)
