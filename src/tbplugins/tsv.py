"""Tab-separated files of the embedding projector: ``tensors.tsv`` and ``metadata.tsv``.

The projector parses ``tensors.tsv`` as float32, so every value is written with the 9
significant digits that restore a float32 exactly. The digits are produced with numpy
array operations rather than one ``str()`` per number, which makes a 10k x 128 matrix
several times faster to write than torch's per-element formatting.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np

__all__ = ["cell", "format_matrix", "format_metadata"]

_DIGITS = np.array([[ord(c) for c in f"{i:03d}"] for i in range(1000)], dtype=np.uint8).T.copy()  # (3, 1000)
_TRAILING_ZEROS = np.array([3 - len(f"{i:03d}".rstrip("0")) for i in range(1000)], dtype=np.int32)
_FRACTION = np.arange(8)[:, None]
_BLOCK_VALUES = 1 << 20  # values formatted at once: bounds the temporary arrays to ~50 MB
_UNSAFE = str.maketrans({"\t": " ", "\n": " ", "\r": " "})


def format_matrix(matrix: np.ndarray) -> bytes:
    """Return an ``(N, D)`` array as TSV: one row per line, values as float32 in scientific notation."""
    with np.errstate(over="ignore"):  # beyond float32: ±inf, as the projector (which reads float32) would make it
        values = np.ascontiguousarray(matrix, dtype=np.float32)
    step = max(1, _BLOCK_VALUES // max(1, values.shape[1]))
    return b"".join(_format_rows(values[start : start + step]) for start in range(0, values.shape[0], step))


def _format_rows(values: np.ndarray) -> bytes:
    rows, cols = values.shape
    if not np.all(np.isfinite(values)):
        line = "\t".join(["%.9g"] * cols) + "\n"
        return ((line * rows) % tuple(values.reshape(-1).tolist())).encode("ascii")
    flat = values.reshape(-1)
    magnitude = np.abs(flat).astype(np.float64)
    nonzero = magnitude != 0
    exponent = np.floor(np.log10(np.where(nonzero, magnitude, 1.0))).astype(np.int32)
    mantissa = np.rint(magnitude * 10.0 ** (8 - exponent))
    redo = (mantissa >= 1e9) | ((mantissa < 1e8) & nonzero)  # log10 rounded across a power of ten
    if redo.any():
        exponent[redo] += np.where(mantissa[redo] >= 1e9, 1, -1).astype(np.int32)
        mantissa[redo] = np.rint(magnitude[redo] * 10.0 ** (8 - exponent[redo]))
    digits = mantissa.astype(np.int32)
    high, mid, low = digits // 1_000_000, (digits // 1000) % 1000, digits % 1000
    zeros_mid_high = 3 + np.where(mid > 0, _TRAILING_ZEROS[mid], 3 + _TRAILING_ZEROS[high])
    zeros = np.where(low > 0, _TRAILING_ZEROS[low], zeros_mid_high)
    kept = 8 - np.minimum(zeros, 8)
    # One 16-byte field per value, 0 bytes are dropped at the end: -d.dddddddde+xx<tab>
    out = np.empty((16, flat.size), np.uint8)
    out[0] = np.where(np.signbit(flat), ord("-"), 0)
    out[1] = _DIGITS[0][high]
    out[2] = np.where(kept > 0, ord("."), 0)
    out[3:5] = _DIGITS[1:, high]
    out[5:8] = _DIGITS[:, mid]
    out[8:11] = _DIGITS[:, low]
    out[3:11][_FRACTION >= kept] = 0
    out[11] = ord("e")
    out[12] = np.where(exponent < 0, ord("-"), ord("+"))
    exponent = np.abs(exponent)
    out[13] = exponent // 10 + ord("0")
    out[14] = exponent % 10 + ord("0")
    out[15] = ord("\t")
    out[15, cols - 1 :: cols] = ord("\n")
    data = out.T.reshape(-1)
    return data[data != 0].tobytes()


def cell(value: Any) -> str:
    """Return ``value`` as one TSV cell: ``str(value)`` with tabs and line breaks replaced by spaces."""
    return str(value).translate(_UNSAFE)


def format_metadata(rows: Sequence[Any], header: Sequence[Any] | None) -> bytes:
    """Return metadata rows as TSV: one cell per row without header, or the header line then one line per row."""
    if header is None:
        lines = [cell(value) for value in rows]
    else:
        lines = ["\t".join(cell(value) for value in row) for row in [header, *rows]]
    return ("\n".join(lines) + "\n").encode("utf-8")
