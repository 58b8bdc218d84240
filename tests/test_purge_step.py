"""purge_step hides the orphaned steps of an earlier run in all three TensorBoard read paths."""

from __future__ import annotations

import pytest

from tb_helpers import scalar_points
from tbcore import SummaryWriter
from tbcore.testing import TensorBoardServer, read_events, tensorboard_accumulator, tensorboard_provider

pytestmark = pytest.mark.core

EXPECTED = [(s, float(s)) for s in range(5)] + [(s, 100.0 + s) for s in (5, 6, 7)]


def _crashed_then_resumed(logdir, purge_step=5):
    with SummaryWriter(logdir) as first:
        for step in range(10):
            first.add_scalar("x", float(step), step)
    with SummaryWriter(logdir, purge_step=purge_step) as second:
        for step in (5, 6, 7):
            second.add_scalar("x", 100.0 + step, step)


def test_purge_step_event_accumulator(logdir):
    _crashed_then_resumed(logdir)
    assert scalar_points(logdir, "x") == EXPECTED


def test_purge_step_data_provider(logdir):
    _crashed_then_resumed(logdir)
    from tensorboard import context

    provider = tensorboard_provider(logdir)
    series = provider.read_scalars(context.RequestContext(), experiment_id="", plugin_name="scalars", downsample=1000)
    assert [(p.step, p.value) for p in series["."]["x"]] == EXPECTED


@pytest.mark.server
@pytest.mark.slow
@pytest.mark.parametrize("load_fast", ["false", "true"])
def test_purge_step_on_a_server(logdir, load_fast):
    _crashed_then_resumed(logdir)
    with TensorBoardServer(logdir, load_fast=load_fast) as server:
        rows = server.wait_for("/data/plugin/scalars/scalars", lambda d: len(d) >= 8, run=".", tag="x")
        assert [(row[1], row[2]) for row in rows] == EXPECTED


def test_second_writer_without_purge_step_purges_nothing(logdir):
    """A writer without purge_step must not hide another writer's data (no START events at all)."""
    with SummaryWriter(logdir) as first:
        for step in range(5):
            first.add_scalar("a", float(step), step)
    with SummaryWriter(logdir) as second:
        second.add_scalar("b", 1.0, 0)
    with SummaryWriter(logdir, purge_step=10) as third:  # a purge above every step hides nothing either
        third.add_scalar("c", 1.0, 10)
    acc = tensorboard_accumulator(logdir)
    assert [e.step for e in acc.Tensors("a")] == list(range(5))
    assert [e.step for e in acc.Tensors("b")] == [0] and [e.step for e in acc.Tensors("c")] == [10]
    assert not any(e.HasField("session_log") for e in read_events(logdir)[:4])
    # every file, not only the first one: the only STARTs are the purging writer's two, at its purge_step
    assert [e.step for e in read_events(logdir) if e.HasField("session_log")] == [10, 10]


def test_purge_step_repeated_resumes(logdir):
    """Resuming twice (START events already in the run) purges at each resume point."""
    _crashed_then_resumed(logdir)
    with SummaryWriter(logdir, purge_step=6) as third:
        third.add_scalar("x", 200.0, 6)
    assert scalar_points(logdir, "x") == EXPECTED[:6] + [(6, 200.0)]


def test_purge_step_reaches_add_scalars_sub_runs(logdir):
    with SummaryWriter(logdir) as first:
        for step in range(4):
            first.add_scalars("m", {"a": float(step)}, step)
    with SummaryWriter(logdir, purge_step=2) as second:
        second.add_scalars("m", {"a": 10.0}, 2)
    assert scalar_points(logdir / "m_a", "m") == [(0, 0.0), (1, 1.0), (2, 10.0)]


def test_reopen_after_close_does_not_purge_own_data(logdir):
    writer = SummaryWriter(logdir, purge_step=0)
    writer.add_scalar("x", 1.0, 0)
    writer.add_scalar("x", 2.0, 1)
    writer.close()
    writer.add_scalar("x", 3.0, 2)  # opens a second file
    writer.close()
    assert scalar_points(logdir, "x") == [(0, 1.0), (1, 2.0), (2, 3.0)]
