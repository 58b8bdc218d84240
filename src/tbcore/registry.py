"""Summary types: the record a plugin returns, and the validated index of all of them."""

from __future__ import annotations

import difflib
import inspect
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

from tbcore.errors import PluginError, SummaryTypeConflict, UnknownSummaryType

__all__ = ["SummaryType", "build_index", "lookup"]

_NAME = re.compile(r"^[a-z][a-z0-9_]*$")


@dataclass(frozen=True, kw_only=True, slots=True)
class SummaryType:
    """A kind of summary a plugin provides, reachable as ``writer.add(name, tag, value, ...)``.

    :param name: the user-facing key, matching ``^[a-z][a-z0-9_]*$`` (e.g. ``"image"``).
    :param plugin_name: the TensorBoard ``PluginData.plugin_name`` it produces (e.g. ``"images"``).
    :param encode: a pure function ``encode(tag, value, **options)`` returning a ``Summary``,
        an :class:`tbcore.Encoded` or a sequence of them. It never does I/O.
    :param description: one line shown by ``tbcore plugins``.
    :param adapt_value: convert the value to a numpy array through the array adapters before
        calling ``encode`` (False for values that are not arrays: text, figures, dicts).
    :param array_options: names of keyword options that are arrays and are converted too.
    :param value_name: the name of the value argument in error messages (torch's, e.g. ``"img_tensor"``);
        by default the name of ``encode``'s second parameter (``"value"`` if it has none).
    :param decode: optional inverse used by the reader: ``decode(value) -> object`` from a
        ``Summary.Value`` to numpy / bytes / dict.
    :raises PluginError: a ``name`` not matching the pattern, an empty ``plugin_name`` or an
        ``encode`` that is not callable.
    """

    name: str
    plugin_name: str
    encode: Callable[..., Any]
    description: str = ""
    adapt_value: bool = True
    array_options: frozenset[str] = field(default_factory=frozenset)
    value_name: str = ""
    decode: Callable[[Any], Any] | None = None

    def __post_init__(self) -> None:
        if not isinstance(self.name, str) or not _NAME.match(self.name):
            raise PluginError(f"SummaryType.name: expected a str matching {_NAME.pattern}, got {self.name!r}")
        if not isinstance(self.plugin_name, str) or not self.plugin_name:
            raise PluginError(f"SummaryType.plugin_name: expected a non-empty str, got {self.plugin_name!r}")
        if not callable(self.encode):
            raise PluginError(f"SummaryType.encode: expected a callable, got {self.encode!r}")
        if not isinstance(self.array_options, frozenset):
            object.__setattr__(self, "array_options", frozenset(self.array_options))
        if not self.value_name:
            object.__setattr__(self, "value_name", _second_parameter(self.encode))


def _second_parameter(encode: Callable[..., Any]) -> str:
    """Return the name of the parameter after ``tag`` in ``encode(tag, value, ...)``, or ``"value"``."""
    try:
        parameters = list(inspect.signature(encode).parameters.values())
    except (TypeError, ValueError):  # some builtins and C callables have no signature
        return "value"
    positional = (inspect.Parameter.POSITIONAL_ONLY, inspect.Parameter.POSITIONAL_OR_KEYWORD)
    names = [p.name for p in parameters if p.kind in positional]
    return names[1] if len(names) > 1 else "value"


def build_index(results: list[tuple[str, Any]]) -> dict[str, tuple[SummaryType, str]]:
    """Validate every plugin's ``tbcore_summary_types`` results and index them by name.

    :param results: ``(provider name, hook result)`` pairs in registration order.
    :returns: ``{name: (summary type, provider)}``.
    :raises PluginError: a result is not an iterable of SummaryType.
    :raises SummaryTypeConflict: two providers use the same name (both are named).
    """
    index: dict[str, tuple[SummaryType, str]] = {}
    for provider, result in results:
        try:
            items = list(result)
        except TypeError:
            raise PluginError(
                f"plugin {provider!r}: tbcore_summary_types must return an iterable of SummaryType, "
                f"got {type(result).__qualname__}"
            ) from None
        for item in items:
            if not isinstance(item, SummaryType):
                raise PluginError(
                    f"plugin {provider!r}: tbcore_summary_types returned {type(item).__qualname__}, "
                    "expected SummaryType"
                )
        for item in items:
            if item.name in index:
                first = index[item.name][1]
                a, b = sorted((first, provider))
                raise SummaryTypeConflict(
                    f"summary type {item.name!r} is provided by two plugins: {a!r} and {b!r}; "
                    f"uninstall one, or block one with TBCORE_BLOCK_PLUGINS={a} or TBCORE_BLOCK_PLUGINS={b}"
                )
            index[item.name] = (item, provider)
    return index


def lookup(
    index: Mapping[str, tuple[SummaryType, str]], name: Any, failed: Callable[[], Mapping[str, str]]
) -> SummaryType:
    """Return the summary type called ``name``, or raise UnknownSummaryType with suggestions.

    :param failed: returns the entry points that failed to load (``{name: reason}``), mentioned in
        the error; called only then.
    """
    if isinstance(name, str) and name in index:
        return index[name][0]
    known = sorted(index)
    message = f"kind: expected one of the installed summary types, got {name!r}."
    close = difflib.get_close_matches(name, known, n=3) if isinstance(name, str) else []
    if close:
        message += f" Did you mean {' or '.join(repr(c) for c in close)}?"
    message += f" Installed: {', '.join(known) or 'none'}."
    failures = failed()
    if failures:
        message += " Plugins that failed to load: " + "; ".join(f"{k} ({v})" for k, v in sorted(failures.items())) + "."
    raise UnknownSummaryType(message)
