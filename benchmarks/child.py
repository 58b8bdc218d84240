"""Run one workload with one implementation in this (fresh) process and print its metrics as JSON.

Every workload first runs once with one call in a scratch directory, untimed, so that
imports and first-call set-up (plugin discovery, lazy imports) are not counted.

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

from benchmarks.timing import Timer
from benchmarks.workloads import Workload, by_name, open_writer


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


def _calls(workload: Workload, impl: str, log_dir: str, calls: int, timer: Timer) -> tuple[dict[str, float], float]:
    """Run ``calls`` of the workload in ``log_dir``; return its extra metrics and the seconds ``close()`` took."""
    if workload.direct is not None:
        return workload.direct(impl, log_dir, calls, timer), 0.0
    assert workload.run is not None  # Workload checks that one of the two is set
    writer = open_writer(impl, log_dir)
    extra = workload.run(writer, calls, timer)
    closing = time.perf_counter()
    writer.close()
    return extra, time.perf_counter() - closing


def run(name: str, impl: str, log_dir: str, calls: int) -> dict[str, Any]:
    """Run workload ``name`` with ``impl`` and return its metrics."""
    workload = by_name()[name]
    with tempfile.TemporaryDirectory(prefix="tbcore-warm-up-") as warm_up:  # one-time costs: imports, plugins
        _calls(workload, impl, warm_up, 1, Timer())
    timer = Timer()
    extra, close_s = _calls(workload, impl, log_dir, calls, timer)
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
    """Return ``{"status": "ok"|"n/a"|"error", ...metrics}`` of one run (errors become results).

    A run stopped by a module that is not installed also says which: ``{"missing": "torch"}``.
    """
    try:
        return {"status": "ok", **run(name, impl, log_dir, calls)}
    except Exception as exc:  # noqa: BLE001 - reported to the parent, which shows it in the table
        status = "n/a" if _unavailable(exc) else "error"
        result = {"status": status, "reason": f"{type(exc).__name__}: {exc}"[:300]}
        if isinstance(exc, ModuleNotFoundError) and exc.name:
            result["missing"] = exc.name
        return result


def main(argv: list[str]) -> int:
    """Print the result of ``WORKLOAD IMPL LOG_DIR CALLS`` as one JSON line."""
    print(json.dumps(main_result(argv[0], argv[1], argv[2], int(argv[3]))))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
