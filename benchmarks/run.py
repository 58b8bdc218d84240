"""Run the benchmark: every workload with every implementation, each in a fresh process.

``python -m benchmarks.run [--quick] [--repeats N] [--only NAME ...] [--json out.json] [--markdown out.md]``

Implementations are interleaved (A B C A B C ...; the order rotates each repeat), every
run gets a fresh log directory, and the table shows the median of the repeats and the
ratios of tbcore to the others.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import statistics
import subprocess
import sys
import tempfile
from typing import Any

from benchmarks.report import check_targets, table
from benchmarks.workloads import WORKLOADS, Workload

_ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def run_child(workload: Workload, impl: str, calls: int, timeout: float) -> dict[str, Any]:
    """Run one workload with one implementation in a new process and a new log directory."""
    env = dict(os.environ, PYTHONPATH=os.pathsep.join(filter(None, [_ROOT, os.environ.get("PYTHONPATH")])))
    with tempfile.TemporaryDirectory(prefix="tbcore-bench-") as log_dir:
        command = [sys.executable, "-m", "benchmarks.child", workload.name, impl, log_dir, str(calls)]
        try:
            done = subprocess.run(command, capture_output=True, text=True, env=env, timeout=timeout, check=False)
        except subprocess.TimeoutExpired:
            return {"status": "error", "reason": f"timed out after {timeout} s"}
    lines = done.stdout.strip().splitlines()
    if done.returncode != 0 or not lines:
        return {"status": "error", "reason": (done.stderr.strip().splitlines() or ["no output"])[-1][:300]}
    return json.loads(lines[-1])


def median_results(runs: list[dict[str, Any]]) -> dict[str, Any]:
    """Return the median of every metric over the successful runs (or the first failure)."""
    ok = [r for r in runs if r["status"] == "ok"]
    if not ok:
        return runs[0]
    metrics = {key: statistics.median(r[key] for r in ok) for key in ok[0] if key != "status"}
    return {"status": "ok", "repeats": len(ok), **metrics}


def machine() -> dict[str, str]:
    """Describe the machine and the library versions the numbers come from."""
    info = {"python": platform.python_version(), "platform": platform.platform(), "cpus": str(os.cpu_count())}
    try:
        with open("/proc/cpuinfo") as cpuinfo:
            models = [line.split(":", 1)[1].strip() for line in cpuinfo if line.startswith("model name")]
        info["cpu"] = models[0] if models else platform.processor()
    except OSError:
        info["cpu"] = platform.processor()
    for module in ("tbcore", "torch", "tensorboardX", "tensorboard", "numpy", "protobuf"):
        try:
            if module == "protobuf":
                from google.protobuf import __version__ as version
            else:
                version = __import__(module).__version__
        except ImportError:
            version = "not installed"
        info[module] = version
    return info


def main(argv: list[str] | None = None) -> int:
    """Run the benchmark and print the table; return 1 if a run failed with an error."""
    parser = argparse.ArgumentParser(prog="python -m benchmarks.run", description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true", help="small sizes and one repeat (a few minutes)")
    parser.add_argument("--repeats", type=int, help="runs per workload and implementation (default 3, quick 1)")
    parser.add_argument("--scale", type=float, default=1.0, help="multiply every workload's size (smoke tests)")
    parser.add_argument("--only", nargs="+", metavar="NAME", help="run only these workloads")
    parser.add_argument("--timeout", type=float, default=900, help="seconds one run may take")
    parser.add_argument("--json", metavar="PATH", help="write the results as JSON")
    parser.add_argument("--markdown", metavar="PATH", help="write the table as Markdown")
    args = parser.parse_args(argv)
    names = {w.name for w in WORKLOADS}
    unknown = sorted(set(args.only or ()) - names)
    if unknown:
        parser.error(f"--only: unknown workload(s) {', '.join(unknown)}; expected some of {', '.join(sorted(names))}")
    chosen = [w for w in WORKLOADS if not args.only or w.name in args.only]
    repeats = args.repeats or (1 if args.quick else 3)
    runs: dict[str, dict[str, list[dict[str, Any]]]] = {w.name: {impl: [] for impl in w.impls} for w in chosen}
    for repeat in range(repeats):
        for workload in chosen:
            calls = max(1, int((workload.quick if args.quick else workload.calls) * args.scale))
            shift = repeat % len(workload.impls)
            for impl in workload.impls[shift:] + workload.impls[:shift]:
                result = run_child(workload, impl, calls, args.timeout)
                result["calls"] = calls
                runs[workload.name][impl].append(result)
                print(f"[{repeat + 1}/{repeats}] {workload.name:<22} {impl:<16} {result['status']}", file=sys.stderr)
    results = {name: {impl: median_results(r) for impl, r in per_impl.items()} for name, per_impl in runs.items()}
    text = table(chosen, results)
    targets = check_targets(results)
    print(text)
    print(targets)
    report = {"machine": machine(), "quick": args.quick, "repeats": repeats, "scale": args.scale, "results": results}
    if args.json:
        with open(args.json, "w") as out:
            json.dump(report, out, indent=1)
    if args.markdown:
        with open(args.markdown, "w") as out:
            out.write(text + "\n\n" + targets + "\n")
    failed = [f"{n}/{i}" for n, per in results.items() for i, r in per.items() if r["status"] == "error"]
    if failed:
        print(f"errors in: {', '.join(failed)}", file=sys.stderr)
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
