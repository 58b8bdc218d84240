"""Helpers for graph builders: TensorBoard ``NodeDef``/``GraphDef`` records without a framework.

A builder (torch, JAX, ONNX or a third-party one) collects :class:`GraphNode` records and
hands them to :func:`graph_encoded`, which returns the :class:`tbcore.Encoded` the writer
puts into ``Event.graph_def`` (and, optionally, the ``step1`` run metadata that
torch.utils.tensorboard writes beside its graphs).

Names use ``/`` to build the collapsible groups of the graph dashboard; an input
``"node:k"`` refers to output ``k`` of ``node``. The small helpers the built-in builders
share (:func:`output_info`, :func:`attr_text`, :func:`describe_inputs`, :func:`first_line`
...) are here for third-party builders too.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from tbcore.encoded import Encoded
from tbcore.errors import describe, short_repr

__all__ = [
    "MODELS_EXPECTED",
    "PRODUCER_VERSION",
    "GraphNode",
    "NameScope",
    "attr_string",
    "attr_text",
    "describe_inputs",
    "dtype_enum",
    "dtype_name",
    "first_line",
    "graph_encoded",
    "output_info",
    "short_repr",
    "split_inputs",
]

PRODUCER_VERSION = 22  #: ``VersionDef.producer`` written by torch.utils.tensorboard; TensorBoard accepts it
MAX_ATTR_TEXT = 200  #: the longest repr of one value kept whole in a node's ``attr`` text

#: What ``add_graph`` accepts with the built-in builders, for "expected ..., got ..." messages.
MODELS_EXPECTED = (
    "a torch.nn.Module, torch.jit module or torch.export.ExportedProgram (extra 'torch'), "
    "a JAX-traceable function with example arguments (extra 'jax'), "
    "or an ONNX ModelProto or the path of an .onnx file (extra 'onnx')"
)


@dataclass
class GraphNode:
    """One node of a graph, before it becomes a ``NodeDef``.

    :param name: the full, ``/``-scoped node name.
    :param op: the operation shown in the dashboard (``aten::linear``, ``dot_general``, ...).
    :param inputs: names of the nodes feeding this one (``"name:k"`` for output ``k``).
    :param shapes: the shape of each output (``None`` where unknown; ``-1`` for an unknown size).
    :param dtype: the numpy dtype name of the first output (``"float32"``), if known.
    :param attrs: extra attributes: str/bytes become ``s``, bool ``b``, int ``i``, float ``f``.
    """

    name: str
    op: str
    inputs: list[str] = field(default_factory=list)
    shapes: Sequence[Sequence[int] | None] | None = None
    dtype: str | None = None
    attrs: dict[str, Any] = field(default_factory=dict)


class NameScope:
    """Hands out unique node names inside ``/``-scopes (``add``, ``add_1``, ``add_2`` ...)."""

    def __init__(self) -> None:
        self._used: set[str] = set()

    def unique(self, scope: str, base: str) -> str:
        """Return ``scope/base`` (or ``base`` without a scope), suffixed ``_k`` if already used."""
        prefix = f"{scope}/" if scope else ""
        name, k = f"{prefix}{base}", 0
        while name in self._used:
            k += 1
            name = f"{prefix}{base}_{k}"
        self._used.add(name)
        return name

    def reserve(self, name: str) -> None:
        """Mark ``name`` as taken."""
        self._used.add(name)


def split_inputs(example_inputs: Any) -> tuple[tuple[Any, ...], dict[str, Any]]:
    """Return ``(args, kwargs)`` from ``add_graph``'s example inputs.

    ``None`` is no inputs, a dict keyword inputs, a tuple or list positional inputs, and
    anything else the one positional input.
    """
    if example_inputs is None:
        return (), {}
    if isinstance(example_inputs, dict):
        return (), dict(example_inputs)
    if isinstance(example_inputs, (tuple, list)):
        return tuple(example_inputs), {}
    return (example_inputs,), {}


def describe_inputs(args: tuple[Any, ...], kwargs: dict[str, Any]) -> str:
    """Return the example inputs' types and shapes for an error message: ``(<describe(arg)>, ..., key=...)``."""
    parts = [describe(a) for a in args] + [f"{k}={describe(v)}" for k, v in kwargs.items()]
    return "(" + ", ".join(parts) + ")"


def first_line(error: BaseException) -> str:
    """Return the type and the first non-empty line of ``error``'s message (a framework's error, in short)."""
    lines = [line.strip() for line in str(error).splitlines() if line.strip()]
    return f"{type(error).__name__}: {lines[0] if lines else ''}"


def dtype_name(dtype: Any) -> str:
    """Return the numpy-style name of a numpy, JAX, ONNX-mapped or torch dtype (``torch.float32`` -> ``float32``)."""
    return str(dtype).rpartition(".")[2]


def output_info(outputs: Iterable[tuple[Any, Any] | None]) -> tuple[list[list[int] | None], str | None]:
    """Return a node's ``(shapes, dtype)`` from a ``(shape, dtype)`` pair per output (``None`` where unknown).

    A dimension that is not a number (symbolic, dynamic) becomes ``-1``; the dtype is the
    :func:`dtype_name` of the first output that has one.
    """
    shapes: list[list[int] | None] = []
    dtype = None
    for shape, value_dtype in (pair or (None, None) for pair in outputs):
        shapes.append(None if shape is None else [int(d) if str(d).lstrip("-").isdigit() else -1 for d in shape])
        if dtype is None and value_dtype is not None:
            dtype = dtype_name(value_dtype)
    return shapes, dtype


def dtype_enum(dtype: Any) -> int | None:
    """Return TensorBoard's ``DataType`` number for a numpy-compatible dtype (name), or None."""
    from tbcore.tensor import DTYPE_TO_ENUM

    try:
        name = np.dtype(dtype).name
    except TypeError:
        name = str(dtype)
    return DTYPE_TO_ENUM.get(name)


def attr_string(values: dict[str, Any]) -> str:
    """Return ``values`` as the one-line ``{ key : value }`` text torch shows in a node's ``attr``.

    Single quotes are left out, as torch does, because the dashboard renders them badly.
    """
    return str(values).replace("'", " ")


def attr_text(values: dict[str, Any], limit: int = MAX_ATTR_TEXT) -> str:
    """Return :func:`attr_string` of ``values``, each value whose repr is over ``limit`` characters cut short."""
    return attr_string({key: v if len(repr(v)) <= limit else short_repr(v, limit) for key, v in values.items()})


def _attr_value(value: Any) -> Any:
    from tbcore.proto import graph_pb2

    if isinstance(value, graph_pb2.AttrValue):
        return value
    if isinstance(value, bytes):
        return graph_pb2.AttrValue(s=value)
    if isinstance(value, str):
        return graph_pb2.AttrValue(s=value.encode("utf-8"))
    if isinstance(value, bool):
        return graph_pb2.AttrValue(b=value)
    if isinstance(value, int):
        return graph_pb2.AttrValue(i=value)
    if isinstance(value, float):
        return graph_pb2.AttrValue(f=value)
    raise TypeError(f"graph attribute: expected str, bytes, bool, int, float or AttrValue, got {type(value).__name__}")


def _node_def(node: GraphNode) -> Any:
    from tbcore.proto import graph_pb2, tensor_shape_pb2

    attr = {key: _attr_value(value) for key, value in node.attrs.items()}
    if node.shapes is not None and any(shape is not None for shape in node.shapes):
        shapes = [
            tensor_shape_pb2.TensorShapeProto(
                dim=[tensor_shape_pb2.TensorShapeProto.Dim(size=int(d)) for d in shape],
            )
            if shape is not None
            else tensor_shape_pb2.TensorShapeProto(unknown_rank=True)
            for shape in node.shapes
        ]
        attr["_output_shapes"] = graph_pb2.AttrValue(list=graph_pb2.AttrValue.ListValue(shape=shapes))
    enum: Any = dtype_enum(node.dtype) if node.dtype is not None else None
    if enum is not None:
        attr["dtype"] = graph_pb2.AttrValue(type=enum)
    return graph_pb2.NodeDef(name=node.name, op=node.op, input=node.inputs, attr=attr)


def graph_encoded(nodes: Iterable[GraphNode], *, run_metadata_device: str | None = None) -> Encoded:
    """Return the :class:`Encoded` record for a graph of ``nodes``.

    :param run_metadata_device: if given, also write torch's ``step1`` tagged run metadata
        with one (empty) device of step stats of this name (``"/device:CPU:0"``), which
        the dashboard lists as a profiled run.
    """
    from tbcore.proto import graph_pb2, run_metadata_pb2

    graph = graph_pb2.GraphDef(
        node=[_node_def(node) for node in nodes], versions=graph_pb2.VersionDef(producer=PRODUCER_VERSION)
    )
    metadata = None
    if run_metadata_device is not None:
        stats = run_metadata_pb2.StepStats(dev_stats=[run_metadata_pb2.DeviceStepStats(device=run_metadata_device)])
        metadata = ("step1", run_metadata_pb2.RunMetadata(step_stats=stats).SerializeToString())
    return Encoded(graph_def=graph.SerializeToString(), run_metadata=metadata)
