"""Images, video (in the Images dashboard) and audio answered by a running tensorboard, in both loaders."""

from __future__ import annotations

import io
import urllib.request

import numpy as np
import pytest
from PIL import Image

from media_helpers import decoded_wav, pixels
from tbcore import SummaryWriter
from tbcore.testing import TensorBoardServer

RNG = np.random.default_rng(0)
IMAGE = RNG.integers(0, 256, (3, 12, 10), dtype=np.uint8)
SOUND = (RNG.random(800) * 2 - 1).astype(np.float32)


def fetch(server, path, query):
    with urllib.request.urlopen(f"{server.url}{path}?{query}", timeout=30) as response:
        return response.headers["Content-Type"], response.read()


@pytest.mark.server
@pytest.mark.slow
@pytest.mark.parametrize("load_fast", ["false", "true"])
def test_media_on_a_running_server(logdir, load_fast):
    with SummaryWriter(logdir) as writer:
        for step in range(3):
            writer.add_image("img", IMAGE, step)
        writer.add_images("grid", np.stack([IMAGE, 255 - IMAGE]), 0)
        writer.add_image_with_boxes("boxes", IMAGE, [[1, 1, 8, 8]], 0, labels=["x"])
        writer.add_video("vid", RNG.integers(0, 256, (1, 3, 3, 8, 8), dtype=np.uint8), 0)
        writer.add_audio("mono", SOUND, 0, sample_rate=8000)
        writer.add_audio("stereo", np.stack([SOUND, -SOUND]), 0, sample_rate=8000, dataformats="CL")
    with TensorBoardServer(logdir, load_fast=load_fast) as server:
        tags = server.wait_for("/data/plugin/images/tags", lambda d: len(d.get(".", {})) == 4)
        assert set(tags["."]) == {"img", "grid", "boxes", "vid"} and tags["."]["img"]["samples"] == 1
        steps = server.wait_for("/data/plugin/images/images", lambda d: len(d) == 3, run=".", tag="img")
        kind, body = fetch(server, "/data/plugin/images/individualImage", steps[-1]["query"])
        assert kind == "image/png"
        np.testing.assert_array_equal(pixels(Image.open(io.BytesIO(body))), IMAGE.transpose(1, 2, 0))
        grid = server.get_json("/data/plugin/images/images", run=".", tag="grid")
        assert Image.open(
            io.BytesIO(fetch(server, "/data/plugin/images/individualImage", grid[0]["query"])[1])
        ).size == (
            20,
            12,
        )
        video = server.get_json("/data/plugin/images/images", run=".", tag="vid")
        kind, body = fetch(server, "/data/plugin/images/individualImage", video[0]["query"])
        assert kind == "image/gif" and Image.open(io.BytesIO(body)).n_frames == 3

        audio_tags = server.wait_for("/data/plugin/audio/tags", lambda d: len(d.get(".", {})) == 2)
        assert audio_tags["."]["stereo"]["samples"] == 1
        for tag, channels in (("mono", 1), ("stereo", 2)):
            clips = server.get_json("/data/plugin/audio/audio", run=".", tag=tag)
            assert clips[0]["contentType"] == "audio/wav"
            kind, body = fetch(server, "/data/plugin/audio/individualAudio", clips[0]["query"])
            assert kind == "audio/wav"
            samples, rate, _ = decoded_wav(body)
            assert rate == 8000 and samples.shape == (800, channels)
            assert np.abs(samples[:, 0] - SOUND * 32767).max() <= 0.5
