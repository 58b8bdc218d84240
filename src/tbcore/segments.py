"""An event file on a store without append (S3, GCS, ...): a sequence of bounded segment objects.

Object stores can only replace whole objects, so re-uploading one growing event file at
every flush would cost O(file size) per flush and O(n^2) over a run. Instead a run's
event file is a series of segments::

    events.out.tfevents.<secs>.<host>.<pid>.<uid>.00000000<suffix>
    events.out.tfevents.<secs>.<host>.<pid>.<uid>.00000001<suffix>
    ...

Each name contains ``tfevents`` and the zero-padded counter makes names sort in write
order, which is the order both TensorBoard readers read a run's files in. An upload
stores the current segment (what it held before plus the new records). A segment is
final, and the next upload starts the next one, once it reaches the store's
``segment_bytes`` or once re-uploading it has cost ``rewrite_factor`` times its size. A
segment is therefore complete before its successor exists, which TensorBoard's Python
loader needs (it never goes back to an older file). One upload costs at most
``segment_bytes`` plus the new data, and a whole run about ``rewrite_factor`` times its
size at most (small flushes share a segment, so a run does not become thousands of objects).

Uploads happen when a segment fills, ``flush_secs`` after data first waits (one timer per
store, see :meth:`tbcore.remote.FsspecStorage.upload_later`), on
``flush()`` and on ``close()``. Records reach the store whole: a segment never ends in
the middle of a record.
"""

from __future__ import annotations

import os
import threading
from collections.abc import Callable
from typing import TYPE_CHECKING

from tbcore import lifecycle
from tbcore.event_file import BaseEventFile, event_file_name

if TYPE_CHECKING:
    from tbcore.remote import FsspecStorage

__all__ = ["SegmentedEventFile", "segment_name"]


def segment_name(base: str, index: int, suffix: str) -> str:
    """Return the name of segment ``index`` of the event file ``base`` (fixed width, so names sort in order)."""
    return f"{base}.{index:08d}{suffix}"


class SegmentedEventFile(BaseEventFile):
    """An event file kept as bounded segment objects; written by the pipeline thread like a local one.

    :param store: the storage that uploads objects.
    :param directory: the run directory URL.
    :param suffix: the writer's ``filename_suffix``, kept at the end of every segment name.
    :param flush_secs: the longest time written records wait before they are uploaded.
    :param report: called with an upload error met outside a caller's ``write``/``flush`` (timer, close).
    """

    __slots__ = (
        "_store",
        "_base",
        "_suffix",
        "_index",
        "_uploaded",
        "_spent",
        "_pending",
        "_pending_bytes",
        "_lock",
        "_flush_secs",
        "_report",
        "_pid",
    )

    def __init__(
        self,
        store: FsspecStorage,
        directory: str,
        suffix: str,
        flush_secs: float,
        report: Callable[[OSError], None],
    ) -> None:
        self._base = f"{directory}/{event_file_name()}"
        super().__init__(segment_name(self._base, 0, suffix))
        self._store = store
        self._suffix = suffix
        self._index = 0
        self._uploaded = b""
        self._spent = 0
        self._pending: list[bytes] = []
        self._pending_bytes = 0
        self._lock = threading.Lock()
        self._flush_secs = flush_secs
        self._report = report
        self._pid = os.getpid()

    def write(self, chunks: list[bytes]) -> None:
        """Take framed records; upload now if the segment is full, else within ``flush_secs``."""
        with self._lock:
            self._pending.extend(chunks)
            self._pending_bytes += sum(map(len, chunks))
            if len(self._uploaded) + self._pending_bytes >= self._store.segment_bytes:
                self._upload_locked()
            else:
                self._store.upload_later(self, self._flush_secs)

    def upload(self) -> None:
        """Upload the records written so far (``flush()``); raises OSError naming the segment."""
        if os.getpid() != self._pid:
            return
        # A SIGTERM handler's close needs the lock that this upload holds: it waits until the upload ends.
        with lifecycle.sigterm_deferred(), self._lock:
            self._upload_locked()

    def close(self) -> None:
        """Upload what is pending and stop; an error is kept in ``error`` and reported, never raised.

        In a forked child the parent's segments are left alone (the parent uploads them).
        """
        if self.closed:
            return
        self.closed = True
        if os.getpid() != self._pid:
            self._pending, self._pending_bytes = [], 0
            return
        self._store.forget(self)
        with self._lock:
            self._upload_and_report()

    def upload_waiting(self) -> None:
        """Upload what waits (the store's timer calls this); an error is kept and reported."""
        with self._lock:
            if not self.closed:
                self._upload_and_report()

    def _upload_and_report(self) -> None:
        try:
            self._upload_locked()
        except OSError as exc:
            self.error = exc
            self._report(exc)

    def _upload_locked(self) -> None:
        if not self._pending:
            return
        data = self._uploaded + b"".join(self._pending)
        self._store.put(self.path, data)
        self._pending, self._pending_bytes = [], 0
        self._spent += len(data)
        if len(data) >= self._store.segment_bytes or self._spent >= self._store.rewrite_factor * len(data):
            self._index += 1
            self.path = segment_name(self._base, self._index, self._suffix)
            self._uploaded = b""
            self._spent = 0
        else:
            self._uploaded = data
