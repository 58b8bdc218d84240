"""The plugin manager: entry-point loading, switches to disable and block plugins.

Built-in summary types and adapters (``tbplugins.*``) are registered through the
``tbcore`` entry-point group of tbcore's own distribution, exactly as a third-party
package registers its own. Environment switches:

``TBCORE_DISABLE_PLUGIN_AUTOLOAD=1``
    load only tbcore's own entry points (the built-ins), no third-party ones.
``TBCORE_BLOCK_PLUGINS=name1,name2``
    never load the entry points with these names (built-ins included).

A broken entry point is skipped with a :class:`TbcorePluginWarning` naming it; it is
mentioned again when an unknown summary type is asked for.
"""

from __future__ import annotations

import functools
import importlib.metadata
import os
import threading
import warnings
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import pluggy

from tbcore import hookspecs
from tbcore.hookspecs import PROJECT_NAME
from tbcore.registry import SummaryType, build_index

__all__ = [
    "PluginInfo",
    "TbcorePluginWarning",
    "failed_plugins",
    "get_plugin_manager",
    "plugin_infos",
    "register",
    "reset",
    "summary_types",
    "unregister",
]

DISABLE_AUTOLOAD_ENV = "TBCORE_DISABLE_PLUGIN_AUTOLOAD"
BLOCK_ENV = "TBCORE_BLOCK_PLUGINS"
OWN_DISTRIBUTION = "tbcore"


class TbcorePluginWarning(UserWarning):
    """An installed tbcore plugin could not be loaded and was skipped."""


@dataclass(frozen=True, slots=True)
class PluginInfo:
    """One registered plugin: its name, the distribution providing it and its module."""

    name: str
    distribution: str
    module: str


_lock = threading.RLock()
_failed: dict[str, str] = {}
_infos: dict[str, PluginInfo] = {}


def _blocked() -> set[str]:
    return {name.strip() for name in os.environ.get(BLOCK_ENV, "").split(",") if name.strip()}


def _entry_points() -> list[importlib.metadata.EntryPoint]:
    autoload = os.environ.get(DISABLE_AUTOLOAD_ENV, "").strip().lower() not in ("1", "true", "yes", "on")
    found = []
    for ep in importlib.metadata.entry_points(group=PROJECT_NAME):
        dist = ep.dist.name if ep.dist is not None else ""
        if not autoload and dist != OWN_DISTRIBUTION:
            continue
        found.append(ep)
    # Built-ins first so that third-party plugins, registered later, are asked first by pluggy.
    found.sort(key=lambda ep: (ep.dist is None or ep.dist.name != OWN_DISTRIBUTION, ep.name))
    return found


@functools.cache
def get_plugin_manager() -> pluggy.PluginManager:
    """Return the process-wide plugin manager, loading entry points on first use."""
    with _lock:
        pm = pluggy.PluginManager(PROJECT_NAME)
        pm.add_hookspecs(hookspecs)
        blocked = _blocked()
        for ep in _entry_points():
            dist = ep.dist.name if ep.dist is not None else "?"
            if ep.name in blocked:
                pm.set_blocked(ep.name)
                continue
            if pm.get_plugin(ep.name) is not None:
                continue  # the same distribution found twice on sys.path
            try:
                plugin = ep.load()
                pm.register(plugin, name=ep.name)
            except Exception as exc:  # noqa: BLE001 - any failure of a plugin's import is reported, not raised
                reason = f"{type(exc).__name__}: {exc}"
                _failed[ep.name] = f"from {dist}: {reason}"
                warnings.warn(
                    f"tbcore plugin {ep.name!r} ({ep.value}, from {dist}) failed to load and was skipped: {reason}",
                    TbcorePluginWarning,
                    stacklevel=2,
                )
                continue
            _infos[ep.name] = PluginInfo(ep.name, dist, ep.value)
        pm.check_pending()
        return pm


def register(plugin: Any, name: str | None = None) -> str:
    """Register a plugin object (a module or an instance with hook implementations) at run time.

    Useful in tests and notebooks; installed packages use the entry point instead.
    Returns the name it was registered under.
    """
    pm = get_plugin_manager()
    registered = pm.register(plugin, name=name)
    if registered is None:
        raise ValueError(f"plugin: {name or plugin!r} is blocked or already registered")
    pm.check_pending()
    _infos[registered] = PluginInfo(registered, "(registered at run time)", getattr(plugin, "__name__", repr(plugin)))
    _invalidate()
    return registered


def unregister(name: str) -> None:
    """Unregister the plugin registered under ``name``."""
    get_plugin_manager().unregister(name=name)
    _infos.pop(name, None)
    _invalidate()


def reset() -> None:
    """Forget every loaded plugin and cached lookup; the next use loads entry points again."""
    with _lock:
        get_plugin_manager.cache_clear()
        _failed.clear()
        _infos.clear()
        _invalidate()


def _invalidate() -> None:
    from tbcore import adapters, lifecycle

    _summary_index.cache_clear()
    adapters.clear_cache()
    for writer in lifecycle.live_writers():  # they keep what they learned from summary types (scalar forms)
        writer._forget_plugin_results()


@functools.cache
def _summary_index() -> dict[str, tuple[SummaryType, str]]:
    pm = get_plugin_manager()
    results = []
    for impl in reversed(pm.hook.tbcore_summary_types.get_hookimpls()):
        results.append((impl.plugin_name, impl.function()))
    return build_index(results)


def summary_types() -> Mapping[str, tuple[SummaryType, str]]:
    """Return ``{name: (SummaryType, provider)}`` for every installed summary type."""
    return _summary_index()


def failed_plugins() -> Mapping[str, str]:
    """Return ``{entry point name: reason}`` for entry points that failed to load."""
    get_plugin_manager()
    return dict(_failed)


def plugin_infos() -> Mapping[str, PluginInfo]:
    """Return every registered plugin with the distribution that provides it."""
    get_plugin_manager()
    return dict(_infos)
