"""A torch module's graph from ``torch.jit.trace``: the fallback where ``torch.export`` fails.

Same picture as torch.utils.tensorboard: the inlined traced graph, each node named
``<scope>/<debug name>`` with the scope taken from its ``__module.a.b`` scope name,
parameters as ``prim::GetAttr`` nodes in their module's scope, constants as
``prim::Constant``, graph inputs ``input/<debug name>`` and outputs ``output/output.N``.

A module that is TorchScript already (scripted, or traced before) has no shapes in its graph
that fit the example inputs (a scripted one none at all), so :func:`run_shapes` runs a copy of
its graph once that also returns every tensor the graph makes, and the nodes get those shapes.
"""

from __future__ import annotations

import sys
import warnings
from typing import Any

from tbcore.graph import GraphNode, NameScope, attr_text, output_info
from tbplugins.adapters.torch_graph import ModuleScopes, module_class_names, submodule

_CLASS_TYPE = "ClassType"
_TENSOR_TYPE = "TensorType"
_MODULE_PREFIX = "__module."

Shapes = dict[str, tuple[Any, Any]]  #: ``(shape, dtype)`` of JIT values by their debug name


def _info(values: list[Any], run: Shapes) -> tuple[list[list[int] | None], str | None]:
    """Return the shapes and first dtype name of JIT values: from ``run``, else from a complete tensor type."""
    return output_info(
        run.get(v.debugName()) or ((v.type().sizes(), v.type().dtype()) if v.isCompleteTensor() else None)
        for v in values
    )


def run_shapes(model: Any, args: tuple[Any, ...], kwargs: dict[str, Any]) -> Shapes:
    """Return the ``(shape, dtype)`` of each tensor of ``model.inlined_graph`` (top level) when run on the inputs.

    A copy of the graph that also returns those tensors is run once, without gradients;
    empty if it does not run (the nodes are then drawn without shapes, as torch draws them).
    """
    torch = sys.modules["torch"]
    graph = model.inlined_graph
    names = [v.debugName() for v in _tensors(graph)]
    try:
        probe = graph.copy()
        for value in _tensors(probe):
            probe.registerOutput(value)
        probe.makeMultiOutputIntoTuple()
        function = torch._C._create_function_from_graph("tbcore_run_shapes", probe)
        rest = model.forward.schema.arguments[1 + len(args) :]  # keywords and defaults, in the schema's order
        with torch.no_grad():
            results = function(model._c, *args, *(kwargs.get(a.name, a.default_value) for a in rest))
    except Exception:  # noqa: BLE001 - private TorchScript API: without it the graph is drawn as torch draws it
        return {}
    pairs = zip(names, results[1:], strict=True)
    return {name: (tuple(t.shape), t.dtype) for name, t in pairs if t is not None}  # an Optional[Tensor] may be None


def _tensors(graph: Any) -> list[Any]:
    """The values of ``graph``'s inputs and top-level nodes typed ``Tensor`` or ``Optional[Tensor]``, in graph order."""
    values = [*graph.inputs(), *(v for node in graph.nodes() for v in node.outputs())]
    return [v for v in values if _TENSOR_TYPE in (v.type().kind(), _element_kind(v.type()))]


def _element_kind(jit_type: Any) -> str | None:
    return jit_type.getElementType().kind() if jit_type.kind() == "OptionalType" else None


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
            traced, run = model, run_shapes(model, args, kwargs)
        elif kwargs:  # traced here, on these inputs: the graph's tensor types are complete
            traced, run = jit.trace(model, example_kwarg_inputs=kwargs, strict=strict), {}
        else:
            traced, run = jit.trace(model, args, strict=strict), {}
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
            nodes.append(GraphNode(names[value.debugName()], "IO Node", [], *_info([value], run)))
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
        nodes.append(GraphNode(name, node.kind(), inputs, *_info(outputs, run), {"attr": _attributes(node)}))
    for k, value in enumerate(graph.outputs()):
        producer = names.get(value.debugName())
        inputs = [producer] if producer is not None else []
        nodes.append(GraphNode(f"output/output.{k + 1}", "IO Node", inputs, *_info([value], run)))
    return nodes, str(graph)
