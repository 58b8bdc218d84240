"""Raw tensors (``add_tensor``): any dtype and shape, kept exactly.

Stored under plugin name ``tensor`` with ``data_class`` TENSOR, so both TensorBoard
loaders keep the values (torch leaves the data class unset, which makes its tensors
invisible to TensorBoard's default loader) and they read back through the data provider
or :mod:`tbcore.reader`. No dashboard draws this plugin.
"""

from __future__ import annotations

import numpy as np

import tbcore
from tbcore.proto import summary_pb2

PLUGIN_NAME = "tensor"
PROTO_VERSION = 0


def encode(tag: str, tensor: np.ndarray) -> summary_pb2.Summary:
    """Return ``tensor`` as a TENSOR-class summary under plugin ``tensor``."""
    if tensor.dtype.kind not in "fiubUS" and tensor.dtype.name not in tbcore.DTYPE_TO_ENUM:
        raise tbcore.invalid("tensor", "a real, bool or string array (no complex, object or datetime)", tensor, kind=TypeError)
    return tbcore.tensor_summary(tag, tensor, plugin_name=PLUGIN_NAME, data_class=summary_pb2.DATA_CLASS_TENSOR)


def decode(value: summary_pb2.Summary.Value) -> np.ndarray:
    """Return the stored tensor as a numpy array of its own dtype and shape."""
    return tbcore.tensor_to_numpy(value.tensor)


@tbcore.hookimpl
def tbcore_summary_types() -> list[tbcore.SummaryType]:
    """Provide ``tensor``."""
    return [
        tbcore.SummaryType(
            name="tensor",
            plugin_name=PLUGIN_NAME,
            encode=encode,
            description="a raw tensor of any dtype (add_tensor)",
            value_name="tensor",
            decode=decode,
        )
    ]
