"""What a log directory holds: runs, tags per plugin, step ranges, counts, wall times, warnings.

Used by ``tbcore inspect``. Scalars go through the fast block decoder; other events are
parsed with protobuf, but their values are not decoded, so large log directories are
summarized quickly.
"""

from __future__ import annotations

import math
import os
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from tbcore.decode import TagPlugins
from tbcore.fastscalar import decode_block
from tbcore.runs import list_runs
from tbcore.scan import Block, CorruptRecordError, iter_blocks

__all__ = ["RunSummary", "TagSummary", "as_json", "inspect_logdir"]

_EVENT_TAGS = {"graph_def": ("graphs", "__run_graph__"), "meta_graph_def": ("graphs", "__run_graph__")}


@dataclass
class TagSummary:
    """One tag of one run: how many points, their steps and wall times."""

    count: int
    first_step: int
    last_step: int
    first_wall_time: float | None
    last_wall_time: float | None
    duplicate_steps: int
    nan_wall_times: int


@dataclass
class RunSummary:
    """One run: its files, events, tags by plugin and warnings."""

    name: str
    files: int = 0
    bytes: int = 0
    events: int = 0
    tags: dict[str, dict[str, TagSummary]] = field(default_factory=dict)
    warnings: list[str] = field(default_factory=list)
    unreadable: list[str] = field(default_factory=list)


class _Points:
    """Steps and wall times of every point, with a code per (plugin, tag), summarized in one pass."""

    def __init__(self) -> None:
        self.keys: dict[tuple[str, str], int] = {}
        self.parts: list[tuple[np.ndarray, np.ndarray, np.ndarray]] = []
        self.slow: tuple[list[int], list[int], list[float]] = ([], [], [])

    def _code(self, key: tuple[str, str]) -> int:
        return self.keys.setdefault(key, len(self.keys))

    def add_scalars(self, tags: list[str], tag_ids: np.ndarray, steps: np.ndarray, walls: np.ndarray) -> None:
        """Add the points of a block's fast scalars (record ``i`` has tag ``tags[tag_ids[i]]``)."""
        codes = np.array([self._code(("scalars", tag)) for tag in tags], np.int64)
        if tags:
            self.parts.append((codes[tag_ids], steps, walls))

    def add(self, key: tuple[str, str], step: int, wall: float) -> None:
        """Add one point of the ``(plugin, tag)`` ``key``."""
        codes, steps, walls = self.slow
        codes.append(self._code(key))
        steps.append(step)
        walls.append(wall)

    def summaries(self) -> dict[str, dict[str, TagSummary]]:
        """Return ``{plugin: {tag: TagSummary}}``, plugins and tags sorted."""
        slow_codes, slow_steps, slow_walls = self.slow
        slow = (np.array(slow_codes, np.int64), np.array(slow_steps, np.int64), np.array(slow_walls, np.float64))
        codes, steps, walls = (np.concatenate([part[i] for part in [*self.parts, slow]]) for i in range(3))
        by_code = _tag_summaries(codes, steps, walls, len(self.keys))
        out: dict[str, dict[str, TagSummary]] = {}
        for (plugin, tag), code in sorted(self.keys.items()):
            out.setdefault(plugin, {})[tag] = by_code[code]
        return out


def _tag_summaries(codes: np.ndarray, steps: np.ndarray, walls: np.ndarray, size: int) -> list[TagSummary]:
    """Return the :class:`TagSummary` of each code ``0..size-1`` (each has a point) in one pass over the points."""
    if not size:
        return []
    order = np.lexsort((steps, codes))  # by code, then step: each code's points are one sorted slice
    codes, steps, walls = codes[order], steps[order], walls[order]
    counts = np.bincount(codes, minlength=size)
    starts = np.cumsum(counts) - counts
    repeated = np.zeros(codes.size, bool)
    repeated[1:] = (codes[1:] == codes[:-1]) & (steps[1:] == steps[:-1])
    finite = np.isfinite(walls)
    low = np.minimum.reduceat(np.where(finite, walls, np.inf), starts).tolist()
    high = np.maximum.reduceat(np.where(finite, walls, -np.inf), starts).tolist()
    columns = (
        counts.tolist(),
        steps[starts].tolist(),
        steps[starts + counts - 1].tolist(),
        [wall if math.isfinite(wall) else None for wall in low],
        [wall if math.isfinite(wall) else None for wall in high],
        np.bincount(codes, weights=repeated, minlength=size).astype(np.int64).tolist(),
        np.bincount(codes, weights=np.isnan(walls), minlength=size).astype(np.int64).tolist(),
    )
    return [TagSummary(*row) for row in zip(*columns, strict=True)]


def _slow_events(block: Block, indices: np.ndarray, points: _Points, plugins_of: TagPlugins) -> None:
    for index in indices.tolist():
        event = block.event(index)
        what = event.WhichOneof("what")
        if what == "summary":
            for value in event.summary.value:
                points.add((plugins_of.plugin_of(value) or "(none)", value.tag), event.step, event.wall_time)
        elif what in _EVENT_TAGS:
            points.add(_EVENT_TAGS[what], event.step, event.wall_time)
        elif what == "tagged_run_metadata":
            points.add(("graph_tagged_run_metadata", event.tagged_run_metadata.tag), event.step, event.wall_time)


def _inspect_file(path: str, summary: RunSummary, points: _Points, check_crc: bool) -> None:
    plugins_of = TagPlugins()
    try:
        for block in iter_blocks(path, check_crc=check_crc):
            summary.events += int(block.starts.size)
            fast = decode_block(block)
            points.add_scalars(fast.tags, fast.tag_ids, fast.steps, fast.wall_times)
            _slow_events(block, fast.others, points, plugins_of)
    except CorruptRecordError as error:
        summary.warnings.append(f"{error}; the rest of this file is unreadable (TensorBoard stops there too)")


def inspect_logdir(logdir: str | os.PathLike[str], *, check_crc: bool = True) -> list[RunSummary]:
    """Summarize every run of ``logdir``.

    :raises FileNotFoundError: ``logdir`` is not a directory.
    """
    if not os.path.isdir(logdir):
        raise FileNotFoundError(f"logdir: expected an existing directory, got {os.fspath(logdir)!r}")
    runs = []
    for name, paths in list_runs(logdir).items():
        summary = RunSummary(name, files=len(paths))
        points = _Points()
        for path in paths:
            try:
                summary.bytes += os.path.getsize(path)
                _inspect_file(path, summary, points, check_crc)
            except OSError as error:
                summary.unreadable.append(f"{path}: {error.strerror or error}")
        summary.tags = points.summaries()
        summary.warnings += _tag_warnings(summary.tags)
        runs.append(summary)
    return runs


def _tag_warnings(tags: dict[str, dict[str, TagSummary]]) -> list[str]:
    warnings = []
    for plugin, by_tag in tags.items():
        for tag, info in by_tag.items():
            if info.duplicate_steps and plugin not in ("graphs", "hparams", "custom_scalars"):
                warnings.append(
                    f"{plugin} tag {tag!r}: {info.duplicate_steps} duplicate step(s); TensorBoard's default "
                    "loader keeps only the last point of each step"
                )
            if info.nan_wall_times:
                warnings.append(
                    f"{plugin} tag {tag!r}: {info.nan_wall_times} NaN wall time(s); TensorBoard's default "
                    "loader drops the rest of that file"
                )
    return warnings


def as_json(runs: list[RunSummary]) -> list[dict[str, Any]]:
    """Return ``runs`` as JSON-ready dicts (NaN and missing wall times become ``null``)."""

    def clean(value: Any) -> Any:
        return None if isinstance(value, float) and not math.isfinite(value) else value

    out = []
    for run in runs:
        tags = {
            plugin: {tag: {k: clean(v) for k, v in vars(info).items()} for tag, info in by_tag.items()}
            for plugin, by_tag in run.tags.items()
        }
        out.append({**{k: v for k, v in vars(run).items() if k != "tags"}, "tags": tags})
    return out
