"""Helpers shared by the media tests: write with tbcore, read back with TensorBoard, decode payloads."""

from __future__ import annotations

import io
import wave
from collections.abc import Callable
from typing import Any

import numpy as np
import pytest
from PIL import Image, ImageSequence

from bad_inputs import snapshot
from tbcore import SummaryWriter
from tbcore.testing import read_events, tensorboard_accumulator


def blobs(logdir, tag):
    """Return the blob sequences (width, height, payload...) or audio rows TensorBoard's Python loader holds for tag."""
    acc = tensorboard_accumulator(logdir)
    return [list(event.tensor_proto.string_val) for event in acc.Tensors(tag)]


def decoded_image(logdir, tag, index=0):
    """Return the image of the index-th step of tag as TensorBoard serves it, decoded with PIL (a PIL image)."""
    width, height, payload = blobs(logdir, tag)[index][:3]
    image = Image.open(io.BytesIO(payload))
    assert image.size == (int(width), int(height))
    return image


def pixels(image):
    """Return a PIL image's pixels as (H, W, C) uint8, grey as one channel."""
    array = np.asarray(image)
    return array[:, :, np.newaxis] if array.ndim == 2 else array


def gif_frames(image):
    """Return every frame of an animated GIF as (H, W, 3) uint8 arrays, with each frame's duration (ms)."""
    return [(np.asarray(frame.convert("RGB")), frame.info.get("duration")) for frame in ImageSequence.Iterator(image)]


def decoded_wav(payload):
    """Return (samples as (L, C) array, sample rate, sample width) of a WAV file."""
    with wave.open(io.BytesIO(payload)) as file:
        width, channels, rate = file.getsampwidth(), file.getnchannels(), file.getframerate()
        data = file.readframes(file.getnframes())
    dtype = {1: np.uint8, 2: "<i2", 4: "<i4"}[width]
    return np.frombuffer(data, dtype=dtype).reshape(-1, channels), rate, width


def summary_count(logdir):
    """Return the number of events with a summary that tbcore's reader finds in the run."""
    return sum(1 for event in read_events(logdir) if event.HasField("summary"))


def rejected_then_usable(
    logdir, error: type[Exception], match: str, bad: Callable[[Any], object], good: Callable[[Any], object]
) -> None:
    """Check that ``bad(writer)`` raises ``error`` matching ``match`` and writes nothing, and ``good(writer)`` lands.

    ``good`` adds one summary: TensorBoard's loader must then list one tag with one point.
    """
    with SummaryWriter(logdir) as writer:
        writer.flush()
        before = snapshot(str(logdir))
        with pytest.raises(error, match=match):
            bad(writer)
        writer.flush()
        assert snapshot(str(logdir)) == before, "the failed call wrote something"
        assert summary_count(logdir) == 0
        good(writer)
    assert summary_count(logdir) == 1
    acc = tensorboard_accumulator(logdir)
    (tag,) = acc.Tags()["tensors"]
    assert len(acc.Tensors(tag)) == 1


def modules_after(code):
    """Run ``code`` in a fresh interpreter and return which of PIL, torch, matplotlib it imported, and its output."""
    import subprocess
    import sys

    report = "\nimport sys\nprint(sorted(m for m in ('PIL', 'torch', 'matplotlib') if m in sys.modules))\n"
    out = subprocess.run([sys.executable, "-c", code + report], capture_output=True, text=True, check=True, timeout=120)
    *lines, modules = out.stdout.strip().splitlines()
    return modules, lines
