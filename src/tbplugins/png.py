"""A PNG encoder for uint8 pixel arrays, with numpy and zlib only (no Pillow).

Every row uses PNG filter 2 ("Up", the difference to the row above), computed with
numpy in one pass. The deflate settings are chosen per image by compressing 16 rows
spread over it both ways: zlib level 1 where it makes them much smaller than Huffman-only
coding (flat images: plots, masks, renders, 10x smaller), otherwise Huffman-only, which
on photos and noise is 3-5x faster than level 1 and as small or smaller. See
benchmarks/bench_media.py for the measurements behind these choices.
"""

from __future__ import annotations

import struct
import zlib

import numpy as np

__all__ = ["encode_png"]

_SIGNATURE = b"\x89PNG\r\n\x1a\n"
_COLOR_TYPE = {1: 0, 2: 4, 3: 2, 4: 6}  # channels -> grey, grey+alpha, RGB, RGBA
_PROBE_ROWS = 16  # rows, spread over the image, compressed both ways to choose the settings
_LEVEL1_RATIO = 0.6  # use zlib level 1 only where it makes the probe this much smaller than Huffman-only
_RANDOM_RATIO = 0.9  # a probe that Huffman coding shrinks less than this is noise: skip the level-1 probe


def _chunk(kind: bytes, data: bytes) -> bytes:
    return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(data, zlib.crc32(kind)))


def _up_filtered(image: np.ndarray) -> np.ndarray:
    """Return the PNG scanlines of (H, W, C) uint8 pixels (any strides) with filter byte 2 ("Up") on every row."""
    height, width, channels = image.shape
    if not image.flags.c_contiguous:
        # Interleave channel by channel: 10x faster than numpy's generic copy of a planar (C, H, W) view.
        interleaved = np.empty(image.shape, dtype=np.uint8)
        for channel in range(channels):
            interleaved[:, :, channel] = image[:, :, channel]
        image = interleaved
    lines = np.empty((height, width * channels + 1), dtype=np.uint8)
    lines[:, 0] = 2
    body = lines[:, 1:].reshape(height, width, channels)  # a view: splitting the last axis needs no copy
    body[0] = image[0]
    np.subtract(image[1:], image[:-1], out=body[1:])
    return lines


def _compressor(lines: np.ndarray) -> zlib._Compress:
    """Return the deflate stream best suited to these scanlines (see the module docstring)."""
    probe = lines[:: max(1, lines.shape[0] // _PROBE_ROWS)][:_PROBE_ROWS].tobytes()
    huffman = zlib.compressobj(1, zlib.DEFLATED, 15, 9, zlib.Z_HUFFMAN_ONLY)
    huffman_size = len(huffman.compress(probe) + huffman.flush())
    if huffman_size > _RANDOM_RATIO * len(probe):  # bytes close to uniformly random: level 1 cannot win
        return zlib.compressobj(1, zlib.DEFLATED, 15, 9, zlib.Z_HUFFMAN_ONLY)
    if len(zlib.compress(probe, 1)) < _LEVEL1_RATIO * huffman_size:
        return zlib.compressobj(1, zlib.DEFLATED, 15, 9)
    return zlib.compressobj(1, zlib.DEFLATED, 15, 9, zlib.Z_HUFFMAN_ONLY)


def encode_png(image: np.ndarray) -> bytes:
    """Return the PNG file of (H, W, C) uint8 pixels, C in 1-4 (grey, grey+alpha, RGB, RGBA)."""
    height, width, channels = image.shape
    lines = _up_filtered(image)
    stream = _compressor(lines)
    data = stream.compress(lines.data) + stream.flush()
    header = struct.pack(">IIBBBBB", width, height, 8, _COLOR_TYPE[channels], 0, 0, 0)
    return _SIGNATURE + _chunk(b"IHDR", header) + _chunk(b"IDAT", data) + _chunk(b"IEND", b"")
