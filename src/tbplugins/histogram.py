"""Histograms: ``add_histogram`` (from values) and ``add_histogram_raw`` (from bucket counts).

Written as TensorBoard's legacy ``HistogramProto``, which both loaders read and which
also feeds the Distributions dashboard. ``bins='tensorflow'`` uses torch's exponential
edges (±1e-12·1.1^i, 1549 edges) and its trimming of empty buckets; any other ``bins``
is handed to ``numpy.histogram``.

NaN and ±inf values are data: they are counted in ``num`` and included in ``sum`` and
``sum_squares``, but have no bucket, and ``min``/``max`` are those of the finite values.
"""

from __future__ import annotations

import functools
import math
import numbers
from typing import Any

import numpy as np

import tbcore
from tbcore.proto import summary_pb2

PLUGIN_NAME = "histograms"
PROTO_VERSION = 0


@functools.cache
def tensorflow_edges() -> np.ndarray:
    """Return torch's ``bins='tensorflow'`` edges: -big..-1e-12, 0, 1e-12..big with ratio 1.1."""
    positive = []
    edge = 1e-12
    while edge < 1e20:
        positive.append(edge)
        edge *= 1.1
    pos = np.array(positive, dtype=np.float64)
    edges = np.concatenate([-pos[::-1], [0.0], pos])
    edges.flags.writeable = False
    return edges


_LOG_SMALLEST = math.log(1e-12)
_LOG_RATIO = math.log(1.1)
_GUESS_LOW = np.float32(1e-3)


def tensorflow_counts(values: np.ndarray) -> np.ndarray:
    """Return numpy.histogram's counts of finite float ``values`` (any float dtype) on :func:`tensorflow_edges`.

    Without a binary search: the bucket of ``|v|`` is about ``log(|v| / 1e-12) / log(1.1)``
    (computed in float32, a few times faster), nudged so that it is never above the right
    bucket; comparing each value with the next edge then moves it into exactly the bucket
    numpy.histogram gives it.
    """
    edges = tensorflow_edges()
    half = (len(edges) - 1) // 2  # edges above zero; edges[half] == 0
    last = len(edges) - 2  # the last bucket, closed on the right
    if values.size and (values.min() < edges[0] or values.max() > edges[-1]):
        values = values[(values >= edges[0]) & (values <= edges[-1])]
    single = values if values.dtype == np.float32 else values.astype(np.float32)
    guess = np.abs(single)
    with np.errstate(divide="ignore"):
        np.log(guess, out=guess)  # -inf for 0
    guess -= _LOG_SMALLEST
    guess /= _LOG_RATIO  # k: |v| in [e_k, e_k+1) above zero (float32 puts it within 2e-4 of the truth)
    guess -= np.copysign(_GUESS_LOW, single)  # lean towards the bucket below: never above the right one
    np.floor(guess, out=guess)
    np.clip(guess, -1, half - 1, out=guess)  # -1: |v| < 1e-12
    guess += 1.5
    np.copysign(guess, single, out=guess)
    guess += half - 0.5  # the bucket: half + 1 + k above zero, half - 2 - k below
    index = guess.astype(np.int32)
    np.clip(index, 0, last, out=index)
    index += edges[1:][index] <= values  # the guess is the right bucket or the one below it
    np.minimum(index, last, out=index)
    return np.bincount(index, minlength=last + 1).astype(np.float64)


def _merge_bins(counts: np.ndarray, limits: np.ndarray, max_bins: int) -> tuple[np.ndarray, np.ndarray]:
    """Merge groups of adjacent bins so that there are at most about ``max_bins`` (torch's rule)."""
    group = len(counts) // max_bins
    remainder = len(counts) % group
    if remainder:
        counts = np.concatenate([counts, np.zeros(group - remainder)])
    merged = counts.reshape(-1, group).sum(axis=1)
    merged_limits = np.empty(merged.size + 1, dtype=limits.dtype)
    merged_limits[:-1] = limits[:-1:group][: merged.size]
    merged_limits[-1] = limits[-1]
    return merged, merged_limits


def _trim(counts: np.ndarray, limits: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Keep the support of the histogram plus one empty bucket on the left (TensorBoard stores right edges)."""
    nonzero = np.flatnonzero(counts)
    if nonzero.size == 0:
        return np.zeros(1), limits[-1:]
    start, end = int(nonzero[0]), int(nonzero[-1]) + 1
    kept = counts[start - 1 : end] if start > 0 else np.concatenate([[0.0], counts[:end]])
    return kept, limits[start : end + 1]


_CHUNK = 1 << 18  #: values handled at a time: intermediates stay in cache, huge inputs need little memory


def _counts_on_edges(values: np.ndarray, edges: np.ndarray) -> np.ndarray:
    """Return numpy.histogram's counts of ``values`` on sorted ``edges`` (last bin closed on the right)."""
    index = np.searchsorted(edges, values, side="right") - 1
    index[values == edges[-1]] = len(edges) - 2
    inside = (index >= 0) & (index < len(edges) - 1)
    return np.bincount(index[inside], minlength=len(edges) - 1).astype(np.float64)


def _chunks(flat: np.ndarray) -> Any:
    """Yield ``(chunk as float64, its finite values)`` for consecutive slices of ``flat``.

    Float chunks give their finite values in their own dtype (no float64 copy is needed to
    count them); other dtypes give them as float64.
    """
    native_float = flat.dtype.kind == "f"
    for start in range(0, flat.size, _CHUNK):
        native = flat[start : start + _CHUNK]
        chunk = native.astype(np.float64, copy=False)
        source = native if native_float else chunk
        finite = np.isfinite(chunk)
        yield chunk, (source if finite.all() else source[finite])


def _edges(flat: np.ndarray, bins: Any, low: float, high: float) -> np.ndarray:
    """Return the bin edges numpy.histogram would use for the finite values of ``flat``."""
    if isinstance(bins, str):  # a rule that looks at all the data
        finite = flat[np.isfinite(flat)]
        return np.histogram_bin_edges(finite.astype(np.float64, copy=False), bins=bins)
    return np.histogram_bin_edges(np.array([low, high]), bins=bins)  # an int or explicit edges: only the range


def histogram_proto(
    values: np.ndarray, bins: Any = "tensorflow", max_bins: int | None = None
) -> summary_pb2.HistogramProto:
    """Return the ``HistogramProto`` of ``values`` (any shape, flattened), in chunks of :data:`_CHUNK` values."""
    flat = values.reshape(-1)
    total = squares = 0.0
    low, high, finite_count = np.inf, -np.inf, 0
    tensorflow = isinstance(bins, str) and bins == "tensorflow"
    counts = np.zeros(len(tensorflow_edges()) - 1) if tensorflow else None
    for chunk, finite in _chunks(flat):
        with np.errstate(over="ignore", invalid="ignore"):  # sums beyond float64, or of inf and -inf: ±inf, NaN
            total += float(chunk.sum())
            squares += float(np.einsum("i,i->", chunk, chunk))  # not chunk.dot: BLAS threads cost more than they save
        if finite.size:
            finite_count += finite.size
            low, high = min(low, float(finite.min())), max(high, float(finite.max()))
            if counts is not None:
                counts += tensorflow_counts(finite)
    if counts is not None:
        limits = tensorflow_edges()
    elif finite_count:
        try:
            with np.errstate(over="ignore", invalid="ignore"):  # a range beyond float64 fails below instead
                limits = _edges(flat, bins, low, high)
            if not isinstance(bins, np.ndarray) and np.any(np.diff(limits) <= 0):  # numpy < 1.24 does not raise
                raise ValueError("the bin edges are not strictly increasing in float64")
            if len(limits) < 2:  # a rule's bin width overflowed (e.g. "scott" on [1e300, 0]): numpy gives one edge
                raise ValueError(f"the rule gave {len(limits)} bin edge(s)")
        # bins too fine for float64 (numpy < 1.24: IndexError), or a range beyond it (OverflowError)
        except (ValueError, IndexError, OverflowError) as exc:
            raise ValueError(f"bins: numpy.histogram cannot bin these values with bins={bins!r}: {exc}") from None
        counts = np.zeros(len(limits) - 1)
        for _chunk, finite in _chunks(flat):
            counts += _counts_on_edges(finite, limits)
    else:
        counts, limits = np.zeros(1), np.zeros(2)
    if max_bins is not None and len(counts) > max_bins:
        counts, limits = _merge_bins(counts, limits, max_bins)
    counts, limits = _trim(counts, limits)
    return summary_pb2.HistogramProto(
        min=low if finite_count else 0.0,
        max=high if finite_count else 0.0,
        num=float(flat.size),
        sum=total,
        sum_squares=squares,
        bucket_limit=limits.tolist(),
        bucket=counts.tolist(),
    )


def decode(value: summary_pb2.Summary.Value) -> dict[str, Any]:
    """Return a histogram value as ``{min, max, num, sum, sum_squares, limits, counts}``.

    ``limits`` are the buckets' right edges and ``counts`` their counts (float64 arrays).
    The tensor form ``[k, 3]`` of ``[left, right, count]`` rows is read too (``sum`` and
    ``sum_squares`` are then unknown: NaN).
    """
    if value.WhichOneof("value") == "tensor":
        rows = tbcore.tensor_to_numpy(value.tensor).astype(np.float64).reshape(-1, 3)
        low, high = (float(rows[0, 0]), float(rows[-1, 1])) if len(rows) else (0.0, 0.0)
        stats = {"min": low, "max": high, "num": float(rows[:, 2].sum()), "sum": np.nan, "sum_squares": np.nan}
        return {**stats, "limits": rows[:, 1].copy(), "counts": rows[:, 2].copy()}
    histo = value.histo
    return {
        "min": histo.min,
        "max": histo.max,
        "num": histo.num,
        "sum": histo.sum,
        "sum_squares": histo.sum_squares,
        "limits": np.array(histo.bucket_limit, dtype=np.float64),
        "counts": np.array(histo.bucket, dtype=np.float64),
    }


def _check_bins(bins: Any) -> Any:
    if isinstance(bins, str):
        allowed = ("tensorflow", "auto", "fd", "doane", "scott", "stone", "rice", "sturges", "sqrt")
        if bins not in allowed:
            raise tbcore.invalid("bins", f"one of {', '.join(repr(a) for a in allowed)}, an int or edges", bins)
        return bins
    if isinstance(bins, numbers.Integral) and not isinstance(bins, bool):
        if bins < 1:
            raise tbcore.invalid("bins", "an int >= 1", bins)
        return int(bins)
    edges = tbcore.as_numpy(bins, "bins")
    if edges.ndim != 1 or edges.size < 2 or edges.dtype.kind not in "fiu" or np.any(np.diff(edges) < 0):
        raise tbcore.invalid("bins", "a 1-d increasing array of at least 2 edges", bins)
    return edges


def encode(
    tag: str, values: np.ndarray, *, bins: Any = "tensorflow", max_bins: int | None = None
) -> summary_pb2.Summary:
    """Return a histogram summary of ``values`` (a non-empty real array)."""
    values = tbcore.real_array(values, "values", "a real-valued array")
    if values.size == 0:
        raise tbcore.invalid("values", "a non-empty array", values)
    bins = _check_bins(bins)
    if max_bins is not None:
        max_bins = tbcore.check_positive(max_bins, "max_bins", integer=True)
    histo = histogram_proto(values, bins, max_bins)
    return summary_pb2.Summary(value=[summary_pb2.Summary.Value(tag=tag, histo=histo)])


def _number(value: Any, argument: str) -> float:
    if isinstance(value, bool) or not isinstance(value, numbers.Real):  # numpy ints and floats are Real
        raise tbcore.invalid(argument, "a real number", value, kind=TypeError)
    return float(value)


def encode_raw(
    tag: str,
    bucket_counts: np.ndarray,
    *,
    min: Any,  # noqa: A002 - torch's argument names
    max: Any,  # noqa: A002
    num: Any,
    sum: Any,  # noqa: A002
    sum_squares: Any,
    bucket_limits: np.ndarray,
) -> summary_pb2.Summary:
    """Return a histogram summary from precomputed statistics; ``bucket_limits`` are right edges."""
    low, high = _number(min, "min"), _number(max, "max")
    count = _number(num, "num")
    limits = bucket_limits
    for name, array in (("bucket_limits", limits), ("bucket_counts", bucket_counts)):
        if array.ndim != 1 or array.size == 0 or array.dtype.kind not in "fiu":
            raise tbcore.invalid(name, "a non-empty 1-d array of numbers", array)
    if limits.size != bucket_counts.size:
        raise ValueError(
            f"bucket_counts: expected as many counts as bucket_limits ({limits.size}), got {bucket_counts.size}"
        )
    if np.any(np.diff(limits) < 0):
        raise tbcore.invalid("bucket_limits", "non-decreasing right edges", limits)
    if np.any(bucket_counts < 0):
        raise tbcore.invalid("bucket_counts", "counts >= 0", bucket_counts)
    if low > high:
        raise ValueError(f"min: expected min <= max, got min={low} and max={high}")
    if count < 0:
        raise tbcore.invalid("num", "a count >= 0", num)
    histo = summary_pb2.HistogramProto(
        min=low,
        max=high,
        num=count,
        sum=_number(sum, "sum"),
        sum_squares=_number(sum_squares, "sum_squares"),
        bucket_limit=limits.astype(np.float64).tolist(),
        bucket=bucket_counts.astype(np.float64).tolist(),
    )
    return summary_pb2.Summary(value=[summary_pb2.Summary.Value(tag=tag, histo=histo)])


@tbcore.hookimpl
def tbcore_summary_types() -> list[tbcore.SummaryType]:
    """Provide ``histogram`` and ``histogram_raw``."""
    return [
        tbcore.SummaryType(
            name="histogram",
            plugin_name=PLUGIN_NAME,
            encode=encode,
            description="distribution of values per step (add_histogram)",
            decode=decode,
        ),
        tbcore.SummaryType(
            name="histogram_raw",
            plugin_name=PLUGIN_NAME,
            encode=encode_raw,
            description="histogram from precomputed buckets (add_histogram_raw)",
            array_options=frozenset({"bucket_limits"}),
        ),
    ]
