"""Tidy tables of a log directory: one row per (run, tag, step) value.

:func:`scalars` answers the most common question fast: plain scalar events are decoded
from their bytes a block at a time (:mod:`tbcore.fastscalar`), everything else through
protobuf. The other tables decode values through the plugin registry
(:mod:`tbcore.decode`). Each returns a pandas ``DataFrame`` when pandas is installed
(``run`` and ``tag`` as categoricals) and otherwise a dict of numpy columns; pandas is
never imported when it is not installed, and ``as_frame=False`` never imports it.

For type checkers the result follows ``as_frame``: ``True`` gives ``pandas.DataFrame``,
``False`` gives ``dict[str, numpy.ndarray]``, and the default either of the two.
"""

from __future__ import annotations

import importlib.util
import os
from collections.abc import Callable, Iterable, Iterator
from typing import TYPE_CHECKING, Any, Literal, Protocol, TypeAlias, TypedDict, cast, overload

import numpy as np

from tbcore.decode import TagPlugins, decode_value, decoders
from tbcore.fastscalar import decode_block, other_records
from tbcore.runs import OnCorrupt, check_on_corrupt, list_runs, names_filter, report_corrupt
from tbcore.scan import Block, CorruptRecordError, iter_blocks

if TYPE_CHECKING:
    import pandas as pd
    from typing_extensions import Unpack

    _Path: TypeAlias = "str | os.PathLike[str]"
    _Dict: TypeAlias = "dict[str, np.ndarray]"  # as_frame=False: {column: numpy array}
    _Table: TypeAlias = "pd.DataFrame | dict[str, np.ndarray]"  # as_frame=None: pandas if installed


class _Options(TypedDict, total=False):
    """The keywords of every table function besides ``as_frame`` (see :func:`table`)."""

    runs: Iterable[str] | None
    tags: Iterable[str] | None
    check_crc: bool
    on_corrupt: OnCorrupt


__all__ = ["COLUMNS", "audio", "hparams", "histograms", "images", "scalars", "table", "tensors", "text"]

COLUMNS = ("run", "tag", "step", "wall_time", "value")


class _Columns:
    """Rows collected as codes and arrays, turned into a table once at the end."""

    def __init__(self) -> None:
        self.run_names: list[str] = []
        self.tag_codes: dict[str, int] = {}
        self.parts: list[tuple[int, np.ndarray, np.ndarray, np.ndarray, Any]] = []

    def codes(self, tags: list[str]) -> np.ndarray:
        return np.array([self.tag_codes.setdefault(t, len(self.tag_codes)) for t in tags], dtype=np.int64)

    def add(self, run: int, tag_codes: np.ndarray, steps: np.ndarray, walls: np.ndarray, values: Any) -> None:
        if len(tag_codes):
            self.parts.append((run, tag_codes, steps, walls, values))

    def build(self, as_frame: bool | None, values_dtype: Any) -> Any:
        run = np.concatenate([np.full(len(p[1]), p[0], np.int64) for p in self.parts] or [np.zeros(0, np.int64)])
        columns = [np.concatenate([p[i] for p in self.parts]) if self.parts else np.zeros(0) for i in (1, 2, 3)]
        tag, step, wall = columns[0].astype(np.int64), columns[1].astype(np.int64), columns[2].astype(np.float64)
        value = _concat_values([p[4] for p in self.parts], values_dtype)
        tag_names = list(self.tag_codes)
        if as_frame is None:
            as_frame = importlib.util.find_spec("pandas") is not None
        if not as_frame:
            names = (np.array(self.run_names, dtype=object), np.array(tag_names, dtype=object))
            return dict(zip(COLUMNS, (names[0][run], names[1][tag], step, wall, value), strict=True))
        import pandas as pd

        return pd.DataFrame(
            {
                "run": pd.Categorical.from_codes(run, self.run_names),
                "tag": pd.Categorical.from_codes(tag, tag_names),
                "step": step,
                "wall_time": wall,
                "value": value,
            }
        )


def _concat_values(parts: list[Any], dtype: Any) -> np.ndarray:
    if dtype is not object:
        return np.concatenate(parts) if parts else np.zeros(0, dtype)
    out = np.empty(sum(len(p) for p in parts), dtype=object)
    position = 0
    for part in parts:
        for item in part:
            out[position] = item
            position += 1
    return out


def _files(logdir: str | os.PathLike[str], runs: Iterable[str] | None, columns: _Columns) -> Iterator[tuple[int, str]]:
    if not os.path.isdir(logdir):
        raise FileNotFoundError(f"logdir: expected an existing directory, got {os.fspath(logdir)!r}")
    wanted = names_filter(runs, "runs")
    for run, paths in list_runs(logdir).items():
        if wanted is None or run in wanted:
            columns.run_names.append(run)
            for path in paths:
                yield len(columns.run_names) - 1, path


def _blocks(path: str, check_crc: bool, on_corrupt: OnCorrupt) -> Iterator[Block]:
    try:
        yield from iter_blocks(path, check_crc=check_crc)
    except CorruptRecordError as error:
        report_corrupt(error, on_corrupt)


def _slow_rows(
    block: Block,
    indices: np.ndarray,
    plugins_of: TagPlugins,
    plugin: str,
    wanted: frozenset[str] | None,
    decode: Callable[[Any, str], Any],
) -> list[tuple[int, str, int, float, Any]]:
    """Decode the values of ``plugin`` in the records ``indices`` of ``block`` through protobuf.

    :param wanted: only values of these tags are looked at (the others are never decoded).
    """
    rows = []
    for index in indices.tolist():
        event = block.event(index)
        if event.WhichOneof("what") != "summary":
            continue
        for value in event.summary.value:
            if (wanted is None or value.tag in wanted) and plugins_of.plugin_of(value) == plugin:
                rows.append((index, value.tag, event.step, event.wall_time, decode(value, plugin)))
    return rows


def _collect(
    logdir: str | os.PathLike[str],
    plugin: str,
    runs: Iterable[str] | None,
    tags: Iterable[str] | None,
    check_crc: bool,
    on_corrupt: OnCorrupt,
) -> _Columns:
    check_on_corrupt(on_corrupt)
    columns = _Columns()
    found = decoders()
    wanted = names_filter(tags, "tags")

    def decode(value: Any, name: str) -> Any:
        return decode_value(value, name, found)

    for run, path in _files(logdir, runs, columns):
        plugins_of = TagPlugins()
        try:
            for block in _blocks(path, check_crc, on_corrupt):
                if plugin == "scalars":
                    fast = decode_block(block, wanted)
                    _add_scalars(columns, run, fast, _slow_rows(block, fast.others, plugins_of, plugin, wanted, decode))
                    continue
                rows = _slow_rows(block, other_records(block), plugins_of, plugin, wanted, decode)
                if rows:
                    row_tags, steps, walls, values = zip(*(row[1:] for row in rows), strict=True)
                    columns.add(run, columns.codes(list(row_tags)), np.array(steps), np.array(walls), list(values))
        except CorruptRecordError as error:  # a record that is not an Event
            report_corrupt(error, on_corrupt)
    return columns


def _add_scalars(columns: _Columns, run: int, fast: Any, rows: list[tuple[int, str, int, float, Any]]) -> None:
    codes = columns.codes(fast.tags)[fast.tag_ids] if fast.tags else np.zeros(0, np.int64)
    if not rows:
        columns.add(run, codes, fast.steps, fast.wall_times, fast.values)
        return
    index, tags, steps, walls, values = zip(*rows, strict=True)
    order = np.argsort(np.concatenate([fast.index, np.array(index)]), kind="stable")
    columns.add(
        run,
        np.concatenate([codes, columns.codes(list(tags))])[order],
        np.concatenate([fast.steps, np.array(steps, np.int64)])[order],
        np.concatenate([fast.wall_times, np.array(walls, np.float64)])[order],
        np.concatenate([fast.values, np.array(values, np.float64)])[order],
    )


@overload
def table(logdir: _Path, plugin: str, *, as_frame: Literal[True], **options: Unpack[_Options]) -> pd.DataFrame: ...
@overload
def table(logdir: _Path, plugin: str, *, as_frame: Literal[False], **options: Unpack[_Options]) -> _Dict: ...
@overload
def table(logdir: _Path, plugin: str, *, as_frame: bool | None = ..., **options: Unpack[_Options]) -> _Table: ...
def table(
    logdir: str | os.PathLike[str],
    plugin: str,
    *,
    runs: Iterable[str] | None = None,
    tags: Iterable[str] | None = None,
    check_crc: bool = True,
    on_corrupt: OnCorrupt = "raise",
    as_frame: bool | None = None,
) -> pd.DataFrame | dict[str, np.ndarray]:
    """Return the values of TensorBoard plugin ``plugin`` (e.g. ``"histograms"``) decoded, one row each.

    Columns: run, tag, step, wall_time, value. Rows are in file order within a run (runs
    sorted by name). The ``value`` column holds what the plugin's summary type decodes to
    (numpy arrays, bytes, str or dicts); for ``"scalars"`` it is float64.

    :param plugin: the TensorBoard plugin name (``SummaryMetadata.plugin_data.plugin_name``).
    :param runs: only these runs (names as :func:`tbcore.reader.list_runs` gives them).
    :param tags: only these tags (other tags' values are never decoded).
    :param check_crc: check record CRCs (off is about twice as fast and trusts the files).
    :param on_corrupt: ``"raise"``, ``"warn"`` (skip the rest of that file) or a function of the error.
    :param as_frame: True for a pandas DataFrame (``run`` and ``tag`` categorical), False for
        ``{column: numpy array}`` (``run`` and ``tag`` object arrays of str, ``step`` int64,
        ``wall_time`` float64, ``value`` float64 for scalars and object otherwise); None picks
        pandas when it is installed.
    :returns: the table; type checkers see ``pandas.DataFrame`` for ``as_frame=True``,
        ``dict[str, numpy.ndarray]`` for ``as_frame=False`` and either of them otherwise.
    :raises FileNotFoundError: ``logdir`` is not a directory.
    :raises ValueError: a bad ``on_corrupt``.
    :raises TypeError: ``runs`` or ``tags`` given as one str instead of a collection of names.
    :raises CorruptRecordError: a corrupt record, with ``on_corrupt="raise"``.
    :raises ImportError: ``as_frame=True`` without pandas installed.
    """
    dtype = np.float64 if plugin == "scalars" else object
    columns = _collect(logdir, plugin, runs, tags, check_crc, on_corrupt)
    return columns.build(as_frame, dtype)


class _PluginTable(Protocol):
    """The type of :func:`scalars` and the other tables of one plugin: :func:`table` without ``plugin``."""

    @overload
    def __call__(self, logdir: _Path, *, as_frame: Literal[True], **options: Unpack[_Options]) -> pd.DataFrame: ...
    @overload
    def __call__(self, logdir: _Path, *, as_frame: Literal[False], **options: Unpack[_Options]) -> _Dict: ...
    @overload
    def __call__(self, logdir: _Path, *, as_frame: bool | None = ..., **options: Unpack[_Options]) -> _Table: ...


def _plugin_table(function: Callable[..., Any]) -> _PluginTable:
    """Give a one-plugin table the typed keywords of :func:`table` (its result follows ``as_frame``)."""
    return cast("_PluginTable", function)


@_plugin_table
def scalars(logdir: str | os.PathLike[str], **options: Any) -> pd.DataFrame | dict[str, np.ndarray]:
    """Return every scalar of ``logdir`` (legacy ``simple_value`` and ``scalars`` tensors) as a tidy table.

    Fast: plain scalar events are decoded from their bytes a block at a time. The ``value``
    column is float64. Keywords (``runs``, ``tags``, ``check_crc``, ``on_corrupt``,
    ``as_frame``), result type and errors as :func:`table`.
    """
    return table(logdir, "scalars", **options)


@_plugin_table
def tensors(logdir: str | os.PathLike[str], **options: Any) -> pd.DataFrame | dict[str, np.ndarray]:
    """Return the raw tensors of ``add_tensor`` (plugin ``tensor``) as numpy arrays.

    Keywords, result type and errors as :func:`table`.
    """
    return table(logdir, "tensor", **options)


@_plugin_table
def histograms(logdir: str | os.PathLike[str], **options: Any) -> pd.DataFrame | dict[str, np.ndarray]:
    """Return histograms as dicts (``min``, ``max``, ``num``, ``sum``, ``sum_squares``, ``limits``, ``counts``).

    Keywords, result type and errors as :func:`table`.
    """
    return table(logdir, "histograms", **options)


@_plugin_table
def images(logdir: str | os.PathLike[str], **options: Any) -> pd.DataFrame | dict[str, np.ndarray]:
    """Return images (and videos, shown by the same dashboard) as decoded by the image summary types.

    Each value is a dict: ``width``, ``height``, ``colorspace``, ``encoded`` (the PNG, or GIF for
    videos) and ``images`` (every picture of the step).
    Keywords, result type and errors as :func:`table`.
    """
    return table(logdir, "images", **options)


@_plugin_table
def audio(logdir: str | os.PathLike[str], **options: Any) -> pd.DataFrame | dict[str, np.ndarray]:
    """Return audio clips as dicts: ``samples`` (float32), ``sample_rate``, ``label``, ``encoded``, ``clips``.

    ``samples`` is ``(frames,)`` for mono or ``(frames, channels)``; ``encoded`` is the WAV file;
    ``clips`` holds every clip of the step, each such a dict.
    Keywords, result type and errors as :func:`table`.
    """
    return table(logdir, "audio", **options)


@_plugin_table
def text(logdir: str | os.PathLike[str], **options: Any) -> pd.DataFrame | dict[str, np.ndarray]:
    """Return text summaries as ``str`` (rank 0) or numpy arrays of ``str`` (tables).

    Keywords, result type and errors as :func:`table`.
    """
    return table(logdir, "text", **options)


@_plugin_table
def hparams(logdir: str | os.PathLike[str], **options: Any) -> pd.DataFrame | dict[str, np.ndarray]:
    """Return the hparams plugin's values (experiment, session start and end) as dicts.

    Each dict has one key, ``experiment``, ``session_start_info`` (with ``hparams``) or
    ``session_end_info``, holding the proto's fields by their names.
    Keywords, result type and errors as :func:`table`.
    """
    return table(logdir, "hparams", **options)
