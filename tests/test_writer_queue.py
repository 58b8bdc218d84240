"""The fast paths and the queue between callers and the writer thread: same output, nothing dropped, bounded."""

from __future__ import annotations

import gc
import tracemalloc

import numpy as np
import pytest

import tbcore
from tb_helpers import all_scalar_points, scalar_points
from tbcore import SummaryWriter
from tbcore.event_file import EventFile
from tbcore.pipeline import Pipeline
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


class _Deferred:
    """A one-element array type whose adapter defers reading, as the CUDA and JAX adapters do."""

    shape = ()

    def __init__(self, value: float) -> None:
        self.value = value


def _read_later(item: _Deferred):
    def resolve() -> np.ndarray:
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
