"""Array adapters: turn a framework value (torch, JAX, numpy, lists, ...) into numpy.

The adapter for a Python type is found once through the ``tbcore_array_adapter`` hook
and cached per type. Nothing here imports a framework: adapters recognise types with
:func:`lazy_issubclass`, which only looks at modules that are already imported (if
torch is not imported, no value can be a torch tensor).
"""

from __future__ import annotations

import math
import numbers
import os
import sys
import threading
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np

from tbcore.errors import describe, invalid
from tbcore.tensor import is_real_dtype

__all__ = ["ArrayAdapter", "adapter_for", "as_float", "as_numpy", "clear_cache", "graph_builder_for", "lazy_issubclass"]


@dataclass(frozen=True, slots=True)
class ArrayAdapter:
    """Converts values of one family of types to numpy, losslessly.

    :param name: a short name shown by ``tbcore plugins`` (e.g. ``"torch"``).
    :param to_numpy: ``to_numpy(value) -> np.ndarray``; must copy device memory to the host,
        keep the value's precision (bfloat16/float8 as ``ml_dtypes`` types or an exact
        upcast) and raise ``TypeError``/``ValueError`` for values it cannot convert.
    :param to_numpy_async: optional ``start(value) -> resolve``: starts a non-blocking
        device-to-host copy of the value as it is now and returns a function that the
        writer thread calls later to get the array (or returns the value as a float at
        once when it is already on the host). Used for scalars logged every step so that
        the training thread never waits for the device.
    """

    name: str
    to_numpy: Callable[[Any], np.ndarray]
    to_numpy_async: Callable[[Any], Callable[[], np.ndarray] | float] | None = None


def lazy_issubclass(cls: type, module: str, name: str) -> bool:
    """Return True if ``cls`` is a subclass of ``module.name``, without importing ``module``.

    If ``module`` has not been imported, no object can be an instance of its types, so
    the answer is False. ``name`` may be dotted (``"nn.Module"``).
    """
    target: Any = sys.modules.get(module)
    if target is None:
        return False
    for part in name.split("."):
        target = getattr(target, part, None)
        if target is None:
            return False
    try:
        return isinstance(target, type) and issubclass(cls, target)
    except TypeError:
        return False


_cache: dict[type, ArrayAdapter] = {}
_graph_cache: dict[type, Any] = {}
_cache_lock = threading.Lock()  # held to change either cache
_generation = [0]  # counts clear_cache() calls: what a hook found before one is not kept after it


def clear_cache() -> None:
    """Forget the adapters and graph builders chosen so far (after registering or removing a plugin)."""
    with _cache_lock:
        _cache.clear()
        _graph_cache.clear()
        _generation[0] += 1


def _remember(cache: dict[type, Any], cls: type, found: Any, generation: int) -> None:
    """Store a hook's answer for ``cls``, unless the plugins changed (``clear_cache``) since it was asked."""
    with _cache_lock:
        if generation == _generation[0]:
            cache[cls] = found


def adapter_for(cls: type) -> ArrayAdapter:
    """Return the adapter for values of type ``cls`` (cached per type).

    :raises TypeError: no installed adapter accepts ``cls``.
    """
    adapter = _cache.get(cls)
    if adapter is not None:
        return adapter
    from tbcore.plugins import get_plugin_manager

    generation = _generation[0]
    adapter = get_plugin_manager().hook.tbcore_array_adapter(cls=cls)
    if adapter is None:
        raise TypeError(
            "expected a numpy array, a Python number or (nested) list, a torch tensor, a JAX array or an object "
            f"with __array__, got {cls.__module__}.{cls.__qualname__} (no array adapter accepts it)"
        )
    if not isinstance(adapter, ArrayAdapter):
        raise TypeError(f"tbcore_array_adapter returned {type(adapter).__qualname__}, expected ArrayAdapter")
    _remember(_cache, cls, adapter, generation)
    return adapter


def as_numpy(value: Any, argument: str = "value") -> np.ndarray:
    """Convert ``value`` to a numpy array through its adapter (a numpy array is returned as is).

    The adapter is chosen once per type by the ``tbcore_array_adapter`` hook: torch and JAX
    values are copied to the host with their precision kept, anything else goes through
    ``numpy.asarray``.

    :param argument: the argument's name, used in the error message.
    :raises TypeError: the value cannot be converted (the message names ``argument``).
    :raises ValueError: the adapter rejected the value's content (the message names ``argument``).
    """
    if type(value) is np.ndarray:
        return value
    try:
        adapter = adapter_for(type(value))
        array = adapter.to_numpy(value)
    except (TypeError, ValueError) as exc:
        raise type(exc)(f"{argument}: {exc}") from exc
    if not isinstance(array, np.ndarray):
        raise TypeError(f"{argument}: adapter returned {type(array).__qualname__} for {describe(value)}")
    return array


SCALAR_EXPECTED = "a real number, or a numpy/torch/JAX value holding exactly one real number (0-d or shape (1,))"


def as_float(value: Any, argument: str = "scalar_value") -> float:
    """Return ``value`` (a real number, or any array-like with one real element) as a float.

    Ints and fractions too large for a float become ±inf, as a float32 cast would make them.

    :raises TypeError: a str, None, a complex or non-numeric value (the message names ``argument``).
    :raises ValueError: an array with more than one element, or with more than one dimension; a signaling-NaN Decimal.
    """
    if isinstance(value, (str, bytes, complex)) or value is None:
        raise invalid(argument, SCALAR_EXPECTED, value, kind=TypeError)
    # before numpy (it makes an object array of an int beyond int64); int first: cheaper than the ABC, on the hot path
    if isinstance(value, int) or isinstance(value, numbers.Real):
        try:
            return float(value)
        except OverflowError:  # an int or Fraction beyond float range
            return -math.inf if value < 0 else math.inf  # copysign() would convert the value and overflow again
    try:
        array = as_numpy(value, argument)
    except TypeError:  # no adapter: a decimal.Decimal (a Number, not Real) is still a number; asked only now
        if isinstance(value, numbers.Number) and not isinstance(value, numbers.Complex):
            return _number_float(value, argument)
        raise
    if not is_real_dtype(array.dtype):
        raise invalid(argument, SCALAR_EXPECTED, value, kind=TypeError)
    if array.size != 1 or array.ndim > 1:
        raise invalid(argument, SCALAR_EXPECTED, value)
    return float(array.reshape(-1)[0])


def _number_float(value: Any, argument: str) -> float:
    """``float(value)`` for a number that is not ``numbers.Real`` (``decimal.Decimal``)."""
    try:
        return float(value)
    except (TypeError, ValueError):  # a signaling NaN
        raise invalid(argument, SCALAR_EXPECTED, value, kind=ValueError) from None


def graph_builder_for(model: Any) -> Any:
    """Return the :class:`tbcore.GraphBuilder` for ``model`` (cached per type, as :func:`adapter_for`).

    :raises TypeError: no installed builder accepts the model; the message lists the
        supported kinds and the extras that provide them.
    """
    cls = type(model)
    builder = _graph_cache.get(cls)
    if builder is None:
        from tbcore.plugins import get_plugin_manager

        generation = _generation[0]
        builder = get_plugin_manager().hook.tbcore_graph_builder(model=model)
        if builder is None:
            from tbcore.graph import MODELS_EXPECTED

            raise invalid("model", MODELS_EXPECTED, model, kind=TypeError)
        if not isinstance(model, (str, os.PathLike)):
            _remember(_graph_cache, cls, builder, generation)
    return builder
