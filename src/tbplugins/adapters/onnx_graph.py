"""The ONNX graph builder: ``add_onnx_graph(path_or_model)`` for a ``.onnx`` file or ``onnx.ModelProto``.

Graph inputs become ``input/<name>`` nodes and graph outputs ``output/<name>`` (op
``IO Node``), initializers ``Const`` nodes, and every ONNX node one node named after it
(``/encoder/fc/Gemm`` becomes ``encoder/fc/Gemm``, the scopes torch.onnx writes), with its
op type, its attributes as attrs, and ``_output_shapes``/``dtype`` from shape inference.

Needs the ``onnx`` package (extra ``onnx``), imported only when a graph is built; this
module itself imports nothing from it, so the plugin loads without it.
"""

from __future__ import annotations

import os
from collections import ChainMap
from collections.abc import Iterator, MutableMapping
from typing import Any

import tbcore
from tbcore.graph import MODELS_EXPECTED, GraphNode, NameScope, first_line, graph_encoded, output_info
from tbplugins.optional import require

ValueTypes = dict[str, tuple[list[Any], Any]]  #: value name -> (shape, numpy dtype), as shape inference found them


def _load(model: Any) -> tuple[Any, Any]:
    """Return ``(onnx, ModelProto)``; a path must name an existing ONNX file (checked before importing onnx)."""
    path = os.fspath(model) if isinstance(model, (str, os.PathLike)) else None
    if path is not None and not os.path.isfile(path):
        problem = "is a directory" if os.path.isdir(path) else "does not exist"
        raise ValueError(f"model: expected {MODELS_EXPECTED}, got the path {path!r}, which {problem}")
    onnx = require("onnx", "onnx", "add_onnx_graph")
    if path is None:
        return onnx, model
    try:
        loaded = onnx.load(path)
        problem = "" if loaded.HasField("graph") else "it holds no graph"
    except Exception as exc:  # noqa: BLE001 - onnx raises DecodeError and others for a bad file
        problem = first_line(exc)
    if problem:
        raise ValueError(
            f"model: expected {MODELS_EXPECTED}, got the path {path!r}, which is not an ONNX model file ({problem})"
        )
    return onnx, loaded


def _subgraphs(onnx: Any, attribute: Any) -> list[tuple[str, Any]]:
    """Return ``(label, GraphProto)`` for the sub-graphs an attribute holds (``If``'s branches, ``Loop``'s body)."""
    if attribute.type == onnx.AttributeProto.GRAPH:
        return [(attribute.name, attribute.g)]
    if attribute.type == onnx.AttributeProto.GRAPHS:
        return [(f"{attribute.name}{i}", graph) for i, graph in enumerate(attribute.graphs)]
    return []


def _all_graphs(onnx: Any, graph: Any) -> Iterator[Any]:
    yield graph
    for node in graph.node:
        for attribute in node.attribute:
            for _, subgraph in _subgraphs(onnx, attribute):
                yield from _all_graphs(onnx, subgraph)


def _value_types(onnx: Any, model: Any) -> ValueTypes:
    """Return ``name -> (shape, numpy dtype)`` for every value with a known type, sub-graphs included."""
    try:
        model = onnx.shape_inference.infer_shapes(model)
    except Exception:  # noqa: BLE001 - shapes are optional; a model inference rejects is drawn without them
        pass
    types: ValueTypes = {}
    for graph in _all_graphs(onnx, model.graph):
        for info in [*graph.input, *graph.output, *graph.value_info]:
            tensor = info.type.tensor_type
            if tensor.HasField("shape"):
                shape = [d.dim_value if d.HasField("dim_value") else None for d in tensor.shape.dim]
                types[info.name] = (shape, _dtype(onnx, tensor.elem_type))
        for init in graph.initializer:
            types[init.name] = (list(init.dims), _dtype(onnx, init.data_type))
    return types


def _dtype(onnx: Any, elem_type: int) -> Any:
    try:
        return onnx.helper.tensor_dtype_to_np_dtype(elem_type)
    except (KeyError, ValueError, TypeError):
        return None


def _attribute(onnx: Any, attribute: Any) -> Any:
    value = onnx.helper.get_attribute_value(attribute)
    if isinstance(value, (bytes, str, bool, int, float)):
        return value
    if isinstance(value, (list, tuple)) and all(isinstance(v, (int, float, bytes)) for v in value):
        return str(list(value))
    return f"<{type(value).__name__}>"


def _node_name(text: str) -> str:
    return text.strip("/")


class _Walker:
    """Turns an ONNX graph, and the sub-graphs of its control-flow nodes, into graph nodes."""

    def __init__(self, onnx: Any, types: ValueTypes) -> None:
        self.onnx = onnx
        self.types = types
        self.unique = NameScope()
        self.nodes: list[GraphNode] = []

    def add(self, name: str, op: str, inputs: list[str], outputs: list[str], attrs: dict[str, Any]) -> None:
        """Add a node whose outputs are the ONNX values ``outputs`` (shapes and dtype from their types)."""
        self.nodes.append(GraphNode(name, op, inputs, *output_info(self.types.get(o) for o in outputs), attrs))

    def graph(self, graph: Any, scope: str, producers: MutableMapping[str, str]) -> None:
        """Add the initializers and nodes of ``graph`` under ``scope``; ``producers`` maps value to node names."""
        for init in graph.initializer:
            producers[init.name] = self.unique.unique(scope, _node_name(init.name) or "initializer")
            self.add(producers[init.name], "Const", [], [init.name], {})
        for index, node in enumerate(graph.node):
            self.node(node, index, scope, producers)

    def node(self, node: Any, index: int, scope: str, producers: MutableMapping[str, str]) -> None:
        """Add one ONNX node, and the sub-graphs it holds in a scope under its name (``If_0/then_branch/...``)."""
        name = self.unique.unique(scope, _node_name(node.name) or f"{node.op_type}_{index}")
        inputs = [producers[i] for i in node.input if i in producers]
        attrs = {}
        for attribute in node.attribute:
            subgraphs = _subgraphs(self.onnx, attribute)
            if not subgraphs:
                attrs[attribute.name] = _attribute(self.onnx, attribute)
            for label, subgraph in subgraphs:
                # a body's inputs are bound to the node's inputs in order (Loop: trip count, condition,
                # carried values; Scan: states, scanned values); other outer values are used by name
                inner = ChainMap({}, producers)
                bound = zip(subgraph.input, node.input, strict=False)
                inner.update({formal.name: producers[actual] for formal, actual in bound if actual in producers})
                self.graph(subgraph, f"{name}/{label}", inner)
                inputs += [inner[value.name] for value in subgraph.output if value.name in inner]
        for k, output in enumerate(node.output):
            producers[output] = name if k == 0 else f"{name}:{k}"
        self.add(name, node.op_type, list(dict.fromkeys(inputs)), list(node.output), attrs)


def build(prototxt: Any, example_inputs: Any = None, **_ignored: Any) -> tbcore.Encoded:
    """Return the graph of an ONNX model (a path to a ``.onnx`` file or an ``onnx.ModelProto``).

    :raises ValueError: the path does not exist or is not an ONNX model file.
    """
    onnx, model = _load(prototxt)
    graph = model.graph
    walker = _Walker(onnx, _value_types(onnx, model))
    producers: dict[str, str] = {}
    initializers = {init.name for init in graph.initializer}
    for value in graph.input:
        if value.name not in initializers:
            producers[value.name] = walker.unique.unique("input", _node_name(value.name))
            walker.add(producers[value.name], "IO Node", [], [value.name], {})
    walker.graph(graph, "", producers)
    for value in graph.output:
        inputs = [producers[value.name]] if value.name in producers else []
        walker.add(walker.unique.unique("output", _node_name(value.name)), "IO Node", inputs, [value.name], {})
    return graph_encoded(walker.nodes)


BUILDER = tbcore.GraphBuilder(name="onnx", build=build)


@tbcore.hookimpl
def tbcore_graph_builder(model: Any) -> tbcore.GraphBuilder | None:
    """Accept a path (str or ``os.PathLike``) to an ONNX file, or an ``onnx.ModelProto``."""
    if isinstance(model, (str, os.PathLike)) or tbcore.lazy_issubclass(type(model), "onnx", "ModelProto"):
        return BUILDER
    return None
