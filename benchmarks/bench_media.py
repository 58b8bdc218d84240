"""Media benchmarks: add_image / add_audio against torch.utils.tensorboard and tensorboardX,
PNG deflate settings, and Pillow against moviepy for GIF video.

Run: ``.venv/bin/python benchmarks/bench_media.py`` (prints one table). Each ``measure_*``
function returns plain numbers so that a larger harness can reuse it.

Per-call times of the writers are ``(time of `repeat` add_* calls + flush) / repeat``:
the calling thread pays for encoding and for whatever the writer's own background thread
takes from it (torch and tensorboardX compute record CRCs in pure Python when TensorFlow
is absent, holding the GIL), so the flush is part of the cost of logging.
"""

from __future__ import annotations

import io
import statistics
import tempfile
import time
import zlib
from collections.abc import Callable
from typing import Any

import numpy as np


def _writers(root: str) -> dict[str, Any]:
    """Return the writers to compare, each writing its own run under ``root``."""
    from tensorboardX import SummaryWriter as XWriter
    from torch.utils.tensorboard import SummaryWriter as TorchWriter

    import tbcore

    return {
        "tbcore": tbcore.SummaryWriter(f"{root}/tbcore"),
        "tensorboardX": XWriter(f"{root}/tbx"),
        "torch": TorchWriter(f"{root}/torch"),
    }


def measure_add(writer: Any, call: Callable[[Any, int], None], repeat: int = 10, rounds: int = 5) -> float:
    """Return the median over ``rounds`` of the seconds per call of ``call(writer, step)``, flush included."""
    call(writer, 0)
    writer.flush()
    per_call = []
    for round_index in range(rounds):
        start = time.perf_counter()
        for i in range(repeat):
            call(writer, 1 + round_index * repeat + i)
        writer.flush()
        per_call.append((time.perf_counter() - start) / repeat)
    return statistics.median(per_call)


def measure_writers(call: Callable[[Any, int], None], names: tuple[str, ...], repeat: int = 10) -> dict[str, float]:
    """Seconds per ``call(writer, step)`` (flush included) for each writer in ``names``, in fresh runs."""
    with tempfile.TemporaryDirectory() as root:
        writers = _writers(root)
        try:
            return {name: measure_add(writers[name], call, repeat) for name in names}
        finally:
            for writer in writers.values():
                writer.close()


def measure_image(repeat: int = 10) -> dict[str, float]:
    """Seconds per ``add_image`` of a 3x512x512 float32 torch tensor in [0, 1], for each writer."""
    import torch

    image = torch.rand(3, 512, 512, generator=torch.Generator().manual_seed(0))
    return measure_writers(lambda w, s: w.add_image("image", image, s), ("tbcore", "tensorboardX", "torch"), repeat)


def measure_audio(seconds: float = 1.0, repeat: int = 10) -> dict[str, float]:
    """Seconds per ``add_audio`` of a (1, L) float32 torch tensor at 44.1 kHz, tbcore and torch
    (tensorboardX wants (L, C), not torch's (1, L))."""
    import torch

    sound = torch.rand(1, int(44100 * seconds), generator=torch.Generator().manual_seed(0)) * 2 - 1
    return measure_writers(lambda w, s: w.add_audio("audio", sound, s), ("tbcore", "torch"), repeat)


def sample_images(size: int = 512) -> dict[str, np.ndarray]:
    """Return (H, W, 3) uint8 test images: uniform noise, a smooth gradient, and a gradient with mild noise."""
    rng = np.random.default_rng(0)
    yy, xx = np.mgrid[0:size, 0:size] / (size - 1)
    smooth = (np.stack([xx, yy, (xx + yy) / 2], axis=2) * 255 + 0.5).astype(np.uint8)
    return {
        "noise": rng.integers(0, 256, (size, size, 3), dtype=np.uint8),
        "smooth": smooth,
        "smooth+noise": np.clip(smooth + rng.integers(-8, 8, smooth.shape), 0, 255).astype(np.uint8),
    }


def _best_of(function: Callable[[], Any], rounds: int = 7) -> float:
    function()
    times = []
    for _ in range(rounds):
        start = time.perf_counter()
        function()
        times.append(time.perf_counter() - start)
    return min(times)


def _png_rows(name: str, image: np.ndarray) -> list[tuple[str, str, float, int]]:
    from PIL import Image

    from tbcore import images as png

    lines = png._up_filtered(image)
    settings: dict[str, Callable[[], Any]] = {
        "level 0 (stored)": lambda: zlib.compressobj(0),
        "level 1": lambda: zlib.compressobj(1),
        "level 6": lambda: zlib.compressobj(6),
        "level 1 huffman-only": lambda: zlib.compressobj(1, zlib.DEFLATED, 15, 9, zlib.Z_HUFFMAN_ONLY),
    }
    encoders: dict[str, Callable[[], bytes]] = {"tbcore (chosen per image)": lambda: png.encode_png(image)}
    for label, make in settings.items():

        def deflate(make: Callable[[], Any] = make) -> bytes:
            stream = make()
            return bytes(stream.compress(lines.data) + stream.flush())

        encoders[f"Up filter, {label}"] = deflate
    for level in (1, 6):

        def pillow(level: int = level) -> bytes:
            output = io.BytesIO()
            Image.fromarray(image).save(output, format="PNG", compress_level=level)
            return output.getvalue()

        encoders[f"Pillow compress_level={level}"] = pillow
    return [(name, label, _best_of(encode), len(encode())) for label, encode in encoders.items()]


def measure_png_settings() -> list[tuple[str, str, float, int]]:
    """(image, setting, seconds, bytes) for tbcore's encoder, fixed deflate settings over its Up-filtered
    scanlines, and Pillow's PNG encoder at levels 1 and 6."""
    return [row for name, image in sample_images().items() for row in _png_rows(name, image)]


def measure_gif(frames: int = 16, size: int = 64, videos: int = 4) -> dict[str, float]:
    """Seconds to encode (videos, frames, 3, size, size) float video as GIF: tbcore (Pillow) and moviepy."""
    from tbplugins import video

    rng = np.random.default_rng(0)
    vid = rng.random((videos, frames, 3, size, size), dtype=np.float32)
    result = {"tbcore (Pillow)": _best_of(lambda: video.encode("v", vid, fps=4), rounds=3)}
    try:
        from moviepy import ImageSequenceClip
    except ImportError:
        return result
    from tbcore.images import to_uint8
    from tbplugins.imaging import power_of_two_grid, to_nhwc

    grid = power_of_two_grid(to_uint8(to_nhwc(vid, "NTCHW", "vid"), "vid"))

    def with_moviepy() -> bytes:
        with tempfile.NamedTemporaryFile(suffix=".gif") as file:
            ImageSequenceClip(list(grid), fps=4).write_gif(file.name, logger=None)
            return file.read()

    result["moviepy 2 write_gif"] = _best_of(with_moviepy, rounds=3)
    return result


def main() -> None:
    """Print every measurement."""
    image = measure_image()
    print("add_image 3x512x512 float32 (ms per call, flush included)")
    for name, seconds in image.items():
        print(f"  {name:14s} {seconds * 1e3:8.2f}   tbcore/this = {image['tbcore'] / seconds:.2f}")
    for seconds_of_audio in (1.0, 10.0):
        audio = measure_audio(seconds_of_audio)
        print(f"add_audio {seconds_of_audio:g} s mono float32 at 44.1 kHz (ms per call, flush included)")
        for name, seconds in audio.items():
            print(f"  {name:14s} {seconds * 1e3:8.3f}   tbcore/this = {audio['tbcore'] / seconds:.3f}")
    print("PNG encoding of 512x512 RGB (ms, bytes)")
    for name, setting, seconds, size in measure_png_settings():
        print(f"  {name:13s} {setting:34s} {seconds * 1e3:7.2f} {size:9d}")
    print("GIF encoding of 4 videos x 16 frames of 64x64 RGB (ms)")
    for name, seconds in measure_gif().items():
        print(f"  {name:22s} {seconds * 1e3:8.2f}")


if __name__ == "__main__":
    main()
