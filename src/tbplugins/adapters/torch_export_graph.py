"""A torch module's graph from ``torch.export``: the ATen graph, scoped by module path.

Each call node becomes one graph node named ``<scope>/<fx node name>`` (scope from the
node's ``nn_module_stack``), op ``aten::<name>``, with its non-tensor arguments in the
``attr`` text; parameters, buffers and constants become ``prim::GetAttr`` nodes in the
scope of the module owning them, user inputs ``input/<name>`` and each (flattened)
output ``output/output.N``.
"""

from __future__ import annotations

import contextlib
import logging
import operator
import sys
import threading
from collections.abc import Callable, Iterator
from typing import Any

from tbcore.graph import GraphNode, NameScope, attr_string, output_info
from tbplugins.adapters.torch_graph import ModuleScopes, module_class_names


def tensor_info(value: Any) -> tuple[list[list[int] | None], str | None]:
    """Return the shapes of a (fake) tensor or a tuple of them, and the first one's dtype name."""
    values = value if isinstance(value, (tuple, list)) else [value]
    return output_info((item.shape, item.dtype) if hasattr(item, "shape") else None for item in values)


def _op_name(target: Any) -> str:
    schema = getattr(target, "_schema", None)
    if schema is not None:
        return str(schema.name)
    return str(getattr(target, "__name__", target))


def _arguments(node: Any) -> dict[str, Any]:
    """Return the node's non-tensor arguments by name (positional ones named after the op's schema)."""
    schema = getattr(node.target, "_schema", None)
    names = [a.name for a in schema.arguments] if schema is not None else [f"arg{i}" for i in range(len(node.args))]
    pairs = list(zip(names, node.args, strict=False)) + list(node.kwargs.items())
    fx = sys.modules["torch.fx"]
    return {
        name: value
        for name, value in pairs
        if value is not None and not isinstance(value, fx.Node) and not _holds_node(value, fx.Node)
    }


def _holds_node(value: Any, node_type: type) -> bool:
    return isinstance(value, (list, tuple)) and any(isinstance(v, node_type) for v in value)


def _node_inputs(node: Any, names: dict[str, str]) -> list[str]:
    return [names[n.name] for n in node.all_input_nodes if n.name in names]


_NOISY_LOGGERS = ("torch.fx.experimental.symbolic_shapes", "torch._subclasses.fake_tensor")


class _ThreadFilter(logging.Filter):
    def __init__(self) -> None:
        super().__init__()
        self.thread = threading.get_ident()

    def filter(self, record: logging.LogRecord) -> bool:
        return record.thread != self.thread


@contextlib.contextmanager
def _own_logs_dropped(names: tuple[str, ...]) -> Iterator[None]:
    """Drop these loggers' records from this thread: a failed export logs tracebacks before the fallback."""
    dropper = _ThreadFilter()
    loggers = [logging.getLogger(name) for name in names]
    for logger in loggers:
        logger.addFilter(dropper)
    try:
        yield
    finally:
        for logger in loggers:
            logger.removeFilter(dropper)


def graph_nodes(model: Any, args: tuple[Any, ...], kwargs: dict[str, Any]) -> tuple[list[GraphNode], str]:
    """Export ``model`` on the example inputs; return its graph nodes and the exported program's text."""
    with _own_logs_dropped(_NOISY_LOGGERS):
        program = sys.modules["torch"].export.export(model, args, kwargs, strict=False)
    return program_nodes(program, ModuleScopes(module_class_names(model)))


def program_class_names(program: Any) -> Callable[[str], str]:
    """Return a function from a module path to its class name, as the program's ``nn_module_stack`` records it."""
    names: dict[str, str] = {}
    for node in program.graph.nodes:
        for path, cls in (node.meta.get("nn_module_stack") or {}).values():
            names[path] = str(getattr(cls, "__name__", cls)).rpartition(".")[2]
    return lambda path: names.get(path, "Module")


def program_nodes(program: Any, scopes: ModuleScopes) -> tuple[list[GraphNode], str]:
    """Return the graph nodes of an exported program and its text."""
    torch = sys.modules["torch"]
    unique = NameScope()
    targets = {spec.arg.name: spec.target for spec in program.graph_signature.input_specs if spec.target}
    names: dict[str, str] = {}
    nodes: list[GraphNode] = []
    for node in program.graph.nodes:
        shapes, dtype = tensor_info(node.meta.get("val"))
        if node.op == "placeholder":
            target = targets.get(node.name)
            if target is None:
                name, op, attrs = unique.unique("input", node.name), "IO Node", {}
            else:
                module_path, _, attr = target.rpartition(".")
                name = unique.unique(f"{scopes.scope(module_path)}/{attr}", attr)
                op, attrs = "prim::GetAttr", {"attr": attr_string({"name": attr})}
        elif node.op == "call_function" and node.target is operator.getitem:
            source, index = node.args
            names[node.name] = names[source.name] + (f":{index}" if index else "")
            continue
        elif node.op == "call_function":
            stack = node.meta.get("nn_module_stack") or {}
            path = list(stack.values())[-1][0] if stack else ""
            name = unique.unique(scopes.scope(path), node.name)
            op, attrs = _op_name(node.target), {"attr": attr_string(_arguments(node))}
        elif node.op == "output":
            for k, value in enumerate(torch.utils._pytree.tree_leaves(node.args[0])):
                if isinstance(value, torch.fx.Node) and value.name in names:
                    out_shapes, out_dtype = tensor_info(value.meta.get("val"))
                    inputs = [names[value.name]]
                    nodes.append(GraphNode(f"output/output.{k + 1}", "IO Node", inputs, out_shapes, out_dtype))
            continue
        else:  # get_attr of sub-graphs of higher-order ops: not tensors, not shown
            continue
        names[node.name] = name
        nodes.append(GraphNode(name, op, _node_inputs(node, names), shapes, dtype, attrs))
    return nodes, str(program.graph_module.code)
