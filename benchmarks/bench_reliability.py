"""Reliability figures: the bounded backlog of a tight add_scalar loop, and histogram memory.

Run: ``.venv/bin/python benchmarks/bench_reliability.py`` (prints one line per figure).

- ``backlog``: a loop of add_scalar calls as fast as Python goes. The caller never runs
  more than ``max(max_queue, MIN_BACKLOG)`` events ahead of the writer thread, so the
  per-call time includes waiting for that thread; ``max pending`` is the largest queue
  seen, and bounds what a SIGKILL can lose.
- ``histogram``: growth of the peak resident memory (maxrss) during one add_histogram of
  N float32 values, in a fresh process (tests/test_resources.py measures it with tracemalloc).
"""

from __future__ import annotations

import json
import subprocess
import sys
import tempfile
import threading
import time

HISTOGRAM = """
import json, resource, sys, tempfile
import numpy as np
from tbcore import SummaryWriter
values = np.random.default_rng(0).standard_normal(int(sys.argv[1]), dtype=np.float32)
writer = SummaryWriter(tempfile.mkdtemp())
writer.add_histogram("warm-up", values[:100], 0)
writer.flush()
resident = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss  # KiB: values are in memory already
writer.add_histogram("values", values, 1)
writer.close()
peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
print(json.dumps({"input_mb": values.nbytes / 1e6, "extra_mb": (peak - resident) * 1024 / 1e6}))
"""


def measure_backlog(calls: int = 300_000) -> dict[str, float]:
    """Return the per-call time of a tight add_scalar loop and the largest queue seen while it ran."""
    from tbcore import SummaryWriter

    writer = SummaryWriter(tempfile.mkdtemp())
    items = writer._pipeline._items
    largest = [0]
    done = threading.Event()

    def watch() -> None:
        while not done.is_set():
            largest[0] = max(largest[0], len(items))
            time.sleep(0.0005)

    watcher = threading.Thread(target=watch)
    watcher.start()
    start = time.perf_counter()
    for step in range(calls):
        writer.add_scalar("loss", 0.5, step)
    added = time.perf_counter()
    writer.close()
    done.set()
    watcher.join()
    return {
        "add_us": 1e6 * (added - start) / calls,
        "with_close_us": 1e6 * (time.perf_counter() - start) / calls,
        "max_pending": largest[0],
        "backlog_cap": writer._pipeline.max_pending_items,
    }


def measure_histogram(values: int) -> dict[str, float]:
    """Return the input size and the extra memory of add_histogram of ``values`` float32 values (MB)."""
    result = subprocess.run([sys.executable, "-c", HISTOGRAM, str(values)], capture_output=True, text=True, check=True)
    return json.loads(result.stdout)


def main() -> None:
    """Print every figure."""
    print("backlog:", measure_backlog())
    for values in (10_000_000, 100_000_000):
        print(f"histogram of {values:,} float32:", measure_histogram(values))


if __name__ == "__main__":
    main()
