"""Reading scalars back: tbcore's reader against tbparse and TensorBoard's EventAccumulator.

``python benchmarks/read_scalars.py [--events 1000000] [--tags 10] [--runs 2] [--repeats 3] [--json out.json]``

Writes ``--events`` scalar events (spread over ``--tags`` tags and ``--runs`` runs) once
with tbcore, then times each reader on the same files, interleaved, and prints the
median seconds, events per second and how many times faster tbcore is. Every reader
must return every event (EventAccumulator keeps all with ``size_guidance`` 0). Other
benchmarks import :func:`make_logdir` and :func:`measure`.
"""

from __future__ import annotations

import argparse
import json
import math
import os
import statistics
import sys
import tempfile
import time
from collections.abc import Callable

READERS = ("tbcore", "tbcore-numpy", "tbcore-nocrc", "tbparse", "EventAccumulator")


def make_logdir(logdir: str, events: int, tags: int = 10, runs: int = 2) -> None:
    """Write ``events`` scalar events with tbcore into ``runs`` runs of ``logdir`` (round-robin over ``tags``)."""
    from tbcore import SummaryWriter

    per_run = events // runs
    for run in range(runs):
        with SummaryWriter(os.path.join(logdir, f"run{run}"), max_queue=10_000) as writer:
            names = [f"train/metric_{i}" for i in range(tags)]
            for i in range(per_run):
                writer.add_scalar(names[i % tags], math.sin(i), i // tags)


def _tbcore(as_frame: bool, check_crc: bool) -> Callable[[str], int]:
    def read(logdir: str) -> int:
        from tbcore.reader import scalars

        return len(scalars(logdir, as_frame=as_frame, check_crc=check_crc)["step"])

    return read


def _tbparse(logdir: str) -> int:
    from tbparse import SummaryReader

    return len(SummaryReader(logdir).scalars)


def _event_accumulator(logdir: str) -> int:
    from tensorboard.backend.event_processing import event_accumulator, io_wrapper

    count = 0
    for run_dir in io_wrapper.GetLogdirSubdirectories(logdir):
        acc = event_accumulator.EventAccumulator(run_dir, size_guidance={"scalars": 0})
        acc.Reload()
        count += sum(len(acc.Scalars(tag)) for tag in acc.Tags()["scalars"])
    return count


_FUNCTIONS: dict[str, Callable[[str], int]] = {
    "tbcore": _tbcore(True, True),
    "tbcore-numpy": _tbcore(False, True),
    "tbcore-nocrc": _tbcore(False, False),
    "tbparse": _tbparse,
    "EventAccumulator": _event_accumulator,
}


def measure(logdir: str, events: int, readers: tuple[str, ...] = READERS, repeats: int = 3) -> dict[str, dict]:
    """Time each reader ``repeats`` times (interleaved) on ``logdir``; return medians and speed-ups."""
    import importlib

    for module in ("pandas", "tbcore.reader", "tbparse", "tensorboard.backend.event_processing.event_accumulator"):
        importlib.import_module(module)  # imports are not part of the timings
    times: dict[str, list[float]] = {name: [] for name in readers}
    for _ in range(repeats):
        for name in readers:
            start = time.perf_counter()
            count = _FUNCTIONS[name](logdir)
            times[name].append(time.perf_counter() - start)
            if count != events:
                raise RuntimeError(f"{name} read {count} scalars, expected {events}")
    results = {name: {"seconds": statistics.median(values)} for name, values in times.items()}
    base = results.get("tbcore", next(iter(results.values())))["seconds"]
    for result in results.values():
        result["events_per_second"] = events / result["seconds"]
        result["tbcore_speedup"] = result["seconds"] / base
    return results


def markdown(results: dict[str, dict], events: int) -> str:
    """Return the results as a Markdown table."""
    lines = [
        f"| reader ({events:,} scalar events) | seconds | events/s | tbcore is ×faster |",
        "| --- | ---: | ---: | ---: |",
    ]
    for name, r in results.items():
        lines.append(f"| {name} | {r['seconds']:.2f} | {r['events_per_second']:,.0f} | {r['tbcore_speedup']:.1f} |")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    """Run the benchmark from the command line."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--events", type=int, default=1_000_000)
    parser.add_argument("--tags", type=int, default=10)
    parser.add_argument("--runs", type=int, default=2)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--readers", nargs="+", default=list(READERS), choices=READERS)
    parser.add_argument("--json", help="also write the results to this JSON file")
    args = parser.parse_args(argv)
    events = args.events // args.runs * args.runs
    with tempfile.TemporaryDirectory(prefix="tbcore-read-bench-") as logdir:
        make_logdir(logdir, events, args.tags, args.runs)
        results = measure(logdir, events, tuple(args.readers), args.repeats)
    print(markdown(results, events))
    if args.json:
        with open(args.json, "w") as out:
            json.dump({"events": events, "python": sys.version.split()[0], "results": results}, out, indent=2)
    return 0


if __name__ == "__main__":
    sys.exit(main())
