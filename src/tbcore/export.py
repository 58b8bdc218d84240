"""``tbcore export``: tables of a log directory written as CSV, JSON (records) or Parquet.

Scalars keep their numeric ``value`` column. Values of other plugins (arrays, bytes,
dicts) are written as JSON text: arrays as nested lists, bytes as base64.
"""

from __future__ import annotations

import base64
import csv
import io
import json
import math
import os
from collections.abc import Callable
from typing import Any, TextIO

import numpy as np

from tbcore.tables import COLUMNS, table

__all__ = ["FORMATS", "export_table", "to_jsonable"]

FORMATS = ("csv", "json", "parquet")


def to_jsonable(value: Any) -> Any:
    """Return ``value`` with numpy arrays as lists, bytes as base64 text and non-finite floats as None."""
    if isinstance(value, np.ndarray):
        return to_jsonable(value.tolist())
    if isinstance(value, (bytes, bytearray)):
        return base64.b64encode(bytes(value)).decode("ascii")
    if isinstance(value, dict):
        return {str(k): to_jsonable(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [to_jsonable(v) for v in value]
    if isinstance(value, np.generic):
        return to_jsonable(value.item())
    if isinstance(value, float) and not math.isfinite(value):
        return None
    return value


def _rows(columns: dict[str, np.ndarray], plugin: str, for_json: bool) -> list[dict[str, Any]]:
    """Rows of the table; scalars stay floats, except that JSON (which has no inf/nan) gets None for them."""
    values = columns["value"]
    encode: Callable[[Any], Any]
    if plugin != "scalars":
        encode = to_jsonable
    elif for_json:
        encode = lambda v: v if math.isfinite(v) else None  # noqa: E731
    else:
        encode = float
    return [
        {"run": r, "tag": t, "step": s, "wall_time": w, "value": encode(v)}
        for r, t, s, w, v in zip(
            columns["run"].tolist(),
            columns["tag"].tolist(),
            columns["step"].tolist(),
            columns["wall_time"].tolist(),
            values.tolist() if plugin == "scalars" else list(values),
            strict=True,
        )
    ]


def _write_csv(rows: list[dict[str, Any]], out: TextIO, plugin: str) -> None:
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(COLUMNS)
    for row in rows:
        value = row["value"]
        cell = repr(value) if plugin == "scalars" else json.dumps(value)
        writer.writerow([row["run"], row["tag"], row["step"], repr(row["wall_time"]), cell])


def export_table(logdir: str, plugin: str, fmt: str, out: str | None, **options: Any) -> int:
    """Write the ``plugin`` table of ``logdir`` in ``fmt`` to the file ``out`` (stdout for csv/json if None).

    :returns: the number of rows written.
    :raises ImportError: Parquet needs pandas and pyarrow.
    """
    columns = table(logdir, plugin, as_frame=False, **options)
    count = len(columns["step"])
    if fmt == "parquet":
        _write_parquet(columns, plugin, out or f"{plugin}.parquet")
        return count
    rows = _rows(columns, plugin, for_json=fmt == "json")
    buffer = io.StringIO()
    if fmt == "csv":
        _write_csv(rows, buffer, plugin)
    else:
        json.dump(rows, buffer)
        buffer.write("\n")
    if out is None:
        print(buffer.getvalue(), end="")
    else:
        with open(out, "w", encoding="utf-8", newline="") as file:
            file.write(buffer.getvalue())
    return count


def _write_parquet(columns: dict[str, np.ndarray], plugin: str, out: str) -> None:
    try:
        import pandas as pd
        import pyarrow  # noqa: F401 - pandas needs it for Parquet
    except ImportError as error:
        raise ImportError(f"--format parquet needs pandas and pyarrow (pip install pandas pyarrow): {error}") from None
    data = dict(columns)
    if plugin != "scalars":
        data["value"] = np.array([json.dumps(to_jsonable(v)) for v in columns["value"]], dtype=object)
    os.makedirs(os.path.dirname(out) or ".", exist_ok=True)
    pd.DataFrame(data).to_parquet(out, index=False)
