"""``tbcore demo``: a toy training loop that writes every installed summary type.

Each summary type is written through the torch-compatible ``add_*`` method that uses
it, only if that type is installed (``tbcore plugins`` lists them), so the demo works
with any subset of plugins. A type that needs a missing optional dependency (Pillow,
soundfile, a framework for graphs) is reported as skipped with the reason.
"""

from __future__ import annotations

import importlib.util
import math
import sys
from collections.abc import Callable, Iterable, Iterator
from typing import Any

import numpy as np

from tbcore import plugins
from tbcore.compat import SummaryWriter

__all__ = ["STEPS", "run_demo"]

STEPS = 30
_EVERY = 5  # media are written every few steps
Step = Callable[[SummaryWriter, int, np.random.Generator], None]


def _picture(step: int, size: int = 64) -> np.ndarray:
    """A CHW float image in [0, 1] that changes with the step (rings moving outwards)."""
    y, x = np.mgrid[0:size, 0:size] / size - 0.5
    radius = np.sqrt(x * x + y * y)
    rings = 0.5 + 0.5 * np.sin(40 * radius - step / 2)
    return np.stack([rings, np.abs(x) * 2, 1 - rings]).astype(np.float32)


def _scalars(w: SummaryWriter, step: int, rng: np.random.Generator) -> None:
    loss = 2.0 * math.exp(-step / 10) + 0.05 * rng.random()
    w.add_scalar("train/loss", loss, step)
    w.add_scalar("train/accuracy", 1 - loss / 2.2, step)
    w.add_scalar("train/learning_rate", 0.1 * 0.95**step, step)


def _histograms(w: SummaryWriter, step: int, rng: np.random.Generator) -> None:
    w.add_histogram("weights/layer1", rng.normal(0, 1 + step / 10, 1000), step)


def _media(kind: str) -> Step:
    def write(w: SummaryWriter, step: int, rng: np.random.Generator) -> None:
        if step % _EVERY:
            return
        picture = _picture(step)
        if kind == "image":
            w.add_image("samples/rings", picture, step)
        elif kind == "images":
            w.add_images("samples/batch", np.stack([_picture(step + k) for k in range(4)]), step)
        elif kind == "image_with_boxes":
            w.add_image_with_boxes("samples/boxes", picture, np.array([[8, 8, 40, 30]]), step, labels=["ring"])
        elif kind == "video":
            frames = np.stack([_picture(step + k, 32) for k in range(8)])
            w.add_video("samples/video", frames[None], step, fps=4)
        elif kind == "audio":
            t = np.arange(16000) / 16000
            w.add_audio("samples/tone", 0.5 * np.sin(2 * np.pi * (220 + 20 * step) * t), step, sample_rate=16000)
        elif kind == "text":
            w.add_text("notes", f"**step {step}**: loss is going *down*", step)
        elif kind == "pr_curve":
            labels = rng.integers(0, 2, 200)
            w.add_pr_curve("eval/pr", labels, np.clip(labels * 0.3 + rng.random(200) * 0.7, 0, 1), step)
        elif kind == "mesh":
            vertices = np.array([[[0, 0, 0], [1, 0, 0], [0, 1, 0], [0, 0, 1]]], dtype=np.float32) * (1 + step / 30)
            colors = np.array([[[255, 0, 0], [0, 255, 0], [0, 0, 255], [255, 255, 0]]], dtype=np.uint8)
            faces = np.array([[[0, 1, 2], [0, 1, 3], [0, 2, 3], [1, 2, 3]]], dtype=np.int32)
            w.add_mesh("shapes/tetrahedron", vertices, colors=colors, faces=faces, global_step=step)
        elif kind == "tensor":
            w.add_tensor("raw/activations", rng.normal(size=(4, 8)).astype(np.float32), step)
        elif kind == "figure":
            _figure(w, step)

    return write


def _figure(w: SummaryWriter, step: int) -> None:
    import matplotlib

    matplotlib.use("Agg")
    from matplotlib import pyplot as plt

    figure, axes = plt.subplots(figsize=(3, 2))
    axes.plot(np.arange(step + 1), np.exp(-np.arange(step + 1) / 10))
    w.add_figure("plots/loss", figure, step)


def _once(kind: str, w: SummaryWriter, rng: np.random.Generator) -> None:
    if kind == "scalars":
        for step in range(0, STEPS, _EVERY):
            w.add_scalars("loss", {"train": 1 / (step + 1), "validation": 1.2 / (step + 1)}, step)
    elif kind == "custom_scalars":
        w.add_custom_scalars({"Training": {"loss vs accuracy": ["Multiline", ["train/loss", "train/accuracy"]]}})
    elif kind == "embedding":
        points = np.concatenate([rng.normal(c, 0.3, (30, 8)) for c in (0, 2, 4)]).astype(np.float32)
        w.add_embedding(points, metadata=[f"cluster {i // 30}" for i in range(90)], global_step=STEPS, tag="points")
    elif kind == "hparams":
        w.add_hparams({"lr": 0.1, "batch_size": 32, "optimizer": "sgd"}, {"hparam/accuracy": 0.9}, run_name="trial0")
    elif kind == "histogram_raw":
        w.add_histogram_raw("weights/raw", 0, 3, 6, 9, 21, [1, 2, 3], [1, 2, 3], STEPS)
    elif kind == "pr_curve_raw":
        counts = ([3, 2, 0], [2, 1, 0], [0, 1, 2], [0, 1, 3])
        w.add_pr_curve_raw("eval/pr_raw", *counts, [0.6, 0.67, 1], [1, 0.67, 0], 0, num_thresholds=3)


_PER_STEP: dict[str, Step] = {
    "scalar": _scalars,
    "histogram": _histograms,
    **{k: _media(k) for k in ("image", "images", "image_with_boxes", "video", "audio", "text")},
    **{k: _media(k) for k in ("pr_curve", "mesh", "tensor", "figure")},
}
_ONCE = ("scalars", "custom_scalars", "embedding", "hparams", "histogram_raw", "pr_curve_raw")


def _graph(w: SummaryWriter) -> str:
    """Write a small model's graph with the first installed framework; return what happened."""
    if importlib.util.find_spec("torch") is None:
        return "skipped (no torch installed)"
    import torch

    model = torch.nn.Sequential(torch.nn.Linear(8, 16), torch.nn.ReLU(), torch.nn.Linear(16, 2))
    try:
        w.add_graph(model, torch.zeros(1, 8))
    except TypeError:
        return "skipped (no graph builder for torch models is installed)"
    except ImportError as error:
        return f"skipped ({error})"
    return "written"


def _progress(steps: int) -> Iterator[int]:
    """Yield ``range(steps)`` with a progress bar on stderr (tqdm when installed)."""
    if importlib.util.find_spec("tqdm") is not None:
        from tqdm import tqdm

        yield from tqdm(range(steps), desc="training", unit="step", file=sys.stderr)
        return
    for step in range(steps):
        done = (step + 1) * 30 // steps
        sys.stderr.write(f"\rtraining [{'#' * done}{'.' * (30 - done)}] {step + 1}/{steps}")
        sys.stderr.flush()
        yield step
    sys.stderr.write("\n")


def run_demo(logdir: str, installed: Iterable[str] | None = None) -> dict[str, str]:
    """Write the demo run into ``logdir``; return ``{summary type: "written" | "skipped (why)" | ...}``."""
    kinds = set(plugins.summary_types() if installed is None else installed)
    outcome: dict[str, str] = {}
    rng = np.random.default_rng(0)

    def attempt(kind: str, call: Callable[..., None], *args: Any) -> None:
        if kind not in kinds or outcome.get(kind, "written") != "written":
            return
        try:
            call(*args)
            outcome[kind] = "written"
        except ImportError as error:  # an optional dependency of that type is missing
            outcome[kind] = f"skipped ({error})"

    writer = SummaryWriter(logdir)
    with writer:
        for step in _progress(STEPS):
            for kind, write in _PER_STEP.items():
                attempt(kind, write, writer, step, rng)
        for kind in _ONCE:
            attempt(kind, _once, kind, writer, rng)
        outcome["graph"] = _graph(writer)
    for kind in sorted(kinds - set(outcome)):
        outcome[kind] = "installed; the demo has no call for it"
    return dict(sorted(outcome.items()))


def describe_outcome(outcome: dict[str, Any]) -> str:
    """Return the demo's outcome as aligned lines."""
    width = max(map(len, outcome), default=0)
    return "\n".join(f"  {kind.ljust(width)}  {what}" for kind, what in outcome.items())
