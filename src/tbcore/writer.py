"""The writer core: runs, steps, wall times, the generic ``add`` and the scalar hot path.

:class:`Writer` owns the log directory, the event file of its run (and of sub-runs that
``add_scalars`` and ``add_hparams`` create), the background pipeline, flushing and
closing. The ``new_style`` and ``add_scalars`` paths, which queue scalars with what a
summary type taught once, live in :mod:`tbcore.learned_scalars` (a base class of
:class:`Writer`); the torch-compatible ``add_*`` methods live in :mod:`tbcore.compat`.
"""

from __future__ import annotations

import os
import threading
import time
import weakref
from collections.abc import Iterable, Mapping
from typing import Any, TypeVar

from tbcore import events, lifecycle, ranks, summary
from tbcore.deferred import start_scalar
from tbcore.encoded import Encoded, normalize
from tbcore.errors import invalid
from tbcore.event_file import BaseEventFile
from tbcore.file_writer import FileWriter
from tbcore.learned_scalars import LearnedScalars, make_room
from tbcore.paths import check_name_part, default_log_dir
from tbcore.pipeline import Pipeline
from tbcore.proto import event_pb2
from tbcore.storage import open_storage, write_assets
from tbcore.validate import MAX_STEP, check_positive, check_step, check_tag, check_walltime

__all__ = ["FileWriter", "Writer"]

_W = TypeVar("_W", bound="Writer")  # ``with SummaryWriter() as w`` types ``w`` as a SummaryWriter


class Writer(LearnedScalars):
    """Writes TensorBoard event files for one run directory.

    See :class:`tbcore.SummaryWriter` for the torch-compatible constructor documentation and
    the errors every method raises.
    """

    def __init__(
        self,
        log_dir: str | os.PathLike[str] | None = None,
        comment: str = "",
        purge_step: int | None = None,
        max_queue: int = 10,
        flush_secs: float = 120,
        filename_suffix: str = "",
        *,
        storage_options: Mapping[str, Any] | None = None,
        all_ranks: bool = False,
        rank: int | None = None,
    ) -> None:
        if log_dir is None:
            log_dir = default_log_dir(comment)
        elif not isinstance(log_dir, (str, os.PathLike)):
            raise invalid("log_dir", "a str or os.PathLike path, or None", log_dir, kind=TypeError)
        self.log_dir: str = os.fspath(log_dir)
        if not self.log_dir or "\x00" in self.log_dir:
            raise invalid("log_dir", "a non-empty path without NUL characters", log_dir)
        self.purge_step = None if purge_step is None else check_step(purge_step, "purge_step")
        self.max_queue = check_positive(max_queue, "max_queue", integer=True)
        self.flush_secs = check_positive(flush_secs, "flush_secs")
        if filename_suffix:
            check_name_part(filename_suffix, "filename_suffix")
        self.filename_suffix = filename_suffix
        self.log_dir, self._storage = open_storage(self.log_dir, storage_options)
        writing_rank = ranks.writing_rank(rank, all_ranks)
        if writing_rank is None:
            ranks.deactivate(self)
            return
        if all_ranks:
            self.log_dir = self._storage.join(self.log_dir, f"rank{writing_rank}", "log_dir")
        self._pipeline = Pipeline(self.max_queue, float(self.flush_secs))
        self._files: dict[str, BaseEventFile] = {}
        self._run_dirs: dict[str, str] = {}
        self._tags: set[str] = set()
        self._start_learning()
        self._purged: set[str] = set()  # runs whose first file carries the purge_step START events
        self._lock = threading.RLock()
        self._main: BaseEventFile | None = None
        self._open_main()
        self._finalizer = weakref.finalize(self, lifecycle.finalize, self._pipeline, self._files, self.log_dir)
        lifecycle.track(self)

    # ------------------------------------------------------------------ files and runs
    def _open_file(self, run: str) -> BaseEventFile:
        directory = self.log_dir if not run else self._run_dir(run)
        file = self._storage.event_file(directory, self.filename_suffix, self._pipeline)
        self._files[run] = file
        now = time.time()
        self._pipeline.put_event(file, events.file_version_event(now))
        if self.purge_step is not None and run not in self._purged:  # sub-runs too, unlike torch
            self._purged.add(run)  # only the first file of each run: a reopen must not purge our own data
            # Two STARTs at purge_step: TensorBoard's Python loader ignores the first START it sees
            # in a run (it takes it for the first session, not a restart) and purges steps >=
            # purge_step of all tags at the second. torch writes one, so Python never purges. If
            # the run already had a START, both purge at the same step: same result. The Rust
            # loader ignores STARTs and drops a tag's points >= s when a new point at step s comes.
            # No START is written without purge_step, so a second writer never purges a first.
            start = events.session_start_event(now, self.purge_step)
            self._pipeline.put_event(file, start)
            self._pipeline.put_event(file, start)
        return file

    def _open_main(self) -> BaseEventFile:
        with self._lock:
            if self._main is None:
                self._main = self._open_file("")
            return self._main

    def _run_dir(self, run: str) -> str:
        directory = self._run_dirs.get(run)
        if directory is None:
            directory = self._run_dirs[run] = self._storage.join(self.log_dir, run, "run")
        return directory

    def _file(self, run: str) -> BaseEventFile:
        file = self._files.get(run)
        if file is None:
            with self._lock:
                file = self._files.get(run)
                if file is None:
                    if not run:
                        return self._open_main()
                    file = self._open_file(run)
        return file

    def get_logdir(self) -> str:
        """Return the directory this writer writes its run into."""
        return self.log_dir

    # ------------------------------------------------------------------ the hot path
    def add_scalar(
        self,
        tag: str,
        scalar_value: Any,
        global_step: int | None = None,
        walltime: float | None = None,
        new_style: bool = False,
        double_precision: bool = False,
    ) -> None:
        """Add a scalar: a Python number, a numpy scalar, or a one-element torch/JAX/numpy array.

        By default the value is stored as TensorBoard's legacy ``simple_value`` (float32), as torch
        does. ``new_style=True`` stores a rank-0 float32 tensor with the ``scalars`` plugin metadata.
        ``double_precision=True`` is accepted for compatibility but also stores float32: TensorBoard's
        default (Rust) loader drops float64 scalars, so torch's float64 tensors never show there.
        Device values (a CUDA tensor, a JAX array) are never waited for on the calling thread:
        the writer thread reads them.
        """
        pipeline = self._pipeline
        if pipeline.error is not None:
            pipeline.check()
        if tag.__class__ is not str or tag not in self._tags:
            tag = self._check_tag(tag)
        if global_step is None:
            step = 0
        elif global_step.__class__ is int and 0 <= global_step <= MAX_STEP:
            step = global_step
        else:
            step = check_step(global_step)
        wall = time.time() if walltime is None else check_walltime(walltime)
        if new_style or double_precision:
            self._add_new_style(tag, scalar_value, step, wall)
            return
        if type(scalar_value) is not float:
            scalar_value = start_scalar(scalar_value)
        file = self._main
        if file is None:
            file = self._open_main()
        pipeline.put_scalar(file, tag, scalar_value, step, wall)

    def _check_tag(self, tag: Any) -> str:
        tag = check_tag(tag)
        make_room(self._tags)
        self._tags.add(tag)
        return tag

    # ------------------------------------------------------------------ the generic path
    def add(
        self,
        kind: str,
        tag: str,
        value: Any,
        step: int | None = None,
        walltime: float | None = None,
        **options: Any,
    ) -> None:
        """Add ``value`` as a summary of type ``kind`` (any installed summary type, see ``tbcore plugins``).

        :param kind: the summary type's name, e.g. ``"scalar"``, ``"histogram"``, ``"image"``.
        :param tag: the series name; ``/`` groups tags in TensorBoard.
        :param value: the data, converted to numpy by the array adapters unless the type takes raw values.
        :param step: the global step (an int >= 0; None means 0).
        :param walltime: seconds since the epoch (None means now).
        :param options: keyword options of that summary type's encoder.
        """
        self._add(kind, tag, value, step, walltime, options)

    def _add(self, kind: str, tag: Any, value: Any, step: Any, walltime: Any, options: dict[str, Any]) -> None:
        self._pipeline.check()
        tag = self._check_tag(tag)
        step = check_step(step)
        wall = time.time() if walltime is None else check_walltime(walltime)
        self._write(summary.encode_checked(kind, tag, value, options), step, wall)

    def write(self, result: Any, step: int | None = None, walltime: float | None = None) -> None:
        """Write an encoder's result (a ``Summary``, an :class:`Encoded` or a list of them).

        Every path is checked, and every asset function applied to its file's content, before
        anything is written (see :func:`tbcore.storage.write_assets`); assets are written at
        once, events are queued for the writer thread.
        """
        self._pipeline.check()
        self._write(result, check_step(step), time.time() if walltime is None else check_walltime(walltime))

    def _write(self, result: Any, step: int, wall: float) -> None:
        """:meth:`write` with ``step`` and ``wall`` already checked."""
        records = normalize(result)
        write_assets(self._storage, [asset for record in records for asset in self._plan_assets(record)])
        for record in records:
            file = self._file(record.run)
            for data in _event_records(record, step if record.step is None else record.step, wall):
                self._pipeline.put_event(file, data)

    def _plan_assets(self, record: Encoded) -> list[tuple[str, Any]]:
        run_dir = self.log_dir if not record.run else self._run_dir(record.run)
        return [(self._storage.join(run_dir, asset.path, "asset path"), asset.data) for asset in record.assets]

    # ------------------------------------------------------------------ integration API
    @property
    def file_writer(self) -> FileWriter:
        """The low-level writer of this run (``add_event``, ``add_summary``), as in torch."""
        return FileWriter(self)

    def _get_file_writer(self) -> FileWriter:
        """Return :attr:`file_writer`, reopening the run's event file after ``close()`` (as torch does)."""
        self._open_main()
        return FileWriter(self)

    # ------------------------------------------------------------------ lifecycle
    def flush(self) -> None:
        """Return once everything added before this call is written to the event files.

        :raises OSError: an earlier write failed (the message names the file).
        """
        self._pipeline.check()
        self._pipeline.sync()
        self._pipeline.check()
        self._storage.flush(list(self._files.values()))

    def close(self) -> None:
        """Write everything pending, close the event files and stop the writer thread.

        Idempotent. Adding after ``close()`` opens a new event file, as torch does.

        :raises OSError: an earlier write failed; the writer is closed all the same.
        """
        with self._lock:
            lifecycle.shutdown(self._pipeline, self._files)
            self._main = None
            error = self._pipeline.reset_error()
        if error is not None:
            raise error

    def __enter__(self: _W) -> _W:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    def __getstate__(self) -> dict[str, Any]:
        raise TypeError(
            f"SummaryWriter cannot be pickled (log_dir={self.log_dir!r}): it owns open files and a thread. "
            "Processes started with 'spawn' or 'forkserver' must create their own writer, e.g. "
            "SummaryWriter(log_dir) in the child (it writes a file of its own beside the parent's); "
            "with 'fork' an inherited writer works as is"
        )

    def _after_fork_in_child(self) -> None:
        self._lock = threading.RLock()
        super()._after_fork_in_child()
        self._storage.after_fork_in_child()
        self._pipeline.after_fork_in_child()
        for file in self._files.values():
            file.close()  # the parent's descriptors: the child writes files of its own
        self._files.clear()
        self._main = None


def _event_records(record: Encoded, step: int, wall: float) -> Iterable[bytes]:
    if record.summary is not None:
        yield events.summary_event(record.summary.SerializeToString(), step, wall)
    if record.graph_def is not None:
        yield events.event_bytes(wall_time=wall, step=step, graph_def=record.graph_def)
    if record.run_metadata is not None:
        tag, data = record.run_metadata
        trm = event_pb2.TaggedRunMetadata(tag=tag, run_metadata=data)
        yield events.event_bytes(wall_time=wall, step=step, tagged_run_metadata=trm)
