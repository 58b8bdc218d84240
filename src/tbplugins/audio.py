"""Audio: ``add_audio`` writes a WAV clip that TensorBoard's Audio dashboard plays in both loaders.

Samples:
* floats (any float dtype) are taken as [-1, 1], clipped, scaled by 32767 and rounded to
  16-bit PCM; NaN is an error;
* int16 is written as is (16-bit PCM); uint8 as is and int8 shifted by 128 (8-bit PCM);
  int32 keeps its top 16 bits; other dtypes are a TypeError.

Shapes (``dataformats``):
* ``None`` (default, torch's rule): one channel, any shape with at most one axis longer
  than 1, e.g. ``(L,)`` or ``(1, L)``;
* ``"CL"``: (channels, samples); ``"LC"``: (samples, channels); ``"L"``: (samples,).
  Several channels always need one of these, so a (2, L) array is never mistaken for two
  samples of L channels.

With soundfile installed (extra ``audio``), ``snd_tensor`` may also be the path of an
audio file in any format libsndfile reads (WAV, FLAC, OGG, ...); its own sample rate is used.

The clip is written as a ``[1, 2]`` string tensor ``[wav, label]`` with the audio plugin's
``encoding=WAV`` and no data class: both TensorBoard loaders then serve it as
``audio/wav``. (The legacy ``Summary.Audio`` that torch writes is served by the default
Rust loader as ``application/octet-stream``.) :mod:`tbplugins.wav` writes and reads the WAV.

Reading back (:func:`decode`, used by ``tbcore.reader.audio``): both forms, ours and the
legacy one, become float32 samples in [-1, 1] (PCM divided by its largest positive value,
32767 for 16 bits: the inverse of the float scaling above; float WAVs as they are), the
sample rate and the label.
"""

from __future__ import annotations

import os
from typing import Any

import numpy as np

import tbcore
from tbcore.proto import plugin_audio_pb2, summary_pb2
from tbplugins.optional import require
from tbplugins.wav import read_wav, wav_bytes

PLUGIN_NAME = "audio"
PROTO_VERSION = 0

MAX_CHANNELS = 8
_SHAPES = "shape (L,) or (1, L); for several channels pass dataformats='CL' or 'LC'"
_LAYOUTS = {"L": "L", "CL": "CL", "LC": "LC"}


def content() -> bytes:
    """Return the ``audio`` plugin content: ``AudioPluginData{version: 0, encoding: WAV}``."""
    data = plugin_audio_pb2.AudioPluginData(version=PROTO_VERSION, encoding=plugin_audio_pb2.AudioPluginData.WAV)
    return data.SerializeToString()


def frames(array: np.ndarray, dataformats: str | None) -> np.ndarray:
    """Return ``array`` as (L, C) frames according to ``dataformats`` (see the module docstring)."""
    if dataformats is None:
        if array.size != max(array.shape, default=1) or array.size == 0:
            raise tbcore.invalid("snd_tensor", _SHAPES, array)
        return array.reshape(-1, 1)
    layout = _LAYOUTS.get(dataformats.upper()) if isinstance(dataformats, str) else None
    if layout is None:
        raise tbcore.invalid("dataformats", "None, 'L', 'CL' or 'LC'", dataformats, kind=ValueError)
    if array.ndim != len(layout):
        raise tbcore.invalid("snd_tensor", f"{len(layout)} dimensions for dataformats={layout!r}", array)
    result = array.reshape(-1, 1) if layout == "L" else (array.T if layout == "CL" else array)
    if result.size == 0:
        raise tbcore.invalid("snd_tensor", "at least one sample", array)
    if result.shape[1] > MAX_CHANNELS:
        raise tbcore.invalid("snd_tensor", f"at most {MAX_CHANNELS} channels for dataformats={layout!r}", array)
    return result


def pcm(samples: np.ndarray) -> tuple[np.ndarray, int]:
    """Return (L, C) samples as little-endian PCM and its sample width in bytes (see the module docstring)."""
    kind, size = samples.dtype.kind, samples.dtype.itemsize
    if kind == "i" and size == 2:
        return samples.astype("<i2", copy=False), 2
    if kind == "u" and size == 1:
        return samples, 1
    if kind == "i" and size == 1:
        return (samples.view(np.uint8) ^ np.uint8(0x80)), 1
    if kind == "i" and size == 4:
        return (samples >> 16).astype("<i2"), 2
    if kind == "V" and samples.dtype.name.startswith(("bfloat", "float8")):
        samples = samples.astype(np.float32)
    elif kind != "f":
        expected = "float samples in [-1, 1], int16, int32, int8 or uint8"
        raise tbcore.invalid("snd_tensor", expected, samples, kind=TypeError)
    tbcore.reject_nan(samples, "snd_tensor", "samples without NaN")
    with np.errstate(over="ignore"):
        scaled = np.multiply(samples, 32767.0, dtype=np.float32)
    np.clip(scaled, -32767.0, 32767.0, out=scaled)
    np.rint(scaled, out=scaled)
    return scaled.astype("<i2"), 2


def _clip(encoded: bytes, label: bytes, legacy_rate: float) -> dict[str, Any]:
    """Return one clip decoded: samples (frames,) mono or (frames, channels), or None if not a PCM or float WAV."""
    samples: np.ndarray | None
    try:
        decoded, rate = read_wav(encoded)
    except ValueError:
        samples, rate = None, int(legacy_rate)
    else:
        samples = decoded[:, 0] if decoded.shape[1] == 1 else decoded
    text = label.decode("utf-8", errors="replace")
    return {"samples": samples, "sample_rate": rate, "label": text, "encoded": encoded}


def decode(value: summary_pb2.Summary.Value) -> dict[str, Any]:
    """Return an audio value as ``{samples, sample_rate, label, encoded, clips}``.

    ``samples`` is float32 in [-1, 1]: ``(frames,)`` for one channel, ``(frames, channels)`` for
    more, or None when the clip is not a PCM or float WAV (``encoded`` then still holds its bytes). The
    tensor form may hold several clips (``[k, 2]`` rows of WAV and label): the fields are those of
    the first, ``clips`` lists every clip as such a dict. Legacy ``Summary.Audio`` has no label.
    """
    if value.WhichOneof("value") == "audio":
        audio = value.audio
        clips = [_clip(bytes(audio.encoded_audio_string), b"", audio.sample_rate)]
    else:
        array = tbcore.tensor_to_numpy(value.tensor)  # [k, 2] rows of (WAV, label), or [k] WAVs
        rows = array.reshape(-1, array.shape[1] if array.ndim == 2 else 1)
        clips = [_clip(bytes(row[0]), bytes(row[1]) if row.size > 1 else b"", 0) for row in rows]
    first = clips[0] if clips else _clip(b"", b"", 0)
    return {**first, "clips": clips}


def _sample_rate(sample_rate: Any) -> int:
    rate = tbcore.check_positive(sample_rate, "sample_rate")
    if not 1 <= round(rate) < 2**32:
        raise tbcore.invalid("sample_rate", "a number of samples per second in [1, 2**32)", sample_rate)
    return int(round(rate))


def read_file(path: str | os.PathLike[str]) -> tuple[np.ndarray, int]:
    """Return the samples (L, C) float32 and the sample rate of an audio file (needs soundfile)."""
    soundfile = require("soundfile", "audio", "snd_tensor: reading an audio file")
    try:
        data, rate = soundfile.read(os.fspath(path), dtype="float32", always_2d=True)
    except (OSError, RuntimeError) as exc:  # soundfile.LibsndfileError is a RuntimeError
        raise ValueError(f"snd_tensor: expected a readable audio file, got {os.fspath(path)!r} ({exc})") from None
    return data, int(rate)


def encode(
    tag: str, snd_tensor: Any, *, sample_rate: int = 44100, dataformats: str | None = None
) -> summary_pb2.Summary:
    """Return an audio summary of ``snd_tensor`` (samples, or an audio file path) at ``sample_rate`` Hz."""
    rate = _sample_rate(sample_rate)
    if isinstance(snd_tensor, (str, os.PathLike)):
        samples, rate = read_file(snd_tensor)
        if samples.size == 0:
            raise tbcore.invalid("snd_tensor", "an audio file with at least one sample", snd_tensor)
    else:
        samples = frames(tbcore.as_numpy(snd_tensor, "snd_tensor"), dataformats)
    data, width = pcm(samples)
    clip = np.array([[wav_bytes(data, width, rate), b""]], dtype=object)
    return tbcore.tensor_summary(tag, clip, plugin_name=PLUGIN_NAME, content=content())


@tbcore.hookimpl
def tbcore_summary_types() -> list[tbcore.SummaryType]:
    """Provide ``audio``."""
    return [
        tbcore.SummaryType(
            name="audio",
            plugin_name=PLUGIN_NAME,
            encode=encode,
            description="a WAV clip per step, mono or multi-channel (add_audio)",
            adapt_value=False,
            decode=decode,
        )
    ]
