"""Event files: their names, the state the writer thread keeps per file, and local files.

:class:`BaseEventFile` is what every event file has (path, per-tag scalar prefixes, the
error met writing it) and builds its scalar records; :class:`EventFile` writes a local
file through a file descriptor, :class:`tbcore.segments.SegmentedEventFile` a remote one
as segment objects. Only the writer thread of a :class:`tbcore.pipeline.Pipeline` writes
and closes them.
"""

from __future__ import annotations

import abc
import errno
import itertools
import os
import socket
import time
from typing import Any

from tbcore import events, record
from tbcore.deferred import resolve_scalar

__all__ = ["BaseEventFile", "EventFile", "event_file_name"]

_uid = itertools.count()
_PREFIX = "events.out.tfevents."


def event_file_name(suffix: str = "") -> str:
    """Return a new event file name: ``events.out.tfevents.<secs>.<host>.<pid>.<uid><suffix>``.

    ``uid`` is zero-padded (``000000``, ``000001``, ...): TensorBoard reads a run's files in
    name order, and with torch's unpadded counter the 11th writer of a second (``.10``) sorts
    before the 3rd (``.2``), so a resumed writer's ``purge_step`` is read before the data it
    must hide.
    """
    return f"{_PREFIX}{int(time.time()):010d}.{socket.gethostname()}.{os.getpid()}.{next(_uid):06d}{suffix}"


def _name_read_last(directory: str, suffix: str) -> str:
    """Return :func:`event_file_name`, waiting for the next second if a file of this second would be read after it.

    Within one second, names sort by host and pid, not by creation: a process that writes a
    run within the same second as an earlier one (a quick restart with ``purge_step``) could
    have its file read first, and then the earlier file's steps would hide its own. Then
    (rarely) this waits for the next second, once, so that TensorBoard reads the files in
    the order they were made.
    """
    name = event_file_name(suffix)
    second = int(name[len(_PREFIX) : len(_PREFIX) + 10])
    same_second = f"{_PREFIX}{second:010d}."
    try:
        later = any(other.startswith(same_second) and other >= name for other in os.listdir(directory))
    except OSError:  # no such directory yet (or not one): the caller makes it or says why
        return name
    if later:
        time.sleep(max(0.0, second + 1 - time.time()))
        name = event_file_name(suffix)
    return name


class BaseEventFile(abc.ABC):
    """An event file, local or remote: its path, the state its pipeline's thread keeps, its scalar records.

    Subclasses store the framed records (:meth:`write`) and release what they hold (:meth:`close`);
    both are called only by the pipeline's thread.
    """

    __slots__ = ("path", "tag_prefixes", "error", "closed")

    def __init__(self, path: str) -> None:
        self.path = path
        self.tag_prefixes: dict[str, bytes] = {}  # serialized start of a scalar event, per tag
        self.error: OSError | None = None  # set by the pipeline when a write failed; later batches are skipped
        self.closed = False

    def frame_scalar(self, chunks: list[bytes], tag: str, value: Any, step: int, wall_time: float) -> None:
        """Append the framed scalar event to ``chunks`` (the tag's bytes are cached per file)."""
        prefix = self.tag_prefixes.get(tag)
        if prefix is None:
            prefix = self.tag_prefixes[tag] = events.scalar_tag_prefix(tag)
        if value.__class__ is not float:
            value = resolve_scalar(value, tag, step)
        record.frame_into(chunks, events.scalar_event(prefix, value, step, wall_time))

    @abc.abstractmethod
    def write(self, chunks: list[bytes]) -> None:
        """Write framed records (whole records only); raise OSError naming the file on failure."""

    @abc.abstractmethod
    def close(self) -> None:
        """Stop writing the file (idempotent)."""


class EventFile(BaseEventFile):
    """One local event file, created on construction and written through a file descriptor.

    :param directory: the run directory (created if missing).
    :param suffix: appended to the file name.
    """

    __slots__ = ("_fd", "_identity", "_good_size")

    def __init__(self, directory: str, suffix: str = "") -> None:
        super().__init__(os.path.join(directory, _name_read_last(directory, suffix)))
        try:
            os.makedirs(directory, exist_ok=True)
            self._fd = os.open(self.path, os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_CLOEXEC", 0), 0o644)
        except OSError as exc:
            reason = exc
            if os.path.exists(directory) and not os.path.isdir(directory):
                reason = NotADirectoryError(errno.ENOTDIR, "Not a directory")
            raise _with_path(reason, directory, "create an event file in") from exc
        self._identity = _identity(os.fstat(self._fd))
        self._good_size = 0

    def write(self, chunks: list[bytes]) -> None:
        """Write framed records; on failure cut the file back to its last whole record and raise."""
        data = b"".join(chunks)
        view = memoryview(data)
        try:
            while view:
                written = os.write(self._fd, view)
                view = view[written:]
        except OSError as exc:
            try:
                os.ftruncate(self._fd, self._good_size)
            except OSError:
                pass
            raise _with_path(exc, self.path) from exc
        self._good_size += len(data)
        self.check_in_place()

    def check_in_place(self) -> None:
        """Raise ``FileNotFoundError`` if the file was deleted or replaced (what is written to it is lost)."""
        try:
            identity = _identity(os.stat(self.path))
        except FileNotFoundError:
            identity = None
        if identity != self._identity:
            raise FileNotFoundError(
                errno.ENOENT, "tbcore's event file was deleted or replaced while writing; events are lost", self.path
            )

    def close(self) -> None:
        """Close the file descriptor (idempotent)."""
        if not self.closed:
            self.closed = True
            os.close(self._fd)


def _with_path(exc: OSError, path: str, action: str = "write event file") -> OSError:
    return type(exc)(exc.errno, f"tbcore could not {action}: {exc.strerror}", path)


def _identity(stat: os.stat_result) -> tuple[int, int]:
    return stat.st_dev, stat.st_ino
