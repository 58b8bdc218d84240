"""Serialized ``Event`` records, built by hand where speed matters.

A scalar event is built directly as protobuf wire bytes (about 1 µs), the rest through
the generated ``event_pb2`` classes. Both produce exactly what protobuf would.
"""

from __future__ import annotations

import math
import struct
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
]

FILE_VERSION = "brain.Event:2"
SOURCE_WRITER = "tbcore"

_F64 = struct.Struct("<d").pack
_F32 = struct.Struct("<f").pack
_FLOAT32_MAX = 3.4028234663852886e38


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
    """Return the wire bytes of ``Summary.Value`` up to its ``simple_value`` (tag field and key)."""
    encoded = tag.encode("utf-8")
    return b"\x0a" + _varint(len(encoded)) + encoded + b"\x15"


def _float32(value: float) -> bytes:
    try:
        return _F32(value)
    except OverflowError:  # beyond float32: store the infinity that a float32 cast gives
        return _F32(math.copysign(math.inf, value))


def scalar_event(prefix: bytes, value: float, step: int, wall_time: float) -> bytes:
    """Return a serialized ``Event{wall_time, step, summary{value{tag, simple_value}}}``.

    :param prefix: :func:`scalar_tag_prefix` of the tag (callers cache it per tag).
    """
    val = prefix + _float32(value)
    summary = b"\x0a" + _varint(len(val)) + val
    head = b"\x09" + _F64(wall_time) + (b"\x10" + _varint(step) if step else b"")
    return head + b"\x2a" + _varint(len(summary)) + summary


def summary_event(summary_bytes: bytes, step: int, wall_time: float) -> bytes:
    """Return a serialized ``Event`` wrapping an already serialized ``Summary`` (of any proto class)."""
    head = b"\x09" + _F64(wall_time) + (b"\x10" + _varint(step) if step else b"")
    return head + b"\x2a" + _varint(len(summary_bytes)) + summary_bytes


def event_bytes(**fields: Any) -> bytes:
    """Return a serialized ``Event`` built from keyword ``fields`` of ``event_pb2.Event``."""
    return event_pb2.Event(**fields).SerializeToString()


def file_version_event(wall_time: float, step: int = 0) -> bytes:
    """Return the first record of every event file: ``file_version`` and ``source_metadata``."""
    return event_pb2.Event(
        wall_time=wall_time,
        step=step,
        file_version=FILE_VERSION,
        source_metadata=event_pb2.SourceMetadata(writer=SOURCE_WRITER),
    ).SerializeToString()


def session_start_event(wall_time: float, step: int) -> bytes:
    """Return ``Event{session_log{status: START}}`` at ``step`` (used for ``purge_step``)."""
    return event_pb2.Event(
        wall_time=wall_time, step=step, session_log=event_pb2.SessionLog(status=event_pb2.SessionLog.START)
    ).SerializeToString()
