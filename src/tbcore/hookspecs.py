"""Every hook a tbcore plugin can implement, in one place.

``tbcore`` is at once the pluggy project name, the prefix of every hook and the
entry-point group a plugin distribution registers under::

    [project.entry-points.tbcore]
    boxes = "tbcore_boxes"

A hook whose name is plural collects the results of every plugin; a singular one is
``firstresult``: the first plugin returning something other than ``None`` wins, and
plugins registered later are asked first (so third-party plugins win over built-ins).
docs/plugins/hooks.md lists these hooks with their exact signatures; a test keeps the
two in step.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import TYPE_CHECKING, Any

import pluggy

if TYPE_CHECKING:
    from tbcore.adapters import ArrayAdapter
    from tbcore.encoded import GraphBuilder
    from tbcore.registry import SummaryType

__all__ = ["PROJECT_NAME", "hookimpl", "hookspec"]

PROJECT_NAME = "tbcore"  #: pluggy project name, hook prefix and entry-point group

#: decorator marking tbcore's hook specifications (plugins use :data:`hookimpl`, not this)
hookspec = pluggy.HookspecMarker(PROJECT_NAME)
#: decorator marking a plugin's hook implementations: ``@tbcore.hookimpl def tbcore_summary_types(): ...``;
#: takes pluggy's options (``tryfirst``, ``trylast``, ``specname``...); see docs/plugins/hooks.md
hookimpl = pluggy.HookimplMarker(PROJECT_NAME)


@hookspec
def tbcore_summary_types() -> Iterable[SummaryType]:
    """Return the summary types this plugin provides.

    Collect-all: every plugin's records are gathered once, validated and indexed by
    :attr:`SummaryType.name`. Names must be unique across all installed plugins; a clash
    raises :class:`tbcore.SummaryTypeConflict` naming both providers.

    :returns: an iterable of :class:`tbcore.SummaryType` records.
    """
    return ()  # a specification only: pluggy never calls this body


@hookspec(firstresult=True)
def tbcore_array_adapter(cls: type) -> ArrayAdapter | None:
    """Return an adapter converting instances of ``cls`` to numpy, or ``None``.

    firstresult: stops at the first non-``None`` result; the answer is cached per
    ``cls``, so this is asked once per Python type. It must not import a framework:
    check ``cls`` with :func:`tbcore.adapters.lazy_issubclass`, which looks only at
    modules already imported. The built-in numpy / ``__array__`` fallback is
    ``trylast`` so that every other adapter is asked first.

    :param cls: the type of a value passed to ``add(...)`` or an ``add_*`` method.
    :returns: a :class:`tbcore.ArrayAdapter` or ``None``.
    """


@hookspec(firstresult=True)
def tbcore_graph_builder(model: Any) -> GraphBuilder | None:
    """Return a builder that turns ``model`` into a TensorBoard graph, or ``None``.

    firstresult, cached per ``type(model)`` like the array adapters. Builders live with
    their framework's adapter plugin (torch modules, JAX functions, ONNX models) and
    must not import a framework to decide.

    :param model: the object passed to ``add_graph``.
    :returns: a :class:`tbcore.GraphBuilder` or ``None``.
    """
