"""Reading event files back: records and events of a file, a run or a whole log directory.

Reads files written by tbcore, torch, tensorboardX or TensorFlow, without TensorFlow.
A truncated last record is treated as not yet written (the file may still be growing);
a corrupt record raises :class:`CorruptRecordError` naming the file and offset (or, with
``on_corrupt="warn"`` or a function, is reported and reading goes on with the next
file), and never makes the reader allocate a huge declared length.

The tables of :mod:`tbcore.tables` (``scalars``, ``histograms``, ``text``, ...) are
re-exported here::

    from tbcore.reader import scalars
    df = scalars("runs")          # run, tag, step, wall_time, value
"""

from __future__ import annotations

import os
from collections.abc import Iterable, Iterator
from dataclasses import dataclass

from tbcore.proto import event_pb2
from tbcore.runs import (
    OnCorrupt,
    TbcoreReadWarning,
    check_on_corrupt,
    list_runs,
    names_filter,
    report_corrupt,
    run_files,
)
from tbcore.scan import MAX_RECORD_BYTES, CorruptRecordError, iter_blocks, parse_event
from tbcore.tables import audio, histograms, hparams, images, scalars, table, tensors, text

__all__ = [
    "MAX_RECORD_BYTES",
    "CorruptRecordError",
    "OnCorrupt",
    "Record",
    "TbcoreReadWarning",
    "audio",
    "hparams",
    "histograms",
    "images",
    "iter_events",
    "iter_logdir",
    "iter_records",
    "iter_run",
    "list_runs",
    "run_files",
    "scalars",
    "table",
    "tensors",
    "text",
]


@dataclass(frozen=True, slots=True)
class Record:
    """One record's data and where it starts in its file."""

    offset: int
    data: bytes


def iter_records(path: str | os.PathLike[str], *, check_crc: bool = True, start: int = 0) -> Iterator[Record]:
    """Yield the records of an event file in order; stop quietly at a truncated last record.

    Each :class:`Record` holds the record's data (for an event file, a serialized ``Event``) and its offset.

    :param check_crc: check each record's length and data CRC (off: faster, trusts the file).
    :param start: the file offset to start at (a record boundary, e.g. to follow a growing file).
    :raises CorruptRecordError: a length or data CRC mismatch, or an impossible length.
    """
    for block in iter_blocks(path, check_crc=check_crc, start=start):
        for index in range(block.starts.size):
            yield Record(block.offset(index), block.data(index))


def iter_events(path: str | os.PathLike[str], *, check_crc: bool = True) -> Iterator[event_pb2.Event]:
    """Yield the ``Event`` protos of one event file, in file order (see :func:`iter_records`).

    :raises CorruptRecordError: as :func:`iter_records`, or a record that is not an Event.
    """
    path = os.fspath(path)
    for record in iter_records(path, check_crc=check_crc):
        yield parse_event(path, record.offset, record.data)


def _events_of_files(paths: Iterable[str], check_crc: bool, on_corrupt: OnCorrupt) -> Iterator[event_pb2.Event]:
    for path in paths:
        try:
            yield from iter_events(path, check_crc=check_crc)
        except CorruptRecordError as error:
            report_corrupt(error, on_corrupt)


def iter_run(
    run_dir: str | os.PathLike[str], *, check_crc: bool = True, on_corrupt: OnCorrupt = "raise"
) -> Iterator[event_pb2.Event]:
    """Yield the events of one run directory: its event files in name order, as TensorBoard reads them.

    Only ``run_dir`` itself is listed (:func:`run_files`); its subdirectories are other runs.

    :param on_corrupt: ``"raise"``, ``"warn"`` (skip the rest of that file) or a function of the error.
    :raises ValueError: a bad ``on_corrupt``.
    :raises CorruptRecordError: a corrupt record, with ``on_corrupt="raise"``.
    """
    check_on_corrupt(on_corrupt)
    yield from _events_of_files(run_files(run_dir), check_crc, on_corrupt)


def iter_logdir(
    logdir: str | os.PathLike[str],
    *,
    runs: Iterable[str] | None = None,
    check_crc: bool = True,
    on_corrupt: OnCorrupt = "raise",
) -> Iterator[tuple[str, event_pb2.Event]]:
    """Yield ``(run name, event)`` for every run of ``logdir`` (runs sorted by name, files in name order).

    A ``logdir`` that does not exist holds no runs (nothing is yielded).

    :param runs: only these run names (as :func:`list_runs` gives them).
    :param on_corrupt: as :func:`iter_run`.
    :raises ValueError: a bad ``on_corrupt``.
    :raises TypeError: ``runs`` given as one str instead of a collection of names.
    :raises CorruptRecordError: a corrupt record, with ``on_corrupt="raise"``.
    """
    check_on_corrupt(on_corrupt)
    wanted = names_filter(runs, "runs")
    for run, paths in list_runs(logdir).items():
        if wanted is None or run in wanted:
            for event in _events_of_files(paths, check_crc, on_corrupt):
                yield run, event
