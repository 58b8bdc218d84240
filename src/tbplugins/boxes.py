"""Images with bounding boxes: ``add_image_with_boxes``, drawn with Pillow and shown in the Images dashboard.

Boxes are ``(N, 4)`` rows of ``[x_min, y_min, x_max, y_max]`` in pixels of the input
image, drawn as red outlines 2 pixels wide; each label is written in white on a red band
at the top-left corner of its box. ``rescale`` resizes the finished image (Lanczos).
Unlike torch, a label list whose length is not N is an error (torch silently drops it).
"""

from __future__ import annotations

import math
import numbers
from collections.abc import Sequence
from typing import Any

import numpy as np

import tbcore
from tbcore.images import image_summary
from tbcore.proto import summary_pb2
from tbplugins.imaging import image_grid, pixels
from tbplugins.optional import require

PLUGIN_NAME = "images"
PROTO_VERSION = 0

_EXPECTED = "an (N, 4) array of [x_min, y_min, x_max, y_max] rows"
_COLOR = (255, 0, 0)
_LINE_WIDTH = 2


def check_boxes(box_tensor: Any) -> np.ndarray:
    """Return ``box_tensor`` as an (N, 4) float64 array of finite ``[x_min, y_min, x_max, y_max]`` rows."""
    if box_tensor is None:
        raise tbcore.invalid("box_tensor", _EXPECTED, box_tensor, kind=TypeError)
    boxes = tbcore.as_numpy(box_tensor, "box_tensor")
    if boxes.dtype.kind not in "fiu":
        raise tbcore.invalid("box_tensor", "an (N, 4) array of real numbers", boxes, kind=TypeError)
    if boxes.ndim != 2 or boxes.shape[1] != 4:
        raise tbcore.invalid("box_tensor", "shape (N, 4): one [x_min, y_min, x_max, y_max] row per box", boxes)
    boxes = boxes.astype(np.float64)
    if not np.isfinite(boxes).all():
        raise tbcore.invalid("box_tensor", "finite coordinates", boxes)
    return boxes


def check_labels(labels: Any, count: int) -> list[str] | None:
    """Return ``labels`` as a list of ``count`` strings (a single str is one label), or None."""
    if labels is None:
        return None
    if isinstance(labels, str):
        labels = [labels]
    if not isinstance(labels, Sequence) or isinstance(labels, bytes):
        raise tbcore.invalid("labels", "a list of str, one per box, or None", labels, kind=TypeError)
    if len(labels) != count:
        raise ValueError(f"labels: expected one label per box ({count}), got {len(labels)} labels")
    return [label if isinstance(label, str) else str(label) for label in labels]


def _check_rescale(rescale: Any) -> float:
    if isinstance(rescale, bool) or not isinstance(rescale, numbers.Real):
        raise tbcore.invalid("rescale", "a number > 0", rescale, kind=TypeError)
    scale = float(rescale)
    if not (math.isfinite(scale) and scale > 0):
        raise tbcore.invalid("rescale", "a finite number > 0", rescale)
    return scale


def draw_boxes(image: np.ndarray, boxes: np.ndarray, labels: list[str] | None, rescale: float = 1.0) -> np.ndarray:
    """Return (H, W, C) uint8 ``image`` with ``boxes`` and ``labels`` drawn on it, resized by ``rescale``."""
    Image = require("PIL.Image", "image", "add_image_with_boxes")
    ImageDraw = require("PIL.ImageDraw", "image", "add_image_with_boxes")
    ImageFont = require("PIL.ImageFont", "image", "add_image_with_boxes")
    canvas = Image.fromarray(image[:, :, 0] if image.shape[2] == 1 else image)
    if canvas.mode not in ("RGB", "RGBA"):
        canvas = canvas.convert("RGB")
    draw = ImageDraw.Draw(canvas)
    font = ImageFont.load_default()
    for index, (x0, y0, x1, y1) in enumerate(boxes.tolist()):
        left, right = sorted((x0, x1))
        top, bottom = sorted((y0, y1))
        draw.rectangle((left, top, right, bottom), outline=_COLOR, width=_LINE_WIDTH)
        if labels and labels[index]:
            text_left, text_top, text_right, text_bottom = draw.textbbox((0, 0), labels[index], font=font)
            height = text_bottom - text_top + 2
            y = top - height if top - height >= 0 else top
            draw.rectangle((left, y, left + text_right - text_left + 2, y + height), fill=_COLOR)
            draw.text((left + 1, y + 1 - text_top), labels[index], fill=(255, 255, 255), font=font)
    if rescale != 1.0:
        size = (max(1, int(canvas.width * rescale)), max(1, int(canvas.height * rescale)))
        canvas = canvas.resize(size, Image.Resampling.LANCZOS)
    return np.asarray(canvas)


def encode(
    tag: str,
    img_tensor: Any,
    *,
    box_tensor: Any,
    rescale: float = 1,
    dataformats: str = "CHW",
    labels: Sequence[str] | str | None = None,
) -> summary_pb2.Summary:
    """Return an image summary of ``img_tensor`` with ``box_tensor`` (N, 4) drawn on it and optional labels."""
    image = image_grid(pixels(img_tensor, dataformats, "img_tensor"))
    boxes = check_boxes(box_tensor)
    names = check_labels(labels, boxes.shape[0])
    scale = _check_rescale(rescale)
    return image_summary(tag, draw_boxes(image, boxes, names, scale))


@tbcore.hookimpl
def tbcore_summary_types() -> list[tbcore.SummaryType]:
    """Provide ``image_with_boxes``."""
    return [
        tbcore.SummaryType(
            name="image_with_boxes",
            plugin_name=PLUGIN_NAME,
            encode=encode,
            description="an image with labelled bounding boxes drawn on it (add_image_with_boxes)",
            adapt_value=False,
            array_options=frozenset({"box_tensor"}),
        )
    ]
