"""WAV files for the audio summary type: written with the stdlib ``wave``, read by a small RIFF parser of our own.

The stdlib ``wave`` reads only plain PCM, and the ``WAVE_FORMAT_EXTENSIBLE`` header that
libsndfile, ffmpeg and others write for 24-bit, 32-bit or multi-channel audio only from
Python 3.12. :func:`read_wav` reads the ``fmt `` and ``data`` chunks itself, on every Python:
PCM of 8, 16, 24 or 32 bits and IEEE float of 32 or 64 bits, plain or ``WAVE_FORMAT_EXTENSIBLE``
(whose sub-format then says which of the two it is).
"""

from __future__ import annotations

import io
import struct
import wave
from collections.abc import Iterator

import numpy as np

__all__ = ["read_wav", "wav_bytes"]

_PCM, _FLOAT, _EXTENSIBLE = 1, 3, 0xFFFE  # WAVE_FORMAT_* tags
#: the last 12 bytes of every KSDATAFORMAT_SUBTYPE_* GUID; its first 4 bytes are the WAVE_FORMAT_* tag
_SUBTYPE_TAIL = bytes.fromhex("0000 1000 8000 00aa 0038 9b71")
_FMT = struct.Struct("<HHIIHH")  # tag, channels, sample rate, byte rate, block align, bits per sample


def wav_bytes(samples: np.ndarray, width: int, sample_rate: int) -> bytes:
    """Return a WAV file of (L, C) PCM ``samples`` of ``width`` bytes each."""
    output = io.BytesIO()
    with wave.open(output, "wb") as file:
        file.setnchannels(samples.shape[1])
        file.setsampwidth(width)
        file.setframerate(sample_rate)
        file.writeframes(np.ascontiguousarray(samples).data)
    return output.getvalue()


def read_wav(data: bytes) -> tuple[np.ndarray, int]:
    """Return the samples of a WAV file as float32 (frames, channels) in [-1, 1] and its sample rate.

    PCM is divided by its largest positive value (32767 for 16 bits); float samples are kept as they are.

    :raises ValueError: ``data`` is not a WAV file of PCM (8, 16, 24 or 32 bits) or float (32 or 64 bits).
    """
    try:
        tag, width, channels, rate, raw = _parse(data)
    except ValueError as exc:
        raise ValueError(
            f"audio: expected a PCM or float WAV file, got {len(data)} bytes that are not one ({exc})"
        ) from None
    raw = raw[: len(raw) - len(raw) % (width * channels)]  # whole frames only (a cut file)
    if tag == _FLOAT:
        return np.frombuffer(raw, f"<f{width}").astype(np.float32).reshape(-1, channels), rate
    if width == 1:  # unsigned, centred on 128
        ints = np.frombuffer(raw, np.uint8).astype(np.int32) - 128
    elif width == 3:  # 24 bits: each sample into the top three bytes of an int32, then shifted back
        wide = np.zeros((len(raw) // 3, 4), np.uint8)
        wide[:, 1:] = np.frombuffer(raw, np.uint8).reshape(-1, 3)
        ints = wide.view("<i4").reshape(-1) >> 8
    else:
        ints = np.frombuffer(raw, f"<i{width}")
    samples = (ints / float(2 ** (8 * width - 1) - 1)).astype(np.float32)
    return samples.reshape(-1, channels), rate


def _parse(data: bytes) -> tuple[int, int, int, int, bytes]:
    """Return ``(format tag, bytes per sample, channels, sample rate, sample bytes)`` of a WAV file."""
    if data[:4] != b"RIFF" or data[8:12] != b"WAVE":
        raise ValueError("no RIFF WAVE header")
    chunks: dict[bytes, bytes] = {}
    for ident, body in _chunks(data):
        chunks.setdefault(ident, body)  # the first of each kind
    if b"fmt " not in chunks or b"data" not in chunks:
        raise ValueError("no fmt or no data chunk")
    fmt = chunks[b"fmt "]
    if len(fmt) < _FMT.size:
        raise ValueError(f"a fmt chunk of {len(fmt)} bytes")
    tag, channels, rate, _, _, bits = _FMT.unpack_from(fmt)
    if tag == _EXTENSIBLE:
        subformat = fmt[24:40]
        if len(subformat) < 16 or subformat[4:] != _SUBTYPE_TAIL:
            raise ValueError("a WAVE_FORMAT_EXTENSIBLE fmt chunk without a known sub-format")
        tag = int.from_bytes(subformat[:4], "little")
    width = (bits + 7) // 8
    if (tag, width) not in {(_PCM, 1), (_PCM, 2), (_PCM, 3), (_PCM, 4), (_FLOAT, 4), (_FLOAT, 8)}:
        raise ValueError(f"format {tag} with {bits} bits per sample")
    if channels < 1:
        raise ValueError("no channels")
    return tag, width, channels, rate, chunks[b"data"]


def _chunks(data: bytes) -> Iterator[tuple[bytes, bytes]]:
    """Yield the ``(id, body)`` of each chunk after the RIFF header; a cut last chunk keeps what is there."""
    offset = 12
    while offset + 8 <= len(data):
        ident, size = data[offset : offset + 4], int.from_bytes(data[offset + 4 : offset + 8], "little")
        yield ident, data[offset + 8 : offset + 8 + size]
        offset += 8 + size + size % 2  # chunks are padded to an even length
