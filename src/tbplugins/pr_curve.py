"""Precision-recall curves for TensorBoard's PR Curves dashboard (``add_pr_curve``, ``add_pr_curve_raw``).

Each curve is a float32 tensor of shape ``[6, num_thresholds]`` whose rows are true
positives, false positives, true negatives, false negatives, precision and recall;
column ``j`` is the threshold ``j / (num_thresholds - 1)``. Unlike torch, tbcore does not
cap ``num_thresholds`` at 127 (docs/types/pr_curve.md).
"""

from __future__ import annotations

import numbers
from typing import Any

import numpy as np

import tbcore
from tbcore.proto import plugin_pr_curve_pb2, summary_pb2

PLUGIN_NAME = "pr_curves"
PROTO_VERSION = 0

_MINIMUM_COUNT = 1e-7  # TensorBoard's floor for the precision and recall denominators
_RAW_NAMES = (
    "true_positive_counts",
    "false_positive_counts",
    "true_negative_counts",
    "false_negative_counts",
    "precision",
    "recall",
)


def metadata(num_thresholds: int) -> summary_pb2.SummaryMetadata:
    """Return the ``pr_curves`` plugin metadata for a curve of ``num_thresholds`` points."""
    content = plugin_pr_curve_pb2.PrCurvePluginData(version=PROTO_VERSION, num_thresholds=num_thresholds)
    return tbcore.summary_metadata(PLUGIN_NAME, content.SerializeToString())


def check_num_thresholds(num_thresholds: Any) -> int:
    """Return ``num_thresholds`` if it is an int > 0 (numpy integers accepted)."""
    return int(tbcore.check_positive(num_thresholds, "num_thresholds", integer=True))


def compute_curve(
    labels: np.ndarray, predictions: np.ndarray, num_thresholds: int, weights: np.ndarray | float = 1.0
) -> np.ndarray:
    """Return the ``(6, num_thresholds)`` float64 curve of TensorBoard's reference computation.

    Prediction ``p`` falls in bucket ``floor(p * (num_thresholds - 1))``; true and false
    positives at threshold ``j`` are the weighted counts of positive and negative labels
    in buckets ``>= j``. Inputs must already be validated (see :func:`encode`).
    """
    buckets = np.floor(predictions * (num_thresholds - 1)).astype(np.intp)
    positive = labels * weights
    negative = (1.0 - labels) * weights
    tp = np.bincount(buckets, weights=positive, minlength=num_thresholds)[::-1].cumsum()[::-1]
    fp = np.bincount(buckets, weights=negative, minlength=num_thresholds)[::-1].cumsum()[::-1]
    tn = fp[0] - fp
    fn = tp[0] - tp
    precision = tp / np.maximum(_MINIMUM_COUNT, tp + fp)
    recall = tp / np.maximum(_MINIMUM_COUNT, tp + fn)
    return np.stack((tp, fp, tn, fn, precision, recall))


def _summary(tag: str, data: np.ndarray, num_thresholds: int) -> summary_pb2.Summary:
    value = summary_pb2.Summary.Value(
        tag=tag, metadata=metadata(num_thresholds), tensor=tbcore.make_tensor_proto(data.astype(np.float32))
    )
    return summary_pb2.Summary(value=[value])


def encode(
    tag: str,
    predictions: np.ndarray,
    *,
    labels: np.ndarray,
    num_thresholds: int = 127,
    weights: np.ndarray | None = None,
) -> summary_pb2.Summary:
    """Return a PR curve summary of binary ``labels`` against ``predictions`` in [0, 1].

    :param labels: 0/1 or bool, as many elements as ``predictions`` (any shape; flattened).
    :param num_thresholds: the number of thresholds (an int > 0), evenly spaced over [0, 1].
    :param weights: None, one number, or one weight per prediction.
    """
    num_thresholds = check_num_thresholds(num_thresholds)
    if labels is None:
        raise tbcore.invalid("labels", "an array of 0/1 or bool labels", labels, kind=TypeError)
    predictions = tbcore.real_array(predictions, "predictions").reshape(-1).astype(np.float64)
    labels = tbcore.real_array(labels, "labels").reshape(-1).astype(np.float64)
    if predictions.size == 0:
        raise tbcore.invalid("predictions", "a non-empty array", predictions)
    if labels.size != predictions.size:
        raise ValueError(f"labels: expected as many elements as predictions ({predictions.size}), got {labels.size}")
    if not np.all((predictions >= 0.0) & (predictions <= 1.0)):
        raise tbcore.invalid("predictions", "values in [0, 1] (no NaN)", predictions)
    if not np.all((labels == 0.0) | (labels == 1.0)):
        raise tbcore.invalid("labels", "values that are 0, 1, False or True", labels)
    weight: np.ndarray | float = 1.0
    if weights is not None:
        weights = tbcore.real_array(weights, "weights").astype(np.float64)
        if weights.size != 1 and weights.size != predictions.size:
            raise ValueError(
                f"weights: expected one number or one weight per prediction ({predictions.size}), "
                f"got shape {weights.shape}"
            )
        weight = weights.reshape(-1) if weights.size != 1 else float(weights.reshape(-1)[0])
    return _summary(tag, compute_curve(labels, predictions, num_thresholds, weight), num_thresholds)


def encode_raw(
    tag: str,
    true_positive_counts: np.ndarray,
    *,
    false_positive_counts: np.ndarray,
    true_negative_counts: np.ndarray,
    false_negative_counts: np.ndarray,
    precision: np.ndarray,
    recall: np.ndarray,
    num_thresholds: int = 127,
    weights: Any = None,
) -> summary_pb2.Summary:
    """Return a PR curve summary from precomputed per-threshold counts, precision and recall.

    The six arrays must be 1-D with the same length ``T``, which TensorBoard reads as the
    number of thresholds (``num_thresholds`` is informational; ``weights`` is ignored, as in torch).
    """
    check_num_thresholds(num_thresholds)
    if weights is not None and not isinstance(weights, (numbers.Real, np.ndarray)):
        raise tbcore.invalid("weights", "None or a number (ignored)", weights, kind=TypeError)
    counts = (true_positive_counts, false_positive_counts, true_negative_counts, false_negative_counts)
    rows: list[np.ndarray] = []
    for name, array in zip(_RAW_NAMES, (*counts, precision, recall), strict=True):
        if array is None:
            raise tbcore.invalid(name, "a 1-D array of numbers", array, kind=TypeError)
        array = tbcore.real_array(np.asarray(array), name)
        if array.ndim != 1 or array.size == 0:
            raise tbcore.invalid(name, "a non-empty 1-D array", array)
        if rows and array.size != rows[0].size:
            raise ValueError(
                f"{name}: expected the same length as true_positive_counts ({rows[0].size}), got {array.size}"
            )
        rows.append(array.astype(np.float64))
    return _summary(tag, np.stack(rows), rows[0].size)


@tbcore.hookimpl
def tbcore_summary_types() -> list[tbcore.SummaryType]:
    """Provide ``pr_curve`` and ``pr_curve_raw``."""
    return [
        tbcore.SummaryType(
            name="pr_curve",
            plugin_name=PLUGIN_NAME,
            encode=encode,
            description="precision-recall curve from labels and predictions (add_pr_curve)",
            array_options=frozenset({"labels", "weights"}),
        ),
        tbcore.SummaryType(
            name="pr_curve_raw",
            plugin_name=PLUGIN_NAME,
            encode=encode_raw,
            description="precision-recall curve from precomputed counts (add_pr_curve_raw)",
            array_options=frozenset(_RAW_NAMES[1:]),
        ),
    ]
