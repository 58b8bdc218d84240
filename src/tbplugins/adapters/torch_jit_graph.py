"""A torch module's graph from ``torch.jit.trace``: the fallback where ``torch.export`` fails.

Same picture as torch.utils.tensorboard: the inlined traced graph, each node named
``<scope>/<debug name>`` with the scope taken from its ``__module.a.b`` scope name,
parameters as ``prim::GetAttr`` nodes in their module's scope, constants as
``prim::Constant``, graph inputs ``input/<debug name>`` and outputs ``output/output.N``.
"""

from __future__ import annotations

import sys
import warnings
from typing import Any

from tbcore.graph import GraphNode, NameScope, attr_text, output_info
from tbplugins.adapters.torch_graph import ModuleScopes, module_class_names, submodule

_CLASS_TYPE = "ClassType"
_MODULE_PREFIX = "__module."


def _info(values: list[Any]) -> tuple[list[list[int] | None], str | None]:
    """Return the shapes and first dtype name of JIT values (unknown for those not complete tensors)."""
    return output_info((v.type().sizes(), v.type().dtype()) if v.isCompleteTensor() else None for v in values)


def _attributes(node: Any) -> str:
    return attr_text({key: getattr(node, node.kindOf(key))(key) for key in node.attributeNames()})


def _attribute_info(model: Any, path: str) -> tuple[list[list[int] | None], str | None]:
    """Return the shape and dtype name of the tensor attribute at ``path`` (``enc.0.fc.weight``)."""
    tensor = submodule(model, path)
    return output_info([(tensor.shape, tensor.dtype) if hasattr(tensor, "shape") else None])


def _module_path(scope_name: str) -> str:
    """Return the module path (``enc.0``) of the innermost ``__module.*`` part of a JIT scope name."""
    parts = [p for p in scope_name.split("/") if p.startswith(_MODULE_PREFIX)]
    return parts[-1][len(_MODULE_PREFIX) :] if parts else ""


def graph_nodes(
    model: Any, args: tuple[Any, ...], kwargs: dict[str, Any], *, strict: bool
) -> tuple[list[GraphNode], str]:
    """Trace ``model`` on the example inputs; return its graph nodes and the inlined JIT graph's text."""
    jit = sys.modules["torch"].jit
    with warnings.catch_warnings():  # tracing is the deliberate fallback; TracerWarnings still show
        warnings.filterwarnings("ignore", message=r".*torch\.jit\.trace", category=DeprecationWarning)
        if isinstance(model, jit.ScriptModule):  # scripted or traced already: its graph is there
            traced = model
        elif kwargs:
            traced = jit.trace(model, example_kwarg_inputs=kwargs, strict=strict)
        else:
            traced = jit.trace(model, args, strict=strict)
    graph = traced.inlined_graph
    scopes = ModuleScopes(module_class_names(model))
    unique = NameScope()
    names: dict[str, str] = {}
    attr_paths: dict[str, str] = {}
    nodes: list[GraphNode] = []
    for value in graph.inputs():
        if value.type().kind() == _CLASS_TYPE:
            attr_paths[value.debugName()] = ""
        elif value.uses():
            names[value.debugName()] = unique.unique("input", value.debugName())
            nodes.append(GraphNode(names[value.debugName()], "IO Node", [], *_info([value])))
    for node in graph.nodes():
        outputs = list(node.outputs())
        if node.kind() == "prim::GetAttr":
            parent = attr_paths.get(node.input().debugName(), "")
            path = f"{parent}.{node.s('name')}" if parent else node.s("name")
            if node.output().type().kind() == _CLASS_TYPE:
                attr_paths[node.output().debugName()] = path
                continue
            module_path, _, attr = path.rpartition(".")
            name = unique.unique(f"{scopes.scope(module_path)}/{attr}", node.output().debugName())
            nodes.append(GraphNode(name, node.kind(), [], *_attribute_info(model, path), {"attr": _attributes(node)}))
            names[node.output().debugName()] = name
            continue
        base = outputs[0].debugName() if outputs else node.kind().split("::")[-1]
        name = unique.unique(scopes.scope(_module_path(node.scopeName())), base)
        inputs = [names[v.debugName()] for v in node.inputs() if v.debugName() in names]
        for k, value in enumerate(outputs):
            names[value.debugName()] = name if k == 0 else f"{name}:{k}"
        nodes.append(GraphNode(name, node.kind(), inputs, *_info(outputs), {"attr": _attributes(node)}))
    for k, value in enumerate(graph.outputs()):
        producer = names.get(value.debugName())
        inputs = [producer] if producer is not None else []
        nodes.append(GraphNode(f"output/output.{k + 1}", "IO Node", inputs, *_info([value])))
    return nodes, str(graph)
