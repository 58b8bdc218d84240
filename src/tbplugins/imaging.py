"""Pixel arrays for the media summary types: layouts, dtypes and grids, as torch defines them.

Shared by the image, image-with-boxes, figure, video and embedding plugins; not a plugin itself.

* **Layouts** (``dataformats``): the distinct letters ``H`` and ``W``, optionally ``C``
  (channels) and ``N`` (a batch), in any order and either case: ``CHW``, ``HWC``, ``HW``,
  ``WH``, ``NCHW``, ``NHWC``, ``NHW``, ... A missing ``C`` means one channel, a missing
  ``N`` one image. 1, 3 or 4 channels (grey, RGB, RGBA).
* **dtypes**: as :func:`tbcore.images.to_uint8` converts them (uint8 as is, floats in
  [0, 1] scaled by 255, NaN an error, bool 0 or 255, other integers clipped to 0-255).
* **Grids**: a batch is tiled as torch tiles it: at most 8 images per row, rows filled left
  to right, black where the last row is short; videos use torch's power-of-two grid.
* **PIL images** carry their own layout (``dataformats`` does not apply to them): L, RGB
  and RGBA are used as is, 1 becomes 0/255, I/I;16/F keep their values (dtype rules above),
  every other mode is converted by Pillow to RGB, or RGBA when it has transparency.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np

import tbcore
from tbcore.images import check_dtype, to_uint8

__all__ = ["image_grid", "parse_dataformats", "pixels", "power_of_two_grid", "tile", "to_nhwc"]

_LAYOUT_EXPECTED = "distinct letters H and W, optionally C and N, e.g. 'CHW', 'HWC', 'HW', 'NCHW'"
_PIL_AS_IS = frozenset({"L", "RGB", "RGBA", "1", "I", "F"})


def parse_dataformats(dataformats: Any) -> str:
    """Return ``dataformats`` in upper case after checking its letters."""
    if not isinstance(dataformats, str):
        raise tbcore.invalid("dataformats", f"a str of {_LAYOUT_EXPECTED}", dataformats, kind=TypeError)
    layout = dataformats.upper()
    if len(set(layout)) != len(layout) or not set(layout) <= set("NCHW") or not {"H", "W"} <= set(layout):
        raise tbcore.invalid("dataformats", _LAYOUT_EXPECTED, dataformats)
    return layout


def to_nhwc(array: np.ndarray, layout: str, argument: str) -> np.ndarray:
    """Return a (N, H, W, C) view of ``array`` laid out as ``layout`` (checked: ndim, channels, emptiness).

    A layout with ``T`` (video frames, e.g. ``"NTCHW"``) gives a (N, T, H, W, C) view.
    """
    check_dtype(array, argument)
    given = tuple(array.shape)
    if array.ndim != len(layout):
        raise ValueError(f"{argument}: expected {len(layout)} dimensions for dataformats={layout!r}, got shape {given}")
    channels = array.shape[layout.index("C")] if "C" in layout else 1
    if channels not in (1, 3, 4):
        raise ValueError(
            f"{argument}: expected 1, 3 or 4 channels (grey, RGB, RGBA) on axis C of {layout!r}, got shape {given}"
        )
    if array.size == 0:
        raise ValueError(f"{argument}: expected a non-empty image, got shape {given}")
    for letter in "NC":
        if letter not in layout:
            array, layout = array[np.newaxis], letter + layout
    return array.transpose([layout.index(letter) for letter in ("NTHWC" if "T" in layout else "NHWC")])


def _from_pil(image: Any) -> np.ndarray:
    """Return a PIL image as an (H, W) or (H, W, C) array, converting modes without a direct meaning."""
    mode = image.mode
    if mode not in _PIL_AS_IS and not mode.startswith("I;16"):
        transparent = "A" in mode or "a" in mode or "transparency" in image.info
        image = image.convert("RGBA" if transparent else "RGB")
    return np.asarray(image)


def _is_pil(value: Any) -> bool:
    return tbcore.lazy_issubclass(type(value), "PIL.Image", "Image")


def pixels(value: Any, dataformats: Any, argument: str) -> np.ndarray:
    """Return ``value`` (an array-like laid out as ``dataformats``, a PIL image or a list of them) as
    (N, H, W, C) uint8 pixels."""
    layout = parse_dataformats(dataformats)
    if _is_pil(value):
        array = _from_pil(value)
        layout = "HWC" if array.ndim == 3 else "HW"
    elif isinstance(value, (list, tuple)) and value and all(_is_pil(v) for v in value):
        arrays = [_from_pil(v) for v in value]
        if len({a.shape for a in arrays}) != 1:
            shapes = sorted({a.shape for a in arrays})
            raise ValueError(f"{argument}: expected PIL images of one size and mode, got arrays of shapes {shapes}")
        array = np.stack(arrays)
        layout = "NHWC" if array.ndim == 4 else "NHW"
    else:
        array = tbcore.as_numpy(value, argument)
    return to_uint8(to_nhwc(array, layout, argument), argument)


def tile(batch: np.ndarray, nrows: int, ncols: int) -> np.ndarray:
    """Tile (N, ..., H, W, C) into (..., nrows*H, ncols*W, C), row by row, black where images are missing."""
    count, height, width, channels = batch.shape[0], *batch.shape[-3:]
    middle = batch.shape[1:-3]
    if count < nrows * ncols:
        padding = np.zeros((nrows * ncols - count, *batch.shape[1:]), dtype=batch.dtype)
        batch = np.concatenate([batch, padding])
    grid = batch.reshape(nrows, ncols, *middle, height, width, channels)
    k = len(middle)
    order = [*range(2, 2 + k), 0, 2 + k, 1, 3 + k, 4 + k]
    return grid.transpose(order).reshape(*middle, nrows * height, ncols * width, channels)


def image_grid(batch: np.ndarray, max_columns: int = 8) -> np.ndarray:
    """Return (N, H, W, C) as one (H', W', C) image: torch's ``make_grid`` rule (8 per row)."""
    if batch.shape[0] == 1:
        return batch[0]
    ncols = min(batch.shape[0], max_columns)
    return tile(batch, math.ceil(batch.shape[0] / ncols), ncols)


def power_of_two_grid(videos: np.ndarray) -> np.ndarray:
    """Return (N, T, H, W, C) as (T, H', W', C) frames: torch's video grid (N padded to a power of two,
    ``2**floor(log2(N)/2)`` rows)."""
    count = videos.shape[0]
    if count == 1:
        return videos[0]
    padded = 1 << (count - 1).bit_length()
    nrows = 2 ** ((count.bit_length() - 1) // 2)
    return tile(videos, nrows, padded // nrows)
