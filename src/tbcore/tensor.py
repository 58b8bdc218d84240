"""numpy arrays to ``TensorProto`` and tensor-valued summaries; used by every encoder.

Numeric arrays are stored as little-endian ``tensor_content``; strings go into
``string_val`` (TensorBoard cannot read strings from ``tensor_content``). bfloat16 and
float8 arrays (``ml_dtypes``) keep their own ``DataType``.
"""

from __future__ import annotations

import math
from collections.abc import Iterable
from typing import Any

import numpy as np

from tbcore.errors import invalid
from tbcore.proto import summary_pb2, tensor_pb2, tensor_shape_pb2, types_pb2

__all__ = [
    "DTYPE_TO_ENUM",
    "SMALL_FLOATS",
    "is_real_dtype",
    "make_tensor_proto",
    "real_array",
    "reject_nan",
    "summary_metadata",
    "tensor_summary",
    "tensor_to_numpy",
]

#: numpy dtype name -> TensorFlow ``DataType`` enum, for every dtype a ``TensorProto`` can hold
#: (the real numbers, bool, complex, bfloat16 and the float8 kinds of ``ml_dtypes``).
DTYPE_TO_ENUM: dict[str, types_pb2.DataType] = {
    "float32": types_pb2.DT_FLOAT,
    "float64": types_pb2.DT_DOUBLE,
    "float16": types_pb2.DT_HALF,
    "int32": types_pb2.DT_INT32,
    "uint8": types_pb2.DT_UINT8,
    "int16": types_pb2.DT_INT16,
    "int8": types_pb2.DT_INT8,
    "int64": types_pb2.DT_INT64,
    "bool": types_pb2.DT_BOOL,
    "uint16": types_pb2.DT_UINT16,
    "uint32": types_pb2.DT_UINT32,
    "uint64": types_pb2.DT_UINT64,
    "complex64": types_pb2.DT_COMPLEX64,
    "complex128": types_pb2.DT_COMPLEX128,
    "bfloat16": types_pb2.DT_BFLOAT16,
    "float8_e5m2": types_pb2.DT_FLOAT8_E5M2,
    "float8_e4m3fn": types_pb2.DT_FLOAT8_E4M3FN,
    "float8_e4m3fnuz": types_pb2.DT_FLOAT8_E4M3FNUZ,
    "float8_e4m3b11fnuz": types_pb2.DT_FLOAT8_E4M3B11FNUZ,
    "float8_e5m2fnuz": types_pb2.DT_FLOAT8_E5M2FNUZ,
}
_ENUM_TO_DTYPE = {v: k for k, v in DTYPE_TO_ENUM.items()}
#: bfloat16 and float8 (ml_dtypes arrays, numpy kind "V", from the torch and JAX adapters)
SMALL_FLOATS = frozenset(name for name in DTYPE_TO_ENUM if name == "bfloat16" or name.startswith("float8"))


def is_real_dtype(dtype: np.dtype) -> bool:
    """Return True if ``dtype`` holds real numbers: bool, int, uint, float, or an ``ml_dtypes`` bfloat16/float8."""
    return dtype.kind in "biuf" or dtype.name in SMALL_FLOATS


def real_array(array: np.ndarray, argument: str, expected: str = "an array of real numbers") -> np.ndarray:
    """Return ``array`` if it holds real numbers (bool, int, float); bfloat16/float8 come back as exact float32.

    :raises TypeError: any other dtype (complex, strings, objects...), naming ``argument``.
    """
    if not is_real_dtype(array.dtype):
        raise invalid(argument, expected, array, kind=TypeError)
    return array.astype(np.float32) if array.dtype.name in SMALL_FLOATS else array


def reject_nan(array: np.ndarray, argument: str, expected: str) -> None:
    """Raise ValueError naming ``argument`` (``expected``, e.g. "samples without NaN") if ``array`` holds a NaN.

    One float64 sum decides for most arrays; the slower element-wise look happens only when
    the sum is not finite (a NaN, or infinities, which are allowed).
    """
    with np.errstate(invalid="ignore", over="ignore"):
        total = array.sum(dtype=np.float64)
    if not math.isfinite(total) and np.isnan(array).any():
        raise invalid(argument, expected, array)


def _shape_proto(shape: Iterable[int]) -> tensor_shape_pb2.TensorShapeProto:
    return tensor_shape_pb2.TensorShapeProto(dim=[tensor_shape_pb2.TensorShapeProto.Dim(size=int(d)) for d in shape])


def _utf8_strings(array: np.ndarray) -> list[bytes]:
    """Return the elements of a str, bytes or object array as bytes (str as UTF-8), checking them in the same pass.

    :raises TypeError: an element is neither str nor bytes (only an object array can hold one).
    """
    strings = []
    for item in array.reshape(-1).tolist():
        if isinstance(item, str):
            item = item.encode("utf-8")
        elif not isinstance(item, bytes):
            raise TypeError(f"tensor: expected str or bytes elements in an object array, got {array.dtype}")
        strings.append(item)
    return strings


def make_tensor_proto(array: Any) -> tensor_pb2.TensorProto:
    """Return ``array`` (numpy, or anything ``np.asarray`` accepts) as a ``TensorProto``.

    str/bytes arrays become ``DT_STRING`` with UTF-8 ``string_val``; numeric arrays are
    written little-endian into ``tensor_content``.

    :raises TypeError: the dtype has no TensorBoard equivalent (object arrays of non-strings, datetimes, ...).
    """
    array = np.asarray(array)
    if array.dtype.kind in "USO":
        return tensor_pb2.TensorProto(
            dtype=types_pb2.DT_STRING, tensor_shape=_shape_proto(array.shape), string_val=_utf8_strings(array)
        )
    dtype = DTYPE_TO_ENUM.get(array.dtype.name)
    if dtype is None:
        raise TypeError(f"tensor: expected a numeric, bool or string dtype, got {array.dtype}")
    if array.dtype.byteorder == ">" or (array.dtype.byteorder == "=" and np.little_endian is False):
        array = array.astype(array.dtype.newbyteorder("<"))
    return tensor_pb2.TensorProto(
        dtype=dtype, tensor_shape=_shape_proto(array.shape), tensor_content=np.ascontiguousarray(array).tobytes()
    )


def tensor_to_numpy(proto: tensor_pb2.TensorProto) -> np.ndarray:
    """Decode a ``TensorProto`` (ours or TensorBoard's, any of its encodings) to a numpy array.

    ``DT_STRING`` tensors come back as object arrays of ``bytes``; bfloat16 and float8 as
    ``ml_dtypes`` arrays (which needs ``ml_dtypes`` installed).

    :raises TypeError: a ``DataType`` with no numpy equivalent (resources, variants...).
    """
    shape = tuple(d.size for d in proto.tensor_shape.dim)
    if proto.dtype == types_pb2.DT_STRING:
        values = np.array(list(proto.string_val), dtype=object)
        return values.reshape(shape) if values.size == int(np.prod(shape)) else np.full(shape, values[0], dtype=object)
    name = _ENUM_TO_DTYPE.get(proto.dtype)
    if name is None:
        raise TypeError(f"tensor: unsupported DataType {proto.dtype}")
    dtype = _numpy_dtype(name)
    if proto.tensor_content:
        return np.frombuffer(proto.tensor_content, dtype=dtype.newbyteorder("<")).astype(dtype).reshape(shape)
    field = {
        "float32": "float_val",
        "float64": "double_val",
        "int64": "int64_val",
        "bool": "bool_val",
        "uint32": "uint32_val",
        "uint64": "uint64_val",
        "complex64": "scomplex_val",
        "complex128": "dcomplex_val",
    }.get(name)
    if name in ("float16", "bfloat16"):
        raw = np.array(proto.half_val, dtype=np.uint16).view(dtype)
    elif name.startswith("float8"):
        raw = np.frombuffer(proto.float8_val, dtype)
    elif field is None:
        raw = np.array(proto.int_val, dtype=dtype)
    elif name.startswith("complex"):  # (re, im) pairs of the component type
        raw = np.array(getattr(proto, field), dtype=np.float32 if name == "complex64" else np.float64).view(dtype)
    else:
        raw = np.array(getattr(proto, field)).astype(dtype)
    count = int(np.prod(shape))
    if raw.size == 1 and count != 1:
        return np.full(shape, raw[0], dtype=dtype)
    return raw.reshape(shape)


def _numpy_dtype(name: str) -> np.dtype:
    if name in ("bfloat16",) or name.startswith("float8"):
        import ml_dtypes

        return np.dtype(getattr(ml_dtypes, name))
    return np.dtype(name)


def summary_metadata(
    plugin_name: str,
    content: bytes = b"",
    *,
    display_name: str = "",
    description: str = "",
    data_class: summary_pb2.DataClass = summary_pb2.DATA_CLASS_UNKNOWN,
) -> summary_pb2.SummaryMetadata:
    """Return ``SummaryMetadata`` for ``plugin_name`` with its serialized plugin ``content``.

    :param plugin_name: the TensorBoard plugin that reads the value (e.g. ``"scalars"``).
    :param content: the plugin's own metadata, serialized (e.g. a ``PrCurvePluginData``).
    :param display_name: the name TensorBoard shows instead of the tag (most plugins ignore it).
    :param description: Markdown shown with the value in some dashboards.
    :param data_class: see :func:`tensor_summary`.
    """
    return summary_pb2.SummaryMetadata(
        plugin_data=summary_pb2.SummaryMetadata.PluginData(plugin_name=plugin_name, content=content),
        display_name=display_name,
        summary_description=description,
        data_class=data_class,
    )


def tensor_summary(
    tag: str,
    array: Any,
    *,
    plugin_name: str,
    content: bytes = b"",
    display_name: str = "",
    description: str = "",
    data_class: summary_pb2.DataClass = summary_pb2.DATA_CLASS_UNKNOWN,
) -> summary_pb2.Summary:
    """Return a one-value ``Summary`` holding ``array`` as a tensor for TensorBoard plugin ``plugin_name``.

    This is the building block of every tensor-based summary type, built-in or third-party.
    Leave ``data_class`` unset for TensorBoard's own plugins (it fills it in); set it only
    with the exact final form (see docs/format.md).

    The keyword arguments are those of :func:`summary_metadata`.

    :param array: numpy, or anything ``np.asarray`` accepts (see :func:`make_tensor_proto`).
    :raises TypeError: ``array`` has a dtype a ``TensorProto`` cannot hold.
    """
    metadata = summary_metadata(
        plugin_name, content, display_name=display_name, description=description, data_class=data_class
    )
    value = summary_pb2.Summary.Value(tag=tag, metadata=metadata, tensor=make_tensor_proto(array))
    return summary_pb2.Summary(value=[value])
