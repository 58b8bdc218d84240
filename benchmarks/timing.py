"""The clock of every workload: calling-thread time, and where the process's totals start."""

from __future__ import annotations

import os
import time


def rss_mb() -> float:
    """Return this process's resident memory now, in MiB (0 where /proc is missing)."""
    try:
        with open("/proc/self/statm") as statm:
            return int(statm.read().split()[1]) * os.sysconf("SC_PAGE_SIZE") / 2**20
    except OSError:
        return 0.0


class Timer:
    """A context manager adding the wall time of its blocks to ``elapsed`` (seconds).

    On first entry it also notes the wall clock, process CPU time and resident memory, so
    that totals count from the first call and not from the (untimed) preparation.
    """

    def __init__(self) -> None:
        self.elapsed = 0.0
        self.started: float | None = None
        self.cpu_started = 0.0
        self.rss_started = 0.0

    def __enter__(self) -> Timer:
        if self.started is None:
            self.rss_started = rss_mb()
            self.cpu_started = time.process_time()
            self.started = time.perf_counter()
        self._start = time.perf_counter()
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.elapsed += time.perf_counter() - self._start
