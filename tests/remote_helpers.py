"""Helpers for the remote-storage tests: copy a store's objects to a local directory, count uploads."""

from __future__ import annotations

import pathlib
from typing import Any

from tbcore.reader import list_runs
from tbcore.testing import read_events


def download(fs: Any, root: str, target: pathlib.Path) -> list[str]:
    """Copy every object under ``root`` of ``fs`` into ``target`` (same relative paths); return them sorted."""
    root = fs._strip_protocol(root).rstrip("/")
    names = []
    for path in sorted(fs.find(root)):
        relative = path[len(root) + 1 :]
        local = target / relative
        local.parent.mkdir(parents=True, exist_ok=True)
        local.write_bytes(fs.cat_file(path))
        names.append(relative)
    return names


class UploadCounter:
    """Wraps a ``pipe_file``-like callable and records the size of every upload."""

    def __init__(self, inner: Any) -> None:
        self.inner = inner
        self.sizes: list[int] = []
        self.fail_next: list[BaseException] = []

    def __call__(self, path: str, data: bytes, *args: Any, **kwargs: Any) -> Any:
        if self.fail_next:
            raise self.fail_next.pop(0)
        self.sizes.append(len(data))
        return self.inner(path, data, *args, **kwargs)


def log_dir_contents(root: pathlib.Path) -> tuple[dict[str, bytes], dict[str, list]]:
    """Asset files (name -> bytes) and each run's events without wall times, for comparing two log dirs."""
    assets, runs = {}, {}
    for path in sorted(root.rglob("*")):
        if path.is_file() and "tfevents" not in path.name:
            assets[str(path.relative_to(root))] = path.read_bytes()
    for run in list_runs(root):
        events = read_events(root, run)
        for event in events:
            event.wall_time = 0
        runs[run] = [event for event in events if not event.HasField("file_version")]
    return assets, runs
