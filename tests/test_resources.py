"""Resource lifetime: no leaked descriptors or threads, collected writers flushed, flat memory, huge inputs."""

from __future__ import annotations

import gc
import json
import os
import threading

import pytest

from reliability_helpers import python
from tb_helpers import scalar_points
from tbcore import SummaryWriter, lifecycle


def _open_descriptors() -> int:
    return len(os.listdir("/proc/self/fd"))


@pytest.mark.skipif(not os.path.isdir("/proc/self/fd"), reason="needs /proc")
def test_ten_thousand_writers_leave_no_descriptors_or_threads(tmp_path):
    """10k writers opened, used and closed in sequence: descriptor and thread counts come back."""
    descriptors, threads = _open_descriptors(), threading.active_count()
    for index in range(10_000):
        writer = SummaryWriter(tmp_path / "runs", filename_suffix=f".{index}")
        writer.add_scalar("loss", 1.0, index)
        writer.close()
    assert _open_descriptors() == descriptors
    assert threading.active_count() == threads
    assert len(os.listdir(tmp_path / "runs")) == 10_000


def test_writer_dropped_without_close_is_flushed_and_closed(logdir):
    """A writer that is garbage-collected writes its events and frees its descriptor and thread."""
    descriptors, threads = _open_descriptors(), threading.active_count()
    writer = SummaryWriter(logdir, max_queue=10_000, flush_secs=10_000)
    writer.add_scalar("loss", 1.0, 0)
    writer.add_scalars("pair", {"a": 2.0}, 0)
    del writer
    gc.collect()
    assert scalar_points(logdir, "loss") == [(0, 1.0)]
    assert scalar_points(logdir / "pair_a", "pair") == [(0, 2.0)]
    assert _open_descriptors() == descriptors
    assert threading.active_count() == threads
    assert not [w for w in lifecycle.live_writers() if w.log_dir == str(logdir)]


def _resident_bytes() -> int:
    with open("/proc/self/statm") as statm:
        return int(statm.read().split()[1]) * os.sysconf("SC_PAGE_SIZE")


@pytest.mark.slow
@pytest.mark.skipif(not os.path.exists("/proc/self/statm"), reason="needs /proc")
def test_memory_is_flat_over_100k_add_scalars(logdir):
    """100k steps of add_scalars (3 sub-runs): resident memory after them is what it was after a warm-up."""
    writer = SummaryWriter(logdir)
    values = {"train": 1.0, "val": 2.0, "test": 3.0}
    for step in range(5_000):
        writer.add_scalars("loss", values, step)
    writer.flush()
    gc.collect()
    before = _resident_bytes()
    for step in range(5_000, 105_000):
        writer.add_scalars("loss", values, step)
    writer.flush()
    gc.collect()
    growth = _resident_bytes() - before
    writer.close()
    assert growth < 4 * 1024 * 1024, growth
    assert len(scalar_points(logdir / "loss_val", "loss")) == 105_000


HUGE_HISTOGRAM = """
import json, sys, tracemalloc
import numpy as np
from tbcore import SummaryWriter
values = np.random.default_rng(0).standard_normal(100_000_000, dtype=np.float32)
values[::1000] = np.nan
writer = SummaryWriter(sys.argv[1])
writer.add_histogram("warm-up", values[:1000], 0)
tracemalloc.start()
before, _ = tracemalloc.get_traced_memory()
writer.add_histogram("huge", values, 1)
writer.flush()
_, peak = tracemalloc.get_traced_memory()
writer.close()
print(json.dumps({"input": values.nbytes, "extra": peak - before}))
"""


@pytest.mark.slow
def test_histogram_of_100m_values_needs_less_than_the_input_again(tmp_path):
    """add_histogram of 100M float32 values (400 MB) allocates less than another 400 MB on top of the input."""
    result = python(HUGE_HISTOGRAM, tmp_path)
    assert result.returncode == 0, result.stderr
    report = json.loads(result.stdout)
    print("histogram of 100M values:", report)
    assert report["extra"] < report["input"]
    from tbcore.testing import tensorboard_accumulator

    histogram = tensorboard_accumulator(tmp_path).Tensors("huge")
    assert len(histogram) == 1
