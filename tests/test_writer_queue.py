"""The fast paths and the queue between callers and the writer thread: same output, nothing dropped, bounded."""

from __future__ import annotations

import gc
import math
import pathlib
import threading
import tracemalloc

import numpy as np
import pytest

import tbcore
from tb_helpers import all_scalar_points, scalar_points
from tbcore import SummaryWriter, events
from tbcore.encoded import normalize
from tbcore.event_file import EventFile
from tbcore.pipeline import Pipeline
from tbcore.proto import types_pb2
from tbcore.reader import iter_records
from tbcore.testing import read_events, tensorboard_accumulator


def test_add_scalars_fast_path_writes_what_the_generic_path_writes(logdir):
    with SummaryWriter(logdir) as writer:
        for step in range(5):  # the first call takes the generic path, the others the queued one
            writer.add_scalars("loss/parts", {"a": step * 1.0, "b": np.float32(step + 0.5)}, step)
        writer.add_scalars("loss/parts", {"a": 9.0, "c": 3.0}, 5)  # a new key: generic path again
        writer.add_scalars("loss/parts", {"a": 10.0, "c": 4.0}, 6)
    assert scalar_points(logdir / "loss_parts_a", "loss/parts") == [(s, s * 1.0) for s in range(5)] + [
        (5, 9.0),
        (6, 10.0),
    ]
    assert scalar_points(logdir / "loss_parts_b", "loss/parts") == [(s, s + 0.5) for s in range(5)]
    assert scalar_points(logdir / "loss_parts_c", "loss/parts") == [(5, 3.0), (6, 4.0)]


def test_add_scalars_bad_value_for_a_known_key_writes_nothing(logdir):
    writer = SummaryWriter(logdir)
    writer.add_scalars("m", {"a": 1.0, "b": 2.0}, 0)
    with pytest.raises(TypeError, match=r"tag_scalar_dict\['b'\]"):
        writer.add_scalars("m", {"a": 5.0, "b": "high"}, 1)
    writer.add_scalars("m", {"a": 3.0, "b": 4.0}, 2)
    writer.close()
    assert scalar_points(logdir / "m_a", "m") == [(0, 1.0), (2, 3.0)]
    assert scalar_points(logdir / "m_b", "m") == [(0, 2.0), (2, 4.0)]


def test_add_scalars_works_again_after_close(logdir):
    writer = SummaryWriter(logdir)
    writer.add_scalars("m", {"a": 1.0}, 0)
    writer.close()
    writer.add_scalars("m", {"a": 2.0}, 1)  # reopens the sub-run's file, as torch does
    writer.close()
    assert scalar_points(logdir / "m_a", "m") == [(0, 1.0), (1, 2.0)]


def test_cpu_tensor_values_take_the_fast_path_exactly(logdir):
    torch = pytest.importorskip("torch")
    values = [
        torch.tensor(0.1),
        torch.tensor([0.25], dtype=torch.bfloat16),
        torch.tensor(3.0, requires_grad=True) * 2,
        torch.tensor(7, dtype=torch.int64),
        torch.tensor(-0.5)._neg_view(),
    ]
    with SummaryWriter(logdir) as writer:
        for step, value in enumerate(values):
            writer.add_scalar("x", value, step)
        with pytest.raises(ValueError, match="scalar_value"):
            writer.add_scalar("x", torch.ones(2), 9)
        with pytest.raises(TypeError, match="scalar_value"):
            writer.add_scalar("x", torch.tensor(1 + 2j), 9)
    got = [v for _, v in scalar_points(logdir, "x")]
    assert got == [float(np.float32(v.detach().float().item())) for v in values]


def _event_file(tmp_path) -> EventFile:
    return EventFile(str(tmp_path / "run"))


def _records(file: EventFile) -> list[bytes]:
    return [r.data for r in iter_records(file.path)]


def test_burst_of_large_events_waits_under_the_byte_cap_and_keeps_everything(tmp_path):
    pipeline = Pipeline(max_queue=10, flush_secs=60, max_pending_bytes=20_000)
    file = _event_file(tmp_path)
    payloads = [bytes([i]) * 5_000 for i in range(60)]
    for data in payloads:
        pipeline.put_event(file, data)
        assert pipeline.pending_bytes <= 20_000 + 5_000  # waited for room instead of growing
    pipeline.sync(close=[file])
    pipeline.stop()
    assert _records(file) == payloads


def test_scalar_burst_waits_under_the_item_cap_and_keeps_order(tmp_path):
    pipeline = Pipeline(max_queue=10, flush_secs=60, min_backlog=100)
    file = _event_file(tmp_path)
    for step in range(5_000):
        pipeline.put_scalar(file, "x", float(step), step, 1.0)
        assert len(pipeline._items) <= 100
    pipeline.sync(close=[file])
    pipeline.stop()
    events = read_events(tmp_path / "run")
    assert [(e.step, e.summary.value[0].simple_value) for e in events] == [(s, float(s)) for s in range(5_000)]
    assert scalar_points(tmp_path / "run", "x") == [(s, float(s)) for s in range(5_000)]


@pytest.mark.slow
def test_add_scalars_memory_does_not_grow(logdir):
    keys = [f"k{k}" for k in range(10)]
    with SummaryWriter(logdir) as writer:

        def steps(start: int, stop: int) -> None:
            for step in range(start, stop):
                writer.add_scalars("train", {key: step * 1e-3 for key in keys}, step)
            writer.flush()
            gc.collect()

        steps(0, 2_000)
        tracemalloc.start()
        try:
            steps(2_000, 4_000)
            before = tracemalloc.get_traced_memory()[0]
            steps(4_000, 24_000)
            after = tracemalloc.get_traced_memory()[0]
        finally:
            tracemalloc.stop()
    assert after - before < 256 * 1024
    assert len(read_events(logdir, "train_k3")) == 24_000 + 1  # + the file_version event
    assert scalar_points(logdir / "train_k3", "train") == [(s, float(np.float32(s * 1e-3))) for s in range(24_000)]


def test_per_writer_caches_stay_bounded_and_writes_stay_right(logdir, monkeypatch):
    monkeypatch.setattr(tbcore.learned_scalars, "MAX_REMEMBERED", 3)
    with SummaryWriter(logdir) as writer:
        for i in range(10):
            writer.add_scalar(f"t{i}", float(i), 1)
            writer.add_scalar(f"n{i}", float(i), 1, new_style=True)
            writer.add_scalars(f"m{i}", {"a": float(i)}, 1)
            writer.add_scalars(f"s{i}", {"a": float(i)}, 1, same_run=True)
        assert max(len(writer._tags), len(writer._forms), len(writer._scalars_runs)) <= 4
    points = all_scalar_points(logdir)
    assert [points[tag] for tag in ("t7", "n7", "s7/a", "t9", "n9", "s9/a")] == [[(1, 7.0)]] * 3 + [[(1, 9.0)]] * 3
    assert scalar_points(logdir / "m7_a", "m7") == [(1, 7.0)]


class _Deferred:
    """A one-element array type whose adapter defers reading, as the CUDA and JAX adapters do."""

    shape = ()

    def __init__(self, value: float) -> None:
        self.value = value
        self.read_on: list[threading.Thread] = []  # the threads that read it
        self.starts = 0  # device copies started


def _read_later(item: _Deferred):
    item.starts += 1

    def resolve() -> np.ndarray:
        item.read_on.append(threading.current_thread())
        if item.value != item.value:  # NaN stands for a value the device can no longer give
            raise RuntimeError("the device buffer is gone")
        return np.asarray(item.value)

    return resolve


class _DeferredPlugin:
    @tbcore.hookimpl
    def tbcore_array_adapter(self, cls: type):
        if cls is _Deferred:
            return tbcore.ArrayAdapter("deferred", lambda item: np.asarray(item.value), _read_later)
        return None


def test_an_io_error_after_a_lost_value_is_not_hidden_by_it(tmp_path, fresh_plugins):
    """A lost device value is reported once; an I/O error met after it stays raised at every call."""
    import shutil

    fresh_plugins.register(_DeferredPlugin(), "deferred")
    logdir = tmp_path / "logs"
    writer = SummaryWriter(logdir, max_queue=1000, flush_secs=100)
    writer.add_scalar("device", _Deferred(float("nan")), 0)  # cannot be read: one lost value
    writer.add_scalar("x", 1.0, 0)
    shutil.rmtree(logdir)  # the next write finds its file gone
    for _ in range(3):
        with pytest.raises(FileNotFoundError, match="events.out.tfevents"):
            writer.flush()
    with pytest.raises(FileNotFoundError):
        writer.add_scalar("x", 2.0, 1)
    with pytest.raises(FileNotFoundError):
        writer.close()


def test_a_deferred_value_that_cannot_be_read_loses_only_itself(logdir, fresh_plugins):
    """Events queued in the same round around the failing one are all written; the error is raised once."""
    fresh_plugins.register(_DeferredPlugin(), "deferred")
    writer = SummaryWriter(logdir, max_queue=1000, flush_secs=100)
    writer.add_scalar("before", 1.0, 0)
    writer.add_scalar("device", _Deferred(2.0), 0)
    writer.add_scalar("device", _Deferred(float("nan")), 1)
    writer.add_scalars("group", {"a": _Deferred(3.0)}, 2)
    writer.add_histogram("h", np.arange(4.0), 1)
    writer.add_scalar("after", 4.0, 1)
    lost = r"tag 'device' at step 1 .*RuntimeError: the device buffer is gone"
    with pytest.raises(tbcore.DeferredValueError, match=lost):
        writer.flush()
    writer.add_scalar("later", 5.0, 3)  # raised once: the writer goes on
    writer.close()
    assert all_scalar_points(logdir) == {
        "before": [(0, 1.0)],
        "device": [(0, 2.0)],
        "after": [(1, 4.0)],
        "later": [(3, 5.0)],
    }
    assert [e.step for e in tensorboard_accumulator(logdir).Tensors("h")] == [1]
    assert scalar_points(logdir / "group_a", "group") == [(2, 3.0)]


def test_deferred_values_are_read_on_the_writer_thread_only(logdir, fresh_plugins):
    """Every scalar path only queues a device value: new_style, double_precision, add_scalars (new and known keys)."""
    fresh_plugins.register(_DeferredPlugin(), "deferred")
    values = [_Deferred(float(i)) for i in range(10)]
    with SummaryWriter(logdir, max_queue=1000, flush_secs=100) as writer:
        writer.add_scalar("plain", values[0], 0)
        writer.add_scalar("new", values[1], 0, new_style=True)  # the first call of its tag
        writer.add_scalar("double", values[2], 0, double_precision=True)
        writer.add_scalars("group", {"a": values[3]}, 0)  # a new key: its sub-run is learned
        writer.add_scalars("group", {"a": values[4]}, 1)  # a known key
        writer.add_scalars("group", {"a": values[5], "b": values[6]}, 2)  # a known key and a new one
        writer.add_scalars("same", {"c": values[7], "d": values[8]}, 0, same_run=True)
        writer.add_scalars("same", {"c": values[9], "d": 9.5}, 1, same_run=True)
        assert [value.read_on for value in values] == [[]] * 10  # queued, not read: the writer thread sleeps
        writer.flush()
        assert [[thread.name for thread in value.read_on] for value in values] == [["tbcore-writer"]] * 10
    assert all_scalar_points(logdir) == {
        "plain": [(0, 0.0)],
        "new": [(0, 1.0)],
        "double": [(0, 2.0)],
        "same/c": [(0, 7.0), (1, 9.0)],
        "same/d": [(0, 8.0), (1, 9.5)],
    }
    assert scalar_points(logdir / "group_a", "group") == [(0, 3.0), (1, 4.0), (2, 5.0)]
    assert scalar_points(logdir / "group_b", "group") == [(2, 6.0)]


def _event_records(run_dir) -> list[bytes]:
    """The records of the one event file in ``run_dir``, after its file_version event."""
    (path,) = pathlib.Path(run_dir).glob("events.out.tfevents.*")
    return [r.data for r in iter_records(path)][1:]


def _encoded_event(kind: str, tag: str, value, step: int, wall_time: float, **options) -> bytes:
    """The event that the summary type's encoder makes of ``value``: what the generic path writes."""
    (encoded,) = normalize(tbcore.summary.encode(kind, tag, value, **options))
    return events.summary_event(encoded.summary.SerializeToString(), step, wall_time)


_NUMBERS = [0.25, -0.0, 1e-50, 5e-45, 3.4028236e38, 1e300, -math.inf, 123456.789, 2**62, 7]


@pytest.mark.filterwarnings("ignore:overflow encountered in cast:RuntimeWarning")  # numpy's, for 1e300
@pytest.mark.parametrize("style", [{"new_style": True}, {"double_precision": True}])
def test_new_style_events_are_the_scalar_types_bytes(logdir, fresh_plugins, style):
    """Numbers and deferred values give the bytes of the ``scalar`` type's new-style encoder; TensorBoard reads them."""
    fresh_plugins.register(_DeferredPlugin(), "deferred")
    numbers = [*_NUMBERS, np.float32(0.1), np.array(2.5), True, math.nan]
    with SummaryWriter(logdir / "numbers") as writer:
        for step, number in enumerate(numbers):
            writer.add_scalar("x", number, step, walltime=1.5, **style)
    with SummaryWriter(logdir / "deferred") as writer:
        for step, number in enumerate(_NUMBERS):
            writer.add_scalar("x", _Deferred(float(number)), step, walltime=1.5, **style)
    expected = [_encoded_event("scalar", "x", n, step, 1.5, new_style=True) for step, n in enumerate(numbers)]
    assert _event_records(logdir / "numbers") == expected
    assert _event_records(logdir / "deferred") == expected[: len(_NUMBERS)]
    accumulator = tensorboard_accumulator(logdir / "deferred")
    assert accumulator.SummaryMetadata("x").plugin_data.plugin_name == "scalars"
    protos = [event.tensor_proto for event in accumulator.Tensors("x")]
    assert {(p.dtype, len(p.tensor_shape.dim)) for p in protos} == {(types_pb2.DT_FLOAT, 0)}
    assert scalar_points(logdir / "deferred", "x") == [(s, float(np.float32(n))) for s, n in enumerate(_NUMBERS)]


def test_add_scalars_first_and_later_calls_write_the_scalars_types_bytes(logdir, fresh_plugins):
    fresh_plugins.register(_DeferredPlugin(), "deferred")
    with SummaryWriter(logdir) as writer:
        writer.add_scalars("m/x", {"a": 0.5, "b": _Deferred(1.5)}, 0, walltime=2.0)  # new keys
        writer.add_scalars("m/x", {"a": _Deferred(2.5), "b": 3.5}, 1, walltime=2.0)  # known keys
        writer.add_scalars("m/x", {"a": 4.5, "c": _Deferred(5.5)}, 2, walltime=2.0)  # a known key and a new one

    def expected(key: str, points: list[tuple[int, float]]) -> list[bytes]:
        return [_encoded_event("scalars", "m/x", {key: value}, step, 2.0) for step, value in points]

    assert _event_records(logdir / "m_x_a") == expected("a", [(0, 0.5), (1, 2.5), (2, 4.5)])
    assert _event_records(logdir / "m_x_b") == expected("b", [(0, 1.5), (1, 3.5)])
    assert _event_records(logdir / "m_x_c") == expected("c", [(2, 5.5)])
    assert scalar_points(logdir / "m_x_c", "m/x") == [(2, 5.5)]


def test_add_scalars_same_run_writes_the_scalars_types_bytes(logdir, fresh_plugins):
    fresh_plugins.register(_DeferredPlugin(), "deferred")
    calls = [{"a": 0.5, "b": _Deferred(1.5)}, {"a": _Deferred(-0.0), "b": 1e300}, {"b": 2.5, "a": 3.5}]
    with SummaryWriter(logdir) as writer:
        for step, values in enumerate(calls):
            writer.add_scalars("m/x", values, step, walltime=2.0, same_run=True)
    numbers = [{key: getattr(v, "value", v) for key, v in values.items()} for values in calls]
    expected = [_encoded_event("scalars", "m/x", n, step, 2.0, same_run=True) for step, n in enumerate(numbers)]
    assert [r for r in _event_records(logdir) if b"custom_scalars__config__" not in r] == expected
    assert all_scalar_points(logdir) == {
        "m/x/a": [(0, 0.5), (1, -0.0), (2, 3.5)],
        "m/x/b": [(0, 1.5), (1, math.inf), (2, 2.5)],
    }


def test_a_failing_deferred_value_loses_only_its_event_on_every_scalar_path(logdir, fresh_plugins):
    fresh_plugins.register(_DeferredPlugin(), "deferred")
    nan = float("nan")
    writer = SummaryWriter(logdir, max_queue=1000, flush_secs=100)
    writer.add_scalar("new", _Deferred(1.0), 0, new_style=True)
    writer.add_scalar("new", _Deferred(nan), 1, new_style=True)
    writer.add_scalar("new", _Deferred(3.0), 2, new_style=True)
    writer.add_scalars("group", {"lost": _Deferred(nan), "kept": _Deferred(4.0)}, 0)  # new keys, the first fails
    writer.add_scalars("group", {"lost": _Deferred(5.0), "kept": _Deferred(nan)}, 1)  # known keys, the last fails
    writer.add_scalars("same", {"a": _Deferred(nan), "b": 7.0}, 0, same_run=True)  # one event: lost
    writer.add_scalars("same", {"a": _Deferred(8.0), "b": 9.0}, 1, same_run=True)
    with pytest.raises(tbcore.DeferredValueError, match=r"tag 'new' at step 1 .*RuntimeError: the device buffer"):
        writer.flush()
    writer.add_scalar("later", 6.0, 0)  # raised once: the writer goes on
    writer.close()
    assert all_scalar_points(logdir) == {
        "new": [(0, 1.0), (2, 3.0)],
        "later": [(0, 6.0)],
        "same/a": [(1, 8.0)],
        "same/b": [(1, 9.0)],
    }
    assert scalar_points(logdir / "group_lost", "group") == [(1, 5.0)]
    assert scalar_points(logdir / "group_kept", "group") == [(0, 4.0)]


def test_add_scalars_new_keys_with_a_bad_value_write_nothing(logdir, fresh_plugins, rejects):
    """A new key's sub-run is not created when a later value of the call is bad."""
    fresh_plugins.register(_DeferredPlugin(), "deferred")
    writer = SummaryWriter(logdir)
    call = lambda: writer.add_scalars("m", {"a": _Deferred(1.0), "b": "x"}, 0)  # noqa: E731
    rejects(writer, call, TypeError, r"tag_scalar_dict\['b'\]: expected a real number")
    writer.add_scalars("m", {"a": _Deferred(2.0), "b": 3.0}, 1)
    writer.close()
    assert scalar_points(logdir / "m_a", "m") == [(1, 2.0)]


def test_add_scalars_starts_each_device_copy_once(logdir, fresh_plugins, rejects):
    """A later key that is new or bad sends the call to the checked path: earlier keys' copies are not started again."""
    fresh_plugins.register(_DeferredPlugin(), "deferred")
    writer = SummaryWriter(logdir)
    writer.add_scalars("m", {"a": 1.0, "b": 2.0}, 0)
    known, new, bad = _Deferred(3.0), _Deferred(4.0), _Deferred(5.0)
    writer.add_scalars("m", {"a": known, "c": new}, 1)  # "c" is new
    rejects(writer, lambda: writer.add_scalars("m", {"a": bad, "b": "x"}, 2), TypeError, r"tag_scalar_dict\['b'\]")
    writer.close()
    assert [value.starts for value in (known, new, bad)] == [1, 1, 1]
    assert scalar_points(logdir / "m_a", "m") == [(0, 1.0), (1, 3.0)]
    assert scalar_points(logdir / "m_c", "m") == [(1, 4.0)]


class _Float64Scalar:
    """A ``scalar`` type whose new style is a float64 tensor: no float32 at a fixed place to frame."""

    def __init__(self):
        self.calls = 0

    @tbcore.hookimpl
    def tbcore_summary_types(self):
        def encode(tag, value, *, new_style=False):
            self.calls += 1
            return tbcore.tensor_summary(tag, np.float64(tbcore.as_float(value)), plugin_name="scalars")

        return [tbcore.SummaryType(name="scalar", plugin_name="scalars", encode=encode, adapt_value=False)]


def test_a_replaced_scalar_type_without_a_float32_form_encodes_new_style_itself(logdir, fresh_plugins):
    fresh_plugins.unregister("scalar")
    replaced = _Float64Scalar()
    fresh_plugins.register(replaced, "float64_scalar")
    with SummaryWriter(logdir) as writer:
        writer.add_scalar("x", 2.5, 0, new_style=True)
        learned = replaced.calls - 1  # the probes that found no float32 form, then the call's own encoding
        writer.add_scalar("x", 0.1, 1, new_style=True)
        assert replaced.calls == learned + 2  # the tag's form is not probed again
    protos = [event.tensor_proto for event in tensorboard_accumulator(logdir).Tensors("x")]
    assert [p.dtype for p in protos] == [types_pb2.DT_DOUBLE] * 2
    assert scalar_points(logdir, "x") == [(0, 2.5), (1, 0.1)]
