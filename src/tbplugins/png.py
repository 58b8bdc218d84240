"""A PNG encoder for uint8 pixel arrays, with numpy and zlib only (no Pillow).

Every row uses PNG filter 2 ("Up", the difference to the row above), computed with
numpy in one pass. The deflate settings are chosen per image by compressing a probe of
rows: where the filtered data barely compresses (photos, noise) Huffman-only coding is
used, which is about 3x faster than zlib level 1 there and no bigger; otherwise zlib
level 1, which shrinks flat images (plots, masks, renders) 10-100x at little cost. See
benchmarks/bench_media.py for the measurements behind these choices.
"""

from __future__ import annotations

import struct
import zlib

import numpy as np

__all__ = ["encode_png"]

_SIGNATURE = b"\x89PNG\r\n\x1a\n"
_COLOR_TYPE = {1: 0, 2: 4, 3: 2, 4: 6}  # channels -> grey, grey+alpha, RGB, RGBA
_PROBE_ROWS = 16
_NOISY_RATIO = 0.75  # a probe compressed to more than this fraction is treated as noise


def _chunk(kind: bytes, data: bytes) -> bytes:
    return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(data, zlib.crc32(kind)))


def _up_filtered(image: np.ndarray) -> np.ndarray:
    """Return the PNG scanlines of (H, W, C) uint8 pixels (any strides) with filter byte 2 ("Up") on every row."""
    height, width, channels = image.shape
    lines = np.empty((height, width * channels + 1), dtype=np.uint8)
    lines[:, 0] = 2
    body = lines[:, 1:].reshape(height, width, channels)  # a view: the last axis splits without a copy
    body[0] = image[0]
    np.subtract(image[1:], image[:-1], out=body[1:])
    return lines


def _compressor(lines: np.ndarray) -> zlib._Compress:
    """Return the deflate stream best suited to these scanlines (see the module docstring)."""
    middle = lines.shape[0] // 2
    probe = lines[middle : middle + _PROBE_ROWS].tobytes()
    noisy = len(zlib.compress(probe, 1)) > _NOISY_RATIO * len(probe)
    if noisy:
        return zlib.compressobj(1, zlib.DEFLATED, 15, 9, zlib.Z_HUFFMAN_ONLY)
    return zlib.compressobj(1, zlib.DEFLATED, 15, 9)


def encode_png(image: np.ndarray) -> bytes:
    """Return the PNG file of (H, W, C) uint8 pixels, C in 1-4 (grey, grey+alpha, RGB, RGBA)."""
    height, width, channels = image.shape
    lines = _up_filtered(image)
    stream = _compressor(lines)
    data = stream.compress(lines.data) + stream.flush()
    header = struct.pack(">IIBBBBB", width, height, 8, _COLOR_TYPE[channels], 0, 0, 0)
    return _SIGNATURE + _chunk(b"IHDR", header) + _chunk(b"IDAT", data) + _chunk(b"IEND", b"")
