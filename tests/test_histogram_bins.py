"""The arithmetic ``bins='tensorflow'`` bucketing gives exactly numpy.histogram's counts."""

from __future__ import annotations

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra.numpy import arrays

from tbplugins.histogram import tensorflow_counts, tensorflow_edges

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
