"""Threads, processes, fork and pickling: no lost, duplicated or interleaved records, no hang."""

from __future__ import annotations

import multiprocessing
import os
import pickle
import threading
import time

import pytest

from reliability_helpers import all_files_intact, python, wait_child
from tb_helpers import all_scalar_points, scalar_points
from tbcore import SummaryWriter
from tbcore.reader import iter_events, list_runs


@pytest.mark.slow
def test_one_writer_shared_by_eight_threads(logdir):
    """8 threads x 10k scalars on one writer: all 80k events, each a whole record."""
    writer = SummaryWriter(logdir)
    start = threading.Barrier(8)

    def work(index: int) -> None:
        start.wait()
        for step in range(10_000):
            writer.add_scalar(f"thread{index}", float(step), step)

    threads = [threading.Thread(target=work, args=(i,)) for i in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    writer.close()
    (path,) = all_files_intact(logdir)
    assert sum(1 for event in iter_events(path) if event.HasField("summary")) == 80_000
    points = all_scalar_points(logdir)
    for index in range(8):
        assert points[f"thread{index}"] == [(s, float(s)) for s in range(10_000)]


def _write_in_child(logdir: str, index: int) -> None:
    with SummaryWriter(logdir) as writer:
        for step in range(500):
            writer.add_scalar(f"proc{index}", float(step), step)


@pytest.mark.parametrize("method", ["fork", "spawn"])
def test_processes_write_distinct_files_into_one_log_dir(logdir, method):
    """4 processes, each with its own writer on the same log dir: 4 distinct files, all data."""
    context = multiprocessing.get_context(method)
    processes = [context.Process(target=_write_in_child, args=(str(logdir), i)) for i in range(4)]
    for process in processes:
        process.start()
    for process in processes:
        process.join(120)
        assert process.exitcode == 0
    assert len(set(all_files_intact(logdir))) == 4
    points = all_scalar_points(logdir)
    for index in range(4):
        assert points[f"proc{index}"] == [(s, float(s)) for s in range(500)]


def test_writer_used_after_fork_in_parent_and_child(logdir):
    """A writer created before os.fork(): the child writes a file of its own; nothing is duplicated or torn."""
    writer = SummaryWriter(logdir, max_queue=10_000, flush_secs=10_000)
    for step in range(100):
        writer.add_scalar("before", float(step), step)  # still queued at the fork
    pid = os.fork()
    if pid == 0:  # pragma: no cover - the child
        code = 1
        try:
            for step in range(100):
                writer.add_scalar("child", float(step), step)
            writer.close()
            code = 0
        finally:
            os._exit(code)
    for step in range(100):
        writer.add_scalar("parent", float(step), step)
    assert wait_child(pid) == 0
    writer.close()
    files = all_files_intact(logdir)
    assert len(files) == 2
    tags_per_file = sorted(
        sorted({value.tag for event in iter_events(path) for value in event.summary.value}) for path in files
    )
    assert tags_per_file == [["before", "parent"], ["child"]]
    points = all_scalar_points(logdir)
    for tag in ("before", "parent", "child"):
        assert points[tag] == [(s, float(s)) for s in range(100)]


def test_fork_while_another_thread_is_writing(logdir):
    """Forking while a thread writes hard: children neither hang nor corrupt anything, and exit flushes them."""
    writer = SummaryWriter(logdir, max_queue=50)
    stop = threading.Event()

    def hammer() -> None:
        step = 0
        while not stop.is_set():
            writer.add_scalar("busy", float(step), step)
            step += 1

    thread = threading.Thread(target=hammer)
    thread.start()
    try:
        pids = []
        for index in range(5):
            time.sleep(0.02)
            pid = os.fork()
            if pid == 0:  # pragma: no cover - the child: no close(), exits through sys.exit/atexit
                try:
                    for step in range(50):
                        writer.add_scalar(f"child{index}", float(step), step)
                finally:
                    os._exit(0 if _exit_via_finalizers() else 1)
            pids.append(pid)
        for pid in pids:
            assert wait_child(pid) == 0
    finally:
        stop.set()
        thread.join()
    writer.close()
    assert len(all_files_intact(logdir)) == 6
    points = all_scalar_points(logdir)
    assert points["busy"] == [(s, float(s)) for s in range(len(points["busy"]))]
    for index in range(5):
        assert points[f"child{index}"] == [(s, float(s)) for s in range(50)]


def _exit_via_finalizers() -> bool:
    """Run what interpreter exit runs for writers (atexit is skipped by os._exit in a test child)."""
    from tbcore import lifecycle

    return lifecycle.close_all(60)


def test_pickling_a_writer_is_a_clear_error(logdir):
    """A writer cannot cross a spawn boundary: pickling raises TypeError saying what to do instead."""
    writer = SummaryWriter(logdir)
    with pytest.raises(TypeError, match=r"cannot be pickled.*log_dir=.*create their own writer"):
        pickle.dumps(writer)
    context = multiprocessing.get_context("spawn")
    process = context.Process(target=_write_in_child, args=(writer, 0))
    with pytest.raises(TypeError, match="cannot be pickled"):
        process.start()
    writer.add_scalar("loss", 1.0, 0)
    writer.close()
    assert scalar_points(logdir, "loss") == [(0, 1.0)]


DATALOADER = """
import sys
import torch
from torch.utils.data import DataLoader, Dataset
from tbcore import SummaryWriter

writer = SummaryWriter(sys.argv[1], max_queue=10_000, flush_secs=10_000)

class Logged(Dataset):
    def __len__(self):
        return 64
    def __getitem__(self, index):
        info = torch.utils.data.get_worker_info()
        writer.add_scalar(f"worker{info.id}", float(index), index)
        return index

seen = sorted(int(i) for batch in DataLoader(Logged(), batch_size=4, num_workers=2) for i in batch)
assert seen == list(range(64))
writer.add_scalar("main", 1.0, 0)
"""


@pytest.mark.slow
def test_dataloader_workers_inherit_the_writer_by_fork(logdir):
    """torch DataLoader workers (fork on Linux) use the inherited writer; their events are flushed at worker exit."""
    pytest.importorskip("torch")
    result = python(DATALOADER, logdir)
    assert result.returncode == 0, result.stderr
    files = all_files_intact(logdir)
    assert len(files) == 3  # the main process and two workers
    steps = sorted(step for w in (0, 1) for step, _ in scalar_points(logdir, f"worker{w}"))
    assert steps == list(range(64))
    assert scalar_points(logdir, "main") == [(0, 1.0)]
    assert list(list_runs(logdir)) == ["."]
