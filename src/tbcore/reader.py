"""Reading event files back: records, events, and the runs of a log directory.

Reads files written by tbcore, torch, tensorboardX or TensorFlow. A truncated last
record is treated as not yet written (the file may still be growing); a corrupt record
raises :class:`CorruptRecordError` naming the file and offset, and never makes the
reader allocate a huge declared length.
"""

from __future__ import annotations

import os
import struct
from collections.abc import Iterator
from dataclasses import dataclass

from tbcore.proto import event_pb2
from tbcore.record import masked_crc32c

__all__ = ["CorruptRecordError", "Record", "iter_events", "iter_records", "list_runs"]

_LENGTH = struct.Struct("<QI")
_CRC = struct.Struct("<I")
MAX_RECORD_BYTES = 2**31  #: larger declared lengths are reported as corrupt, never allocated


class CorruptRecordError(ValueError):
    """A record whose length or data does not match its CRC, or that does not parse."""

    def __init__(self, path: str, offset: int, reason: str) -> None:
        super().__init__(f"{path}: corrupt record at offset {offset}: {reason}")
        self.path = path
        self.offset = offset
        self.reason = reason


@dataclass(frozen=True, slots=True)
class Record:
    """One record's data and where it starts in its file."""

    offset: int
    data: bytes


def iter_records(path: str | os.PathLike[str], *, check_crc: bool = True) -> Iterator[Record]:
    """Yield the records of an event file in order; stop quietly at a truncated last record.

    :raises CorruptRecordError: a length or data CRC mismatch, or an impossible length.
    """
    path = os.fspath(path)
    with open(path, "rb") as file:
        offset = 0
        while True:
            header = file.read(12)
            if len(header) < 12:
                return
            length, length_crc = _LENGTH.unpack(header)
            if check_crc and masked_crc32c(header[:8]) != length_crc:
                raise CorruptRecordError(path, offset, "length CRC mismatch")
            if length > MAX_RECORD_BYTES:
                raise CorruptRecordError(path, offset, f"declared length {length} is larger than {MAX_RECORD_BYTES}")
            if offset + 16 + length > os.fstat(file.fileno()).st_size:
                return  # truncated (or still being written): never read (allocate) more than the file holds
            data = file.read(length)
            footer = file.read(4)
            if len(data) < length or len(footer) < 4:
                return
            if check_crc and masked_crc32c(data) != _CRC.unpack(footer)[0]:
                raise CorruptRecordError(path, offset, "data CRC mismatch")
            yield Record(offset, data)
            offset += 16 + length


def iter_events(path: str | os.PathLike[str], *, check_crc: bool = True) -> Iterator[event_pb2.Event]:
    """Yield the ``Event`` protos of one event file."""
    path = os.fspath(path)
    for record in iter_records(path, check_crc=check_crc):
        try:
            yield event_pb2.Event.FromString(record.data)
        except Exception as exc:  # noqa: BLE001 - protobuf raises its own DecodeError type
            raise CorruptRecordError(path, record.offset, f"not an Event proto ({exc})") from None


def list_runs(logdir: str | os.PathLike[str]) -> dict[str, list[str]]:
    """Return ``{run name: sorted event file paths}`` as TensorBoard finds them.

    A run is any directory holding a file whose name contains ``tfevents``; its name is
    the path relative to ``logdir`` with ``/`` separators (``"."`` for ``logdir`` itself).
    """
    root = os.fspath(logdir)
    runs: dict[str, list[str]] = {}
    for directory, _dirs, files in os.walk(root, followlinks=True):
        found = sorted(f for f in files if "tfevents" in f and not f.endswith(".profile-empty"))
        if found:
            rel = os.path.relpath(directory, root)
            name = "." if rel == "." else rel.replace(os.sep, "/")
            runs[name] = [os.path.join(directory, f) for f in found]
    return dict(sorted(runs.items()))
