"""TFRecord framing: ``u64 length | u32 masked_crc(length) | data | u32 masked_crc(data)``.

Every record of an event file is framed this way (see docs/format.md). The CRC is
CRC32C (Castagnoli) computed natively by ``google-crc32c``, then masked as TensorFlow
does: rotate right by 15 bits and add ``0xA282EAD8`` modulo 2**32.
"""

from __future__ import annotations

import struct

from google_crc32c import value as _crc32c

__all__ = ["FOOTER_SIZE", "HEADER_SIZE", "MASK_DELTA", "crc32c", "frame", "frame_header", "frame_into", "masked_crc32c"]

MASK_DELTA = 0xA282EAD8  #: added to the rotated CRC
_U64 = struct.Struct("<Q")
_U32 = struct.Struct("<I")
HEADER_SIZE = 12  #: bytes before the data: 8 length bytes and their masked CRC
FOOTER_SIZE = 4  #: bytes after the data: the data's masked CRC


def crc32c(data: bytes | bytearray | memoryview) -> int:
    """Return the (unmasked) CRC32C of ``data``."""
    return _crc32c(bytes(data) if isinstance(data, memoryview) else data)


def masked_crc32c(data: bytes | bytearray | memoryview) -> int:
    """Return the masked CRC32C of ``data`` as stored in TFRecord framing."""
    crc = crc32c(data)
    return (((crc >> 15) | (crc << 17)) + MASK_DELTA) & 0xFFFFFFFF


_headers: dict[int, bytes] = {}


def frame_header(length: int) -> bytes:
    """Return the 12 bytes that precede a record of ``length`` bytes (cached: records repeat lengths)."""
    header = _headers.get(length)
    if header is None:
        packed = _U64.pack(length)
        header = packed + _U32.pack(masked_crc32c(packed))
        if len(_headers) < 4096:
            _headers[length] = header
    return header


def frame(data: bytes) -> bytes:
    """Return ``data`` framed as one TFRecord."""
    return b"".join((frame_header(len(data)), data, _U32.pack(masked_crc32c(data))))


def frame_into(out: list[bytes], data: bytes) -> None:
    """Append the three pieces of the TFRecord framing ``data`` to ``out`` (no copy of ``data``)."""
    out.append(frame_header(len(data)))
    out.append(data)
    crc = _crc32c(data)
    out.append(_U32.pack((((crc >> 15) | (crc << 17)) + MASK_DELTA) & 0xFFFFFFFF))
