"""The benchmark workloads: what each implementation is asked to do, and how to open its writer.

A writer workload gets a ``SummaryWriter`` of each implementation, prepares its inputs
(not timed), then runs its calls inside ``timer`` (the calling thread's time); the child
process times ``close()`` and the whole process's CPU. The workloads that open no writer
per implementation (readers, encoders, tbcore-only figures) are in benchmarks/direct.py.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np

from benchmarks.direct import (
    GIF_ENCODERS,
    PNG_ENCODERS,
    READERS,
    DirectRun,
    gif_encoding,
    inactive_rank,
    png_encoding,
    read_scalars,
    remote_uploads,
    scalar_backlog,
)
from benchmarks.timing import Timer

WRITERS = ("tbcore", "torch", "tensorboardX")


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


def scalar_new_style(w: Any, n: int, timer: Timer) -> dict[str, float]:
    add = w.add_scalar
    with timer:
        for i in range(n):
            add("loss", i * 1e-3, i, new_style=True)
    return {}


def _add_each(w: Any, values: list[Any], timer: Timer) -> dict[str, float]:
    """``add_scalar`` of each prepared value in turn, at steps 0, 1, ..."""
    add = w.add_scalar
    with timer:
        for i, value in enumerate(values):
            add("loss", value, i)
    return {}


def scalar_int(w: Any, n: int, timer: Timer) -> dict[str, float]:
    return _add_each(w, list(range(n)), timer)


def scalar_numpy(w: Any, n: int, timer: Timer) -> dict[str, float]:
    return _add_each(w, [np.array(v, dtype=np.float32) for v in _rng().random(n)], timer)


def scalar_torch(w: Any, n: int, timer: Timer) -> dict[str, float]:
    import torch

    return _add_each(w, list(torch.rand(n).unbind()), timer)


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


def graph_torch(w: Any, n: int, timer: Timer) -> dict[str, float]:
    """add_graph of a torch MLP of 8 x (Linear 64x64 + ReLU)."""
    import torch

    layers = [torch.nn.Sequential(torch.nn.Linear(64, 64), torch.nn.ReLU()) for _ in range(8)]
    model, x = torch.nn.Sequential(*layers), torch.randn(4, 64)
    with timer:
        for _ in range(n):
            w.add_graph(model, x)
    return {}


def graph_jax(w: Any, n: int, timer: Timer) -> dict[str, float]:
    """add_graph of a JAX function: an 8-layer tanh MLP as a lax.scan (tbcore only)."""
    import jax
    import jax.numpy as jnp

    def mlp() -> Callable[[Any, Any], Any]:  # a new function each call: JAX's tracing cache must not help
        return lambda weights, h: jax.lax.scan(lambda c, w: (jnp.tanh(c @ w), None), h, weights)[0]

    args = (jnp.ones((8, 64, 64)), jnp.ones((4, 64)))
    with timer:
        for _ in range(n):
            w.add_graph(mlp(), args)
    return {}


# ------------------------------------------------------------------ the list
WriterRun = Callable[[Any, int, Timer], dict[str, float]]


@dataclass(frozen=True)
class Workload:
    """One benchmark workload: ``calls`` at full size, ``quick`` with ``--quick``.

    Exactly one of ``run`` (called with a writer of each implementation) and ``direct``
    (called with the implementation's name, see benchmarks/direct.py) is set.
    """

    name: str
    description: str
    calls: int
    quick: int
    run: WriterRun | None = None
    impls: tuple[str, ...] = WRITERS
    direct: DirectRun | None = None

    def __post_init__(self) -> None:
        if (self.run is None) == (self.direct is None):
            raise ValueError(f"workload {self.name}: expected exactly one of run and direct")


def _image() -> np.ndarray:
    return _rng().random((3, 512, 512), dtype=np.float32)


def _images() -> np.ndarray:
    return _rng().random((16, 3, 64, 64), dtype=np.float32)


def _audio(seconds: int = 1) -> np.ndarray:
    t = np.arange(44_100 * seconds, dtype=np.float32) / 44_100
    return (0.5 * np.sin(2 * np.pi * 440 * t)).astype(np.float32)


def _video() -> np.ndarray:
    return (_rng().random((1, 16, 3, 64, 64)) * 255).astype(np.uint8)


def _histogram_values(size: int = 1_000_000) -> np.ndarray:
    return _rng().standard_normal(size, dtype=np.float32)


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
    Workload("scalar_int", "add_scalar with a Python int", 100_000, 2_000, scalar_int),
    Workload("scalar_numpy", "add_scalar with a 0-d numpy float32 array", 100_000, 2_000, scalar_numpy),
    Workload("scalar_torch", "add_scalar with a 0-d torch CPU tensor", 100_000, 2_000, scalar_torch),
    Workload("scalar_100_tags", "add_scalar, 100 tags x 1000 steps", 100_000, 2_000, scalar_tags),
    Workload(
        "scalar_new_style",
        "add_scalar(..., new_style=True) with a Python float (tensorboardX has no new_style)",
        100_000,
        2_000,
        scalar_new_style,
        ("tbcore", "torch"),
    ),
    Workload("add_scalars_10_keys", "add_scalars with 10 keys, 10k steps", 10_000, 200, scalars_dict),
    Workload("histogram_1M", "add_histogram of 1M float32", 10, 2, _prepared("add_histogram", _histogram_values)),
    Workload(
        "histogram_10M",
        "add_histogram of 10M float32 (memory)",
        1,
        1,
        _prepared("add_histogram", lambda: _histogram_values(10_000_000)),
    ),
    Workload("image_3x512x512", "add_image of a 3x512x512 float image", 20, 2, _prepared("add_image", _image)),
    Workload("images_16x3x64x64", "add_images of 16x3x64x64 floats", 20, 2, _prepared("add_images", _images)),
    Workload("audio_1s", "add_audio of 1 s, 44.1 kHz", 20, 2, _prepared("add_audio", _audio, sample_rate=44_100)),
    Workload(
        "audio_10s",
        "add_audio of 10 s, 44.1 kHz",
        10,
        1,
        _prepared("add_audio", lambda: _audio(10), sample_rate=44_100),
    ),
    Workload("video_1x16x3x64x64", "add_video of 16 frames 3x64x64 uint8", 5, 1, _prepared("add_video", _video)),
    Workload("text", "add_text of a short Markdown string", 10_000, 200, text),
    Workload("pr_curve_100k", "add_pr_curve of 100k predictions", 10, 2, pr_curve),
    Workload("embedding_10k_x_128", "add_embedding of 10k x 128 with metadata", 1, 1, embedding),
    Workload("latency_200k", "add_scalar latency while the writer thread writes", 200_000, 5_000, latency),
    Workload("graph_torch_mlp", "add_graph of 8 x (Linear 64x64 + ReLU)", 3, 1, graph_torch),
    Workload("graph_jax_scan", "add_graph of a JAX scan over 8 tanh layers", 3, 1, graph_jax, ("tbcore",)),
    Workload(
        "scalar_backlog_300k",
        "add_scalar loop; largest writer-thread backlog",
        300_000,
        5_000,
        impls=("tbcore",),
        direct=scalar_backlog,
    ),
    Workload(
        "scalar_other_rank",
        "add_scalar on a rank that writes nothing",
        200_000,
        5_000,
        impls=("tbcore",),
        direct=inactive_rank,
    ),
    Workload(
        "remote_2000x100",
        "2000 x (100 add_scalar + flush) to memory://",
        2_000,
        20,
        impls=("tbcore",),
        direct=remote_uploads(100),
    ),
    Workload(
        "remote_100x20k",
        "100 x (20k add_scalar + flush) to memory://",
        100,
        2,
        impls=("tbcore",),
        direct=remote_uploads(20_000),
    ),
    Workload(
        "read_1M_scalars", "read back scalars written by tbcore", 1_000_000, 5_000, impls=READERS, direct=read_scalars
    ),
    Workload(
        "png_photo_512",
        "encode a 512x512 noisy gradient as PNG",
        20,
        2,
        impls=PNG_ENCODERS,
        direct=png_encoding("photo"),
    ),
    Workload(
        "png_smooth_512",
        "encode a 512x512 smooth gradient as PNG",
        20,
        2,
        impls=PNG_ENCODERS,
        direct=png_encoding("smooth"),
    ),
    Workload(
        "gif_4x16x3x64x64", "encode 4 x 16 frames of 64x64 noise as GIF", 5, 1, impls=GIF_ENCODERS, direct=gif_encoding
    ),
)


def by_name() -> dict[str, Workload]:
    """Return the workloads keyed by name."""
    return {w.name: w for w in WORKLOADS}
