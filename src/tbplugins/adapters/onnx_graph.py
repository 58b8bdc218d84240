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
from typing import Any

import tbcore
from tbcore.graph import GraphNode, NameScope


def _load(model: Any) -> Any:
    try:
        import onnx
    except ImportError as exc:
        raise ImportError("add_onnx_graph needs the onnx package: pip install 'tbcore[onnx]'") from exc
    if isinstance(model, onnx.ModelProto):
        return onnx, model
    path = os.fspath(model)
    try:
        return onnx, onnx.load(path)
    except FileNotFoundError:
        raise
    except Exception as exc:  # noqa: BLE001 - onnx raises DecodeError and others for a bad file
        raise ValueError(f"prototxt: expected an ONNX model file, got {path!r} ({type(exc).__name__}: {exc})") from exc


def _value_types(onnx: Any, model: Any) -> dict[str, tuple[list[int], str | None]]:
    """Return ``name -> (shape, numpy dtype name)`` for every value with a known type (after shape inference)."""
    try:
        model = onnx.shape_inference.infer_shapes(model)
    except Exception:  # noqa: BLE001 - shapes are optional; a model inference rejects is drawn without them
        pass
    graph = model.graph
    types: dict[str, tuple[list[int], str | None]] = {}
    for info in [*graph.input, *graph.output, *graph.value_info]:
        tensor = info.type.tensor_type
        if not tensor.HasField("shape"):
            continue
        shape = [d.dim_value if d.HasField("dim_value") else -1 for d in tensor.shape.dim]
        types[info.name] = (shape, _dtype_name(onnx, tensor.elem_type))
    for init in graph.initializer:
        types[init.name] = (list(init.dims), _dtype_name(onnx, init.data_type))
    return types


def _dtype_name(onnx: Any, elem_type: int) -> str | None:
    try:
        return str(onnx.helper.tensor_dtype_to_np_dtype(elem_type))
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


def build(prototxt: Any, example_inputs: Any = None, **_ignored: Any) -> tbcore.Encoded:
    """Return the graph of an ONNX model (a path to a ``.onnx`` file or an ``onnx.ModelProto``)."""
    from tbcore.graph import graph_encoded

    onnx, model = _load(prototxt)
    graph = model.graph
    types = _value_types(onnx, model)
    unique = NameScope()
    producers: dict[str, str] = {}
    nodes: list[GraphNode] = []

    def add(name: str, op: str, inputs: list[str], outputs: list[str], attrs: dict[str, Any]) -> None:
        infos = [types.get(o) for o in outputs]
        shapes = [info[0] if info else None for info in infos]
        dtype = next((info[1] for info in infos if info), None)
        nodes.append(GraphNode(name, op, inputs, shapes, dtype, attrs))

    initializers = {init.name for init in graph.initializer}
    for init in graph.initializer:
        producers[init.name] = unique.unique("", _node_name(init.name) or "initializer")
        add(producers[init.name], "Const", [], [init.name], {})
    for value in graph.input:
        if value.name not in initializers:
            producers[value.name] = unique.unique("input", _node_name(value.name))
            add(producers[value.name], "IO Node", [], [value.name], {})
    for index, node in enumerate(graph.node):
        name = unique.unique("", _node_name(node.name) or f"{node.op_type}_{index}")
        inputs = [producers[i] for i in node.input if i in producers]
        attrs = {a.name: _attribute(onnx, a) for a in node.attribute}
        for k, output in enumerate(node.output):
            producers[output] = name if k == 0 else f"{name}:{k}"
        add(name, node.op_type, inputs, list(node.output), attrs)
    for value in graph.output:
        inputs = [producers[value.name]] if value.name in producers else []
        add(unique.unique("output", _node_name(value.name)), "IO Node", inputs, [value.name], {})
    return graph_encoded(nodes)


BUILDER = tbcore.GraphBuilder(name="onnx", build=build)


@tbcore.hookimpl
def tbcore_graph_builder(model: Any) -> tbcore.GraphBuilder | None:
    """Accept a path (str or ``os.PathLike``) to an ONNX file, or an ``onnx.ModelProto``."""
    if isinstance(model, (str, os.PathLike)) or tbcore.lazy_issubclass(type(model), "onnx", "ModelProto"):
        return BUILDER
    return None
