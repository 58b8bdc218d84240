"""Serialized ``Event`` records, built by hand where speed matters.

A scalar event is built directly as protobuf wire bytes (about 1 µs), the rest through
the generated ``event_pb2`` classes. Both produce exactly what protobuf would.
"""

from __future__ import annotations

import math
import struct
from collections.abc import Sequence
from typing import Any

from tbcore.proto import event_pb2

__all__ = [
    "FILE_VERSION",
    "SOURCE_WRITER",
    "event_bytes",
    "file_version_event",
    "scalar_event",
    "scalar_tag_prefix",
    "session_start_event",
    "summary_event",
    "summary_field",
    "values_event",
]

FILE_VERSION = "brain.Event:2"
SOURCE_WRITER = "tbcore"

_F32 = struct.Struct("<f").pack
_WALL = struct.Struct("<Bd").pack  # Event.wall_time: key 0x09 and a double


def _varint(value: int) -> bytes:
    if value < 0x80:
        return bytes((value,))
    out = bytearray()
    while value >= 0x80:
        out.append((value & 0x7F) | 0x80)
        value >>= 7
    out.append(value)
    return bytes(out)


def scalar_tag_prefix(tag: str) -> bytes:
    """Return the wire bytes of a scalar ``Event`` from its ``summary`` field up to the float32 value.

    Everything there depends on the tag only (the lengths too: the value is always 4 bytes),
    so callers cache it per tag and :func:`scalar_event` adds wall time, step and value.
    """
    encoded = tag.encode("utf-8")
    value = b"\x0a" + _varint(len(encoded)) + encoded + b"\x15"  # Summary.Value.tag, simple_value key
    summary = b"\x0a" + _varint(len(value) + 4) + value  # Summary.value
    return summary_field(len(summary) + 4) + summary


def summary_field(size: int) -> bytes:
    """Return the wire bytes that precede a serialized ``Summary`` of ``size`` bytes in an ``Event``."""
    return b"\x2a" + _varint(size)  # Event.summary: key and length


def _float32(value: float) -> bytes:
    try:
        return _F32(value)
    except OverflowError:  # beyond float32: store the infinity that a float32 cast gives
        return _F32(math.copysign(math.inf, value))


def _step_field(step: int) -> bytes:
    """Return ``Event.step`` as wire bytes (empty for 0, protobuf's default)."""
    if step < 0x80:
        return bytes((0x10, step)) if step else b""
    if step < 0x4000:
        return bytes((0x10, (step & 0x7F) | 0x80, step >> 7))
    if step < 0x200000:
        return bytes((0x10, (step & 0x7F) | 0x80, ((step >> 7) & 0x7F) | 0x80, step >> 14))
    return b"\x10" + _varint(step)


def scalar_event(prefix: bytes, value: float, step: int, wall_time: float) -> bytes:
    """Return a serialized ``Event{wall_time, step, summary{value{tag, simple_value}}}``.

    :param prefix: :func:`scalar_tag_prefix` of the tag (callers cache it per tag).
    """
    return _WALL(0x09, wall_time) + _step_field(step) + prefix + _float32(value)


def values_event(pieces: Sequence[bytes], values: Sequence[float], step: int, wall_time: float) -> bytes:
    """Return a serialized ``Event``: wall time, step, then ``pieces`` with each value as float32 between two.

    :param pieces: a :class:`tbcore.deferred.ScalarForm`'s bytes, one more than ``values``.
    """
    out = [_WALL(0x09, wall_time), _step_field(step)]
    for piece, value in zip(pieces, values, strict=False):  # the last piece follows the last value
        out += (piece, _float32(value))
    out.append(pieces[-1])
    return b"".join(out)


def summary_event(summary_bytes: bytes, step: int, wall_time: float) -> bytes:
    """Return a serialized ``Event`` wrapping an already serialized ``Summary`` (of any proto class)."""
    return _WALL(0x09, wall_time) + _step_field(step) + summary_field(len(summary_bytes)) + summary_bytes


def event_bytes(**fields: Any) -> bytes:
    """Return a serialized ``Event`` built from keyword ``fields`` of ``event_pb2.Event``."""
    return event_pb2.Event(**fields).SerializeToString()


def file_version_event(wall_time: float) -> bytes:
    """Return the first record of every event file: ``file_version`` and ``source_metadata``."""
    return event_pb2.Event(
        wall_time=wall_time,
        file_version=FILE_VERSION,
        source_metadata=event_pb2.SourceMetadata(writer=SOURCE_WRITER),
    ).SerializeToString()


def session_start_event(wall_time: float, step: int) -> bytes:
    """Return ``Event{session_log{status: START}}`` at ``step`` (used for ``purge_step``)."""
    return event_pb2.Event(
        wall_time=wall_time, step=step, session_log=event_pb2.SessionLog(status=event_pb2.SessionLog.START)
    ).SerializeToString()
