"""Exception types and the helpers that word user-input errors consistently."""

from __future__ import annotations

from typing import Any

__all__ = [
    "DeferredValueError",
    "PluginError",
    "SummaryTypeConflict",
    "UnknownSummaryType",
    "describe",
    "invalid",
    "short_repr",
]

DESCRIBE_LIMIT = 60  #: the longest repr :func:`describe` keeps whole


class DeferredValueError(RuntimeError):
    """A device value queued by ``add_scalar`` could not be read in the writer thread; only it was lost.

    Raised once, at the next call on the writer (or its ``flush``/``close``); like any call that
    raises, that call adds nothing (call it again). The writer goes on. An I/O error met later
    takes its place: it stays raised until ``close()``.
    """


class PluginError(RuntimeError):
    """A plugin is broken: its hook returned something that is not what the spec asks for.

    Raised when the summary types are first collected (the first ``add``, ``summary.*`` call or
    ``tbcore plugins``), naming the plugin, and by a :class:`SummaryType` built with bad fields.
    """


class SummaryTypeConflict(PluginError):
    """Two installed plugins provide a summary type with the same name."""


class UnknownSummaryType(KeyError, ValueError):
    """``add(kind, ...)`` named a summary type that no installed plugin provides.

    The message suggests close names, lists the installed types and names plugins that failed to load.
    """

    def __str__(self) -> str:  # KeyError would otherwise repr() the message
        return str(self.args[0]) if self.args else ""


def describe(value: Any) -> str:
    """Return a short description of ``value`` for error messages: its type and, if small, its repr."""
    shape = getattr(value, "shape", None)
    dtype = getattr(value, "dtype", None)
    name = type(value).__qualname__
    module = type(value).__module__
    if module not in ("builtins", None):
        name = f"{module.split('.')[0]}.{name}"
    if shape is not None and dtype is not None:
        return f"{name} of shape {tuple(shape)} and dtype {dtype}"
    return f"{name} {short_repr(value, DESCRIBE_LIMIT)}"


def short_repr(value: Any, limit: int = 200) -> str:
    """Return ``repr(value)``, cut to ``limit`` characters (ending in ``...``) if longer."""
    text = repr(value)
    return text if len(text) <= limit else text[: limit - 3] + "..."


def invalid(argument: str, expected: str, given: Any, *, kind: type[Exception] = ValueError) -> Exception:
    """Return an exception saying which ``argument`` was wrong, what was ``expected`` and what was ``given``.

    Callers ``raise invalid(...)``; ``kind`` is ``TypeError`` for a wrong type and
    ``ValueError`` (the default) for a value of the right type but the wrong content.
    """
    return kind(f"{argument}: expected {expected}, got {describe(given)}")
