"""The fallback adapter: numpy arrays and scalars, Python numbers, (nested) lists, ``__array__``.

Registered ``trylast`` so that every other adapter (torch, JAX, third-party) is asked first.
"""

from __future__ import annotations

import warnings
from typing import Any

import numpy as np

import tbcore


def to_numpy(value: Any) -> np.ndarray:
    """Return ``value`` as a numpy array (no copy for arrays)."""
    if isinstance(value, np.ndarray):
        return value
    if value is None:
        raise TypeError("expected an array-like value, got None")
    if isinstance(value, (list, tuple)):
        with warnings.catch_warnings():
            # numpy < 1.24 makes an object array of a ragged list, with a deprecation warning;
            # numpy >= 1.24 raises ValueError. Both are the same user mistake.
            warnings.simplefilter("ignore")
            try:
                array = np.asarray(value)
            except ValueError as exc:
                message = f"expected a rectangular (nested) list of numbers, got a ragged list ({exc})"
                raise ValueError(message) from None
        if array.dtype == object:
            raise ValueError(
                "expected a rectangular (nested) list of numbers, got a ragged list or one holding other objects"
            )
        return array
    try:
        return np.asarray(value)
    except ValueError:
        # numpy refuses an __array__ that returns a scalar of a dtype it does not know, as TensorFlow's
        # rank-0 bfloat16 (and int4) tensors do: that scalar is converted on its own
        method = getattr(value, "__array__", None)
        if method is None:
            raise
        return np.asarray(method())


ADAPTER = tbcore.ArrayAdapter(name="numpy", to_numpy=to_numpy)
_ACCEPTED = (np.ndarray, np.generic, int, float, bool, complex, list, tuple, str, bytes)


@tbcore.hookimpl(trylast=True)
def tbcore_array_adapter(cls: type) -> tbcore.ArrayAdapter | None:
    """Accept numpy types, Python numbers, lists and tuples, and anything with ``__array__``."""
    if issubclass(cls, _ACCEPTED) or hasattr(cls, "__array__") or hasattr(cls, "__array_interface__"):
        return ADAPTER
    return None
