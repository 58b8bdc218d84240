"""The JAX adapter: arrays on any device (sharded ones gathered to the host), bfloat16 kept.

Never imports JAX itself. A tracer (a value inside ``jax.jit``/``grad``/``vmap``) has
no concrete data: it gets a clear error saying what to do instead.
"""

from __future__ import annotations

import functools
import sys
from collections.abc import Callable
from typing import Any

import numpy as np

import tbcore

_TRACER_MESSAGE = (
    "cannot log a traced JAX value ({type}) from inside jax.jit/grad/vmap: it has no concrete value there. "
    "Return the value from the jitted function and log it outside, or log from inside with "
    "jax.debug.callback(lambda v: writer.add_scalar(tag, v, step), value)"
)


def _check_concrete(value: Any) -> None:
    core = sys.modules.get("jax.core")
    tracer = getattr(core, "Tracer", None) if core is not None else None
    if tracer is not None and isinstance(value, tracer):
        raise TypeError(_TRACER_MESSAGE.format(type=type(value).__name__))
    is_deleted = getattr(value, "is_deleted", None)
    if is_deleted is not None and is_deleted():  # checked first: jaxlib crashes on is_ready() of a deleted array
        raise ValueError(
            f"expected a JAX array that was not deleted, got a deleted {value.dtype}{list(value.shape)} array "
            "(donated to a jitted function with donate_argnums, or .delete()d): log it before the call that donates it"
        )
    if not getattr(value, "is_fully_addressable", True):
        raise ValueError(
            "a JAX array sharded across processes is not fully addressable from this process; gather it first "
            "(jax.experimental.multihost_utils.process_allgather) or log from the process that holds it"
        )


def to_numpy(value: Any) -> np.ndarray:
    """Return ``value`` copied to the host as a numpy array (bfloat16 stays ml_dtypes.bfloat16)."""
    _check_concrete(value)
    return np.asarray(sys.modules["jax"].device_get(value))


def to_numpy_async(value: Any) -> Callable[[], np.ndarray] | float:
    """Return a one-element ``value`` without waiting for its device: read now, or a function that reads it later.

    A value already computed on the host CPU is read at once. Any other value is first copied on its
    device (an asynchronous dispatch) and that copy's transfer to the host is started: the copy is
    tbcore's own, so a later step that donates ``value`` (``donate_argnums``) cannot delete what the
    writer thread reads, and the value written is the value at the call.
    """
    _check_concrete(value)
    if np.issubdtype(np.dtype(value.dtype), np.complexfloating):
        raise TypeError(f"expected a real-valued array, got dtype {value.dtype}")
    if value.is_ready() and all(device.platform == "cpu" for device in value.sharding.device_set):
        return float(np.asarray(value).reshape(-1)[0])
    copy = _device_copy()(value)
    copy.copy_to_host_async()
    return lambda: np.asarray(copy)


@functools.cache
def _device_copy() -> Callable[[Any], Any]:
    """The jitted ``jnp.copy`` (compiled once per dtype and sharding, on first use)."""
    jax = sys.modules["jax"]
    return jax.jit(jax.numpy.copy)


ADAPTER = tbcore.ArrayAdapter(name="jax", to_numpy=to_numpy, to_numpy_async=to_numpy_async)


@tbcore.hookimpl
def tbcore_array_adapter(cls: type) -> tbcore.ArrayAdapter | None:
    """Accept ``jax.Array`` (and tracers, which get a clear error)."""
    if tbcore.lazy_issubclass(cls, "jax", "Array") or tbcore.lazy_issubclass(cls, "jax.core", "Tracer"):
        return ADAPTER
    return None
