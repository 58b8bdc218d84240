"""The torch adapter: CPU and CUDA tensors, any dtype, without syncing the GPU for scalars.

Never imports torch itself: a value can only be a torch tensor if torch is imported.
bfloat16 and float8 tensors become ``ml_dtypes`` arrays bit for bit (or float32, which
holds them exactly, when ml_dtypes is missing); float16 stays float16.
"""

from __future__ import annotations

import sys
from collections.abc import Callable
from typing import Any

import numpy as np

import tbcore

_BIT_VIEWS = {
    "bfloat16": ("int16", "bfloat16"),
    "float8_e4m3fn": ("uint8", "float8_e4m3fn"),
    "float8_e5m2": ("uint8", "float8_e5m2"),
    "float8_e4m3fnuz": ("uint8", "float8_e4m3fnuz"),
    "float8_e5m2fnuz": ("uint8", "float8_e5m2fnuz"),
}


def _cpu_to_numpy(tensor: Any) -> np.ndarray:
    torch = sys.modules["torch"]
    name = str(tensor.dtype).removeprefix("torch.")
    if name in _BIT_VIEWS:
        try:
            import ml_dtypes
        except ImportError:
            return tensor.to(torch.float32).numpy()
        bits, target = _BIT_VIEWS[name]
        return tensor.view(getattr(torch, bits)).numpy().view(getattr(ml_dtypes, target))
    if name.startswith(("qint", "quint")):
        return tensor.dequantize().numpy()
    return tensor.numpy()


def _prepare(tensor: Any) -> Any:
    if tensor.device.type == "meta":
        raise ValueError("a tensor on the 'meta' device has no data to log")
    tensor = tensor.detach()
    if tensor.layout != sys.modules["torch"].strided:
        tensor = tensor.to_dense()
    return tensor.resolve_conj().resolve_neg()


def to_numpy(tensor: Any) -> np.ndarray:
    """Return a copy-free (CPU) or copied (device) numpy array of ``tensor``."""
    tensor = _prepare(tensor)
    if tensor.device.type != "cpu":
        tensor = tensor.cpu()
    return _cpu_to_numpy(tensor)


def to_numpy_async(tensor: Any) -> Callable[[], np.ndarray] | float:
    """Start copying a one-element ``tensor`` to the host without waiting; CPU values are read at once."""
    if tensor.is_complex():
        raise TypeError(f"expected a real-valued tensor, got dtype {tensor.dtype}")
    if tensor.is_cpu:  # nothing to wait for: item() reads any CPU layout, dtype and view (about 0.2 µs)
        return float(tensor.item())
    tensor = _prepare(tensor)
    torch = sys.modules["torch"]
    if tensor.device.type != "cuda":
        return float(tensor.item())
    host = torch.empty(tensor.shape, dtype=tensor.dtype, device="cpu", pin_memory=True)
    host.copy_(tensor, non_blocking=True)
    done = torch.cuda.Event()
    done.record(torch.cuda.current_stream(tensor.device))

    def resolve() -> np.ndarray:
        done.synchronize()
        return _cpu_to_numpy(host)

    return resolve


ADAPTER = tbcore.ArrayAdapter(name="torch", to_numpy=to_numpy, to_numpy_async=to_numpy_async)


@tbcore.hookimpl
def tbcore_array_adapter(cls: type) -> tbcore.ArrayAdapter | None:
    """Accept ``torch.Tensor`` and its subclasses (``nn.Parameter`` included)."""
    if tbcore.lazy_issubclass(cls, "torch", "Tensor"):
        return ADAPTER
    return None
