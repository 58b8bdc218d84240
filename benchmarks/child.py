"""Run one workload with one implementation in this (fresh) process and print its metrics as JSON.

Every workload first runs once with one call (or one scalar read) in a scratch directory,
untimed, so that imports and first-call set-up (plugin discovery, lazy imports) are not counted.

Usage (run.py does this): ``python -m benchmarks.child WORKLOAD IMPL LOG_DIR CALLS``.
"""

from __future__ import annotations

import json
import os
import resource
import sys
import tempfile
import time
from typing import Any

from benchmarks.workloads import Timer, by_name, open_writer, read_scalars, write_scalars_file


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
        with tempfile.TemporaryDirectory(prefix="tbcore-warm-up-") as warm_up:
            write_scalars_file(warm_up, 1)
            read_scalars(impl, warm_up, Timer())
        write_scalars_file(log_dir, calls)
        read = read_scalars(impl, log_dir, timer)
        if read != calls:
            raise RuntimeError(f"{impl} read {read} scalars, expected {calls}")
        close_s = 0.0
    else:
        with tempfile.TemporaryDirectory(prefix="tbcore-warm-up-") as warm_up:  # one-time costs: imports, plugins
            writer = open_writer(impl, warm_up)
            workload.run(writer, 1, Timer())
            writer.close()
        writer = open_writer(impl, log_dir)
        extra = workload.run(writer, calls, timer)
        closing = time.perf_counter()
        writer.close()
        close_s = time.perf_counter() - closing
    assert timer.started is not None, f"workload {name} never entered its timer"
    return {
        "call_us": timer.elapsed / calls * 1e6,
        "total_s": time.perf_counter() - timer.started,
        "close_s": close_s,
        "cpu_s": time.process_time() - timer.cpu_started,
        "written_mb": _bytes_written(log_dir) / 2**20,
        "peak_rss_mb": _peak_rss_mb(),
        "rss_growth_mb": max(0.0, _peak_rss_mb() - timer.rss_started),
        **extra,
    }


def main_result(name: str, impl: str, log_dir: str, calls: int) -> dict[str, Any]:
    """Return ``{"status": "ok"|"n/a"|"error", ...metrics}`` of one run (errors become results)."""
    try:
        return {"status": "ok", **run(name, impl, log_dir, calls)}
    except Exception as exc:  # noqa: BLE001 - reported to the parent, which shows it in the table
        status = "n/a" if _unavailable(exc) else "error"
        return {"status": status, "reason": f"{type(exc).__name__}: {exc}"[:300]}


def main(argv: list[str]) -> int:
    """Print the result of ``WORKLOAD IMPL LOG_DIR CALLS`` as one JSON line."""
    print(json.dumps(main_result(argv[0], argv[1], argv[2], int(argv[3]))))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
