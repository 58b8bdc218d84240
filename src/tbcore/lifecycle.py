"""What happens to live writers when the process forks, exits or is terminated.

Every :class:`tbcore.Writer` is tracked here (weakly). This module makes sure that what
a writer accepted reaches its files without ``close()``:

- **Exit** (end of script, ``sys.exit``, an uncaught exception, ``KeyboardInterrupt``):
  each writer's ``weakref.finalize`` writes and closes its files; a write error met then
  is printed to stderr, never dropped silently.
- **multiprocessing children** (``fork`` start method, e.g. DataLoader workers) end with
  ``os._exit`` and skip ``atexit``; a ``multiprocessing.util.Finalize`` closes the
  writers there.
- **SIGTERM**: its default action kills the process without ``atexit``. When the first
  writer is created in the main thread and SIGTERM's handler is still ``SIG_DFL``, a
  handler is installed that writes every live writer's pending events (at most
  :data:`SIGNAL_FLUSH_TIMEOUT` seconds), restores ``SIG_DFL`` and sends SIGTERM again, so
  the process still dies by SIGTERM with the same exit status. A handler the program
  installed itself is never replaced. The handler runs in the main thread and cannot wait for
  what that thread was doing: if the signal lands in a :func:`sigterm_deferred` block (the main
  thread holds something the close needs: a segment's lock while ``flush()`` uploads it, the
  start of a writer thread), the handler restores ``SIG_DFL`` and returns, and the close and the
  new SIGTERM happen when the block ends; a timer sends that SIGTERM anyway once
  :data:`SIGNAL_FLUSH_TIMEOUT` seconds have passed. The handler starts its helper threads (the
  close, the timer) with ``_thread.start_new_thread``, never ``threading.Thread.start``: the
  interrupted code may hold the lock that ``Thread.start`` takes (it may be starting a thread).
- **fork**: in the child, writers forget the parent's thread, queue and files and open
  files of their own on their next write.
"""

from __future__ import annotations

import _thread
import os
import signal
import sys
import threading
import time
import weakref
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from tbcore.event_file import BaseEventFile
    from tbcore.pipeline import Pipeline
    from tbcore.writer import Writer

__all__ = [
    "SIGNAL_FLUSH_TIMEOUT",
    "close_all",
    "finalize",
    "live_writers",
    "shutdown",
    "sigterm_deferred",
    "track",
]

SIGNAL_FLUSH_TIMEOUT = 10.0  #: longest time the SIGTERM handler waits for pending events to be written

_live: weakref.WeakSet[Writer] = weakref.WeakSet()
_state = {"sigterm": False, "multiprocessing": False}
_deferred = {"depth": 0, "signum": 0, "deadline": 0.0}  # the main thread's sigterm_deferred() blocks
_closing = threading.local()  # ``active`` in close_all's thread (see finalize)


class _ForkHook:
    """A weak-referenceable token for ``multiprocessing.util.register_after_fork``."""


_fork_hook = _ForkHook()


def track(writer: Writer) -> None:
    """Start tracking ``writer`` (called by its constructor) and install the exit machinery once."""
    _live.add(writer)
    if not _state["sigterm"]:
        _install_sigterm_handler()
    if not _state["multiprocessing"]:
        _state["multiprocessing"] = True
        import multiprocessing.util

        multiprocessing.util.register_after_fork(_fork_hook, _close_at_multiprocessing_exit)


def live_writers() -> list[Writer]:
    """Return the writers that are alive now (not yet garbage-collected)."""
    return list(_live)


def shutdown(pipeline: Pipeline, files: dict[str, BaseEventFile]) -> None:
    """Write what is pending, close every file and stop the thread (``close()`` and :func:`finalize`)."""
    pipeline.sync(close=[file for file in files.values() if not file.closed])
    files.clear()
    pipeline.stop()


def finalize(pipeline: Pipeline, files: dict[str, BaseEventFile], log_dir: str) -> None:
    """Write what is pending and close the files of a writer that was not closed (exit or collection).

    Nobody can receive an exception here, so an error is printed to stderr, never dropped.
    Outside the main thread (and :func:`close_all`'s helper) the work is handed to a new thread:
    the garbage collector may run this in the middle of another thread's work, even in the
    writer's own thread, the upload timer holding a file's lock, or fsspec's event loop, all
    of which the close waits for.
    """
    if not files:
        return
    if not _in_main_thread() and not getattr(_closing, "active", False):
        closer = threading.Thread(target=_finalize, args=(pipeline, files, log_dir), name="tbcore-close")
        try:
            closer.start()  # not a daemon: the interpreter waits for it at exit
            return
        except RuntimeError:  # no new threads at interpreter shutdown: close here
            pass
    _finalize(pipeline, files, log_dir)


def _finalize(pipeline: Pipeline, files: dict[str, BaseEventFile], log_dir: str) -> None:
    error: BaseException | None = None
    try:
        shutdown(pipeline, files)
    except Exception as exc:  # noqa: BLE001 - reported below
        error = exc
    error = pipeline.reset_error() or error
    if error is not None:
        sys.stderr.write(f"tbcore: events of {log_dir} may be lost: {error}\n")


def close_all(timeout: float | None = None) -> bool:
    """Write and close every live writer's files; return False if that took longer than ``timeout``.

    Runs in a helper thread so that a lock held by the interrupted thread cannot deadlock it,
    started without the threading module's own lock (the SIGTERM handler calls this).
    """
    done = _thread.allocate_lock()
    done.acquire()
    _thread.start_new_thread(_close_writers, (live_writers(), done))
    return done.acquire(timeout=-1 if timeout is None else max(0.0, timeout))


def _close_writers(writers: list[Writer], done: _thread.LockType) -> None:
    _closing.active = True
    try:
        for writer in writers:
            writer._finalizer()
    finally:
        done.release()


def _in_main_thread() -> bool:
    """Whether this is the main thread (without ``threading.current_thread``, which may take a lock here)."""
    return threading.get_ident() == threading.main_thread().ident


def _install_sigterm_handler() -> None:
    if not _in_main_thread():
        return  # signal.signal only works there; the next writer made in the main thread installs it
    _state["sigterm"] = True
    if signal.getsignal(signal.SIGTERM) is signal.SIG_DFL:
        signal.signal(signal.SIGTERM, _on_sigterm)


class _SigtermDeferred:
    """See :func:`sigterm_deferred` (one instance, no state of its own: cheap to enter)."""

    def __enter__(self) -> None:
        if _in_main_thread():
            _deferred["depth"] += 1

    def __exit__(self, *exc_info: object) -> None:
        if _in_main_thread():
            _deferred["depth"] -= 1
            if not _deferred["depth"] and _deferred["signum"]:
                _die(int(_deferred["signum"]), _deferred["deadline"] - time.monotonic())


_SIGTERM_DEFERRED = _SigtermDeferred()


def sigterm_deferred() -> _SigtermDeferred:
    """Return a context manager for code in which the main thread holds what closing the writers needs.

    The SIGTERM handler runs in the main thread, on top of the code it interrupted, so it
    cannot wait for that code. In such a block it only notes the signal; the writers are
    closed and SIGTERM is sent again when the (outermost) block ends, or by a timer once
    :data:`SIGNAL_FLUSH_TIMEOUT` seconds have passed. Other threads are not affected.
    """
    return _SIGTERM_DEFERRED


def _on_sigterm(signum: int, frame: Any) -> None:
    """Write pending events, then die by SIGTERM as the default action would."""
    if _deferred["depth"]:
        # The interrupted code below this frame holds what the close needs: finish it first. SIG_DFL now,
        # so that the timer's SIGTERM (and a second one from outside) ends the process at once.
        signal.signal(signum, signal.SIG_DFL)
        _deferred["signum"], _deferred["deadline"] = signum, time.monotonic() + SIGNAL_FLUSH_TIMEOUT
        _thread.start_new_thread(_kill_later, (signum, SIGNAL_FLUSH_TIMEOUT))
        return
    _die(signum, SIGNAL_FLUSH_TIMEOUT)


def _kill_later(signum: int, delay: float) -> None:
    """The deferred handler's timer: send ``signum`` to this process after ``delay`` seconds."""
    time.sleep(delay)
    os.kill(os.getpid(), signum)


def _die(signum: int, timeout: float) -> None:
    """Write and close every writer (at most ``timeout`` seconds), then die by ``signum`` with its default action."""
    close_all(max(0.0, timeout))
    signal.signal(signum, signal.SIG_DFL)
    os.kill(os.getpid(), signum)


def _close_at_multiprocessing_exit(_token: object) -> None:
    import multiprocessing.util

    multiprocessing.util.Finalize(None, close_all, exitpriority=0)


def _after_fork_in_child() -> None:
    for writer in list(_live):
        writer._after_fork_in_child()


if hasattr(os, "register_at_fork"):
    os.register_at_fork(after_in_child=_after_fork_in_child)
