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
    "custom_scalars",
    "embedding",
    "encode",
    "figure",
    "histogram",
    "hparams",
    "image",
    "image_with_boxes",
    "images",
    "mesh",
    "pr_curve",
    "pr_curve_raw",
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
    options = {"box_tensor": box_tensor, "rescale": rescale, "dataformats": dataformats, "labels": labels}
    return encode("image_with_boxes", tag, img_tensor, **options)


def figure(tag: str, figure: Any, close: bool = True) -> Any:
    """Return an image ``Summary`` of a matplotlib figure (or a grid of a list of them)."""
    return encode("figure", tag, figure, close=close)


def video(tag: str, vid_tensor: Any, fps: float = 4) -> Any:
    """Return an image ``Summary`` holding ``vid_tensor`` (N, T, C, H, W) as an animated GIF."""
    return encode("video", tag, vid_tensor, fps=fps)


def audio(tag: str, snd_tensor: Any, sample_rate: int = 44100, dataformats: str | None = None) -> Any:
    """Return an audio ``Summary`` (WAV) of ``snd_tensor``; see docs/types/audio.md for shapes."""
    return encode("audio", tag, snd_tensor, sample_rate=sample_rate, dataformats=dataformats)


def pr_curve(tag: str, labels: Any, predictions: Any, num_thresholds: int = 127, weights: Any = None) -> Any:
    """Return a PR curve ``Summary`` of binary ``labels`` against ``predictions`` in [0, 1]."""
    return encode("pr_curve", tag, predictions, labels=labels, num_thresholds=num_thresholds, weights=weights)


def pr_curve_raw(
    tag: str,
    tp: Any,
    fp: Any,
    tn: Any,
    fn: Any,
    precision: Any,
    recall: Any,
    num_thresholds: int = 127,
    weights: Any = None,
) -> Any:
    """Return a PR curve ``Summary`` from per-threshold counts, precision and recall (equal lengths)."""
    options = {
        "false_positive_counts": fp,
        "true_negative_counts": tn,
        "false_negative_counts": fn,
        "precision": precision,
        "recall": recall,
        "num_thresholds": num_thresholds,
        "weights": weights,
    }
    return encode("pr_curve_raw", tag, tp, **options)


def mesh(tag: str, vertices: Any, colors: Any = None, faces: Any = None, config_dict: Any = None) -> Any:
    """Return one ``Summary`` with the ``<tag>_VERTEX``/``_FACE``/``_COLOR`` values of a mesh."""
    return encode("mesh", tag, vertices, colors=colors, faces=faces, config_dict=config_dict)


def custom_scalars(layout: Any) -> Any:
    """Return the custom-scalars layout ``Summary`` of ``{category: {title: ['Multiline'|'Margin', tags]}}``."""
    return encode("custom_scalars", "custom_scalars__config__", layout)


def hparams(hparam_dict: Any, metric_dict: Any, hparam_domain_discrete: Any = None) -> tuple[Any, Any, Any]:
    """Return the experiment, session-start and session-end ``Summary`` of a trial, as torch's function does.

    Write them with ``writer.file_writer.add_summary(...)`` into the trial's run, and the
    metrics as scalars in the same run. Unlike torch, bools stay bools.
    """
    options = {"metric_dict": metric_dict, "hparam_domain_discrete": hparam_domain_discrete}
    records = encode("hparams", ".", hparam_dict, **options)
    experiment, start, end = (record.summary for record in records[:3])
    return experiment, start, end


def embedding(
    mat: Any,
    metadata: Any = None,
    label_img: Any = None,
    global_step: int | None = None,
    tag: str = "default",
    metadata_header: Any = None,
) -> Any:
    """Return the projector files of an embedding as an :class:`tbcore.Encoded` of assets (nothing is written)."""
    options = {"metadata": metadata, "label_img": label_img, "metadata_header": metadata_header, "step": global_step}
    return encode("embedding", tag, mat, **options)
