"""Pixels to PNG files and image summaries, with numpy and zlib only (no Pillow): public, for plugin authors.

The built-in image, figure, video and embedding types use these helpers, and so can a
third-party summary type that draws into pixels (see the plugin tutorial):

>>> import numpy as np
>>> from tbcore import images
>>> pixels = images.to_uint8(np.random.rand(32, 48, 3), "image")  # floats in [0, 1] -> uint8
>>> summary = images.image_summary("val/sample", pixels)  # a PNG in a legacy Summary.Image

**Pixel values** (:func:`to_uint8`): uint8 is used as is; floats (float16/32/64, bfloat16,
float8) are taken as [0, 1], scaled by 255, rounded and clipped to 0-255 (never wrapped;
NaN is an error); bool is 0 or 255; other integer dtypes are taken as 0-255 values and
clipped.

**PNG** (:func:`encode_png`): every row uses PNG filter 2 ("Up", the difference to the row
above), computed with numpy in one pass. The deflate settings are chosen per image by
compressing 16 rows spread over it both ways: zlib level 1 where it makes them much
smaller than Huffman-only coding (flat images: plots, masks, renders, 10x smaller),
otherwise Huffman-only, which on photos and noise is faster than level 1 (about 2x) and as
small or smaller. The benchmark workloads png_photo_512 and png_smooth_512
(docs/performance.md) measure these choices.
"""

from __future__ import annotations

import struct
import zlib

import numpy as np

from tbcore.errors import invalid
from tbcore.proto import summary_pb2
from tbcore.tensor import is_real_dtype, real_array, reject_nan

__all__ = ["check_dtype", "encode_png", "image_summary", "to_uint8"]

_SIGNATURE = b"\x89PNG\r\n\x1a\n"
_COLOR_TYPE = {1: 0, 2: 4, 3: 2, 4: 6}  # channels -> grey, grey+alpha, RGB, RGBA
_PROBE_ROWS = 16  # rows, spread over the image, compressed both ways to choose the settings
_LEVEL1_RATIO = 0.6  # use zlib level 1 only where it makes the probe this much smaller than Huffman-only
_RANDOM_RATIO = 0.9  # a probe that Huffman coding shrinks less than this is noise: skip the level-1 probe
_PIXELS_EXPECTED = "real pixel values (uint8, float in [0, 1], bool or int)"


def check_dtype(array: np.ndarray, argument: str) -> None:
    """Raise TypeError naming ``argument`` unless ``array`` holds real pixel values (bool, int, uint or float)."""
    if not is_real_dtype(array.dtype):
        raise invalid(argument, _PIXELS_EXPECTED, array, kind=TypeError)


def to_uint8(array: np.ndarray, argument: str) -> np.ndarray:
    """Return pixel values 0-255 as uint8 (see the module docstring for each dtype); errors name ``argument``.

    The shape is kept; uint8 input is returned as is (not copied).

    :raises TypeError: a dtype that is not bool, int, uint or float (complex, str, object...).
    :raises ValueError: a float array holding NaN.
    """
    kind = array.dtype.kind
    if kind == "u" and array.dtype.itemsize == 1:
        return array
    if kind == "b":
        return np.where(array, np.uint8(255), np.uint8(0))  # PIL's mode-1 arrays hold True as byte 255
    if kind in "iu":
        return np.clip(array, 0, 255).astype(np.uint8)
    array = real_array(array, argument, _PIXELS_EXPECTED)  # bfloat16/float8 as float32; other dtypes rejected
    reject_nan(array, argument, "pixel values without NaN")
    with np.errstate(over="ignore"):  # beyond float32 (e.g. 1e300): inf, clipped to 255 below
        scaled = np.multiply(array, 255.0, dtype=np.float32)
    np.clip(scaled, 0.0, 255.0, out=scaled)
    np.add(scaled, 0.5, out=scaled)
    return scaled.astype(np.uint8)


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
    level1 = (
        huffman_size <= _RANDOM_RATIO * len(probe)  # else bytes close to uniformly random: level 1 cannot win
        and len(zlib.compress(probe, 1)) < _LEVEL1_RATIO * huffman_size
    )
    return zlib.compressobj(1, zlib.DEFLATED, 15, 9, zlib.Z_DEFAULT_STRATEGY if level1 else zlib.Z_HUFFMAN_ONLY)


def encode_png(image: np.ndarray) -> bytes:
    """Return the PNG file of (H, W, C) uint8 pixels, C in 1-4 (grey, grey+alpha, RGB, RGBA).

    :func:`to_uint8` makes such pixels from other dtypes.

    :raises TypeError: ``image`` is not a uint8 numpy array.
    :raises ValueError: its shape is not (H, W, C) with H, W >= 1 and C in 1-4.
    """
    if not isinstance(image, np.ndarray) or image.dtype != np.uint8:
        raise invalid("image", "a uint8 numpy array of pixels (see tbcore.images.to_uint8)", image, kind=TypeError)
    if image.ndim != 3 or image.shape[2] not in _COLOR_TYPE or not image.shape[0] or not image.shape[1]:
        raise invalid("image", "pixels of shape (H, W, C) with H, W >= 1 and C in 1-4", image)
    height, width, channels = image.shape
    lines = _up_filtered(image)
    stream = _compressor(lines)
    data = stream.compress(lines.data) + stream.flush()
    header = struct.pack(">IIBBBBB", width, height, 8, _COLOR_TYPE[channels], 0, 0, 0)
    return _SIGNATURE + _chunk(b"IHDR", header) + _chunk(b"IDAT", data) + _chunk(b"IEND", b"")


def image_summary(tag: str, image: np.ndarray, encoded: bytes | None = None) -> summary_pb2.Summary:
    """Return a legacy ``Summary.Image`` summary (TensorBoard's Images dashboard) of (H, W, C) uint8 pixels.

    The pixels are PNG-encoded unless ``encoded`` is given (e.g. a GIF whose frames have this size).
    """
    height, width, channels = image.shape[-3:]
    value = summary_pb2.Summary.Image(
        height=height,
        width=width,
        colorspace=channels,
        encoded_image_string=encode_png(image) if encoded is None else encoded,
    )
    return summary_pb2.Summary(value=[summary_pb2.Summary.Value(tag=tag, image=value)])
