"""Raw tensors (``add_tensor``): any dtype and shape, kept exactly.

Stored under plugin name ``tensor`` with ``data_class`` TENSOR, so both TensorBoard
loaders keep the values (torch leaves the data class unset, which makes its tensors
invisible to TensorBoard's default loader) and they read back through the data provider
or :mod:`tbcore.reader`. No dashboard draws this plugin.

TensorBoard without TensorFlow cannot decode ``DT_BFLOAT16`` or the float8 types (its
TensorFlow stub has no numpy type for them), so such arrays are stored as float32, which
holds every one of their values exactly, and the original dtype name is kept in the
plugin content; :func:`decode` restores it bit for bit.
"""

from __future__ import annotations

import numpy as np

import tbcore
from tbcore.proto import summary_pb2

PLUGIN_NAME = "tensor"
PROTO_VERSION = 0

#: dtypes TensorBoard's readers cannot decode; they are widened to float32 (exactly)
WIDENED = tbcore.SMALL_FLOATS


# what add_tensor accepts, in its error messages
_EXPECTED = "a numeric, bool or string array (objects only if all str or bytes; no datetime)"


def encode(tag: str, tensor: np.ndarray) -> summary_pb2.Summary:
    """Return ``tensor`` as a TENSOR-class summary under plugin ``tensor``."""
    if tensor.dtype.kind not in "fiubUSOc" and tensor.dtype.name not in tbcore.DTYPE_TO_ENUM:
        raise tbcore.invalid("tensor", _EXPECTED, tensor, kind=TypeError)
    content = b""
    if tensor.dtype.name in WIDENED:
        content = tensor.dtype.name.encode("ascii")
        tensor = tensor.astype(np.float32)
    try:
        return tbcore.tensor_summary(
            tag, tensor, plugin_name=PLUGIN_NAME, content=content, data_class=summary_pb2.DATA_CLASS_TENSOR
        )
    except TypeError:  # an object array with an element that is neither str nor bytes, found while encoding
        raise tbcore.invalid("tensor", _EXPECTED, tensor, kind=TypeError) from None


def decode(value: summary_pb2.Summary.Value) -> np.ndarray:
    """Return the array an ``add_tensor`` value holds, in its original dtype."""
    array = tbcore.tensor_to_numpy(value.tensor)
    original = value.metadata.plugin_data.content.decode("ascii")
    if original in WIDENED:
        import ml_dtypes

        array = array.astype(getattr(ml_dtypes, original))
    return array


@tbcore.hookimpl
def tbcore_summary_types() -> list[tbcore.SummaryType]:
    """Provide ``tensor``."""
    return [
        tbcore.SummaryType(
            name="tensor",
            plugin_name=PLUGIN_NAME,
            encode=encode,
            description="a raw tensor of any dtype (add_tensor)",
            decode=decode,
        )
    ]
