"""Audio read back by tbcore.reader (the audio summary type's decoder), checked against what TensorBoard holds."""

from __future__ import annotations

import io
import wave

import numpy as np
import pytest

import tbcore
from media_helpers import blobs
from tbcore import SummaryWriter
from tbcore.decode import decode_value
from tbcore.proto import summary_pb2
from tbcore.reader import audio
from tbplugins.audio import read_wav, wav_bytes

RNG = np.random.default_rng(0)
MONO = (RNG.random(1000) * 2 - 1).astype(np.float32)
STEP = 1 / 32767  # one 16-bit quantisation step


def _by_tag(logdir):
    got = audio(logdir, as_frame=False)
    return dict(zip(got["tag"].tolist(), got["value"], strict=True))


def test_mono_and_stereo_round_trip(logdir):
    stereo = np.stack([MONO, -MONO / 2])  # (C, L)
    with SummaryWriter(logdir) as writer:
        writer.add_audio("mono", MONO, 0, sample_rate=8000)
        writer.add_audio("stereo", stereo, 1, sample_rate=22050, dataformats="CL")
    clips = _by_tag(logdir)
    mono = clips["mono"]
    assert mono["samples"].dtype == np.float32 and mono["samples"].shape == (1000,)
    assert np.abs(mono["samples"] - MONO).max() <= STEP
    assert (mono["sample_rate"], mono["label"], len(mono["clips"])) == (8000, "", 1)
    both = clips["stereo"]
    assert both["samples"].shape == (1000, 2) and both["sample_rate"] == 22050
    assert np.abs(both["samples"] - stereo.T).max() <= STEP
    for tag, clip in clips.items():  # the very clip TensorBoard's loader holds
        assert blobs(logdir, tag)[0][0] == clip["encoded"]


@pytest.mark.parametrize("name", ["torch", "tensorboardX"])
def test_reads_the_legacy_audio_of_other_writers(logdir, name):
    module = pytest.importorskip({"torch": "torch.utils.tensorboard", "tensorboardX": "tensorboardX"}[name])
    with module.SummaryWriter(str(logdir)) as writer:
        writer.add_audio("a", MONO.reshape(1, -1) if name == "torch" else MONO, 0, sample_rate=16000)
    (clip,) = _by_tag(logdir).values()
    assert clip["sample_rate"] == 16000 and clip["samples"].shape == (1000,)
    # torch scales by 32767 and truncates; tensorboardX (through soundfile) scales by 32768
    assert np.abs(clip["samples"] - MONO).max() <= (STEP if name == "torch" else 2 * STEP)


def test_several_clips_with_labels():
    first, second = wav_bytes(np.array([[1000]], "<i2"), 2, 8000), wav_bytes(np.array([[-5, 5]], "<i2"), 2, 16000)
    rows = np.array([[first, "é one".encode()], [second, b"two"]], dtype=object)
    decoded = decode_value(tbcore.tensor_summary("a", rows, plugin_name="audio").value[0], "audio")
    assert (decoded["label"], decoded["sample_rate"], decoded["encoded"]) == ("é one", 8000, first)
    assert [clip["label"] for clip in decoded["clips"]] == ["é one", "two"]
    np.testing.assert_array_equal(decoded["clips"][1]["samples"], np.array([[-5, 5]], np.float32) / 32767)
    empty = decode_value(tbcore.tensor_summary("a", np.zeros((0, 2), object), plugin_name="audio").value[0], "audio")
    assert empty["clips"] == [] and empty["samples"] is None


@pytest.mark.parametrize(
    ("width", "ints"),
    [
        (1, [0, 127, 128, 255]),
        (2, [-32768, -1, 0, 32767]),
        (3, [-(2**23), -1, 0, 2**23 - 1]),
        (4, [-(2**31), 0, 2**31 - 1]),
    ],
)
def test_pcm_sample_widths(width, ints):
    frames = b"".join(value.to_bytes(width, "little", signed=width > 1) for value in ints)
    out = io.BytesIO()
    with wave.open(out, "wb") as file:
        file.setnchannels(1)
        file.setsampwidth(width)
        file.setframerate(11025)
        file.writeframes(frames)
    samples, rate = read_wav(out.getvalue())
    full_scale = 2 ** (8 * width - 1) - 1
    expected = (np.array(ints) - (128 if width == 1 else 0)) / full_scale
    assert rate == 11025 and samples.dtype == np.float32 and samples.shape == (len(ints), 1)
    np.testing.assert_allclose(samples[:, 0], expected, rtol=1e-6)


def test_a_clip_that_is_not_a_wav_keeps_its_bytes():
    clip = summary_pb2.Summary.Audio(
        sample_rate=44100, encoded_audio_string=b"ID3 not a wav", content_type="audio/mpeg"
    )
    decoded = decode_value(summary_pb2.Summary.Value(tag="a", audio=clip), "audio")
    assert (decoded["samples"], decoded["sample_rate"], decoded["encoded"]) == (None, 44100, b"ID3 not a wav")
    with pytest.raises(ValueError, match="audio: expected a PCM WAV file, got 13 bytes"):
        read_wav(b"ID3 not a wav")
