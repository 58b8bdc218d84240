"""The JAX graph builder: ``add_graph(fn, example_args)`` draws ``jax.make_jaxpr(fn)(*example_args)``.

Every equation of the jaxpr becomes a node (op = the primitive's name, ``_output_shapes``
and ``dtype`` from its outputs, the other parameters in ``attr``). An equation that holds
jaxprs (``jit``/``pjit``, ``scan``, ``cond``, ``while``, ``custom_jvp_call``,
``custom_vjp_call``, ``remat``, ...) becomes a name scope ``<prim>[<name>]`` holding the
nodes of its jaxprs (one sub-scope per jaxpr where there are several, e.g. cond branches)
and a node ``<prim>`` collecting their results. Arguments are ``input/<name>`` nodes,
results ``output/output.N``.

Never imports JAX itself: a plain Python function is taken as a JAX function only when
JAX is already imported.
"""

from __future__ import annotations

import inspect
import os
import sys
from collections.abc import Sequence
from typing import Any

import numpy as np

import tbcore
from tbcore.graph import (
    GraphNode,
    NameScope,
    attr_text,
    describe_inputs,
    first_line,
    graph_encoded,
    output_info,
    short_repr,
    split_inputs,
)

_MAX_VALUE_TEXT = 40  #: the longest literal value text shown in a ``Const`` node's ``value`` attr


def _is_literal(var: Any) -> bool:
    return hasattr(var, "val")


def _info(variables: Sequence[Any]) -> tuple[list[list[int] | None], str | None]:
    """Return the shapes and first dtype name of jaxpr variables (from their abstract values)."""
    avals: list[Any] = [getattr(var, "aval", None) for var in variables]
    return output_info((aval.shape, aval.dtype) if hasattr(aval, "shape") else None for aval in avals)


def _sub_jaxprs(eqn: Any) -> list[tuple[str, Any, Sequence[Any], list[Any]]]:
    """Return ``(key, jaxpr, consts, outer variables bound to its inputs)`` for each jaxpr in ``eqn``'s params."""
    found = []
    for key, value in eqn.params.items():
        items = value if isinstance(value, (tuple, list)) else [value]
        for i, item in enumerate(items):
            jaxpr = getattr(item, "jaxpr", item)
            if not hasattr(jaxpr, "eqns"):
                continue
            label = f"{key}{i}" if isinstance(value, (tuple, list)) else key
            found.append((label, jaxpr, getattr(item, "consts", ()), _bound(eqn, key, jaxpr)))
    return found


def _bound(eqn: Any, key: str, jaxpr: Any) -> list[Any]:
    """Return the outer variables passed to ``jaxpr``'s inputs (its last ones, ``while``'s cond apart)."""
    outer = list(eqn.invars)
    if key == "cond_jaxpr":  # while: cond takes cond consts + carry, body takes body consts + carry
        skip = eqn.params.get("cond_nconsts", 0) + eqn.params.get("body_nconsts", 0)
        outer = outer[: eqn.params.get("cond_nconsts", 0)] + outer[skip:]
    count = min(len(outer), len(jaxpr.invars))
    return [None] * (len(jaxpr.invars) - count) + outer[len(outer) - count :]


def _label(eqn: Any, subs: list[tuple[str, Any, Sequence[Any], list[Any]]]) -> str:
    """Return the traced function's name: the ``name`` param, else the one jaxpr's source function."""
    name = eqn.params.get("name")
    if isinstance(name, str):
        return name
    source = getattr(getattr(subs[0][1], "debug_info", None), "func_src_info", None) if len(subs) == 1 else None
    word = source.split(" ")[0] if isinstance(source, str) and source else ""
    return "" if word.startswith("<") else word


def _params_text(params: dict[str, Any]) -> str:
    """Return the equation's parameters as ``attr`` text, leaving out jaxprs, functions and multi-line values."""
    shown = {}
    for key, value in params.items():
        items = value if isinstance(value, (tuple, list)) else [value]
        if callable(value) or any(hasattr(getattr(item, "jaxpr", item), "eqns") for item in items):
            continue
        if "\n" not in repr(value):
            shown[key] = value
    return attr_text(shown)


class _Walker:
    """Turns a jaxpr and its nested jaxprs into graph nodes."""

    def __init__(self) -> None:
        self.unique = NameScope()
        self.nodes: list[GraphNode] = []

    def jaxpr(self, jaxpr: Any, consts: Sequence[Any], scope: str, env: dict[Any, str]) -> None:
        for var in jaxpr.constvars[: len(consts)]:
            env[var] = self.unique.unique(scope, "const")
            self.nodes.append(GraphNode(env[var], "Const", [], *_info([var])))
        for eqn in jaxpr.eqns:
            self.eqn(eqn, scope, env)

    def operand(self, var: Any, scope: str, env: dict[Any, str]) -> str | None:
        """Return the node of a variable, a new ``Const`` node for a literal, or None for an unknown variable."""
        if not _is_literal(var):
            return env.get(var)
        name = self.unique.unique(scope, "literal")
        value = np.asarray(var.val)
        attrs = {"value": short_repr(value.item(), _MAX_VALUE_TEXT)} if value.size == 1 else {}
        self.nodes.append(GraphNode(name, "Const", [], *_info([var]), attrs))
        return name

    def eqn(self, eqn: Any, scope: str, env: dict[Any, str]) -> None:
        prim = eqn.primitive.name
        operands = {id(v): self.operand(v, scope, env) for v in eqn.invars}
        subs = _sub_jaxprs(eqn)
        bound = {id(o) for _, _, _, outer in subs for o in outer if o is not None}
        inputs = [operands[id(v)] for v in eqn.invars if id(v) not in bound]
        if subs:
            label = _label(eqn, subs)
            group = self.unique.unique(scope, f"{prim}[{label}]" if label else prim)
            for key, jaxpr, consts, outer in subs:
                inner_scope = group if len(subs) == 1 else f"{group}/{key}"
                pairs = zip(jaxpr.invars, outer, strict=True)
                inner_env = {var: src for var, o in pairs if o is not None and (src := operands[id(o)]) is not None}
                self.jaxpr(jaxpr, consts, inner_scope, inner_env)
                inputs += [self.operand(v, inner_scope, inner_env) for v in jaxpr.outvars]
            name = self.unique.unique(group, prim)
        else:
            name = self.unique.unique(scope, prim)
        for k, var in enumerate(eqn.outvars):
            env[var] = name if k == 0 else f"{name}:{k}"
        attrs = {"attr": _params_text(dict(eqn.params))}
        self.nodes.append(GraphNode(name, prim, _present(inputs), *_info(eqn.outvars), attrs))


def _present(names: Sequence[str | None]) -> list[str]:
    """Return the known names, each once, in order."""
    return list(dict.fromkeys(name for name in names if name is not None))


def _clean_path(path: str) -> str:
    for old, new in (("['", "."), ("']", ""), ("[", "."), ("]", ""), ("/", "_")):
        path = path.replace(old, new)
    return path.lstrip(".")


def input_names(fn: Any, args: tuple[Any, ...], kwargs: dict[str, Any]) -> list[str]:
    """Return a name per flattened argument leaf: ``params.w1``, ``x``, ``batch.0`` ..."""
    jax = sys.modules["jax"]
    try:
        params = list(inspect.signature(fn).parameters)
    except (TypeError, ValueError):
        params = []
    names = []
    for i, arg in enumerate(args):
        base = params[i] if i < len(params) else f"arg{i}"
        names += [_clean_path(base + jax.tree_util.keystr(p)) for p, _ in jax.tree_util.tree_flatten_with_path(arg)[0]]
    for key, value in kwargs.items():
        names += [_clean_path(key + jax.tree_util.keystr(p)) for p, _ in jax.tree_util.tree_flatten_with_path(value)[0]]
    return names


def build(fn: Any, example_inputs: Any, *, verbose: bool = False, **_ignored: Any) -> tbcore.Encoded:
    """Return the graph of ``jax.make_jaxpr(fn)`` on the example arguments.

    :param example_inputs: one array, a tuple/list of positional arguments (pytrees allowed)
        or a dict of keyword arguments.
    :param verbose: print the jaxpr.
    :raises ValueError: ``fn`` cannot be traced with these arguments (JAX's error, the
        function's name and the arguments' shapes in the message).
    """
    jax = sys.modules["jax"]
    args, kwargs = split_inputs(example_inputs)
    try:
        closed = jax.make_jaxpr(fn)(*args, **kwargs)
    except Exception as exc:  # noqa: BLE001 - any tracing failure is reported with the inputs
        leaves = tuple(jax.tree_util.tree_leaves((args, kwargs)))
        raise ValueError(
            f"input_to_model: could not trace {getattr(fn, '__qualname__', type(fn).__qualname__)} with JAX on "
            f"{describe_inputs(leaves, {})}: {first_line(exc)}"
        ) from exc
    if verbose:
        print(closed)
    walker = _Walker()
    env: dict[Any, str] = {}
    names = input_names(fn, args, kwargs)
    if len(names) != len(closed.jaxpr.invars):
        names = [f"arg{i}" for i in range(len(closed.jaxpr.invars))]
    for var, base in zip(closed.jaxpr.invars, names, strict=True):
        env[var] = walker.unique.unique("input", base)
        walker.nodes.append(GraphNode(env[var], "IO Node", [], *_info([var])))
    walker.jaxpr(closed.jaxpr, closed.consts, "", env)
    for k, var in enumerate(closed.jaxpr.outvars):
        inputs = _present([walker.operand(var, "", env)])
        walker.nodes.append(GraphNode(f"output/output.{k + 1}", "IO Node", inputs, *_info([var])))
    return graph_encoded(walker.nodes)


BUILDER = tbcore.GraphBuilder(name="jax", build=build)


@tbcore.hookimpl
def tbcore_graph_builder(model: Any) -> tbcore.GraphBuilder | None:
    """Accept a callable (a function, a ``jax.jit`` function, ...) when JAX is imported."""
    if sys.modules.get("jax") is None or not callable(model) or isinstance(model, (type, str, os.PathLike)):
        return None
    if tbcore.lazy_issubclass(type(model), "torch", "nn.Module"):
        return None
    return BUILDER
