"""The torch graph builder: ``add_graph(model, input_to_model)`` for a ``torch.nn.Module`` or ``ExportedProgram``.

The graph is built from ``torch.export`` (non-strict, the ATen graph with each node's
module stack and shapes) and, where export fails (data-dependent control flow, ops or
outputs export does not support), from ``torch.jit.trace`` as torch.utils.tensorboard
does. Either way the picture follows torch's: nodes scoped ``Net/Sequential[enc]/Linear[0]``,
ops named ``aten::linear``, parameters as ``prim::GetAttr`` nodes, ``input/*`` and
``output/output.N`` IO nodes and ``_output_shapes`` on every tensor. An exported program
is drawn as it is; a scripted or traced module from its own JIT graph.

Never imports torch itself: a model can only be a torch module if torch is imported.
"""

from __future__ import annotations

import contextlib
import sys
from collections.abc import Callable, Iterator
from typing import Any

import tbcore
from tbcore.graph import describe_inputs, first_line, graph_encoded, split_inputs

RUN_METADATA_DEVICE = "/device:CPU:0"  #: the device torch names in its ``step1`` run metadata


def submodule(model: Any, path: str) -> Any:
    """Return the attribute at a dotted ``path`` (``enc.0.fc``), or None; ScriptModules have no ``get_submodule``."""
    target = model
    for part in path.split(".") if path else ():
        target = getattr(target, part, None)
    return target


def module_class_names(model: Any) -> Callable[[str], str]:
    """Return a function from a module path to the class name of that submodule of ``model`` (``Module`` if none)."""

    def class_name(path: str) -> str:
        module = submodule(model, path)
        if module is None:
            return "Module"
        return str(getattr(module, "original_name", None) or type(module).__name__)  # a ScriptModule's own class

    return class_name


class ModuleScopes:
    """Turns module paths (``enc.0.fc``) into torch's scope names (``Net/Sequential[enc]/Block[0]/Linear[fc]``).

    :param class_name: the class name of the module at a path (``""`` is the model itself).
    """

    def __init__(self, class_name: Callable[[str], str]) -> None:
        self._class_name = class_name
        self._cache: dict[str, str] = {"": class_name("")}

    def scope(self, path: str) -> str:
        """Return the scope of the submodule at ``path`` (``""`` is the model itself)."""
        cached = self._cache.get(path)
        if cached is not None:
            return cached
        parent, _, attr = path.rpartition(".")
        scope = f"{self.scope(parent)}/{self._class_name(path)}[{attr}]"
        self._cache[path] = scope
        return scope


@contextlib.contextmanager
def _eval_mode(model: Any) -> Iterator[None]:
    training = model.training
    model.train(False)
    try:
        yield
    finally:
        model.train(training)


def _check_runs(model: Any, args: tuple[Any, ...], kwargs: dict[str, Any]) -> None:
    """Run the model once, so that inputs that do not fit it get torch's own error, not two tracers'."""
    torch = sys.modules["torch"]
    try:
        with torch.no_grad():
            model(*args, **kwargs)
    except Exception as exc:  # noqa: BLE001 - whatever the model raises is the user's answer
        raise ValueError(
            f"input_to_model: could not run {type(model).__qualname__} on {describe_inputs(args, kwargs)}: "
            f"{first_line(exc)}"
        ) from exc


def build(model: Any, example_inputs: Any, *, verbose: bool = False, use_strict_trace: bool = True) -> tbcore.Encoded:
    """Return the graph of ``model`` run on ``example_inputs`` (torch.export, else torch.jit.trace).

    A TorchScript module (scripted, or traced before) is drawn from its own graph instead.

    An ``ExportedProgram`` is drawn as it is (its own example inputs made it; ``example_inputs``
    is not used).

    :param verbose: print which path built the graph and the framework's graph.
    :param use_strict_trace: passed as ``strict`` to ``torch.jit.trace`` when tracing is used.
    :raises ValueError: the model does not run on these inputs (torch's error, the model and
        the inputs' shapes in the message), or neither path could build its graph (both errors).
    """
    from tbplugins.adapters import torch_export_graph

    if _is_program(type(model)):
        scopes = ModuleScopes(torch_export_graph.program_class_names(model))
        nodes, text = torch_export_graph.program_nodes(model, scopes)
        if verbose:
            print(f"add_graph: the graph of the exported program\n{text}")
        return graph_encoded(nodes, run_metadata_device=RUN_METADATA_DEVICE)
    args, kwargs = split_inputs(example_inputs)
    with _eval_mode(model):
        if tbcore.lazy_issubclass(type(model), "torch.jit", "ScriptModule"):  # already TorchScript: no export
            nodes, text = _jit_nodes(model, args, kwargs, use_strict_trace, "reading its TorchScript graph", None)
            path = "its own TorchScript graph (a TorchScript module is not traced again)"
        else:
            try:
                nodes, text = torch_export_graph.graph_nodes(model, args, kwargs)
                path = "torch.export"
            except Exception as export_error:  # noqa: BLE001 - any export failure falls back to tracing
                nodes, text = _jit_nodes(model, args, kwargs, use_strict_trace, "torch.jit.trace", export_error)
                path = f"torch.jit.trace (torch.export failed with {first_line(export_error)})"
    if verbose:
        print(f"add_graph: the graph of {type(model).__qualname__} was built with {path}\n{text}")
    return graph_encoded(nodes, run_metadata_device=RUN_METADATA_DEVICE)


def _jit_nodes(
    model: Any,
    args: tuple[Any, ...],
    kwargs: dict[str, Any],
    strict: bool,
    method: str,
    export_error: Exception | None,
) -> tuple[list[Any], str]:
    """The nodes of ``model`` from its JIT graph (traced here, or its own if TorchScript already).

    A failure names ``method`` (how the graph was got) and ``export_error``, if any.
    """
    from tbplugins.adapters import torch_jit_graph

    _check_runs(model, args, kwargs)
    try:
        return torch_jit_graph.graph_nodes(model, args, kwargs, strict=strict)
    except Exception as trace_error:  # noqa: BLE001 - reported with the export error below
        export = "" if export_error is None else f"torch.export failed with {first_line(export_error)}; "
        raise ValueError(
            f"input_to_model: could not build the graph of {type(model).__qualname__} on "
            f"{describe_inputs(args, kwargs)}: {export}{method} failed with {first_line(trace_error)}"
        ) from trace_error


BUILDER = tbcore.GraphBuilder(name="torch", build=build)


def _is_program(cls: type) -> bool:
    return tbcore.lazy_issubclass(cls, "torch.export", "ExportedProgram")


@tbcore.hookimpl
def tbcore_graph_builder(model: Any) -> tbcore.GraphBuilder | None:
    """Accept ``torch.nn.Module`` instances (scripted and traced modules included) and ``torch.export`` programs."""
    if tbcore.lazy_issubclass(type(model), "torch", "nn.Module") or _is_program(type(model)):
        return BUILDER
    return None
