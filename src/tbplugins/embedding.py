"""Embeddings for TensorBoard's Projector (``add_embedding``).

The projector reads files, not events: ``<step as 5 digits>/<tag>/tensors.tsv`` (and
``metadata.tsv``, ``sprite.png``) beside the run's event file, listed in the run's
``projector_config.pbtxt``. The encoder returns them as :class:`tbcore.Asset` files; the
config asset is a function that merges the new entry into the file's current content, so
the config lists every embedding ever written to the log directory (all tags and steps,
from any writer object), not only those of the last writer as torch's does. The writer
applies it before writing any file of the call, under a lock across processes on local
disks (see :class:`tbcore.Asset`).
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from typing import Any

import numpy as np
from google.protobuf import text_format

import tbcore
from tbcore.proto import projector_config_pb2
from tbplugins.imaging import tile
from tbplugins.tsv import format_matrix, format_metadata

PLUGIN_NAME = "projector"
PROTO_VERSION = 0
CONFIG_FILE = "projector_config.pbtxt"
MAX_SPRITE_SIDE = 8192  #: the largest sprite atlas (pixels per side) the projector loads


def check_embedding_tag(tag: Any) -> str:
    """Return ``tag`` if it can name the embedding's directory: no '/', '\\', NUL, and not '.' or '..'."""
    tag = tbcore.check_tag(tag)
    if "/" in tag or "\\" in tag or tag in (".", ".."):
        raise tbcore.invalid(
            "tag", "a name without '/' or '\\' that is not '.' or '..' (it names the embedding's directory)", tag
        )
    return tag


def directory(tag: str, step: int) -> str:
    """Return the embedding's directory relative to the run: ``<step, 5 digits>/<tag, '%' escaped>`` as torch."""
    return f"{step:05d}/{tag.replace('%', '%25')}"


def _metadata_rows(metadata: Any, rows: int, header: Any) -> tuple[list[Any], list[Any] | None]:
    if not isinstance(metadata, (list, tuple)):
        if isinstance(metadata, (str, bytes, dict)) or not hasattr(metadata, "__len__"):
            expected = "a list with one label (or one row of labels) per row of mat"
            raise tbcore.invalid("metadata", expected, metadata, kind=TypeError)
        metadata = tbcore.as_numpy(metadata, "metadata").tolist()
    if len(metadata) != rows:
        raise ValueError(f"metadata: expected one entry per row of mat ({rows}), got {len(metadata)}")
    if header is None:
        return list(metadata), None
    if isinstance(header, (str, bytes)) or not isinstance(header, Sequence) or not header:
        raise tbcore.invalid("metadata_header", "a non-empty list of column names", header, kind=TypeError)
    for index, row in enumerate(metadata):
        if isinstance(row, (str, bytes)) or not isinstance(row, Sequence) or len(row) != len(header):
            expected = f"a list of {len(header)} values (one per metadata_header column)"
            raise tbcore.invalid(f"metadata[{index}]", expected, row)
    if len(header) == 1:  # the projector reads a one-column file without a header line
        return [row[0] for row in metadata], None
    return list(metadata), list(header)


def sprite(label_img: np.ndarray) -> tuple[bytes, list[int]]:
    """Return the sprite atlas PNG of ``(N, C, H, W)`` thumbnails and ``[W, H]`` of one thumbnail.

    Thumbnails are tiled row-major on a ``ceil(sqrt(N))``-wide grid padded with black to as
    many rows (torch's square layout for square thumbnails), as RGB like torch's. uint8
    values are used as they are; other dtypes are taken as intensities in [0, 1], scaled by
    255 and truncated, as torch does.
    """
    count, channels, height, width = label_img.shape
    side = math.ceil(math.sqrt(count))
    if side * max(height, width) > MAX_SPRITE_SIDE:
        raise ValueError(
            f"label_img: expected thumbnails whose sprite fits {MAX_SPRITE_SIDE}x{MAX_SPRITE_SIDE} pixels "
            f"({count} images on a {side}x{side} grid), got {width}x{height} pixels each; use smaller thumbnails"
        )
    if label_img.dtype != np.uint8:
        label_img = (np.clip(label_img.astype(np.float64), 0.0, 1.0) * 255).astype(np.uint8)
    thumbnails = label_img.transpose(0, 2, 3, 1)
    if channels == 1:
        thumbnails = np.repeat(thumbnails, 3, axis=3)
    return tbcore.images.encode_png(tile(thumbnails, side, side)), [width, height]


def merge_into_config(info: projector_config_pb2.EmbeddingInfo) -> Callable[[bytes | None], bytes]:
    """Return a function adding ``info`` to a projector config's content, replacing an entry of the same name."""

    def merge(current: bytes | None) -> bytes:
        config = projector_config_pb2.ProjectorConfig()
        if current:
            try:
                text_format.Parse(current.decode("utf-8"), config, allow_unknown_field=True)
            except (text_format.ParseError, UnicodeDecodeError) as exc:
                raise ValueError(
                    f"{CONFIG_FILE}: expected the existing file of the log directory to be a projector config "
                    f"(protobuf text format), got one that does not parse ({exc}); fix or remove it"
                ) from None
        kept = [entry for entry in config.embeddings if entry.tensor_name != info.tensor_name]
        del config.embeddings[:]
        config.embeddings.extend([*kept, info])
        return text_format.MessageToString(config).encode("utf-8")

    return merge


def encode(
    tag: str,
    mat: np.ndarray,
    *,
    metadata: Any = None,
    label_img: np.ndarray | None = None,
    metadata_header: Any = None,
    step: Any = None,
) -> tbcore.Encoded:
    """Return the projector files of embedding ``tag`` at ``step``.

    :param mat: ``(N, D)`` real numbers, one point per row (written as float32, as the projector reads them).
    :param metadata: N labels, or N rows of labels with ``metadata_header`` naming the columns.
    :param label_img: ``(N, C, H, W)`` thumbnails (C is 1 or 3) for the sprite atlas.
    :param step: the global step (an int >= 0; None means 0), part of the directory and tensor name.
    """
    tag = check_embedding_tag(tag)
    step = tbcore.check_step(step)
    mat = tbcore.real_array(mat, "mat", "an (N, D) array of real numbers")
    if mat.ndim != 2 or mat.shape[0] == 0 or mat.shape[1] == 0:
        raise tbcore.invalid("mat", "a non-empty array of shape (N, D)", mat)
    rows = mat.shape[0]
    where = directory(tag, step)
    info = projector_config_pb2.EmbeddingInfo(
        tensor_name=f"{tag}:{step:05d}", tensor_path=f"{where}/tensors.tsv", tensor_shape=list(mat.shape)
    )
    assets = []
    if metadata is not None:
        labels, header = _metadata_rows(metadata, rows, metadata_header)
        assets.append(tbcore.Asset(f"{where}/metadata.tsv", format_metadata(labels, header)))
        info.metadata_path = f"{where}/metadata.tsv"
    if label_img is not None:
        if label_img.dtype.name in tbcore.SMALL_FLOATS:
            label_img = label_img.astype(np.float32)
        shape, kind = label_img.shape, label_img.dtype.kind
        if len(shape) != 4 or shape[1] not in (1, 3) or 0 in shape[2:] or kind not in "biuf":
            expected = "an (N, C, H, W) array of images with C = 1 or 3 and H, W >= 1"
            raise tbcore.invalid("label_img", expected, label_img)
        if label_img.shape[0] != rows:
            raise ValueError(f"label_img: expected one image per row of mat ({rows}), got {label_img.shape[0]}")
        if label_img.dtype.kind == "f":
            tbcore.reject_nan(label_img, "label_img", "thumbnails without NaN")
        png, size = sprite(label_img)
        assets.append(tbcore.Asset(f"{where}/sprite.png", png))
        info.sprite.image_path = f"{where}/sprite.png"
        info.sprite.single_image_dim.extend(size)
    assets.insert(0, tbcore.Asset(f"{where}/tensors.tsv", format_matrix(mat)))
    assets.append(tbcore.Asset(CONFIG_FILE, merge_into_config(info)))
    return tbcore.Encoded(assets=tuple(assets))


@tbcore.hookimpl
def tbcore_summary_types() -> list[tbcore.SummaryType]:
    """Provide ``embedding``."""
    return [
        tbcore.SummaryType(
            name="embedding",
            plugin_name=PLUGIN_NAME,
            encode=encode,
            description="points for the embedding projector, with labels and thumbnails (add_embedding)",
            array_options=frozenset({"label_img"}),
        )
    ]
