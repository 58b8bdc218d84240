"""The benchmark workloads: what each implementation is asked to do, and how to open its writer.

A workload prepares its inputs (not timed), then runs its calls inside ``timer`` (the
calling thread's time). The child process times ``close()`` and the whole process's CPU.
"""

from __future__ import annotations

import os
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np

WRITERS = ("tbcore", "torch", "tensorboardX")
READERS = ("tbcore", "tbparse", "EventAccumulator")


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


def open_writer(impl: str, log_dir: str) -> Any:
    """Return a ``SummaryWriter`` of implementation ``impl`` writing into ``log_dir``."""
    if impl == "tbcore":
        from tbcore import SummaryWriter
    elif impl == "torch":
        from torch.utils.tensorboard import SummaryWriter
    elif impl == "tensorboardX":
        from tensorboardX import SummaryWriter
    else:
        raise ValueError(f"impl: expected one of {WRITERS}, got {impl!r}")
    return SummaryWriter(log_dir)


def _rng() -> np.random.Generator:
    return np.random.default_rng(0)


# ------------------------------------------------------------------ writer workloads
# Each takes (writer, n, timer) and returns a dict of extra metrics (usually empty).


def scalar_float(w: Any, n: int, timer: Timer) -> dict[str, float]:
    add = w.add_scalar
    with timer:
        for i in range(n):
            add("loss", i * 1e-3, i)
    return {}


def scalar_numpy(w: Any, n: int, timer: Timer) -> dict[str, float]:
    values = [np.array(v, dtype=np.float32) for v in _rng().random(n)]
    add = w.add_scalar
    with timer:
        for i, value in enumerate(values):
            add("loss", value, i)
    return {}


def scalar_torch(w: Any, n: int, timer: Timer) -> dict[str, float]:
    import torch

    values = list(torch.rand(n).unbind())
    add = w.add_scalar
    with timer:
        for i, value in enumerate(values):
            add("loss", value, i)
    return {}


def scalar_tags(w: Any, n: int, timer: Timer) -> dict[str, float]:
    tags = [f"metrics/tag{t:03d}" for t in range(100)]
    add = w.add_scalar
    with timer:
        for step in range(max(1, n // 100)):  # at least one step, also at the smoke test's tiny sizes
            for tag in tags:
                add(tag, step * 1e-3, step)
    return {}


def scalars_dict(w: Any, n: int, timer: Timer) -> dict[str, float]:
    keys = [f"k{k}" for k in range(10)]
    add = w.add_scalars
    with timer:
        for step in range(n):
            add("train", {key: step * 1e-3 for key in keys}, step)
    return {}


def text(w: Any, n: int, timer: Timer) -> dict[str, float]:
    add = w.add_text
    with timer:
        for step in range(n):
            add("notes", f"step **{step}**: loss went down", step)
    return {}


def pr_curve(w: Any, n: int, timer: Timer) -> dict[str, float]:
    rng = _rng()
    labels = rng.integers(0, 2, 100_000)
    predictions = rng.random(100_000).astype(np.float32)
    with timer:
        for step in range(n):
            w.add_pr_curve("pr", labels, predictions, step)
    return {}


def embedding(w: Any, n: int, timer: Timer) -> dict[str, float]:
    mat = _rng().standard_normal((10_000, 128)).astype(np.float32)
    metadata = [f"item{i % 10}" for i in range(10_000)]
    if w.__class__.__module__.startswith("torch"):
        import torch

        mat = torch.from_numpy(mat)  # torch's add_embedding needs a tensor
    with timer:
        for step in range(n):
            w.add_embedding(mat, metadata=metadata, global_step=step, tag=f"emb{step}")
    return {}


def latency(w: Any, n: int, timer: Timer) -> dict[str, float]:
    """add_scalar calls timed one by one while the writer thread writes the earlier ones."""
    add = w.add_scalar
    clock = time.perf_counter_ns
    times = np.empty(n, dtype=np.int64)
    with timer:
        for i in range(n):
            start = clock()
            add("loss", i * 1e-3, i)
            times[i] = clock() - start
    p50, p99 = np.percentile(times, [50, 99]) / 1e3
    return {"p50_us": float(p50), "p99_us": float(p99), "max_us": float(times.max()) / 1e3}


# ------------------------------------------------------------------ reader workload
def write_scalars_file(log_dir: str, n: int) -> None:
    """Write ``n`` scalars with tbcore (the input of the reader workload; not timed)."""
    from tbcore import SummaryWriter

    with SummaryWriter(log_dir) as w:
        for i in range(n):
            w.add_scalar("loss", i * 1e-3, i)


def read_scalars(impl: str, log_dir: str, timer: Timer) -> int:
    """Read every scalar of ``log_dir`` back with reader ``impl``; return how many were read."""
    if impl == "tbcore":
        import tbcore.reader as reader

        with timer:
            return len(reader.scalars(log_dir, as_frame=True))  # a pandas DataFrame, like tbparse's
    if impl == "tbparse":
        from tbparse import SummaryReader

        with timer:
            return len(SummaryReader(log_dir).scalars)
    if impl == "EventAccumulator":
        from tensorboard.backend.event_processing.event_accumulator import EventAccumulator

        with timer:
            acc = EventAccumulator(log_dir, size_guidance={"scalars": 0})  # 0: keep every value
            acc.Reload()
            return sum(len(acc.Scalars(tag)) for tag in acc.Tags()["scalars"])
    raise ValueError(f"impl: expected one of {READERS}, got {impl!r}")


# ------------------------------------------------------------------ the list
@dataclass(frozen=True)
class Workload:
    """One benchmark workload: ``calls`` at full size, ``quick`` with ``--quick``."""

    name: str
    description: str
    calls: int
    quick: int
    run: Callable[[Any, int, Timer], dict[str, float]] | None = None
    impls: tuple[str, ...] = WRITERS


def _image() -> np.ndarray:
    return _rng().random((3, 512, 512), dtype=np.float32)


def _images() -> np.ndarray:
    return _rng().random((16, 3, 64, 64), dtype=np.float32)


def _audio() -> np.ndarray:
    t = np.arange(44_100, dtype=np.float32) / 44_100
    return (0.5 * np.sin(2 * np.pi * 440 * t)).astype(np.float32)


def _video() -> np.ndarray:
    return (_rng().random((1, 16, 3, 64, 64)) * 255).astype(np.uint8)


def _histogram_values() -> np.ndarray:
    return _rng().standard_normal(1_000_000, dtype=np.float32)


def _prepared(method: str, make: Callable[[], np.ndarray], **kwargs: Any) -> Callable[..., dict[str, float]]:
    """Return a workload calling ``method`` ``n`` times with the one value ``make()`` returns."""

    def run(w: Any, n: int, timer: Timer) -> dict[str, float]:
        value = make()
        add = getattr(w, method)
        with timer:
            for step in range(n):
                add(method, value, step, **kwargs)
        return {}

    return run


WORKLOADS: tuple[Workload, ...] = (
    Workload("scalar_float", "add_scalar with a Python float", 100_000, 2_000, scalar_float),
    Workload("scalar_numpy", "add_scalar with a 0-d numpy float32 array", 100_000, 2_000, scalar_numpy),
    Workload("scalar_torch", "add_scalar with a 0-d torch CPU tensor", 100_000, 2_000, scalar_torch),
    Workload("scalar_100_tags", "add_scalar, 100 tags x 1000 steps", 100_000, 2_000, scalar_tags),
    Workload("add_scalars_10_keys", "add_scalars with 10 keys, 10k steps", 10_000, 200, scalars_dict),
    Workload("histogram_1M", "add_histogram of 1M float32", 10, 2, _prepared("add_histogram", _histogram_values)),
    Workload("image_3x512x512", "add_image of a 3x512x512 float image", 20, 2, _prepared("add_image", _image)),
    Workload("images_16x3x64x64", "add_images of 16x3x64x64 floats", 20, 2, _prepared("add_images", _images)),
    Workload("audio_1s", "add_audio of 1 s, 44.1 kHz", 20, 2, _prepared("add_audio", _audio, sample_rate=44_100)),
    Workload("video_1x16x3x64x64", "add_video of 16 frames 3x64x64 uint8", 5, 1, _prepared("add_video", _video)),
    Workload("text", "add_text of a short Markdown string", 10_000, 200, text),
    Workload("pr_curve_100k", "add_pr_curve of 100k predictions", 10, 2, pr_curve),
    Workload("embedding_10k_x_128", "add_embedding of 10k x 128 with metadata", 1, 1, embedding),
    Workload("latency_200k", "add_scalar latency while the writer thread writes", 200_000, 5_000, latency),
    Workload("read_1M_scalars", "read back scalars written by tbcore", 1_000_000, 5_000, None, READERS),
)


def by_name() -> dict[str, Workload]:
    """Return the workloads keyed by name."""
    return {w.name: w for w in WORKLOADS}
