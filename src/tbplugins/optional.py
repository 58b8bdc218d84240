"""Optional dependencies of the built-in summary types: imported on first use, or an ImportError naming the extra."""

from __future__ import annotations

import importlib
from types import ModuleType

__all__ = ["require"]


def require(module: str, extra: str, feature: str) -> ModuleType:
    """Import ``module`` for ``feature``, or raise ImportError naming the tbcore extra that installs it."""
    try:
        return importlib.import_module(module)
    except ImportError:
        package = module.split(".")[0]
        raise ImportError(f"{feature} needs {package}: pip install 'tbcore[{extra}]'") from None
