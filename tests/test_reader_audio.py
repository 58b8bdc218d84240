"""Audio read back by tbcore.reader (the audio summary type's decoder), checked against what TensorBoard holds."""

from __future__ import annotations

import io
import struct
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


def extensible_wav(samples: np.ndarray, subformat: int, rate: int = 16000, extra: bytes = b"") -> bytes:
    """A WAVE_FORMAT_EXTENSIBLE file of (frames, channels) ``samples``; ``extra`` is put before the data chunk."""
    channels, width = samples.shape[1], samples.dtype.itemsize
    guid = subformat.to_bytes(4, "little") + bytes.fromhex("0000 1000 8000 00aa 0038 9b71")
    block = channels * width
    header = (0xFFFE, channels, rate, rate * block, block, 8 * width, 22, 8 * width, (1 << channels) - 1)
    fmt = struct.pack("<HHIIHHHHI", *header) + guid  # 22 more bytes: valid bits, channel mask, sub-format
    data = samples.astype(samples.dtype.newbyteorder("<")).tobytes()
    chunks = b"fmt " + struct.pack("<I", len(fmt)) + fmt + extra + b"data" + struct.pack("<I", len(data)) + data
    return b"RIFF" + struct.pack("<I", 4 + len(chunks)) + b"WAVE" + chunks


STEREO_I16 = (np.stack([MONO, -MONO / 2], axis=1) * 32767).round().astype("<i2")


def test_extensible_pcm_and_float_on_every_python():
    """WAVE_FORMAT_EXTENSIBLE, which the stdlib wave reads only from 3.12 (and never as float)."""
    odd_chunk = b"LIST" + struct.pack("<I", 3) + b"abc" + b"\0"  # an odd-sized chunk, padded to even
    samples, rate = read_wav(extensible_wav(STEREO_I16, subformat=1, rate=22050, extra=odd_chunk))
    assert rate == 22050 and samples.dtype == np.float32 and samples.shape == (1000, 2)
    np.testing.assert_array_equal(samples, STEREO_I16 / np.float32(32767))
    floats = np.stack([MONO, MONO / 4], axis=1)
    samples, rate = read_wav(extensible_wav(floats, subformat=3))
    assert rate == 16000
    np.testing.assert_array_equal(samples, floats)
    samples, _ = read_wav(extensible_wav(floats.astype(np.float64), subformat=3)[:-5])  # cut: whole frames only
    np.testing.assert_array_equal(samples, floats[:-1])
    unknown = bytearray(extensible_wav(STEREO_I16, subformat=1))
    unknown[52] ^= 0xFF  # in the sub-format GUID's fixed tail
    with pytest.raises(ValueError, match=r"expected a PCM or float WAV file, got \d+ bytes .*known sub-format"):
        read_wav(bytes(unknown))
    with pytest.raises(ValueError, match="format 6 with 8 bits per sample"):  # A-law
        read_wav(extensible_wav(STEREO_I16.astype(np.uint8), subformat=6))


@pytest.mark.parametrize(
    ("container", "subtype", "step"),
    [("WAVEX", "PCM_16", 2 / 32767), ("WAVEX", "PCM_24", 2**-22), ("WAVEX", "FLOAT", 0), ("WAV", "FLOAT", 0),
     ("WAV", "DOUBLE", 0), ("WAVEX", "PCM_U8", 2 / 127)],
)  # fmt: skip
def test_files_written_by_soundfile(logdir, container, subtype, step):
    """libsndfile's WAVs (extensible; float with fact and PEAK chunks) in a legacy clip, as TensorBoard holds it."""
    soundfile = pytest.importorskip("soundfile")
    stereo = np.stack([MONO, -MONO / 2], axis=1)
    out = io.BytesIO()
    soundfile.write(out, stereo, 8000, subtype=subtype, format=container)
    data = out.getvalue()
    assert struct.unpack_from("<H", data, 20)[0] == (0xFFFE if container == "WAVEX" else 3)
    clip = summary_pb2.Summary.Audio(sample_rate=8000, num_channels=2, length_frames=1000, encoded_audio_string=data)
    with SummaryWriter(logdir) as writer:
        writer._get_file_writer().add_summary(
            summary_pb2.Summary(value=[summary_pb2.Summary.Value(tag="a", audio=clip)]), 0
        )
    (decoded,) = _by_tag(logdir).values()
    assert blobs(logdir, "a")[0][0] == decoded["encoded"] == data
    assert decoded["sample_rate"] == 8000 and decoded["samples"].shape == (1000, 2)
    # soundfile scales PCM by 2**(bits - 1), the reader divides by 2**(bits - 1) - 1: within two steps
    assert np.abs(decoded["samples"] - stereo).max() <= step + 1e-7


def test_a_clip_that_is_not_a_wav_keeps_its_bytes():
    clip = summary_pb2.Summary.Audio(
        sample_rate=44100, encoded_audio_string=b"ID3 not a wav", content_type="audio/mpeg"
    )
    decoded = decode_value(summary_pb2.Summary.Value(tag="a", audio=clip), "audio")
    assert (decoded["samples"], decoded["sample_rate"], decoded["encoded"]) == (None, 44100, b"ID3 not a wav")
    with pytest.raises(ValueError, match="audio: expected a PCM or float WAV file, got 13 bytes"):
        read_wav(b"ID3 not a wav")
