"""The writer's ``new_style`` and ``add_scalars`` paths: scalars queued with what the summary types taught once.

A summary type's encoder runs once per tag (``add_scalar(new_style=True)``), per main tag
and key set (``add_scalars(same_run=True)``) or per new key (``add_scalars``), and the
writer keeps what it learned: the form of the event around its float32 values
(:class:`tbcore.deferred.ScalarForm`) or the key's sub-run. Later calls only check the step
and wall time and queue the values (or their device copies) for the writer thread. What was
learned is forgotten when the plugins change (:meth:`LearnedScalars._forget_plugin_results`),
and each cache starts over past :data:`MAX_REMEMBERED` entries.

:class:`LearnedScalars` is a base class of :class:`tbcore.Writer`, so that these paths are
methods of the writer (no extra call on the way) while the writer's module keeps runs,
files, the plain ``add_scalar`` hot path, the generic ``add`` and the lifecycle.
"""

from __future__ import annotations

import functools
import itertools
import threading
import time
from collections.abc import Callable, Iterable, Mapping, Sequence
from typing import TYPE_CHECKING, Any

from tbcore import summary
from tbcore.deferred import ScalarForm, learn_form, start_scalar
from tbcore.encoded import normalize
from tbcore.validate import check_step, check_tag, check_walltime

if TYPE_CHECKING:
    from tbcore.event_file import BaseEventFile
    from tbcore.pipeline import Pipeline

__all__ = ["MAX_REMEMBERED", "LearnedScalars", "make_room"]

MAX_REMEMBERED = 100_000  #: entries of each per-writer cache (tags, sub-runs, forms); past it the cache starts over
_UNLEARNED: Any = object()  # a key missing from ``_forms`` (where None means "this type has no form")


class LearnedScalars:
    """The ``new_style`` and ``add_scalars`` methods of :class:`tbcore.Writer`, and what they learned.

    The writer calls :meth:`_start_learning` once its pipeline exists, and :meth:`_after_fork_in_child`
    in a forked child; its own methods provide ``_pipeline``, ``_file`` (a run's event file) and
    ``_add`` (the generic path).
    """

    _pipeline: Pipeline
    _scalars_runs: dict[tuple[str, str], str]  # (main_tag, key) -> sub-run of add_scalars
    _forms: dict[Any, ScalarForm | None]  # tag (new_style) or (main_tag, keys) (same_run) -> form
    _learned: int  # counts _forget_plugin_results() calls: a form or sub-run learned before one is not kept
    _learn_lock: threading.Lock  # held only to store or forget what was learned (never while waiting)

    if TYPE_CHECKING:

        def _file(self, run: str) -> BaseEventFile: ...

        def _add(self, kind: str, tag: Any, value: Any, step: Any, walltime: Any, options: dict[str, Any]) -> None: ...

    def _start_learning(self) -> None:
        """Start with nothing learned."""
        self._scalars_runs = {}
        self._forms = {}
        self._learned = 0
        self._learn_lock = threading.Lock()

    def _after_fork_in_child(self) -> None:
        """In a forked child: a new lock (another thread of the parent may have held it); what was learned is kept."""
        self._learn_lock = threading.Lock()

    def _add_new_style(self, tag: str, value: Any, step: int, wall: float) -> None:
        """``add_scalar(new_style=True)``: the writer thread frames the event from the tag's form (:meth:`_form`)."""
        form = self._forms.get(tag, _UNLEARNED)
        if form is _UNLEARNED:
            form = self._form(tag, (tag,), lambda numbers: summary.encode("scalar", tag, numbers[0], new_style=True))
        if form is None:
            self._add("scalar", tag, value, step, wall, {"new_style": True})
            return
        if type(value) is not float:
            value = start_scalar(value)
        self._pipeline.put_deferred(self._file(""), functools.partial(form.event, (value,), step, wall))

    def _add_scalars_same_run(self, main_tag: str, values: Any, global_step: Any, walltime: Any) -> None:
        """``add_scalars(same_run=True)``: one event of all keys, framed by the writer thread (see :meth:`_form`)."""
        self._pipeline.check()
        step = check_step(global_step)
        wall = time.time() if walltime is None else check_walltime(walltime)
        form = None
        if isinstance(values, Mapping) and values:
            keys = tuple(values)
            form = self._forms.get((main_tag, keys), _UNLEARNED)
            if form is _UNLEARNED:

                def encode(numbers: list[float]) -> Any:
                    return summary.encode("scalars", main_tag, dict(zip(keys, numbers, strict=True)), same_run=True)

                form = self._form((main_tag, keys), [f"{main_tag}/{key}" for key in keys], encode)
        if form is None:  # the type's answer for what is not a non-empty dict (an error, or nothing for {})
            self._add("scalars", main_tag, values, step, wall, {"same_run": True})
            return
        started = tuple(
            value if type(value) is float else start_scalar(value, f"tag_scalar_dict[{key!r}]")
            for key, value in values.items()
        )
        self._pipeline.put_deferred(self._file(""), functools.partial(form.event, started, step, wall))

    def _form(self, key: Any, names: Sequence[str], encode: Callable[[list[float]], Any]) -> ScalarForm | None:
        """Learn and remember the form of the events that ``encode`` (a summary type's encoder) makes, for ``key``.

        Callers look in ``self._forms`` first (a miss is :data:`_UNLEARNED`, as None means "no form").
        The bytes written are the encoder's, and it checks the tag and keys as it always does;
        values are only read, or their device copies started, as on the float path. A summary
        type whose values are not float32 at fixed places (a replaced built-in) gets None: the
        call is then encoded on the calling thread, like any other type.
        """
        learned = self._learned
        form = learn_form(names, encode)
        self._remember(self._forms, learned, [(key, form)])  # None too: a type without a form is not probed again
        return form

    def _add_scalars(self, main_tag: Any, values: Any, global_step: Any, walltime: Any) -> None:
        """``add_scalars``: one queue item with a value (or a device copy) per key, into the keys' sub-runs.

        A call whose keys were all seen before is queued at once. Any other call (a new key, a
        bad value, anything unusual) is checked first: see :meth:`_learn_scalars_runs`. Each
        value's device copy is started once, on whichever path reaches it first.
        """
        pipeline = self._pipeline
        if pipeline.error is not None:
            pipeline.check()
        runs = self._scalars_runs
        queued = []
        if type(values) is dict and type(main_tag) is str:  # keys in runs have a checked main_tag
            for key, value in values.items():
                run = runs.get((main_tag, key))
                if run is None:
                    break
                if type(value) is not float:
                    try:
                        value = start_scalar(value)
                    except (TypeError, ValueError):
                        break
                queued.append((run, value))
            else:
                if queued:
                    step = check_step(global_step)
                    wall = time.time() if walltime is None else check_walltime(walltime)
                    pipeline.put_scalars([(self._file(run), value) for run, value in queued], main_tag, step, wall)
                    return
        main_tag = check_tag(main_tag, "main_tag")
        step = check_step(global_step)
        wall = time.time() if walltime is None else check_walltime(walltime)
        sub_runs = self._learn_scalars_runs(main_tag, values)  # checks that values is a dict, and its keys
        if not sub_runs:  # an empty dict: nothing to log, as with torch's writer
            return
        started = [value for _, value in queued]  # the first keys' values (device copies) the fast path started
        rest = itertools.islice(values.items(), len(started), None)
        started += [start_scalar(value, f"tag_scalar_dict[{key!r}]") for key, value in rest]
        pipeline.put_scalars(
            [(self._file(run), value) for run, value in zip(sub_runs, started, strict=True)], main_tag, step, wall
        )

    def _learn_scalars_runs(self, main_tag: str, values: Any) -> list[str]:
        """Check ``values`` as the ``scalars`` summary type does; return (and remember) each key's sub-run.

        The type encodes the keys with 0.0 for every value (no value is read here), so its checks
        of the dict and its keys, and its run naming rule, stay in one place.
        """
        learned = self._learned
        probe = dict.fromkeys(values, 0.0) if isinstance(values, Mapping) else values
        sub_runs = [record.run for record in normalize(summary.encode("scalars", main_tag, probe))]
        keys = ((main_tag, key) for key in probe)
        self._remember(self._scalars_runs, learned, zip(keys, sub_runs, strict=True))  # one record per key, in order
        return sub_runs

    def _remember(self, cache: dict[Any, Any], learned: int, entries: Iterable[tuple[Any, Any]]) -> None:
        """Add what was learned from a summary type to ``cache``, unless the plugins changed since ``learned``."""
        with self._learn_lock:
            if learned == self._learned:
                make_room(cache)
                cache.update(entries)

    def _forget_plugin_results(self) -> None:
        """Forget the scalar forms and ``add_scalars`` sub-runs learned from summary types: the plugins changed."""
        with self._learn_lock:
            self._learned += 1
            self._forms.clear()
            self._scalars_runs.clear()


def make_room(cache: dict[Any, Any] | set[Any]) -> None:
    """Empty ``cache`` once it holds :data:`MAX_REMEMBERED` entries (bounded memory whatever the tags)."""
    if len(cache) > MAX_REMEMBERED:
        cache.clear()
