"""add_audio: WAV clips read back through TensorBoard and decoded with the stdlib wave module."""

from __future__ import annotations

import sys

import numpy as np
import pytest

from media_helpers import blobs, decoded_wav, rejected_then_usable
from tbcore import SummaryWriter, summary
from tbcore.testing import tensorboard_accumulator

RNG = np.random.default_rng(0)
MONO = (RNG.random(1000) * 2 - 1).astype(np.float32)


def write(logdir, value, **options):
    with SummaryWriter(logdir) as writer:
        writer.add_audio("a", value, 0, **options)
    rows = blobs(logdir, "a")
    assert len(rows) == 1 and len(rows[0]) == 1  # TensorBoard keeps the clip, drops the (empty) label
    return decoded_wav(rows[0][0])


@pytest.mark.parametrize("shape", [(1000,), (1, 1000), (1000, 1), (1, 1, 1000)])
def test_torch_shapes_are_mono(logdir, shape):
    samples, rate, width = write(logdir, MONO.reshape(shape))
    assert (rate, width, samples.shape) == (44100, 2, (1000, 1))
    assert np.abs(samples[:, 0] - MONO * 32767).max() <= 0.5  # within one quantisation step (rounded)


def test_float_is_clipped_and_int16_passed_through(logdir):
    samples, _, _ = write(logdir / "f", np.array([-3.0, -1.0, 0.0, 0.5, 1.0, 2.0, np.inf]))
    assert samples[:, 0].tolist() == [-32767, -32767, 0, 16384, 32767, 32767, 32767]
    ints = np.array([-32768, -1, 0, 12345, 32767], dtype=np.int16)
    samples, _, width = write(logdir / "i", ints, sample_rate=8000)
    assert width == 2 and samples[:, 0].tolist() == ints.tolist()


def test_other_integer_formats(logdir):
    samples, _, width = write(logdir / "u8", np.array([0, 128, 255], dtype=np.uint8))
    assert width == 1 and samples[:, 0].tolist() == [0, 128, 255]
    samples, _, width = write(logdir / "i8", np.array([-128, 0, 127], dtype=np.int8))
    assert width == 1 and samples[:, 0].tolist() == [0, 128, 255]
    samples, _, width = write(logdir / "i32", np.array([-(2**31), 65536 * 7, 2**31 - 1], dtype=np.int32))
    assert width == 2 and samples[:, 0].tolist() == [-32768, 7, 32767]


def test_multichannel(logdir):
    stereo = np.stack([MONO, -MONO])  # (C, L)
    cl, rate, _ = write(logdir / "cl", stereo, dataformats="CL", sample_rate=22050)
    lc, _, _ = write(logdir / "lc", stereo.T.copy(), dataformats="LC", sample_rate=22050)
    assert rate == 22050 and cl.shape == (1000, 2)
    np.testing.assert_array_equal(cl, lc)
    assert np.abs(cl - stereo.T * 32767).max() <= 0.5


def test_torch_and_jax_values(logdir):
    torch = pytest.importorskip("torch")
    jnp = pytest.importorskip("jax.numpy")
    a, _, _ = write(logdir / "t", torch.from_numpy(MONO).unsqueeze(0))
    b, _, _ = write(logdir / "j", jnp.asarray(MONO))
    np.testing.assert_array_equal(a, b)


def test_audio_file_path(logdir, tmp_path):
    soundfile = pytest.importorskip("soundfile")
    path = tmp_path / "clip.flac"
    soundfile.write(path, np.stack([MONO, MONO / 2], axis=1), 16000)
    samples, rate, _ = write(logdir, str(path))
    assert rate == 16000 and samples.shape == (1000, 2)
    assert np.abs(samples[:, 1] - MONO / 2 * 32767).max() <= 2  # FLAC stores 16 bits: within rounding


def test_matches_torch(logdir):
    torch_tb = pytest.importorskip("torch.utils.tensorboard")
    with torch_tb.SummaryWriter(str(logdir / "torch")) as writer:
        writer.add_audio("a", MONO.reshape(1, -1), 0, sample_rate=16000)
    event = tensorboard_accumulator(logdir / "torch").Tensors("a")[0]
    theirs, their_rate, _ = decoded_wav(event.tensor_proto.string_val[0])
    ours, rate, _ = write(logdir / "ours", MONO.reshape(1, -1), sample_rate=16000)
    assert rate == their_rate and ours.shape == theirs.shape
    assert np.abs(ours.astype(int) - theirs).max() <= 1  # torch truncates, tbcore rounds


def test_pure_encoder_and_metadata():
    value = summary.audio("a", MONO, sample_rate=8000).value[0]
    assert value.metadata.plugin_data.plugin_name == "audio"
    assert value.metadata.plugin_data.content == b"\x10\x0b"  # encoding: WAV (11)
    assert value.metadata.data_class == 0  # left unset: both loaders then serve audio/wav
    assert list(value.tensor.tensor_shape.dim[i].size for i in range(2)) == [1, 2]


@pytest.mark.parametrize(
    ("value", "options", "error", "match"),
    [
        (np.zeros((2, 100)), {}, ValueError, r"snd_tensor: expected shape \(L,\) or \(1, L\); for several channels"),
        (np.zeros((0,)), {}, ValueError, r"snd_tensor: expected shape \(L,\)"),
        (
            np.zeros((2, 3, 4)),
            {"dataformats": "CL"},
            ValueError,
            r"snd_tensor: expected 2 dimensions for dataformats='CL'",
        ),
        (np.zeros((9, 10)), {"dataformats": "CL"}, ValueError, r"snd_tensor: expected at most 8 channels"),
        (np.zeros(10), {"dataformats": "XY"}, ValueError, r"dataformats: expected None, 'L', 'CL' or 'LC'"),
        (np.array([0.0, np.nan]), {}, ValueError, r"snd_tensor: expected samples without NaN"),
        (np.zeros(10, dtype=np.int64), {}, TypeError, r"snd_tensor: expected float samples in \[-1, 1\], int16"),
        (np.zeros(10), {"sample_rate": 0}, ValueError, r"sample_rate: expected a number > 0, got int 0"),
        (np.zeros(10), {"sample_rate": -8000}, ValueError, r"sample_rate: expected a number > 0"),
        (np.zeros(10), {"sample_rate": "44100"}, TypeError, r"sample_rate: expected a number > 0"),
        ("/no/such/file.wav", {}, ValueError, r"snd_tensor: expected a readable audio file"),
    ],
)
def test_bad_audio(logdir, value, options, error, match):
    if isinstance(value, str):
        pytest.importorskip("soundfile")  # a path is read with soundfile before it can be judged
    rejected_then_usable(
        logdir,
        error,
        match,
        bad=lambda writer: writer.add_audio("bad", value, 0, **options),
        good=lambda writer: writer.add_audio("good", MONO, 1),
    )


def test_audio_file_without_soundfile_names_the_extra(logdir, monkeypatch):
    monkeypatch.setitem(sys.modules, "soundfile", None)  # as if it were not installed
    with SummaryWriter(logdir) as writer:
        with pytest.raises(ImportError, match=r"^snd_tensor: reading an audio file needs soundfile: .*tbcore\[audio\]"):
            writer.add_audio("clip", "clip.wav", 0)
        writer.add_audio("good", np.array([np.inf, -np.inf, 0.5]), 1)  # infinities clip, only NaN is refused
    samples, _, _ = decoded_wav(blobs(logdir, "good")[0][0])
    assert samples[:, 0].tolist() == [32767, -32767, 16384]
