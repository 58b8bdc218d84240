"""Run one workload with one implementation in this (fresh) process and print its metrics as JSON.

Usage (run.py does this): ``python -m benchmarks.child WORKLOAD IMPL LOG_DIR CALLS``.
"""

from __future__ import annotations

import json
import os
import resource
import sys
import time
from typing import Any

from benchmarks.workloads import Timer, by_name, open_writer, read_scalars, write_scalars_file


def _rss_mb() -> float:
    """Return this process's resident memory now, in MiB (peak so far where /proc is missing)."""
    try:
        with open("/proc/self/statm") as statm:
            return int(statm.read().split()[1]) * os.sysconf("SC_PAGE_SIZE") / 2**20
    except OSError:
        return _peak_rss_mb()


def _peak_rss_mb() -> float:
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return peak / 2**20 if sys.platform == "darwin" else peak / 2**10


def _bytes_written(log_dir: str) -> int:
    return sum(os.path.getsize(os.path.join(d, f)) for d, _, files in os.walk(log_dir) for f in files)


def _unavailable(exc: BaseException) -> bool:
    """True for errors meaning "this implementation has no such summary type or dependency"."""
    if isinstance(exc, ImportError):
        return True
    return type(exc).__name__ == "UnknownSummaryType"


def run(name: str, impl: str, log_dir: str, calls: int) -> dict[str, Any]:
    """Run workload ``name`` with ``impl`` and return its metrics."""
    workload = by_name()[name]
    timer = Timer()
    extra: dict[str, float] = {}
    if workload.run is None:  # the reader workload: prepare the file, then time the reading
        write_scalars_file(log_dir, calls)
        rss_start, cpu_start, wall_start = _rss_mb(), time.process_time(), time.perf_counter()
        read = read_scalars(impl, log_dir, timer)
        if read != calls:
            raise RuntimeError(f"{impl} read {read} scalars, expected {calls}")
        close_s = 0.0
    else:
        writer = open_writer(impl, log_dir)
        rss_start, cpu_start, wall_start = _rss_mb(), time.process_time(), time.perf_counter()
        extra = workload.run(writer, calls, timer)
        closing = time.perf_counter()
        writer.close()
        close_s = time.perf_counter() - closing
    return {
        "call_us": timer.elapsed / calls * 1e6,
        "total_s": time.perf_counter() - wall_start,
        "close_s": close_s,
        "cpu_s": time.process_time() - cpu_start,
        "written_mb": _bytes_written(log_dir) / 2**20,
        "peak_rss_mb": _peak_rss_mb(),
        "rss_growth_mb": max(0.0, _peak_rss_mb() - rss_start),
        **extra,
    }


def main(argv: list[str]) -> int:
    """Print ``{"status": "ok"|"n/a"|"error", ...metrics}`` as one JSON line."""
    name, impl, log_dir, calls = argv[0], argv[1], argv[2], int(argv[3])
    try:
        result: dict[str, Any] = {"status": "ok", **run(name, impl, log_dir, calls)}
    except Exception as exc:  # noqa: BLE001 - reported to the parent, which shows it in the table
        status = "n/a" if _unavailable(exc) else "error"
        result = {"status": status, "reason": f"{type(exc).__name__}: {exc}"[:300]}
    print(json.dumps(result))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
