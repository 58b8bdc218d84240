"""Event files read in large blocks: record boundaries found in one pass, CRCs checked natively.

This is the engine under :mod:`tbcore.reader`. A file is read in blocks of a few MiB;
each :class:`Block` lists the complete records it holds (their offsets and lengths)
after their length and data CRCs were checked. A truncated last record ends the file
quietly (it may still be being written); a corrupt record ends it with
:class:`CorruptRecordError` after the block of good records before it. A declared
length is never allocated beyond what the file holds.
"""

from __future__ import annotations

import os
import struct
from collections.abc import Iterator
from dataclasses import dataclass

import numpy as np
from google_crc32c import value as _crc32c

from tbcore.proto import event_pb2
from tbcore.record import FOOTER_SIZE, HEADER_SIZE, MASK_DELTA, masked_crc32c

__all__ = ["BLOCK_BYTES", "MAX_RECORD_BYTES", "Block", "CorruptRecordError", "iter_blocks", "parse_event"]

BLOCK_BYTES = 8 << 20  #: bytes read from the file at a time (more when one record is larger)
MAX_RECORD_BYTES = 2**31  #: larger declared lengths are reported as corrupt, never allocated
_U64 = struct.Struct("<Q").unpack_from
_U32 = struct.Struct("<I").unpack_from
_U64_PACK = struct.Struct("<Q").pack
_FRAMING = HEADER_SIZE + FOOTER_SIZE  # bytes a record adds to its data


class CorruptRecordError(ValueError):
    """A record whose length or data does not match its CRC, or that does not parse."""

    def __init__(self, path: str, offset: int, reason: str) -> None:
        super().__init__(f"{path}: corrupt record at offset {offset}: {reason}")
        self.path = path
        self.offset = offset
        self.reason = reason


def parse_event(path: str, offset: int, data: bytes) -> event_pb2.Event:
    """Return the ``Event`` serialized in ``data``, the record at ``offset`` of ``path``.

    :raises CorruptRecordError: ``data`` is not an Event proto (naming the file and offset).
    """
    try:
        return event_pb2.Event.FromString(data)
    except Exception as exc:  # noqa: BLE001 - protobuf raises its own DecodeError type
        raise CorruptRecordError(path, offset, f"not an Event proto ({exc})") from None


@dataclass(frozen=True, slots=True)
class Block:
    """Complete, checked records of one file held in one buffer.

    :param path: the file.
    :param buf: the bytes read; record ``i`` has its header at ``buf[starts[i]]``.
    :param base: the file offset of ``buf[0]``.
    :param starts: int64 offsets into ``buf`` of each record's 12-byte header.
    :param lengths: int64 data lengths; the data of record ``i`` is ``buf[starts[i] + 12:][:lengths[i]]``.
    """

    path: str
    buf: bytes
    base: int
    starts: np.ndarray
    lengths: np.ndarray

    def data(self, index: int) -> bytes:
        """Return the data (the serialized Event) of record ``index``."""
        start = int(self.starts[index]) + HEADER_SIZE
        return self.buf[start : start + int(self.lengths[index])]

    def offset(self, index: int) -> int:
        """Return the file offset of record ``index``."""
        return self.base + int(self.starts[index])

    def event(self, index: int) -> event_pb2.Event:
        """Return record ``index`` parsed (:func:`parse_event`)."""
        return parse_event(self.path, self.offset(index), self.data(index))


def _masked(crc: np.ndarray) -> np.ndarray:
    crc = crc.astype(np.uint64)
    rotated = (crc >> np.uint64(15)) | (crc << np.uint64(17))
    return ((rotated + np.uint64(MASK_DELTA)) & np.uint64(0xFFFFFFFF)).astype(np.uint32)


def gather(u8: np.ndarray, positions: np.ndarray, width: int, dtype: str) -> np.ndarray:
    """Return the ``dtype`` values of ``width`` bytes stored at each of ``positions`` of ``u8`` (clamped to its end)."""
    index = np.minimum(positions[:, None] + np.arange(width), u8.size - 1)
    return np.ascontiguousarray(u8[index]).view(dtype).reshape(-1)


def _first_bad(buf: bytes, first: np.ndarray, size: np.ndarray, data_crc: list[int]) -> tuple[int, str] | None:
    """Return ``(index, reason)`` of the first record whose length or data CRC is wrong, or None.

    :param data_crc: the unmasked CRC32C of each record's data, computed while scanning.
    """
    if not first.size:
        return None
    u8 = np.frombuffer(buf, np.uint8)
    distinct, which = np.unique(size, return_inverse=True)
    expected_head = np.array([masked_crc32c(_U64_PACK(n)) for n in distinct.tolist()], dtype=np.uint32)
    head_ok = gather(u8, first + 8, 4, "<u4") == expected_head[which.reshape(-1)]
    data_ok = gather(u8, first + HEADER_SIZE + size, 4, "<u4") == _masked(np.array(data_crc, dtype=np.uint32))
    bad = np.flatnonzero(~(head_ok & data_ok))
    if bad.size == 0:
        return None
    index = int(bad[0])
    return index, "length CRC mismatch" if not head_ok[index] else "data CRC mismatch"


def _bounds(buf: bytes, check_crc: bool) -> tuple[np.ndarray, np.ndarray, list[int], int, str | None]:
    """Find the complete records in ``buf`` (one Python step per record: the only sequential part).

    :returns: ``(starts, lengths, data CRCs, stop, problem)``: ``stop`` is where scanning stopped;
        ``problem`` is why the header at ``stop`` is corrupt, or None if that record is just incomplete.
    """
    starts: list[int] = []
    crcs: list[int] = []
    append_start, append_crc = starts.append, crcs.append
    pos, n, problem = 0, len(buf), None
    while pos + HEADER_SIZE <= n:
        length = _U64(buf, pos)[0]
        end = pos + length + _FRAMING
        if end > n or length > MAX_RECORD_BYTES:
            if check_crc and masked_crc32c(buf[pos : pos + 8]) != _U32(buf, pos + 8)[0]:
                problem = "length CRC mismatch"
            elif length > MAX_RECORD_BYTES:
                problem = f"declared length {length} is larger than {MAX_RECORD_BYTES}"
            break
        append_start(pos)
        if check_crc:
            append_crc(_crc32c(buf[pos + HEADER_SIZE : end - FOOTER_SIZE]))
        pos = end
    first = np.array(starts, dtype=np.int64)
    lengths = np.diff(first, append=pos) - _FRAMING
    return first, lengths, crcs, pos, problem


def iter_blocks(path: str | os.PathLike[str], *, check_crc: bool = True, start: int = 0) -> Iterator[Block]:
    """Yield the checked records of an event file block by block, from file offset ``start``.

    :raises CorruptRecordError: after yielding the good records before the first corrupt one.
    """
    path = os.fspath(path)
    with open(path, "rb") as file:
        size = os.fstat(file.fileno()).st_size
        file.seek(start)
        base, carry = start, b""
        while True:
            chunk = file.read(BLOCK_BYTES)
            buf = carry + chunk if carry else chunk
            if not buf:
                return
            file_left = max(size - file.tell(), 0)
            starts, lengths, crcs, stop, problem = _bounds(buf, check_crc)
            if problem is None and stop + HEADER_SIZE <= len(buf) and not starts.size:
                # one record larger than a block: read exactly its remaining bytes, if the file holds them
                need = _U64(buf, stop)[0] + _FRAMING - len(buf)
                if need > file_left:
                    return
                buf += file.read(need)
                starts, lengths, crcs, stop, problem = _bounds(buf, check_crc)
            bad = _first_bad(buf, starts, lengths, crcs) if check_crc else None
            if bad is not None:
                index, problem = bad
                stop = int(starts[index])
                starts, lengths = starts[:index], lengths[:index]
            if starts.size:
                yield Block(path, buf, base, starts, lengths)
            if problem is not None:
                raise CorruptRecordError(path, base + stop, problem)
            if not chunk:
                return  # end of file; what is left is a truncated record, not yet written
            base += stop
            carry = buf[stop:]
