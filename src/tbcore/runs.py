"""Runs of a log directory as TensorBoard finds them, and what to do with a corrupt file."""

from __future__ import annotations

import os
import warnings
from collections.abc import Callable, Iterable
from typing import Literal

from tbcore.errors import invalid
from tbcore.scan import CorruptRecordError

__all__ = [
    "OnCorrupt",
    "TbcoreReadWarning",
    "check_on_corrupt",
    "list_runs",
    "names_filter",
    "report_corrupt",
    "run_files",
]

#: ``"raise"`` (stop), ``"warn"`` (a :class:`TbcoreReadWarning`, then the next file) or a
#: function called with the :class:`CorruptRecordError` before reading goes on with the next file.
OnCorrupt = Literal["raise", "warn"] | Callable[[CorruptRecordError], object]


class TbcoreReadWarning(UserWarning):
    """A corrupt record ended the reading of one event file; the other files were read."""


def _event_files(directory: str, names: Iterable[str]) -> list[str]:
    """Return the paths of the event files among the file ``names`` of ``directory``, in name order."""
    found = sorted(name for name in names if "tfevents" in name and not name.endswith(".profile-empty"))
    return [os.path.join(directory, name) for name in found]


def run_files(run_dir: str | os.PathLike[str]) -> list[str]:
    """Return the event files of the one run ``run_dir`` in name order, listing only that directory.

    The files are those :func:`list_runs` gives the run (subdirectories are runs of their own);
    like it, a directory that cannot be listed holds no files.
    """
    directory = os.fspath(run_dir)
    try:
        with os.scandir(directory) as entries:
            names = [entry.name for entry in entries if not entry.is_dir()]
    except OSError:
        return []
    return _event_files(directory, names)


def list_runs(logdir: str | os.PathLike[str]) -> dict[str, list[str]]:
    """Return ``{run name: sorted event file paths}`` as TensorBoard finds them.

    A run is any directory holding a file whose name contains ``tfevents``; its name is
    the path relative to ``logdir`` with ``/`` separators (``"."`` for ``logdir`` itself).
    Symbolic links to directories are followed, as TensorBoard's data server does.
    """
    root = os.fspath(logdir)
    runs: dict[str, list[str]] = {}
    for directory, _dirs, files in os.walk(root, followlinks=True):
        found = _event_files(directory, files)
        if found:
            rel = os.path.relpath(directory, root)
            name = "." if rel == "." else rel.replace(os.sep, "/")
            runs[name] = found
    return dict(sorted(runs.items()))


def check_on_corrupt(on_corrupt: object) -> None:
    """Raise ``ValueError`` unless ``on_corrupt`` is ``"raise"``, ``"warn"`` or a callable."""
    if on_corrupt not in ("raise", "warn") and not callable(on_corrupt):
        raise ValueError(f"on_corrupt: expected 'raise', 'warn' or a function of the error, got {on_corrupt!r}")


def names_filter(names: Iterable[str] | None, argument: str) -> frozenset[str] | None:
    """Return the run or tag names a reader keeps (None: all of them), as a set.

    :raises TypeError: one str (or bytes) instead of a collection of names: ``tags="loss"``
        would otherwise keep the tags ``"l"``, ``"o"`` and ``"s"``.
    """
    if names is None:
        return None
    if isinstance(names, (str, bytes)) or not isinstance(names, Iterable):
        raise invalid(argument, 'a list (or other collection) of names, e.g. ["loss"]', names, kind=TypeError)
    return frozenset(names)


def report_corrupt(error: CorruptRecordError, on_corrupt: OnCorrupt) -> None:
    """Handle ``error`` as ``on_corrupt`` asks: re-raise it, warn, or pass it to the function."""
    if on_corrupt == "raise":
        raise error
    if on_corrupt == "warn":
        warnings.warn(f"{error}; the rest of this file was skipped", TbcoreReadWarning, stacklevel=3)
        return
    if callable(on_corrupt):
        on_corrupt(error)
