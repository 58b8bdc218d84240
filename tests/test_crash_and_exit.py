"""Nothing lost at exit, and only a bounded tail lost on SIGKILL; files always readable by TensorBoard."""

from __future__ import annotations

import os
import random
import signal
import struct

import pytest

from reliability_helpers import COLLECT_IN_WRITER_THREAD, all_files_intact, python, sigterm_when_ready, wait_for
from tb_helpers import scalar_points
from tbcore.testing import tensorboard_accumulator

BACKLOG = 1024  # the children's MIN_BACKLOG: smaller than the loop, so the bound is really exercised

pytestmark = pytest.mark.core  # numpy + tensorboard only: also run with the oldest dependencies

WRITER_LOOP = """
import mmap, os, struct, sys, time
import tbcore.pipeline
from tbcore import SummaryWriter, lifecycle
lifecycle.SIGNAL_FLUSH_TIMEOUT = 600.0  # a SIGTERM handler that waits on a lock would hang past the tests' bounds
logdir, counter = sys.argv[1], sys.argv[2]
max_queue, flush_secs, pause = int(sys.argv[3]), float(sys.argv[4]), float(sys.argv[5])
tbcore.pipeline.MIN_BACKLOG = int(sys.argv[6])  # a small cap, so that 30k fast steps exceed it
shared = mmap.mmap(os.open(counter, os.O_RDWR), 8)
writer = SummaryWriter(logdir, max_queue=max_queue, flush_secs=flush_secs)
print("ready", flush=True)
for step in range(30_000):  # bounded, so that reading back stays quick
    writer.add_scalar("loss", float(step), step)
    shared[:8] = struct.pack("<q", step + 1)  # accepted: add_scalar returned for steps <= this one
    if pause:
        time.sleep(pause)
time.sleep(120)
"""


def _kill_trial(tmp_path, trial: int, max_queue: int, pause: float, signum: int = signal.SIGKILL) -> int:
    """Send ``signum`` to WRITER_LOOP at a random moment; return how many accepted events are not in the file."""
    logdir = tmp_path / f"trial{trial}"
    counter = tmp_path / f"counter{trial}"
    counter.write_bytes(bytes(8))
    child = python(WRITER_LOOP, logdir, counter, max_queue, 60, pause, BACKLOG, wait=False)
    try:
        assert child.stdout.readline().strip() == "ready", child.stderr.read()
        wait_for(lambda: struct.unpack("<q", counter.read_bytes())[0] > 0, timeout=30)
        wait_for(lambda: False, timeout=random.uniform(0.0, 0.15), interval=0.01)
        child.send_signal(signum)
        _out, err = child.communicate(timeout=30)
    finally:
        if child.poll() is None:
            child.kill()
            child.communicate(timeout=30)
    assert child.returncode == -signum, err
    accepted = struct.unpack("<q", counter.read_bytes())[0]
    all_files_intact(logdir, torn_tail=True)
    points = scalar_points(logdir, "loss")
    assert points == [(step, float(step)) for step in range(len(points))], "a gap or a wrong value"
    return accepted - len(points)


@pytest.mark.slow
def test_sigkill_at_random_moments_loses_at_most_the_backlog(tmp_path):
    """20 SIGKILLs: every file reads cleanly and at most 2 * max(max_queue, BACKLOG) events are lost."""
    random.seed(8)
    losses = []
    for trial in range(20):
        max_queue = (20, 5000)[trial % 2]
        pause = (0.0, 0.0005)[(trial // 2) % 2]
        lost = _kill_trial(tmp_path, trial, max_queue, pause)
        assert -1 <= lost <= 2 * max(max_queue, BACKLOG), (trial, lost)
        losses.append(lost)
    print("events lost per SIGKILL:", losses)


@pytest.mark.slow
def test_sigterm_in_a_tight_add_scalar_loop_exits_at_once_and_loses_nothing(tmp_path):
    """SIGTERM while add_scalar runs flat out against a small backlog (the caller often waits for room,
    holding the queue's lock): every accepted event is written and the process dies by SIGTERM."""
    random.seed(15)
    for trial in range(3):
        lost = _kill_trial(tmp_path, trial, 20, 0.0, signal.SIGTERM)
        assert lost in (-1, 0), (trial, lost)  # -1: the step being added when the signal came was written too


def test_sigterm_while_the_caller_holds_the_queue_lock_does_not_wait_for_it(tmp_path):
    """The SIGTERM handler runs in the interrupted thread, which may hold the queue's lock: the writer
    thread never waits for that lock, so the handler's flush finishes and nothing is lost."""
    code = """
    import os, signal, sys, time
    from tbcore import SummaryWriter, lifecycle
    lifecycle.SIGNAL_FLUSH_TIMEOUT = 600.0  # a handler waiting on the lock would hang past python()'s bound
    writer = SummaryWriter(sys.argv[1], max_queue=10_000, flush_secs=10_000)
    for step in range(50):
        writer.add_scalar("loss", float(step), step)
        writer.add_text("notes", "x" * 5000, step)  # large events: the writer thread counts their bytes as freed
    with writer._pipeline._room:  # the queue's lock, as a caller waiting for room holds it
        os.kill(os.getpid(), signal.SIGTERM)
        time.sleep(120)
    """
    result = python(code, tmp_path)
    assert result.returncode == -signal.SIGTERM, result.stderr
    all_files_intact(tmp_path)
    assert scalar_points(tmp_path, "loss") == [(s, float(s)) for s in range(50)]
    assert [e.step for e in tensorboard_accumulator(tmp_path).Tensors("notes/text_summary")] == list(range(50))


def test_sigkill_after_flush_secs_loses_nothing(tmp_path):
    """Events older than flush_secs are in the file: a SIGKILL after that loses none."""
    code = """
    import sys, time
    from tbcore import SummaryWriter
    writer = SummaryWriter(sys.argv[1], max_queue=1000, flush_secs=0.2)
    for step in range(50):
        writer.add_scalar("loss", float(step), step)
    print("ready", flush=True)
    time.sleep(120)
    """
    child = python(code, tmp_path, wait=False)
    try:
        assert child.stdout.readline().strip() == "ready"
        assert wait_for(lambda: len(scalar_points(tmp_path, "loss")) == 50, timeout=60)
    finally:
        child.kill()
        child.communicate(timeout=30)
    all_files_intact(tmp_path)
    assert scalar_points(tmp_path, "loss") == [(s, float(s)) for s in range(50)]


EXIT_SCRIPT = """
import os, signal, sys, time
import numpy as np
from tbcore import SummaryWriter
mode = sys.argv[2]
writer = SummaryWriter(sys.argv[1], max_queue=10_000, flush_secs=10_000)
for step in range(50):
    writer.add_scalar("loss", float(step), step)
writer.add_histogram("weights", np.arange(100.0), 3)
writer.add_scalars("pair", {"a": 1.0, "b": 2.0}, 7)
if mode == "sys_exit":
    sys.exit(3)
if mode == "exception":
    raise RuntimeError("boom")
if mode in ("sigterm", "sigint"):
    print("ready", flush=True)
    time.sleep(120)
"""

EXPECTED_STATUS = {"end": 0, "sys_exit": 3, "exception": 1, "sigterm": -signal.SIGTERM, "sigint": -signal.SIGINT}


@pytest.mark.parametrize("mode", sorted(EXPECTED_STATUS))
def test_nothing_lost_without_close(tmp_path, mode):
    """Normal end, sys.exit, an uncaught exception, SIGTERM, SIGINT: every event reaches the file."""
    child = python(EXIT_SCRIPT, tmp_path, mode, wait=False)
    try:
        if mode in ("sigterm", "sigint"):
            assert child.stdout.readline().strip() == "ready"
            child.send_signal(signal.SIGTERM if mode == "sigterm" else signal.SIGINT)
        _out, err = child.communicate(timeout=60)
    finally:
        if child.poll() is None:  # hung: never leave it running
            child.kill()
            child.communicate(timeout=30)
    assert child.returncode == EXPECTED_STATUS[mode], err
    all_files_intact(tmp_path)
    assert scalar_points(tmp_path, "loss") == [(s, float(s)) for s in range(50)]
    assert scalar_points(tmp_path / "pair_b", "pair") == [(7, 2.0)]
    assert "tbcore" not in err


def test_sigterm_handler_of_the_program_is_kept(tmp_path):
    """A SIGTERM handler installed before the writer is never replaced, and none is installed off the main thread."""
    code = """
    import signal, sys, threading
    from tbcore import SummaryWriter
    def mine(signum, frame):
        pass
    signal.signal(signal.SIGTERM, mine)
    SummaryWriter(sys.argv[1] + "/a").close()
    assert signal.getsignal(signal.SIGTERM) is mine
    signal.signal(signal.SIGTERM, signal.SIG_DFL)
    """
    assert python(code, tmp_path).returncode == 0
    code = """
    import signal, sys, threading
    from tbcore import SummaryWriter
    thread = threading.Thread(target=lambda: SummaryWriter(sys.argv[1]).close())
    thread.start(); thread.join()
    assert signal.getsignal(signal.SIGTERM) is signal.SIG_DFL
    SummaryWriter(sys.argv[1]).close()
    assert signal.getsignal(signal.SIGTERM) is not signal.SIG_DFL
    """
    result = python(code, tmp_path)
    assert result.returncode == 0, result.stderr


def test_error_at_exit_is_reported_on_stderr(tmp_path):
    """A write error met while flushing at exit is printed, never dropped silently."""
    code = """
    import shutil, sys
    from tbcore import SummaryWriter
    writer = SummaryWriter(sys.argv[1], max_queue=10_000, flush_secs=10_000)
    writer.add_scalar("loss", 1.0, 0)
    shutil.rmtree(sys.argv[1])
    """
    result = python(code, tmp_path / "logs")
    assert result.returncode == 0
    assert "tbcore: events of" in result.stderr and "deleted" in result.stderr
    assert not os.path.exists(tmp_path / "logs")


def test_writer_collected_in_its_own_thread_is_closed_there_without_deadlock(tmp_path):
    """The garbage collector may finalize a writer in any thread, even its own writer thread, which
    the close waits for: it is closed from a new thread instead, and nothing is lost."""
    code = (
        COLLECT_IN_WRITER_THREAD
        + """
import sys
from tbcore import SummaryWriter
writer = SummaryWriter(sys.argv[1], max_queue=10_000, flush_secs=10_000)
writer.add_scalar("x", 1.0, 0)
writer.cycle = writer  # only the cyclic garbage collector frees it
pipeline, file = writer._pipeline, writer._file("")
del writer
collect_in_writer_thread(pipeline, file)
print("closed", flush=True)
"""
    )
    result = python(code, tmp_path)
    assert result.returncode == 0 and result.stdout == "closed\n", result.stderr
    all_files_intact(tmp_path)
    assert scalar_points(tmp_path, "x") == [(0, 1.0), (1, 2.0)]


SIGTERM_DURING_THREAD_START = """
import signal, sys, threading, time
from tbcore import SummaryWriter, lifecycle
lifecycle.SIGNAL_FLUSH_TIMEOUT = 600.0  # a handler waiting for the thread's start would hang past the test's bound
first = SummaryWriter(sys.argv[1] + "/first", flush_secs=10_000)
for step in range(50):
    first.add_scalar("loss", float(step), step)
original = threading.Thread.start

def paused_start(self):
    if self.name == "tbcore-writer":  # the second writer's thread: say so, stay here until the SIGTERM
        threading.Thread.start = original
        print("starting", flush=True)
        for _ in range(6000):  # bounded: 60 s
            if signal.getsignal(signal.SIGTERM) is signal.SIG_DFL:  # tbcore's handler has run
                break
            time.sleep(0.01)
    original(self)

second = SummaryWriter(sys.argv[1] + "/second", flush_secs=10_000)
second.add_scalar("loss", 0.0, 0)
second.close()  # stops its thread (a forked child's writer has none either)
threading.Thread.start = paused_start
second.add_scalar("loss", 1.0, 1)  # opens a new file: its first event starts the writer thread again
print("added", flush=True)  # never: the SIGTERM ends the process once the thread has started
"""


def test_sigterm_while_a_writer_thread_starts_does_not_wait_for_it(tmp_path):
    """SIGTERM while the main thread starts a live writer's thread (holding the lock that the close needs):
    the handler lets the start finish, then writes every writer's events and dies by SIGTERM (a handler that
    waited would hang for the child's 600 s timeout)."""
    out = sigterm_when_ready(SIGTERM_DURING_THREAD_START, "starting", tmp_path)
    assert "added" not in out
    all_files_intact(tmp_path)
    assert scalar_points(tmp_path / "first", "loss") == [(step, float(step)) for step in range(50)]
    assert scalar_points(tmp_path / "second", "loss") == [(0, 0.0)]


SIGTERM_HOLDING_THREAD_START_LOCK = """
import contextlib, signal, sys, threading, time
from tbcore import SummaryWriter, lifecycle
deferred = sys.argv[2] == "deferred"
# In a sigterm_deferred block only the block's end may close (a timer at 600 s would be too late for the test);
# else the handler's close waits at most 3 s for the writer thread's end, which needs the held lock.
lifecycle.SIGNAL_FLUSH_TIMEOUT = 600.0 if deferred else 3.0
writer = SummaryWriter(sys.argv[1], max_queue=1000, flush_secs=10_000)  # the events wait for the close
for step in range(50):
    writer.add_scalar("loss", float(step), step)
block = lifecycle.sigterm_deferred() if deferred else contextlib.nullcontext()
with block, threading._active_limbo_lock:  # held inside Thread.start: the handler must not start a thread with it
    print("holding", flush=True)
    for _ in range(6000):  # bounded: 60 s
        if signal.getsignal(signal.SIGTERM) is signal.SIG_DFL:  # tbcore's handler has run
            break
        time.sleep(0.01)
print("released", flush=True)  # never: the SIGTERM ends the process before (or when the block ends)
"""


@pytest.mark.parametrize("where", ["deferred", "plain"])
def test_sigterm_while_the_main_thread_holds_the_thread_start_lock(tmp_path, where):
    """SIGTERM while the main thread holds the lock of threading.Thread.start (it may be starting any thread):
    the handler starts its helpers without that lock, every event is written and the process dies by SIGTERM
    (a handler that called Thread.start would wait for itself for ever)."""
    out = sigterm_when_ready(SIGTERM_HOLDING_THREAD_START_LOCK, "holding", tmp_path, where)
    assert "released" not in out
    all_files_intact(tmp_path)
    assert scalar_points(tmp_path, "loss") == [(step, float(step)) for step in range(50)]
