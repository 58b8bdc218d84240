"""Pure encoders: build ``Summary`` protos without a writer.

For frameworks that keep their own event writer: every function returns what the
writer would write (a ``Summary``, or :class:`tbcore.Encoded` records for types that
need more than one summary or files) and never touches the disk. Values go through the
same array adapters and summary-type plugins as ``SummaryWriter.add``.

>>> from tbcore import summary
>>> proto = summary.scalar("loss", 0.25)
"""

from __future__ import annotations

from typing import Any

from tbcore import plugins
from tbcore.adapters import as_numpy
from tbcore.registry import lookup
from tbcore.validate import check_tag

__all__ = [
    "audio",
    "encode",
    "figure",
    "histogram",
    "image",
    "image_with_boxes",
    "images",
    "scalar",
    "tensor",
    "text",
    "video",
]


def encode(kind: str, tag: str, value: Any, **options: Any) -> Any:
    """Encode ``value`` as summary type ``kind`` (any installed type); returns what its encoder returns."""
    stype = lookup(plugins.summary_types(), kind, plugins.failed_plugins())
    tag = check_tag(tag)
    if stype.adapt_value:
        value = as_numpy(value, stype.value_name)
    for name in stype.array_options:
        if options.get(name) is not None:
            options[name] = as_numpy(options[name], name)
    return stype.encode(tag, value, **options)


def scalar(tag: str, scalar_value: Any, new_style: bool = False) -> Any:
    """Return a scalar ``Summary`` (legacy ``simple_value``, or a float32 tensor if ``new_style``)."""
    return encode("scalar", tag, scalar_value, new_style=new_style)


def histogram(tag: str, values: Any, bins: Any = "tensorflow", max_bins: int | None = None) -> Any:
    """Return a histogram ``Summary`` of ``values``."""
    return encode("histogram", tag, values, bins=bins, max_bins=max_bins)


def text(tag: str, text_string: str) -> Any:
    """Return a text ``Summary`` (tag ``<tag>/text_summary``)."""
    return encode("text", tag, text_string)


def tensor(tag: str, value: Any) -> Any:
    """Return a raw tensor ``Summary``."""
    return encode("tensor", tag, value)


def image(tag: str, img_tensor: Any, dataformats: str = "CHW") -> Any:
    """Return an image ``Summary`` (PNG) of ``img_tensor`` laid out as ``dataformats``."""
    return encode("image", tag, img_tensor, dataformats=dataformats)


def images(tag: str, img_tensor: Any, dataformats: str = "NCHW") -> Any:
    """Return an image ``Summary`` of a batch tiled into one grid, as torch tiles it."""
    return encode("images", tag, img_tensor, dataformats=dataformats)


def image_with_boxes(
    tag: str,
    img_tensor: Any,
    box_tensor: Any,
    rescale: float = 1,
    dataformats: str = "CHW",
    labels: list[str] | None = None,
) -> Any:
    """Return an image ``Summary`` with ``box_tensor`` (N, 4) boxes and optional labels drawn on it."""
    return encode(
        "image_with_boxes", tag, img_tensor, box_tensor=box_tensor, rescale=rescale, dataformats=dataformats,
        labels=labels,
    )


def figure(tag: str, figure: Any, close: bool = True) -> Any:
    """Return an image ``Summary`` of a matplotlib figure (or a grid of a list of them)."""
    return encode("figure", tag, figure, close=close)


def video(tag: str, vid_tensor: Any, fps: float = 4) -> Any:
    """Return an image ``Summary`` holding ``vid_tensor`` (N, T, C, H, W) as an animated GIF."""
    return encode("video", tag, vid_tensor, fps=fps)


def audio(tag: str, snd_tensor: Any, sample_rate: int = 44100, dataformats: str | None = None) -> Any:
    """Return an audio ``Summary`` (WAV) of ``snd_tensor``; see docs/types/audio.md for shapes."""
    return encode("audio", tag, snd_tensor, sample_rate=sample_rate, dataformats=dataformats)
