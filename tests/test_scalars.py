"""Scalars read back by TensorBoard's own loaders."""

from __future__ import annotations

import decimal
import fractions
import math

import numpy as np
import pytest

from tb_helpers import scalar_points
from tbcore import SummaryWriter
from tbcore.testing import TensorBoardServer, tensorboard_accumulator


def test_add_scalar_read_by_event_accumulator(logdir):
    with SummaryWriter(logdir) as writer:
        for step in range(20):
            writer.add_scalar("loss", 1.0 / (step + 1), step)
    acc = tensorboard_accumulator(logdir)
    points = acc.Tensors("loss")
    assert [p.step for p in points] == list(range(20))
    assert points[3].tensor_proto.float_val[0] == pytest.approx(0.25)


# Decimal: found by tests/test_differential_torch.py (torch takes it; tbcore said "expected ... a Python number")
FORMS = [
    np.float32(1.5),
    np.array(1.5),
    np.array([1.5]),
    1.5,
    3,
    True,
    fractions.Fraction(3, 2),
    decimal.Decimal("1.5"),
]


@pytest.mark.parametrize("value", FORMS)
def test_scalar_value_forms(logdir, value):
    with SummaryWriter(logdir) as writer:
        writer.add_scalar("x", value, 1)
        writer.add_scalars("y", {"a": value}, 1)
    expected = float(np.asarray(value, dtype=float).reshape(-1)[0])
    assert tensorboard_accumulator(logdir).Tensors("x")[0].tensor_proto.float_val[0] == pytest.approx(expected)
    assert tensorboard_accumulator(logdir / "y_a").Tensors("y")[0].tensor_proto.float_val[0] == pytest.approx(expected)


def test_signaling_nan_decimal_is_refused(logdir, rejects):
    with SummaryWriter(logdir) as writer:
        rejects(writer, lambda: writer.add_scalar("x", decimal.Decimal("sNaN"), 0), ValueError, r"^scalar_value: ")


def test_numbers_beyond_float_range_are_infinite(logdir):
    """An int or Fraction too large for a float is stored as ±inf (a float32 cast's answer), not an OverflowError."""
    huge = [10**400, -(10**400), fractions.Fraction(10**400, 3), fractions.Fraction(-(10**400), 7)]
    with SummaryWriter(logdir) as writer:
        for step, value in enumerate(huge):
            writer.add_scalar("x", value, step)
    assert scalar_points(logdir, "x") == [(0, math.inf), (1, -math.inf), (2, math.inf), (3, -math.inf)]


def test_bfloat16_and_float8_values(logdir):
    """ml_dtypes numbers (a numpy scalar, 0-d and shape (1,) arrays) are scalars too, legacy and new style."""
    ml_dtypes = pytest.importorskip("ml_dtypes")
    values = [ml_dtypes.bfloat16(2.5), np.array(0.5, ml_dtypes.bfloat16), np.array([-2.0], ml_dtypes.float8_e4m3fn)]
    with SummaryWriter(logdir) as writer:
        for step, value in enumerate(values):
            writer.add_scalar("legacy", value, step)
            writer.add_scalar("new", value, step, new_style=True)
    assert scalar_points(logdir, "legacy") == scalar_points(logdir, "new") == [(0, 2.5), (1, 0.5), (2, -2.0)]


def test_nan_and_inf_are_stored(logdir):
    with SummaryWriter(logdir) as writer:
        writer.add_scalar("x", math.nan, 0)
        writer.add_scalar("x", math.inf, 1)
        writer.add_scalar("x", 1e300, 2)
    values = [p.tensor_proto.float_val[0] for p in tensorboard_accumulator(logdir).Tensors("x")]
    assert math.isnan(values[0]) and values[1] == math.inf and values[2] == math.inf


@pytest.mark.server
@pytest.mark.parametrize("load_fast", ["false", "true"])
def test_scalars_on_a_running_server(logdir, load_fast):
    with SummaryWriter(logdir) as writer:
        for step in range(5):
            writer.add_scalar("train/loss", step * 2.0, step)
            writer.add_scalar("new", step * 1.0, step, new_style=True)
        writer.add_scalars("multi", {"a": 1.0, "b": 2.0}, 0)
    with TensorBoardServer(logdir, load_fast=load_fast) as server:
        data = server.wait_for("/data/plugin/scalars/scalars", lambda d: len(d) == 5, run=".", tag="train/loss")
        assert [row[1:] for row in data] == [[s, s * 2.0] for s in range(5)]
        data = server.wait_for("/data/plugin/scalars/scalars", lambda d: len(d) == 5, run=".", tag="new")
        assert [row[2] for row in data] == [0.0, 1.0, 2.0, 3.0, 4.0]
        runs = server.wait_for("/data/runs", lambda r: {"multi_a", "multi_b"} <= set(r))
        assert "." in runs
