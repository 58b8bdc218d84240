"""The queue between callers and the background thread that writes event files.

The training thread never touches the disk for events: ``add_*`` calls append a small
item to a queue (a tuple for scalars; serialized event bytes, or a function that builds
them, for everything else) and return. One daemon thread per :class:`Pipeline` drains
the queue in batches, builds and frames the records (native CRC32C) and writes each
file's batch with one ``write``.
Data reaches the operating system (and so survives the process being killed) at each
drain: when ``max_queue`` items are pending, every ``flush_secs``, or on ``flush()``.

An I/O error in that thread is kept and raised, with the file's path, by the next
``add_*``, ``flush()`` or ``close()`` call: nothing is lost silently.
"""

from __future__ import annotations

import queue
import threading
from collections import deque
from collections.abc import Callable
from typing import Any

from tbcore import lifecycle, record
from tbcore.errors import DeferredValueError
from tbcore.event_file import BaseEventFile

__all__ = ["DEFAULT_MAX_PENDING_BYTES", "MIN_BACKLOG", "Pipeline"]

DEFAULT_MAX_PENDING_BYTES = 256 * 1024 * 1024  #: queued events larger than 4 KiB, in bytes
MIN_BACKLOG = 16384  #: callers wait while max(max_queue, MIN_BACKLOG) items are pending (bounds loss and memory)
_ROUND_ITEMS = 4096  # items written per batch while callers keep adding (at most MIN_BACKLOG)
_NOTIFY_WAIT = 0.005  # longest wait for the callers' lock to wake them: a signal handler may hold it for good


class _Marker:
    """A point in the queue: the thread sets it once everything before it is written."""

    __slots__ = ("done", "close")

    def __init__(self, close: list[BaseEventFile]) -> None:
        self.done = threading.Event()
        self.close = close


class Pipeline:
    """The queue between callers and the writer thread, shared by all event files of one writer.

    :param max_queue: pending items after which the thread is woken to write.
    :param flush_secs: the longest time an item waits before it is written.
    :param max_pending_bytes: callers adding large items wait while this many bytes are pending.
    :param min_backlog: callers wait while ``max(max_queue, min_backlog)`` items (of any size)
        are pending (default :data:`MIN_BACKLOG`). The thread writes at least every
        ``_ROUND_ITEMS`` items, so at most twice that many accepted items are not yet in the
        file at any time, however fast the callers are.
    """

    def __init__(
        self,
        max_queue: int,
        flush_secs: float,
        max_pending_bytes: int = DEFAULT_MAX_PENDING_BYTES,
        min_backlog: int | None = None,
    ) -> None:
        self.max_queue = max(1, max_queue)
        self.flush_secs = flush_secs
        self.max_pending_bytes = max_pending_bytes
        self.max_pending_items = max(self.max_queue, MIN_BACKLOG if min_backlog is None else min_backlog)
        self.error: Exception | None = None  # what the next call raises (checked on the hot path)
        self._lasting_error: Exception | None = None  # an error that stays raised until reset_error()
        self._items: deque[Any] = deque()
        # The writer thread never waits long for a lock that a caller can hold: a SIGTERM handler may
        # interrupt a caller holding it and then wait for this thread (see tbcore.lifecycle).
        self._wakeup: queue.SimpleQueue[None] = queue.SimpleQueue()  # wake-up tokens (C calls, no Python lock)
        self._signalled = False
        self._room = threading.Condition()  # callers wait on it while the queue is over a cap
        self._waiting = 0
        self._added_bytes = 0  # bytes of large events queued, counted by callers under ``_room``
        self._freed_bytes = 0  # ... and written, counted by the writer thread alone
        self._thread: threading.Thread | None = None
        self._stopping = False
        self._start_lock = threading.Lock()

    @property
    def pending_bytes(self) -> int:
        """Bytes of large events (over 4 KiB) queued and not yet written."""
        return self._added_bytes - self._freed_bytes

    # ----------------------------------------------------------------- caller side
    def put_scalar(self, file: BaseEventFile, tag: str, value: Any, step: int, wall_time: float) -> None:
        """Queue a scalar; ``value`` is a float or a zero-argument function returning an array."""
        items = self._items
        items.append((file, tag, value, step, wall_time))
        if len(items) >= self.max_queue:
            self._on_full()

    def put_scalars(self, pairs: list[tuple[BaseEventFile, Any]], tag: str, step: int, wall_time: float) -> None:
        """Queue one scalar per ``(file, value)`` pair, all with ``tag``, ``step`` and ``wall_time``."""
        items = self._items
        items.append((pairs, tag, step, wall_time))
        if len(items) >= self.max_queue:
            self._on_full()

    def put_deferred(self, file: BaseEventFile, build: Callable[[], bytes]) -> None:
        """Queue an event that the writer thread builds: ``build()`` returns its serialized bytes.

        ``build`` may wait for a device value; if it raises :class:`DeferredValueError`, only
        its event is lost.
        """
        items = self._items
        items.append((file, build, 0))
        if len(items) >= self.max_queue:
            self._on_full()

    def put_event(self, file: BaseEventFile, data: bytes) -> None:
        """Queue a serialized Event; waits while too many bytes (or items) are pending.

        Starts the thread if needed: every event file begins with an event, so the
        ``flush_secs`` timer runs as soon as a file has something to write.
        """
        if self._thread is None:
            self._start()
        size = len(data)
        counted = size if size > 4096 else 0  # small events count against the item cap only
        if counted or len(self._items) > self.max_pending_items:
            self._wait_for_room(counted)
        self._items.append((file, data, counted))
        if len(self._items) >= self.max_queue:
            self._on_full()

    def _on_full(self) -> None:
        """Wake the writer thread (``max_queue`` items are pending); wait while over the item cap."""
        if not self._signalled:
            self._wake()
        if len(self._items) > self.max_pending_items:
            self._wait_for_room(0)

    def _wait_for_room(self, size: int) -> None:
        """Wait while the queue holds more than its caps, then count ``size`` bytes as pending."""
        with self._room:
            self._waiting += 1
            try:
                while self.pending_bytes > self.max_pending_bytes or len(self._items) > self.max_pending_items:
                    self._wake()  # starts the thread if needed
                    thread = self._thread
                    if thread is None or not thread.is_alive():
                        break
                    self._room.wait(0.05)
            finally:
                self._waiting -= 1
            self._added_bytes += size

    def _wake(self) -> None:
        if self._thread is None:
            self._start()
        self._signalled = True
        self._wakeup.put(None)

    def _start(self) -> None:
        # A SIGTERM handler's close needs the thread (and this lock): it waits until the thread runs.
        with lifecycle.sigterm_deferred(), self._start_lock:
            if self._thread is None:
                thread = threading.Thread(target=self._run, name="tbcore-writer", daemon=True)
                thread.start()
                self._thread = thread

    def sync(self, close: list[BaseEventFile] | None = None, timeout: float | None = None) -> None:
        """Return once every item queued before this call is written (and the ``close`` files closed)."""
        marker = _Marker(close or [])
        self._items.append(marker)
        if self._thread is None:
            self._start()
        self._wake()
        if not marker.done.wait(timeout):
            raise TimeoutError(f"tbcore writer thread did not finish writing within {timeout} s")

    def check(self) -> None:
        """Raise the error the writer thread met, if any.

        An I/O error stays set until :meth:`reset_error` (the file cannot be written); a
        :class:`DeferredValueError` (one value lost) is raised once and cleared.
        """
        error = self.error
        if error is None:
            return
        if isinstance(error, DeferredValueError):
            self.error = self._lasting_error  # None, or an I/O error the writer thread kept meanwhile
        raise error.with_traceback(None)  # raised again at each call: keep its traceback from growing

    def reset_error(self) -> Exception | None:
        """Clear and return the stored error."""
        error, self.error, self._lasting_error = self.error, None, None
        return error

    def stop(self) -> None:
        """Write everything pending and stop the thread (it restarts on the next item)."""
        thread = self._thread
        if thread is None:
            return
        self.sync()
        self._stopping = True
        self._wakeup.put(None)
        thread.join()
        self._thread = None
        self._stopping = False

    def after_fork_in_child(self) -> None:
        """Forget the parent's thread and queue in a forked child (they belong to the parent)."""
        self._items = deque()
        self._wakeup = queue.SimpleQueue()
        self._room = threading.Condition()
        self._waiting = 0
        self._start_lock = threading.Lock()
        self._added_bytes = self._freed_bytes = 0
        self._signalled = False
        self._thread = None
        self._stopping = False

    # ----------------------------------------------------------------- writer thread
    def _run(self) -> None:
        while True:
            self._sleep()
            self._signalled = False
            while True:
                try:
                    self._drain()
                    break
                except Exception as exc:  # noqa: BLE001 - kept and raised to the caller; drain the rest
                    self.keep_error(exc)
            if self._stopping and not self._items:
                return

    def _sleep(self) -> None:
        """Wait for a wake-up token or ``flush_secs``; drop the tokens that came meanwhile."""
        wakeup = self._wakeup
        try:
            wakeup.get(timeout=self.flush_secs)
            while True:
                wakeup.get_nowait()
        except queue.Empty:
            pass

    def _notify_room(self) -> None:
        """Wake the callers waiting for room; skip it if the lock stays held (they re-check every 50 ms)."""
        if self._room.acquire(timeout=_NOTIFY_WAIT):
            try:
                self._room.notify_all()
            finally:
                self._room.release()

    def _drain(self) -> None:
        """Write what is queued, in rounds of at most ``_ROUND_ITEMS`` items.

        Rounds keep a batch (and the memory it holds) bounded while callers keep adding,
        and each round's ``write`` lets callers waiting for the GIL run.
        """
        items = self._items
        while items:
            self._drain_round(min(len(items), _ROUND_ITEMS))
            if self._waiting:
                self._notify_room()

    def _drain_round(self, count: int) -> None:
        popleft = self._items.popleft
        batches: dict[BaseEventFile, list[bytes]] = {}
        freed = 0
        for _ in range(count):  # only this thread removes items, so ``count`` items are there
            item = popleft()
            if item.__class__ is _Marker:
                try:
                    self._write_batches(batches)
                    batches = {}
                    for file in item.close:
                        file.close()
                finally:
                    item.done.set()
                continue
            size = len(item)
            if size == 4:  # several scalars: ([(file, value), ...], tag, step, wall_time)
                pairs, tag, step, wall_time = item
                for file, value in pairs:
                    chunks = batches.get(file)
                    if chunks is None:
                        chunks = batches[file] = []
                    try:
                        file.frame_scalar(chunks, tag, value, step, wall_time)
                    except Exception as exc:  # noqa: BLE001 - only this key's event is lost; raised at the next call
                        self.keep_error(exc)
                continue
            file = item[0]
            chunks = batches.get(file)
            if chunks is None:
                chunks = batches[file] = []
            try:
                if size == 5:  # one scalar: (file, tag, value, step, wall_time)
                    file.frame_scalar(chunks, item[1], item[2], item[3], item[4])
                else:  # a serialized event, or a function building it: (file, data, size)
                    data = item[1]
                    record.frame_into(chunks, data if data.__class__ is bytes else data())
                    freed += item[2]
            except Exception as exc:  # noqa: BLE001 - only this event is lost; raised at the next call
                self.keep_error(exc)
        self._write_batches(batches)
        if freed:
            self._freed_bytes += freed
            self._notify_room()

    def keep_error(self, error: Exception) -> None:
        """Keep ``error`` for the next call to raise, unless an earlier one is kept.

        An error that stays (I/O) replaces a kept :class:`DeferredValueError` (raised once):
        reporting one lost value must not hide that a file can no longer be written. No lock:
        :meth:`check` clears a one-off error by restoring the lasting one, whatever the order.
        """
        if isinstance(error, DeferredValueError):
            if self.error is None:
                self.error = error
            return
        if self._lasting_error is None:
            self._lasting_error = error
        self.error = self._lasting_error

    def _write_batches(self, batches: dict[BaseEventFile, list[bytes]]) -> None:
        for file, chunks in batches.items():
            if file.error is not None or file.closed:
                continue
            try:
                file.write(chunks)
            except OSError as exc:
                file.error = exc
                self.keep_error(exc)
