"""Array adapters for numpy and plain Python values, the per-type cache and lazy framework checks."""

from __future__ import annotations

import numpy as np
import pytest

import tbcore
from array_cases import NUMERIC_DTYPES
from tbcore import adapters, plugins

pytestmark = pytest.mark.core


@pytest.mark.parametrize("dtype", NUMERIC_DTYPES)
def test_numpy_arrays_and_scalars_keep_their_dtype(dtype):
    array = np.arange(6).reshape(2, 3).astype(dtype)
    assert tbcore.as_numpy(array) is array
    converted = tbcore.as_numpy(array[0, 1])  # a numpy scalar
    assert converted.dtype == np.dtype(dtype) and converted.shape == ()
    view = array[:, ::2]  # non-contiguous
    assert np.array_equal(tbcore.as_numpy(view), view)


@pytest.mark.parametrize(
    ("value", "dtype", "shape"),
    [
        (3, "int64", ()),
        (2.5, "float64", ()),
        (True, "bool", ()),
        ([1, 2, 3], "int64", (3,)),
        ([[1.0, 2.0], [3.0, 4.0]], "float64", (2, 2)),
        ((1, 2), "int64", (2,)),
        ([True, False], "bool", (2,)),
    ],
)
def test_python_values(value, dtype, shape):
    array = tbcore.as_numpy(value)
    assert array.dtype == np.dtype(dtype) and array.shape == shape
    assert array.tolist() == (list(value) if isinstance(value, tuple) else value)


class _ArrayLike:
    def __array__(self, dtype=None, copy=None):
        return np.array([1.5, 2.5], dtype=dtype)


class _Interface:
    _data = np.arange(4, dtype=np.int16)

    @property
    def __array_interface__(self):
        return self._data.__array_interface__


def test_dunder_array_and_array_interface():
    assert tbcore.as_numpy(_ArrayLike()).tolist() == [1.5, 2.5]
    assert tbcore.as_numpy(_Interface()).dtype == np.int16


class _ScalarOfUnknownDtype:
    """As TensorFlow's rank-0 bfloat16 tensor: ``__array__`` returns a numpy scalar of an ml_dtypes type."""

    def __array__(self, dtype=None, copy=None):
        return pytest.importorskip("ml_dtypes").bfloat16(2.5)


def test_dunder_array_returning_a_scalar_numpy_refuses():
    """numpy.asarray rejects such a scalar ("not producing an array"); the adapter converts the scalar itself."""
    with pytest.raises(ValueError, match="not producing an array"):
        np.asarray(_ScalarOfUnknownDtype())
    array = tbcore.as_numpy(_ScalarOfUnknownDtype())
    assert array.shape == () and array.dtype.name == "bfloat16" and float(array) == 2.5


def test_ragged_none_and_unknown_types_name_the_argument():
    with pytest.raises(ValueError, match=r"values: expected a rectangular \(nested\) list of numbers"):
        tbcore.as_numpy([[1, 2], [3]], "values")
    with pytest.raises(TypeError, match=r"values: expected a numpy array.*got builtins.NoneType"):
        tbcore.as_numpy(None, "values")
    with pytest.raises(TypeError, match=r"values: expected a numpy array.*got .*\.object"):
        tbcore.as_numpy(object(), "values")


class _Counting:
    def __init__(self):
        self.calls: list[type] = []

    @tbcore.hookimpl
    def tbcore_array_adapter(self, cls):
        self.calls.append(cls)
        return None


def test_adapter_is_chosen_once_per_type(fresh_plugins):
    spy = _Counting()
    plugins.register(spy, "spy")
    for value in ([1], [2, 3], (4,), [5]):
        tbcore.as_numpy(value)
    assert spy.calls == [list, tuple]
    assert adapters.adapter_for(list) is adapters.adapter_for(list)


def test_lazy_issubclass_needs_no_import():
    assert tbcore.lazy_issubclass(list, "a_module_that_is_not_imported_xyz", "Tensor") is False
    assert tbcore.lazy_issubclass(np.ndarray, "numpy", "ndarray") is True
    assert tbcore.lazy_issubclass(list, "numpy", "no.such.attr") is False
