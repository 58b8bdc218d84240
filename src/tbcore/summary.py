"""Pure encoders: build ``Summary`` protos without a writer.

For frameworks that keep their own event writer: every function returns what the
writer would write (a ``Summary``, or :class:`tbcore.Encoded` records for types that
need more than one summary or files) and never touches the disk. Values go through the
same array adapters and summary-type plugins as ``SummaryWriter.add``.

Each function takes the data and options of the ``SummaryWriter.add_*`` method of the same
name (not ``global_step`` or ``walltime``; ``embedding`` takes ``global_step``, which names
its directory), checks them the same way and raises the same ``TypeError``/``ValueError``
for bad input; the per-type pages (docs/types/) describe them.
Write a result with ``writer.write(result, step)`` or ``writer.file_writer.add_summary``.

>>> from tbcore import summary
>>> proto = summary.scalar("loss", 0.25)
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from tbcore import plugins
from tbcore.adapters import as_numpy
from tbcore.registry import lookup
from tbcore.validate import check_tag

if TYPE_CHECKING:
    from tbcore.encoded import Encoded
    from tbcore.proto.summary_pb2 import Summary
    from tbcore.registry import SummaryType

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
    """Encode ``value`` as summary type ``kind`` (any installed type), as ``SummaryWriter.add`` would.

    :param options: keyword options of that summary type's encoder.
    :returns: what the type's encoder returns: a ``Summary``, an :class:`tbcore.Encoded` or a list of them.
    :raises UnknownSummaryType: no installed plugin provides ``kind``.
    :raises TypeError: a tag, value or option of the wrong type.
    :raises ValueError: a tag, value or option of the right type but a wrong shape, range or content.
    """
    stype = _summary_type(kind)
    return _encode(stype, check_tag(tag), value, options)


def encode_checked(kind: str, tag: str, value: Any, options: dict[str, Any]) -> Any:
    """:func:`encode` for a ``tag`` that :func:`tbcore.validate.check_tag` returned already (the writer's ``add``).

    ``options`` may be changed (arrays converted in place).
    """
    return _encode(_summary_type(kind), tag, value, options)


def _summary_type(kind: str) -> SummaryType:
    return lookup(plugins.summary_types(), kind, plugins.failed_plugins)  # failures are read only for the error


def _encode(stype: SummaryType, tag: str, value: Any, options: dict[str, Any]) -> Any:
    if stype.adapt_value:
        value = as_numpy(value, stype.value_name)
    for name in stype.array_options:
        if options.get(name) is not None:
            options[name] = as_numpy(options[name], name)
    return stype.encode(tag, value, **options)


def scalar(tag: str, scalar_value: Any, new_style: bool = False) -> Summary:
    """Return a scalar ``Summary`` (legacy ``simple_value``, or a float32 tensor if ``new_style``)."""
    return encode("scalar", tag, scalar_value, new_style=new_style)


def histogram(tag: str, values: Any, bins: Any = "tensorflow", max_bins: int | None = None) -> Summary:
    """Return a histogram ``Summary`` of ``values``; ``bins`` and ``max_bins`` as ``add_histogram``."""
    return encode("histogram", tag, values, bins=bins, max_bins=max_bins)


def text(tag: str, text_string: str) -> Summary:
    """Return a text ``Summary`` (tag ``<tag>/text_summary``)."""
    return encode("text", tag, text_string)


def tensor(tag: str, value: Any) -> Summary:
    """Return a raw tensor ``Summary`` of ``value`` (any dtype and shape, read back by the reader)."""
    return encode("tensor", tag, value)


def image(tag: str, img_tensor: Any, dataformats: str = "CHW") -> Summary:
    """Return an image ``Summary`` (PNG) of ``img_tensor`` laid out as ``dataformats``."""
    return encode("image", tag, img_tensor, dataformats=dataformats)


def images(tag: str, img_tensor: Any, dataformats: str = "NCHW") -> Summary:
    """Return an image ``Summary`` of a batch tiled into one grid, as torch tiles it."""
    return encode("images", tag, img_tensor, dataformats=dataformats)


def image_with_boxes(
    tag: str,
    img_tensor: Any,
    box_tensor: Any,
    rescale: float = 1,
    dataformats: str = "CHW",
    labels: list[str] | None = None,
) -> Summary:
    """Return an image ``Summary`` with ``box_tensor`` (N, 4) boxes and optional labels drawn on it."""
    options = {"box_tensor": box_tensor, "rescale": rescale, "dataformats": dataformats, "labels": labels}
    return encode("image_with_boxes", tag, img_tensor, **options)


def figure(tag: str, figure: Any, close: bool = True) -> Summary:
    """Return an image ``Summary`` of a matplotlib figure (or a grid of a list of them)."""
    return encode("figure", tag, figure, close=close)


def video(tag: str, vid_tensor: Any, fps: float = 4) -> Summary:
    """Return an image ``Summary`` holding ``vid_tensor`` (N, T, C, H, W) as an animated GIF."""
    return encode("video", tag, vid_tensor, fps=fps)


def audio(tag: str, snd_tensor: Any, sample_rate: int = 44100, dataformats: str | None = None) -> Summary:
    """Return an audio ``Summary`` (WAV) of ``snd_tensor``; shapes and ``dataformats`` as ``add_audio``."""
    return encode("audio", tag, snd_tensor, sample_rate=sample_rate, dataformats=dataformats)


def pr_curve(tag: str, labels: Any, predictions: Any, num_thresholds: int = 127, weights: Any = None) -> Summary:
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
) -> Summary:
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


def mesh(tag: str, vertices: Any, colors: Any = None, faces: Any = None, config_dict: Any = None) -> Summary:
    """Return one ``Summary`` with the ``<tag>_VERTEX``/``_FACE``/``_COLOR`` values of a mesh."""
    return encode("mesh", tag, vertices, colors=colors, faces=faces, config_dict=config_dict)


def custom_scalars(layout: Any) -> Summary:
    """Return the custom-scalars layout ``Summary`` of ``{category: {title: ['Multiline'|'Margin', tags]}}``."""
    return encode("custom_scalars", "custom_scalars__config__", layout)


def hparams(hparam_dict: Any, metric_dict: Any, hparam_domain_discrete: Any = None) -> tuple[Summary, Summary, Summary]:
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
) -> Encoded:
    """Return the projector files of an embedding as an :class:`tbcore.Encoded` of assets (nothing is written)."""
    options = {"metadata": metadata, "label_img": label_img, "metadata_header": metadata_header, "step": global_step}
    return encode("embedding", tag, mat, **options)
