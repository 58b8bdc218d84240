"""The arithmetic ``bins='tensorflow'`` bucketing gives exactly numpy.histogram's counts."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra.numpy import arrays

from tbplugins.histogram import histogram_proto, tensorflow_counts, tensorflow_edges

EDGES = tensorflow_edges()
BIG = float(np.float32(1e21))


def numpy_counts(values: np.ndarray) -> np.ndarray:
    return np.histogram(values, bins=EDGES)[0].astype(np.float64)


@st.composite
def near_edges(draw: st.DrawFn) -> float:
    """An edge, or a float a few ulps away from one (in float64 or float32 spacing)."""
    edge = float(EDGES[draw(st.integers(0, len(EDGES) - 1))])
    steps = draw(st.integers(-3, 3))
    if draw(st.booleans()):
        value = np.float32(edge)
        for _ in range(abs(steps)):
            value = np.nextafter(value, np.float32(np.copysign(np.inf, steps)))
        return float(value)
    for _ in range(abs(steps)):
        edge = float(np.nextafter(edge, np.copysign(np.inf, steps)))
    return edge


values64 = st.floats(allow_nan=False, allow_infinity=False)
values32 = st.floats(allow_nan=False, allow_infinity=False, width=32)


@settings(max_examples=300, deadline=None)
@given(st.lists(st.one_of(values64, values32, near_edges()), min_size=1, max_size=64))
def test_counts_equal_numpy_histogram(values):
    array = np.array(values, dtype=np.float64)
    np.testing.assert_array_equal(tensorflow_counts(array), numpy_counts(array))


@settings(max_examples=50, deadline=None)
@given(arrays(np.float32, st.integers(1, 2000), elements=st.floats(-BIG, BIG, width=32)))
def test_float32_arrays(array):
    values = array.astype(np.float64)
    np.testing.assert_array_equal(tensorflow_counts(values), numpy_counts(values))


def test_every_edge_and_its_neighbours():
    values = np.concatenate([EDGES, np.nextafter(EDGES, np.inf), np.nextafter(EDGES, -np.inf), [0.0, -0.0, 5e-324]])
    np.testing.assert_array_equal(tensorflow_counts(values), numpy_counts(values))


def test_out_of_range_values_are_not_counted():
    values = np.array([-1e30, -EDGES[-1], 0.5, EDGES[-1], 1e30])
    counts = tensorflow_counts(values)
    assert counts.sum() == 3
    np.testing.assert_array_equal(counts, numpy_counts(values))


@settings(max_examples=50, deadline=None)
@given(arrays(np.float32, st.integers(1, 500), elements=st.floats(-BIG, BIG, width=32)))
def test_float32_input_counted_as_float64(array):
    np.testing.assert_array_equal(tensorflow_counts(array), numpy_counts(array.astype(np.float64)))


def test_same_histogram_as_torch():
    summary = pytest.importorskip("torch.utils.tensorboard.summary")
    values = np.random.default_rng(3).standard_normal(100_000).astype(np.float32) * 3
    theirs = summary.histogram("h", values, EDGES).value[0].histo  # what add_histogram passes for "tensorflow"
    ours = histogram_proto(values)
    assert list(ours.bucket_limit) == list(theirs.bucket_limit)
    assert list(ours.bucket) == list(theirs.bucket)
    assert (ours.min, ours.max, ours.num) == (theirs.min, theirs.max, theirs.num)
    assert ours.sum == pytest.approx(theirs.sum, rel=1e-12)
    assert ours.sum_squares == pytest.approx(theirs.sum_squares, rel=1e-12)
