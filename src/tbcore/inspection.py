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
from tbcore.proto import event_pb2
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
    """Steps and wall times per (plugin, tag), gathered as arrays."""

    def __init__(self) -> None:
        self.parts: dict[tuple[str, str], list[tuple[np.ndarray, np.ndarray]]] = {}
        self.slow: dict[tuple[str, str], tuple[list[int], list[float]]] = {}

    def add_slow(self, key: tuple[str, str], step: int, wall: float) -> None:
        steps, walls = self.slow.setdefault(key, ([], []))
        steps.append(step)
        walls.append(wall)

    def summaries(self) -> dict[str, dict[str, TagSummary]]:
        for key, (step_list, wall_list) in self.slow.items():
            self.parts.setdefault(key, []).append((np.array(step_list, np.int64), np.array(wall_list, np.float64)))
        out: dict[str, dict[str, TagSummary]] = {}
        for (plugin, tag), parts in sorted(self.parts.items()):
            steps = np.concatenate([p[0] for p in parts])
            walls = np.concatenate([p[1] for p in parts])
            finite = walls[np.isfinite(walls)]
            out.setdefault(plugin, {})[tag] = TagSummary(
                count=int(steps.size),
                first_step=int(steps.min()),
                last_step=int(steps.max()),
                first_wall_time=float(finite.min()) if finite.size else None,
                last_wall_time=float(finite.max()) if finite.size else None,
                duplicate_steps=int(steps.size - np.unique(steps).size),
                nan_wall_times=int(np.isnan(walls).sum()),
            )
        return out


def _slow_events(block: Block, indices: np.ndarray, points: _Points, plugins_of: TagPlugins) -> None:
    for index in indices.tolist():
        try:
            event = event_pb2.Event.FromString(block.data(index))
        except Exception as exc:  # noqa: BLE001 - protobuf raises its own DecodeError type
            raise CorruptRecordError(block.path, block.offset(index), f"not an Event proto ({exc})") from None
        what = event.WhichOneof("what")
        if what == "summary":
            for value in event.summary.value:
                points.add_slow((plugins_of.plugin_of(value) or "(none)", value.tag), event.step, event.wall_time)
        elif what in _EVENT_TAGS:
            points.add_slow(_EVENT_TAGS[what], event.step, event.wall_time)
        elif what == "tagged_run_metadata":
            points.add_slow(("graph_tagged_run_metadata", event.tagged_run_metadata.tag), event.step, event.wall_time)


def _inspect_file(path: str, summary: RunSummary, points: _Points, check_crc: bool) -> None:
    plugins_of = TagPlugins()
    try:
        for block in iter_blocks(path, check_crc=check_crc):
            summary.events += int(block.starts.size)
            fast = decode_block(block)
            for tag_id, tag in enumerate(fast.tags):
                chosen = fast.tag_ids == tag_id
                points.parts.setdefault(("scalars", tag), []).append((fast.steps[chosen], fast.wall_times[chosen]))
            rest = np.ones(block.starts.size, bool)
            rest[fast.index] = False
            _slow_events(block, np.flatnonzero(rest), points, plugins_of)
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
