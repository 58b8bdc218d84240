"""Rank-aware writing: which process writes, per-rank runs, and a real 2-process torch.distributed job."""

from __future__ import annotations

import os
import pickle
import sys
import threading

import pytest

from tb_helpers import scalar_points
from tbcore import SummaryWriter, ranks
from tbcore.reader import list_runs
from tbcore.testing import free_port


@pytest.fixture
def rank_env(monkeypatch):
    """No rank variables from the surrounding environment; returns a setter."""
    for name in (*ranks.RANK_ENV_VARS, "LOCAL_RANK"):
        monkeypatch.delenv(name, raising=False)
    return monkeypatch.setenv


def _writer_threads() -> list[threading.Thread]:
    return [thread for thread in threading.enumerate() if thread.name == "tbcore-writer"]


@pytest.mark.parametrize(
    ("env", "expected"),
    [
        ({}, 0),
        ({"RANK": "3"}, 3),
        ({"SLURM_PROCID": "2"}, 2),
        ({"OMPI_COMM_WORLD_RANK": "5"}, 5),
        ({"PMI_RANK": "4"}, 4),
        ({"PMIX_RANK": "6"}, 6),
        ({"RANK": "1", "SLURM_PROCID": "7"}, 1),  # torchrun inside an srun step: RANK wins
        ({"LOCAL_RANK": "1"}, 0),  # a per-host rank is never taken for the global one
        ({"RANK": "", "SLURM_PROCID": "x", "PMI_RANK": "2"}, 2),
    ],
)
def test_rank_from_environment(rank_env, env, expected):
    for name, value in env.items():
        rank_env(name, value)
    assert ranks.process_rank() == expected


def test_other_ranks_accept_every_call_and_write_nothing(rank_env, logdir):
    rank_env("RANK", "1")
    threads = _writer_threads()
    target = logdir / "run"
    writer = SummaryWriter(target, flush_secs=0.1)
    assert isinstance(writer, SummaryWriter)
    assert writer.get_logdir() == str(target)
    methods = [name for name in dir(SummaryWriter) if name.startswith("add")]
    assert {"add_scalar", "add_scalars", "add_histogram", "add_text", "add_hparams", "add_image"} <= set(methods)
    for name in methods:
        assert getattr(writer, name)("tag", 1.0, 0) is None  # anything goes: nothing is checked or written
    writer.add_scalar("loss", object(), global_step="not a step")
    writer.file_writer.add_summary(b"anything", 0)
    writer._get_file_writer().add_event(None)
    assert writer.file_writer.get_logdir() == str(target)
    writer.flush()
    writer.close()
    with writer as same:
        same.add_scalar("x", 1.0, 0)
    assert not target.exists()
    assert _writer_threads() == threads


def test_rank_zero_writes_by_default(rank_env, logdir):
    rank_env("RANK", "0")
    with SummaryWriter(logdir) as writer:
        writer.add_scalar("x", 1.0, 0)
    assert scalar_points(logdir, "x") == [(0, 1.0)]


def test_all_ranks_write_into_per_rank_runs(rank_env, logdir):
    for rank in (0, 2):
        rank_env("RANK", str(rank))
        with SummaryWriter(logdir, all_ranks=True) as writer:
            assert writer.get_logdir() == os.path.join(logdir, f"rank{rank}")
            writer.add_scalar("x", float(rank), 0)
            writer.add_scalars("pair", {"a": 1.0}, 0)
    assert sorted(list_runs(logdir)) == ["rank0", "rank0/pair_a", "rank2", "rank2/pair_a"]
    assert scalar_points(logdir / "rank2", "x") == [(0, 2.0)]
    assert scalar_points(logdir / "rank0", "x") == [(0, 0.0)]
    for rank in (0, 2):
        assert scalar_points(logdir / f"rank{rank}" / "pair_a", "pair") == [(0, 1.0)]


def test_explicit_rank_overrides_detection(rank_env, logdir):
    rank_env("RANK", "1")
    with SummaryWriter(logdir / "zero", rank=0) as writer:
        writer.add_scalar("x", 1.0, 0)
    SummaryWriter(logdir / "three", rank=3).add_scalar("x", 1.0, 0)
    assert list_runs(logdir / "zero") and not (logdir / "three").exists()
    assert scalar_points(logdir / "zero", "x") == [(0, 1.0)]


@pytest.mark.parametrize(
    ("kwargs", "error", "match"),
    [
        ({"rank": -1}, ValueError, "rank: expected an int >= 0"),
        ({"rank": "1"}, TypeError, "rank: expected an int >= 0"),
        ({"rank": True}, TypeError, "rank"),
        ({"all_ranks": "yes"}, TypeError, "all_ranks: expected a bool"),
    ],
)
def test_bad_rank_options(logdir, kwargs, error, match):
    with pytest.raises(error, match=match):
        SummaryWriter(logdir / "run", **kwargs)
    assert not (logdir / "run").exists()


def test_pickling_fails_alike_on_every_rank(rank_env, logdir):
    """A writer handed to a DataLoader worker or a spawned process fails the same way on every rank."""
    rank_env("RANK", "1")
    inactive = SummaryWriter(logdir / "other")
    with SummaryWriter(logdir / "main", rank=0) as active:
        for writer in (active, inactive):
            with pytest.raises(TypeError, match="cannot be pickled"):
                pickle.dumps(writer)


def test_single_process_jax_never_hides_the_launchers_rank(rank_env):
    """Every rank of a torchrun job using JAX is JAX's process 0: the environment decides, and
    JAX's backends are never initialized by the lookup."""
    jax = pytest.importorskip("jax")
    from jax._src import xla_bridge

    rank_env("RANK", "4")
    initialized = xla_bridge.backends_are_initialized()
    assert ranks.process_rank() == 4
    assert xla_bridge.backends_are_initialized() == initialized
    jax.numpy.zeros(1).block_until_ready()  # backends up, one process
    assert ranks.process_rank() == 4


def _distributed_worker(rank: int, init_method: str, logdir: str) -> None:
    """One rank of the 2-process job: gloo on CPU, logging from every rank in both modes."""
    import torch
    import torch.distributed as dist

    for name in ranks.RANK_ENV_VARS:
        os.environ.pop(name, None)  # the rank must come from torch.distributed
    dist.init_process_group("gloo", init_method=init_method, rank=rank, world_size=2)
    try:
        total = torch.tensor([float(rank + 1)])
        dist.all_reduce(total)
        with SummaryWriter(os.path.join(logdir, "main")) as writer:
            for step in range(5):
                writer.add_scalar("loss", 10.0 * rank + step, step)
            writer.add_scalars("pair", {"a": float(rank)}, 0)
        with SummaryWriter(os.path.join(logdir, "every"), all_ranks=True) as writer:
            for step in range(5):
                writer.add_scalar("loss", 10.0 * rank + step, step)
            writer.add_scalar("total", total.item(), 0)
        dist.barrier()
    finally:
        dist.destroy_process_group()


@pytest.mark.slow
def test_two_process_torch_distributed_job(logdir):
    torch_mp = pytest.importorskip("torch.multiprocessing")
    assert "test_distributed" in sys.modules  # the spawned children import this module by name
    init_method = f"tcp://127.0.0.1:{free_port()}"
    torch_mp.spawn(_distributed_worker, args=(init_method, str(logdir)), nprocs=2, join=True)

    main = logdir / "main"
    assert sorted(list_runs(main)) == [".", "pair_a"]
    assert len(list_runs(main)["."]) == 1  # one event file: only rank 0 wrote
    assert scalar_points(main, "loss") == [(step, float(step)) for step in range(5)]
    assert scalar_points(main / "pair_a", "pair") == [(0, 0.0)]

    every = logdir / "every"
    assert sorted(list_runs(every)) == ["rank0", "rank1"]
    for rank in (0, 1):
        assert scalar_points(every / f"rank{rank}", "loss") == [(step, 10.0 * rank + step) for step in range(5)]
        assert scalar_points(every / f"rank{rank}", "total") == [(0, 3.0)]
