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
  :data:`SIGNAL_FLUSH_TIMEOUT` seconds have passed.
- **fork**: in the child, writers forget the parent's thread, queue and files and open
  files of their own on their next write.
"""

from __future__ import annotations

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
_CLOSE_ALL_THREAD = "tbcore-close-all"

_live: weakref.WeakSet[Writer] = weakref.WeakSet()
_state = {"sigterm": False, "multiprocessing": False}
_deferred = {"depth": 0, "signum": 0, "deadline": 0.0}  # the main thread's sigterm_deferred() blocks


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
    current = threading.current_thread()
    if current is not threading.main_thread() and current.name != _CLOSE_ALL_THREAD:
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

    Runs in a helper thread so that a lock held by the interrupted thread cannot deadlock it.
    """
    writers = live_writers()
    worker = threading.Thread(target=_close_writers, args=(writers,), name=_CLOSE_ALL_THREAD, daemon=True)
    worker.start()
    worker.join(timeout)
    return not worker.is_alive()


def _close_writers(writers: list[Writer]) -> None:
    for writer in writers:
        writer._finalizer()


def _install_sigterm_handler() -> None:
    if threading.current_thread() is not threading.main_thread():
        return  # signal.signal only works there; the next writer made in the main thread installs it
    _state["sigterm"] = True
    if signal.getsignal(signal.SIGTERM) is signal.SIG_DFL:
        signal.signal(signal.SIGTERM, _on_sigterm)


class _SigtermDeferred:
    """See :func:`sigterm_deferred` (one instance, no state of its own: cheap to enter)."""

    def __enter__(self) -> None:
        if threading.current_thread() is threading.main_thread():
            _deferred["depth"] += 1

    def __exit__(self, *exc_info: object) -> None:
        if threading.current_thread() is threading.main_thread():
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
        timer = threading.Timer(SIGNAL_FLUSH_TIMEOUT, os.kill, (os.getpid(), signum))
        timer.daemon = True
        timer.start()
        return
    _die(signum, SIGNAL_FLUSH_TIMEOUT)


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
