"""Workloads that open no writer per implementation: readers, image and GIF encoders, remote uploads.

Each is ``run(impl, log_dir, n, timer) -> extra metrics``: it prepares its input (not
timed), runs ``n`` calls of implementation ``impl`` inside ``timer`` and raises if the
result is wrong. An implementation whose dependency is missing raises ImportError ("n/a").
"""

from __future__ import annotations

import io
import tempfile
import threading
import time
import uuid
import zlib
from collections.abc import Callable
from typing import Any

import numpy as np

from benchmarks.timing import Timer

DirectRun = Callable[[str, str, int, Timer], dict[str, float]]

READERS = ("tbcore", "tbcore-numpy", "tbcore-nocrc", "tbparse", "EventAccumulator")
PNG_ENCODERS = ("tbcore", "Up+level1", "Up+huffman", "Pillow-1", "Pillow-6")
GIF_ENCODERS = ("tbcore", "moviepy")
TBCORE_ONLY = {"tbcore": None}


def _choose(impl: str, choices: dict[str, Any]) -> Any:
    if impl not in choices:
        raise ValueError(f"impl: expected one of {tuple(choices)}, got {impl!r}")
    return choices[impl]


# ------------------------------------------------------------------ reading scalars back
def write_scalars_file(log_dir: str, n: int) -> None:
    """Write ``n`` scalars with tbcore (the input of the reader workload; not timed)."""
    from tbcore import SummaryWriter

    with SummaryWriter(log_dir) as w:
        for i in range(n):
            w.add_scalar("loss", i * 1e-3, i)


def _tbcore_reader(as_frame: bool, check_crc: bool) -> Callable[[str], int]:
    def read(log_dir: str) -> int:
        from tbcore.reader import scalars

        return len(scalars(log_dir, as_frame=as_frame, check_crc=check_crc)["step"])

    return read


def _tbparse(log_dir: str) -> int:
    from tbparse import SummaryReader

    return len(SummaryReader(log_dir).scalars)


def _event_accumulator(log_dir: str) -> int:
    from tensorboard.backend.event_processing.event_accumulator import EventAccumulator

    acc = EventAccumulator(log_dir, size_guidance={"scalars": 0})  # 0: keep every value
    acc.Reload()
    return sum(len(acc.Scalars(tag)) for tag in acc.Tags()["scalars"])


_READ: dict[str, Callable[[str], int]] = {
    "tbcore": _tbcore_reader(as_frame=True, check_crc=True),  # a pandas DataFrame, like tbparse's
    "tbcore-numpy": _tbcore_reader(as_frame=False, check_crc=True),
    "tbcore-nocrc": _tbcore_reader(as_frame=False, check_crc=False),
    "tbparse": _tbparse,
    "EventAccumulator": _event_accumulator,
}


def read_scalars(impl: str, log_dir: str, n: int, timer: Timer) -> dict[str, float]:
    """Write ``n`` scalars with tbcore, then time reading every one back with reader ``impl``."""
    read = _choose(impl, _READ)
    write_scalars_file(log_dir, n)
    with timer:
        count = read(log_dir)
    if count != n:
        raise RuntimeError(f"{impl} read {count} scalars, expected {n}")
    return {}


# ------------------------------------------------------------------ image and GIF encoders
def sample_image(kind: str, size: int = 512) -> np.ndarray:
    """Return an (H, W, 3) uint8 test image: "smooth" (a gradient, like a plot) or "photo" (with mild noise)."""
    yy, xx = np.mgrid[0:size, 0:size] / (size - 1)
    smooth = (np.stack([xx, yy, (xx + yy) / 2], axis=2) * 255 + 0.5).astype(np.uint8)
    if kind == "photo":
        noise = np.random.default_rng(0).integers(-8, 8, smooth.shape)
        return np.clip(smooth + noise, 0, 255).astype(np.uint8)
    return smooth


def _deflate(image: np.ndarray, strategy: int) -> Callable[[], bytes]:
    """Deflate level 1 with ``strategy`` over tbcore's Up-filtered scanlines (the two settings it chooses from)."""
    from tbcore import images

    lines = images._up_filtered(image)

    def encode() -> bytes:
        stream = zlib.compressobj(1, zlib.DEFLATED, 15, 9, strategy)
        return bytes(stream.compress(lines.data) + stream.flush())

    return encode


def _pillow(image: np.ndarray, level: int) -> Callable[[], bytes]:
    from PIL import Image

    picture = Image.fromarray(image)

    def encode() -> bytes:
        output = io.BytesIO()
        picture.save(output, format="PNG", compress_level=level)
        return output.getvalue()

    return encode


def _png_encoder(impl: str, image: np.ndarray) -> Callable[[], bytes]:
    from tbcore import images

    makers: dict[str, Callable[[], Callable[[], bytes]]] = {
        "tbcore": lambda: lambda: images.encode_png(image),
        "Up+level1": lambda: _deflate(image, zlib.Z_DEFAULT_STRATEGY),
        "Up+huffman": lambda: _deflate(image, zlib.Z_HUFFMAN_ONLY),
        "Pillow-1": lambda: _pillow(image, 1),
        "Pillow-6": lambda: _pillow(image, 6),
    }
    return _choose(impl, makers)()


def png_encoding(kind: str) -> DirectRun:
    """Return a workload encoding the 512x512 RGB ``sample_image(kind)`` as PNG ``n`` times."""

    def run(impl: str, log_dir: str, n: int, timer: Timer) -> dict[str, float]:
        encode = _png_encoder(impl, sample_image(kind))
        with timer:
            for _ in range(n):
                data = encode()
        return {"output_kib": len(data) / 2**10}

    return run


def _moviepy_gif(vid: np.ndarray, log_dir: str) -> Callable[[], bytes]:
    """moviepy 2's ``write_gif`` of the frame grid tbcore would encode (the same pixels)."""
    from moviepy import ImageSequenceClip

    from tbcore.images import to_uint8
    from tbplugins.imaging import power_of_two_grid, to_nhwc

    frames = list(power_of_two_grid(to_uint8(to_nhwc(vid, "NTCHW", "vid"), "vid")))

    def encode() -> bytes:
        with tempfile.NamedTemporaryFile(suffix=".gif", dir=log_dir) as file:
            ImageSequenceClip(frames, fps=4).write_gif(file.name, logger=None)
            return file.read()

    return encode


def gif_encoding(impl: str, log_dir: str, n: int, timer: Timer) -> dict[str, float]:
    """Encode 4 videos x 16 frames of 64x64 RGB noise as one GIF ``n`` times: tbcore (Pillow) or moviepy 2."""
    from tbplugins import video

    vid = np.random.default_rng(0).random((4, 16, 3, 64, 64), dtype=np.float32)
    makers: dict[str, Callable[[], Callable[[], bytes]]] = {
        "tbcore": lambda: lambda: video.encode("v", vid, fps=4).value[0].image.encoded_image_string,
        "moviepy": lambda: _moviepy_gif(vid, log_dir),
    }
    encode = _choose(impl, makers)()
    with timer:
        for _ in range(n):
            data = encode()
    return {"output_kib": len(data) / 2**10}


# ------------------------------------------------------------------ tbcore only: remote stores, other ranks
def remote_uploads(per_flush: int) -> DirectRun:
    """Return a workload logging ``per_flush`` scalars then flushing, ``n`` times, to memory:// (no append)."""

    def run(impl: str, log_dir: str, n: int, timer: Timer) -> dict[str, float]:
        _choose(impl, TBCORE_ONLY)
        return _uploads(n, per_flush, timer)

    return run


def _uploads(flushes: int, per_flush: int, timer: Timer) -> dict[str, float]:
    """Run ``flushes`` rounds of ``per_flush`` add_scalar + flush to memory://, counting every PUT."""
    import fsspec

    from tbcore import SummaryWriter

    fs = fsspec.filesystem("memory")
    root = f"/bench-{uuid.uuid4().hex[:8]}"
    sizes: list[int] = []
    upload = fs.pipe_file

    def counting(path: str, data: bytes, **kwargs: object) -> None:
        sizes.append(len(data))
        upload(path, data, **kwargs)

    fs.pipe_file = counting
    try:
        with SummaryWriter(f"memory://{root}/run", max_queue=10_000) as writer, timer:
            for flush in range(flushes):
                for i in range(per_flush):
                    writer.add_scalar("loss", 0.5, flush * per_flush + i)
                writer.flush()
        segments = fs.find(root)
        stored = sum(fs.size(path) for path in segments)
    finally:
        del fs.pipe_file
        fs.rm(root, recursive=True)
    return {
        "uploaded_mb": sum(sizes) / 2**20,
        "puts": len(sizes),
        "largest_put_kib": max(sizes) / 2**10,
        "stored_mb": stored / 2**20,
        "segments": len(segments),
        "growing_file_mb": stored * (flushes + 1) / 2 / 2**20,  # each flush re-uploading the file so far
    }


def inactive_rank(impl: str, log_dir: str, n: int, timer: Timer) -> dict[str, float]:
    """``add_scalar`` on a writer of rank 1, which writes nothing."""
    from tbcore import SummaryWriter

    _choose(impl, TBCORE_ONLY)
    writer = SummaryWriter(log_dir, rank=1)
    add = writer.add_scalar
    with timer:
        for step in range(n):
            add("loss", 0.5, step)
    writer.close()
    return {}


def scalar_backlog(impl: str, log_dir: str, n: int, timer: Timer) -> dict[str, float]:
    """A tight add_scalar loop; a watcher thread notes the largest backlog of the writer thread (its bound)."""
    from tbcore import SummaryWriter

    _choose(impl, TBCORE_ONLY)
    writer = SummaryWriter(log_dir)
    items = writer._pipeline._items
    largest = [0]
    done = threading.Event()

    def watch() -> None:
        while not done.is_set():
            largest[0] = max(largest[0], len(items))
            time.sleep(0.0005)

    watcher = threading.Thread(target=watch)
    watcher.start()
    add = writer.add_scalar
    try:
        with timer:
            for step in range(n):
                add("loss", 0.5, step)
    finally:
        writer.close()
        done.set()
        watcher.join()
    return {"max_pending": largest[0], "backlog_cap": writer._pipeline.max_pending_items}
