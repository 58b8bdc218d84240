"""add_video: animated GIFs read back through TensorBoard and decoded with PIL."""

from __future__ import annotations

import numpy as np
import pytest

from media_helpers import blobs, decoded_image, gif_frames, modules_after, rejected_then_usable
from tbcore import SummaryWriter, summary

RNG = np.random.default_rng(0)
PALETTE = RNG.integers(0, 256, (40, 3), dtype=np.uint8)


def video(n, t, h=6, w=5):
    """(N, T, C, H, W) uint8 video with few colours (GIF keeps them exactly) and distinct frames."""
    vid = PALETTE[RNG.integers(0, len(PALETTE), (n, t, h, w))]
    return np.ascontiguousarray(vid.transpose(0, 1, 4, 2, 3))


def write(logdir, vid, **options):
    with SummaryWriter(logdir) as writer:
        writer.add_video("v", vid, 0, **options)
    return decoded_image(logdir, "v")


@pytest.mark.parametrize("count", [1, 2, 3, 4, 5])
def test_frames_match_torch_grid(logdir, count):
    _prepare_video = pytest.importorskip("torch.utils.tensorboard._utils")._prepare_video

    vid = video(count, 4)
    image = write(logdir, vid)
    assert image.format == "GIF" and image.n_frames == 4 and image.info["loop"] == 0
    expected = np.round(_prepare_video(vid) * 255).astype(np.uint8)  # torch's grid, in [0, 1]
    frames = gif_frames(image)
    assert [duration for _, duration in frames] == [250] * 4
    for (got, _), want in zip(frames, expected, strict=True):
        np.testing.assert_array_equal(got, want)


@pytest.mark.parametrize(("fps", "duration"), [(4, 250), (3, 330), (10, 100), (0.5, 2000), (1000, 10), (0.001, 655350)])
def test_frame_duration(logdir, fps, duration):
    image = write(logdir, video(1, 3), fps=fps)
    assert [d for _, d in gif_frames(image)] == [duration] * 3


def test_float_and_grey_videos(logdir):
    grey = RNG.integers(0, 256, (2, 3, 1, 4, 4), dtype=np.uint8)
    image = write(logdir / "grey", grey.astype(np.float32) / 255)
    frames = gif_frames(image)
    assert len(frames) == 3
    np.testing.assert_array_equal(frames[1][0][:, :, 0], np.concatenate([grey[0, 1, 0], grey[1, 1, 0]], axis=1))
    noisy = RNG.random((1, 2, 3, 16, 16), dtype=np.float32)
    frames = gif_frames(write(logdir / "noisy", noisy))
    assert len(frames) == 2 and frames[0][0].shape == (16, 16, 3)
    assert np.abs(frames[0][0].astype(int) - noisy[0, 0].transpose(1, 2, 0) * 255).mean() < 20  # quantised


def test_rgba_video_drops_alpha(logdir):
    vid = np.concatenate([video(1, 2), np.zeros((1, 2, 1, 6, 5), np.uint8)], axis=2)
    frames = gif_frames(write(logdir, vid))
    np.testing.assert_array_equal(frames[0][0], vid[0, 0, :3].transpose(1, 2, 0))


def test_moviepy_clip(logdir):
    moviepy = pytest.importorskip("moviepy")
    frames = [np.full((8, 6, 3), value, dtype=np.uint8) for value in (0, 100, 200)]
    clip = moviepy.ImageSequenceClip(frames, fps=2)  # 1.5 s
    image = write(logdir, clip, fps=4)  # sampled at 4 fps: 6 frames
    decoded = gif_frames(image)
    assert sum(duration for _, duration in decoded) == 1500
    assert {int(frame[0, 0, 0]) for frame, _ in decoded} == {0, 100, 200}


def test_torch_writes_an_empty_value_with_moviepy_2(logdir):
    """Documented torch bug (reference 4.12): torch 2.13 cannot use moviepy 2 and writes a Value with only a tag."""
    pytest.importorskip("moviepy")
    torch_tb = pytest.importorskip("torch.utils.tensorboard")
    with torch_tb.SummaryWriter(str(logdir / "torch")) as writer:
        writer.add_video("v", video(1, 2), 0)
    from tbcore.testing import read_events

    values = [v for e in read_events(logdir / "torch") if e.HasField("summary") for v in e.summary.value]
    assert len(values) == 1 and values[0].WhichOneof("value") is None
    with SummaryWriter(logdir / "ours") as writer:
        writer.add_video("v", video(1, 2), 0)
    assert len(blobs(logdir / "ours", "v")) == 1


def test_matches_tensorboardx(logdir):
    tbx = pytest.importorskip("tensorboardX")
    vid = video(3, 4)
    with tbx.SummaryWriter(str(logdir / "tbx")) as writer:
        writer.add_video("v", vid, 0, fps=4)
    ours = write(logdir / "ours", vid)
    theirs = decoded_image(logdir / "tbx", "v")
    assert (ours.size, ours.n_frames) == (theirs.size, theirs.n_frames)
    for (a, da), (b, db) in zip(gif_frames(ours), gif_frames(theirs), strict=True):
        assert da == db
        assert np.abs(a.astype(int) - b).max() <= 8  # their palette is quantised, ours exact


def test_pure_encoder():
    image = summary.video("v", video(2, 2), fps=5).value[0].image
    assert image.encoded_image_string.startswith(b"GIF89a") and (image.width, image.height) == (10, 6)


@pytest.mark.parametrize(
    ("value", "fps", "error", "match"),
    [
        (np.zeros((2, 3, 4, 4)), 4, ValueError, r"vid_tensor: expected 5 dimensions \(N, T, C, H, W\), got numpy"),
        (np.zeros((1, 2, 2, 4, 4)), 4, ValueError, r"vid_tensor: expected 1, 3 or 4 channels"),
        (np.zeros((1, 0, 3, 4, 4)), 4, ValueError, r"vid_tensor: expected a non-empty"),
        (np.full((1, 1, 3, 2, 2), np.nan), 4, ValueError, r"vid_tensor: expected pixel values without NaN"),
        (np.zeros((1, 1, 3, 2, 2)), 0, ValueError, r"fps: expected a number > 0, got int 0"),
        (np.zeros((1, 1, 3, 2, 2)), -1.5, ValueError, r"fps: expected a number > 0"),
        (np.zeros((1, 1, 3, 2, 2)), "4", TypeError, r"fps: expected a number > 0"),
        ("video.mp4", 4, TypeError, r"vid_tensor"),
    ],
)
def test_bad_video(logdir, value, fps, error, match):
    rejected_then_usable(
        logdir,
        error,
        match,
        bad=lambda writer: writer.add_video("bad", value, 0, fps=fps),
        good=lambda writer: writer.add_video("good", video(1, 2), 1),
    )


def test_video_without_moviepy_and_error_without_pillow():
    code = (
        "import sys, numpy as np\nsys.modules['moviepy'] = None\nimport tbcore.summary\n"
        "print(tbcore.summary.video('v', np.zeros((1, 2, 3, 4, 4))).value[0].image.encoded_image_string[:6])\n"
        "sys.modules['PIL'] = None\n"
        "for name in [m for m in sys.modules if m.startswith('PIL.')]:\n    del sys.modules[name]\n"
        "try:\n    tbcore.summary.video('v', np.zeros((1, 2, 3, 4, 4)))\nexcept ImportError as e:\n    print(e)"
    )
    _, lines = modules_after(code)
    assert lines == ["b'GIF89a'", "add_video needs PIL: pip install 'tbcore[video]'"]
