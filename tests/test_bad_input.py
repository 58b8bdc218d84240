"""Every bad input to every add_* method and the constructor: a clear error, nothing written, writer still usable.

The table is tests/bad_inputs.py. Rows whose summary type is not installed are skipped,
so the same table covers image, audio, video, figure, pr_curve, mesh, custom_scalars,
hparams, embedding and graphs as soon as they are.
"""

from __future__ import annotations

import math

import numpy as np
import pytest

import tbcore
from bad_inputs import KIND, ROWS, available, call, clear_message, good, missing, snapshot
from tb_helpers import scalar_points
from tbcore import SummaryWriter
from tbcore.testing import read_events, tensorboard_accumulator


def skip_unless_runnable(method: str, needs: tuple[str, ...] = ()) -> None:
    """Skip the test when the summary type of ``method`` or a package its call needs is not installed."""
    if not available(KIND[method]):
        pytest.skip(f"summary type {KIND[method]!r} is not installed")
    if absent := missing(method, needs):
        pytest.skip(f"{method} here needs {', '.join(absent)}, which is not installed")


@pytest.mark.parametrize("row", ROWS, ids=[row.id for row in ROWS])
def test_bad_input_is_a_clear_error_and_writes_nothing(logdir, row, monkeypatch):
    skip_unless_runnable(row.method, row.needs)
    monkeypatch.chdir(logdir.parent)  # a default log dir (runs/...) would land here, where it is seen
    writer = SummaryWriter(logdir) if row.method != "__init__" else None
    if writer is not None:
        writer.flush()
    before = snapshot(str(logdir.parent))
    with pytest.raises((TypeError, ValueError)) as info:
        if writer is None:
            call(SummaryWriter, str(logdir / "run"), row)
        else:
            getattr(writer, row.method)(**{**good(row.method), **row.bad})
    assert clear_message(row, info.value), f"unclear message: {info.value}"
    if writer is None:
        assert snapshot(str(logdir.parent)) == before
        return
    writer.flush()
    assert snapshot(str(logdir.parent)) == before, "the failed call wrote something"
    writer.add_scalar("after", 1.0, 7)
    writer.close()
    assert [e.step for e in read_events(logdir) if e.summary.value and e.summary.value[0].tag == "after"] == [7]
    assert tensorboard_accumulator(logdir).Tags()["tensors"] == ["after"]
    assert scalar_points(logdir, "after") == [(7, 1.0)]


METHODS = sorted({row.method for row in ROWS} - {"add_graph", "add_onnx_graph", "__init__"})


@pytest.mark.parametrize("method", METHODS)
def test_good_template_works(logdir, method):
    """The template each row spoils is itself a valid call (so a row fails for its bad value only)."""
    skip_unless_runnable(method)
    with SummaryWriter(logdir) as writer:
        getattr(writer, method)(**good(method))


def test_every_add_method_has_rows():
    """The table covers every add_* method of SummaryWriter."""
    methods = {name for name in dir(SummaryWriter) if name.startswith("add_")}
    methods -= {"add", "add_custom_scalars_multilinechart", "add_custom_scalars_marginchart"}
    assert methods <= {row.method for row in ROWS}


def test_nan_and_inf_values_are_stored_not_rejected(logdir):
    """NaN/inf are data: scalars and histograms keep them (TensorBoard reads them back)."""
    with SummaryWriter(logdir) as writer:
        writer.add_scalar("s", math.nan, 0)
        writer.add_scalar("s", -math.inf, 1)
        writer.add_histogram("h", np.array([1.0, math.nan, math.inf, 2.0]), 0)
    acc = tensorboard_accumulator(logdir)
    values = [p.tensor_proto.float_val[0] for p in acc.Tensors("s")]
    assert math.isnan(values[0]) and values[1] == -math.inf
    (histogram,) = acc.Tensors("h")
    assert acc.SummaryMetadata("h").plugin_data.plugin_name == "histograms"
    buckets = tbcore.tensor_to_numpy(histogram.tensor_proto)  # TensorBoard's [left, right, count] rows
    assert buckets.ndim == 2 and buckets.shape[1] == 3 and buckets[:, 2].sum() == 2  # the two finite values
