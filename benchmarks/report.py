"""The benchmark's Markdown tables: medians per implementation, ratios, and the targets of issue 7."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from benchmarks.workloads import Workload

#: (result key, label, multiplier to the unit shown)
METRICS = (
    ("call_us", "calling thread, µs/call", 1.0),
    ("total_s", "total incl. close, ms", 1e3),
    ("cpu_s", "CPU of all threads, ms", 1e3),
    ("written_mb", "written, MiB", 1.0),
    ("rss_growth_mb", "peak memory growth, MiB", 1.0),
    ("p50_us", "latency p50, µs", 1.0),
    ("p99_us", "latency p99, µs", 1.0),
    ("max_us", "latency max, µs", 1.0),
    ("output_kib", "output of one call, KiB", 1.0),
    ("max_pending", "largest backlog, items", 1.0),
    ("backlog_cap", "backlog cap, items", 1.0),
    ("puts", "uploads (PUTs)", 1.0),
    ("uploaded_mb", "uploaded, MiB", 1.0),
    ("largest_put_kib", "largest upload, KiB", 1.0),
    ("stored_mb", "stored, MiB", 1.0),
    ("segments", "objects stored", 1.0),
    ("growing_file_mb", "one growing file would upload, MiB", 1.0),
)

#: (description, workload, metric, compared with (None: absolute), the most allowed)
TARGETS = (
    ("add_scalar float, calling thread <= 1/20 torch", "scalar_float", "call_us", "torch", 1 / 20),
    ("add_scalar float, total incl. close <= 1/10 torch", "scalar_float", "total_s", "torch", 1 / 10),
    ("add_scalar numpy 0-d, calling thread <= 1/10 torch", "scalar_numpy", "call_us", "torch", 1 / 10),
    ("add_scalar torch 0-d, calling thread <= 1/10 torch", "scalar_torch", "call_us", "torch", 1 / 10),
    ("add_scalars 10 keys <= 1/10 torch", "add_scalars_10_keys", "call_us", "torch", 1 / 10),
    ("calling-thread p99 latency <= 20 µs", "latency_200k", "p99_us", None, 20.0),
    ("histogram 1M, total <= 1/3 torch", "histogram_1M", "total_s", "torch", 1 / 3),
    ("image, total <= 1/2 tensorboardX", "image_3x512x512", "total_s", "tensorboardX", 1 / 2),
    ("audio, total <= 1/10 torch", "audio_1s", "total_s", "torch", 1 / 10),
    ("embedding 10k x 128, total <= 1/3 torch", "embedding_10k_x_128", "total_s", "torch", 1 / 3),
    ("read 1M scalars >= 10x faster than tbparse", "read_1M_scalars", "total_s", "tbparse", 1 / 10),
)


def _fmt(value: float) -> str:
    if value == 0:
        return "0"
    if abs(value) >= 100:
        return f"{value:,.0f}"
    if abs(value) >= 1:
        return f"{value:.3g}" if abs(value) < 10 else f"{value:.1f}"
    return f"{value:.2g}"


def _cell(result: dict[str, Any], key: str, scale: float) -> str:
    if result["status"] != "ok":
        return result["status"]
    return _fmt(result[key] * scale) if key in result else "-"


def _ratio(first: dict[str, Any], other: dict[str, Any], key: str) -> str:
    if first["status"] != "ok" or other["status"] != "ok" or key not in first or not other.get(key):
        return "n/a"
    return f"{first[key] / other[key]:.3g}"


def table(workloads: Sequence[Workload], results: dict[str, dict[str, dict[str, Any]]]) -> str:
    """Return Markdown tables (one per set of implementations) of the median results."""
    groups: dict[tuple[str, ...], list[Workload]] = {}
    for workload in workloads:
        groups.setdefault(workload.impls, []).append(workload)
    out = []
    for impls, members in groups.items():
        first, others = impls[0], impls[1:]
        header = ["workload", "metric", *impls, *(f"{first}/{o}" for o in others)]
        lines = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
        for workload in members:
            per_impl = results[workload.name]
            for key, label, scale in METRICS:
                if not any(key in r for r in per_impl.values()):
                    continue
                cells = [_cell(per_impl[i], key, scale) for i in impls]
                ratios = [_ratio(per_impl[first], per_impl[o], key) for o in others]
                lines.append(f"| {workload.name} | {label} | " + " | ".join(cells + ratios) + " |")
        out.append("\n".join(lines))
    reasons = [(n, i, r["reason"]) for n, per in results.items() for i, r in per.items() if "reason" in r]
    notes = sorted({f"- {name} / {impl}: {reason}" for name, impl, reason in reasons})
    if notes:
        out.append("Not available or failed:\n" + "\n".join(notes))
    return "\n\n".join(out)


def check_targets(results: dict[str, dict[str, dict[str, Any]]]) -> str:
    """Return a Markdown table of the targets: the measured ratio (or value) and whether it is met."""
    lines = ["| target | measured | met |", "|---|---|---|"]
    for description, name, key, other, limit in TARGETS:
        per_impl = results.get(name)
        if per_impl is None:
            continue
        mine = per_impl["tbcore"]
        if mine["status"] != "ok" or (other is not None and per_impl[other]["status"] != "ok"):
            lines.append(f"| {description} | n/a | n/a |")
            continue
        value = mine[key] if other is None else mine[key] / per_impl[other][key]
        shown = f"{_fmt(value)}" if other is None else f"{value:.3g} (1/{1 / value:.3g})" if value else "0"
        lines.append(f"| {description} | {shown} | {'yes' if value <= limit else 'NO'} |")
    return "\n".join(lines)
