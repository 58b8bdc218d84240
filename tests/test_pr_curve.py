"""PR curves read back by TensorBoard's loader and pr_curve plugin parser, against a numpy reference and torch."""

from __future__ import annotations

import numpy as np
import pytest
from tensorboard.plugins.pr_curve import metadata as pr_metadata
from tensorboard.util import tensor_util

from tbcore import SummaryWriter, summary
from tbcore.testing import tensorboard_accumulator


def reference_curve(labels, predictions, num_thresholds, weights=None):
    """TP/FP/TN/FN/precision/recall per threshold, one threshold at a time."""
    labels = np.asarray(labels, dtype=np.float64).reshape(-1)
    weights = (
        np.ones_like(labels) if weights is None else np.broadcast_to(np.asarray(weights, np.float64), labels.shape)
    )
    buckets = np.floor(np.asarray(predictions, np.float64).reshape(-1) * (num_thresholds - 1))
    rows = []
    for j in range(num_thresholds):
        above = buckets >= j
        tp = np.sum(weights * labels * above)
        fp = np.sum(weights * (1 - labels) * above)
        tn = np.sum(weights * (1 - labels) * ~above)
        fn = np.sum(weights * labels * ~above)
        rows.append([tp, fp, tn, fn, tp / max(1e-7, tp + fp), tp / max(1e-7, tp + fn)])
    return np.array(rows).T


def read_curve(logdir, tag):
    acc = tensorboard_accumulator(logdir)
    event = acc.Tensors(tag)[-1]
    content = acc.SummaryMetadata(tag).plugin_data.content
    return tensor_util.make_ndarray(event.tensor_proto), pr_metadata.parse_plugin_metadata(content)


@pytest.mark.parametrize("num_thresholds", [1, 2, 11, 127, 201])
@pytest.mark.parametrize("weighted", [False, True])
def test_pr_curve_matches_numpy_reference(logdir, num_thresholds, weighted):
    rng = np.random.default_rng(num_thresholds)
    labels = rng.integers(0, 2, 500).astype(bool)
    predictions = rng.random(500).astype(np.float32)
    predictions[:3] = [0.0, 1.0, 0.5]
    weights = rng.random(500) if weighted else None
    with SummaryWriter(logdir) as writer:
        writer.add_pr_curve("pr", labels, predictions, 4, num_thresholds=num_thresholds, weights=weights)
    data, meta = read_curve(logdir, "pr")
    assert data.dtype == np.float32 and data.shape == (6, num_thresholds)
    np.testing.assert_allclose(
        data, reference_curve(labels, predictions, num_thresholds, weights), rtol=1e-6, atol=1e-4
    )
    assert meta.num_thresholds == num_thresholds and meta.version == 0


def test_pr_curve_matches_torch(logdir, tmp_path):
    TorchWriter = pytest.importorskip("torch.utils.tensorboard").SummaryWriter

    rng = np.random.default_rng(1)
    labels, predictions, weights = rng.integers(0, 2, 300), rng.random(300), rng.random(300)
    for cls, where in ((SummaryWriter, logdir), (TorchWriter, tmp_path / "torch")):
        with cls(str(where)) as writer:
            writer.add_pr_curve("pr", labels, predictions, 2, num_thresholds=50, weights=weights)
            writer.add_pr_curve_raw("raw", *reference_curve(labels, predictions, 9), global_step=3, num_thresholds=9)
    for tag in ("pr", "raw"):
        ours, ours_meta = read_curve(logdir, tag)
        theirs, theirs_meta = read_curve(tmp_path / "torch", tag)
        np.testing.assert_allclose(ours, theirs, rtol=1e-6)
        assert ours_meta == theirs_meta


def test_torch_tensors_and_summary_function_agree(logdir):
    torch = pytest.importorskip("torch")

    labels, predictions = torch.tensor([1, 0, 1, 1]), torch.tensor([0.9, 0.2, 0.6, 0.3])
    with SummaryWriter(logdir) as writer:
        writer.add_pr_curve("pr", labels, predictions, num_thresholds=5)
    data, _ = read_curve(logdir, "pr")
    direct = tensor_util.make_ndarray(summary.pr_curve("pr", labels, predictions, 5).value[0].tensor)
    np.testing.assert_array_equal(data, direct)
    np.testing.assert_allclose(data, reference_curve(labels.numpy(), predictions.numpy(), 5), rtol=1e-6)


def test_pr_curve_raw_is_stored_as_given(logdir):
    rows = np.arange(24, dtype=np.float64).reshape(6, 4)
    with SummaryWriter(logdir) as writer:
        writer.add_pr_curve_raw("raw", *rows, global_step=1)
    data, meta = read_curve(logdir, "raw")
    np.testing.assert_array_equal(data, rows.astype(np.float32))
    assert meta.num_thresholds == 4


@pytest.mark.parametrize(
    ("kwargs", "error", "match"),
    [
        ({"labels": [1, 0, 1]}, ValueError, r"labels: expected as many elements as predictions \(4\), got 3"),
        ({"predictions": [0.1, 0.2, 1.5, 0.3]}, ValueError, r"predictions: expected values in \[0, 1\]"),
        ({"predictions": [0.1, np.nan, 0.5, 0.3]}, ValueError, r"predictions: expected values in \[0, 1\]"),
        ({"predictions": ["a", "b", "c", "d"]}, TypeError, "predictions: expected an array of real numbers"),
        ({"labels": [2, 0, 1, 1]}, ValueError, "labels: expected values that are 0, 1"),
        ({"num_thresholds": 0}, ValueError, "num_thresholds: expected an int > 0"),
        ({"num_thresholds": 2.5}, TypeError, "num_thresholds: expected an int > 0"),
        ({"weights": [1.0, 2.0]}, ValueError, r"weights: expected one number or one weight per prediction \(4\)"),
    ],
)
def test_pr_curve_bad_input(logdir, rejects, kwargs, error, match):
    args = {"labels": [1, 0, 1, 0], "predictions": [0.1, 0.9, 0.5, 0.3], **kwargs}
    with SummaryWriter(logdir) as writer:
        rejects(writer, lambda: writer.add_pr_curve("pr", global_step=1, **args), error, match)


def test_pr_curve_raw_bad_lengths(logdir, rejects):
    rows = [np.ones(4)] * 5 + [np.ones(3)]
    with SummaryWriter(logdir) as writer:
        match = r"recall: expected the same length as true_positive_counts \(4\), got 3"
        rejects(writer, lambda: writer.add_pr_curve_raw("raw", *rows), ValueError, match)
        rejects(writer, lambda: writer.add_pr_curve_raw("raw", *[np.ones((2, 2))] * 6), ValueError, "a non-empty 1-D")
