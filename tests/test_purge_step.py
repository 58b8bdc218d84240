"""purge_step hides the orphaned steps of an earlier run in all three TensorBoard read paths."""

from __future__ import annotations

import socket

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


class FakeClock:
    """Stands in for the ``time`` module of tbcore.event_file: names are made at ``now``; a sleep moves it on."""

    def __init__(self, now: float) -> None:
        self.now, self.slept = now, []

    def time(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.slept.append(seconds)
        self.now += seconds


def _first_run_named(logdir, name):
    """The first run's steps 0..9 in one event file called ``name`` (as another process would have named it)."""
    with SummaryWriter(logdir / "tmp") as first:
        for step in range(10):
            first.add_scalar("x", float(step), step)
    next((logdir / "tmp").iterdir()).rename(logdir / name)
    (logdir / "tmp").rmdir()


def test_a_restart_in_the_same_second_is_read_after_the_first_run(logdir, monkeypatch):
    """Names of one second sort by host and pid: a file of this second that sorts after ours makes us wait a second.

    Otherwise TensorBoard would read the resumed run first and the first run's steps after it:
    the Rust loader would keep steps 0..9 of the first run only, the Python one show both, out of order.
    """
    import tbcore.event_file

    clock = FakeClock(1_700_000_000.5)
    monkeypatch.setattr(tbcore.event_file, "time", clock)
    first = f"events.out.tfevents.1700000000.{socket.gethostname()}.{'9' * 12}.000000"  # pid 999999999999 sorts last
    _first_run_named(logdir, first)
    with SummaryWriter(logdir, purge_step=5) as second:
        for step in (5, 6, 7):
            second.add_scalar("x", 100.0 + step, step)
    assert clock.slept == [0.5]
    names = sorted(p.name for p in logdir.iterdir())
    assert names[0] == first and names[1].startswith("events.out.tfevents.1700000001.")
    assert scalar_points(logdir, "x") == EXPECTED


def test_no_wait_when_the_new_file_sorts_last_already(logdir, monkeypatch):
    import tbcore.event_file

    clock = FakeClock(1_700_000_000.5)
    monkeypatch.setattr(tbcore.event_file, "time", clock)
    _first_run_named(logdir, f"events.out.tfevents.1700000000.{socket.gethostname()}.0.000000")  # sorts first
    _crashed_then_resumed(logdir)  # two more writers of this process in the same second: the counter orders them
    assert clock.slept == [] and len(list(logdir.iterdir())) == 3
    assert all(p.name.startswith("events.out.tfevents.1700000000.") for p in logdir.iterdir())
