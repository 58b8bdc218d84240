"""tbcore-boxes: bounding boxes drawn onto an image, shown by TensorBoard's Images dashboard.

Registered through the ``tbcore`` entry-point group (see pyproject.toml). It provides two
hook implementations: the summary type ``boxes`` and an array adapter for :class:`BoxList`.
"""

from __future__ import annotations

from typing import Any, NamedTuple

import numpy as np

import tbcore
from tbcore.proto import summary_pb2

__all__ = ["Box", "BoxList", "draw_boxes", "encode"]

PLUGIN_NAME = "images"  # an existing TensorBoard dashboard: nothing to add to TensorBoard
PROTO_VERSION = 0


def _as_rgb(image: np.ndarray) -> np.ndarray:
    if image.ndim != 3 or image.shape[2] != 3:
        raise tbcore.invalid("image", "an (H, W, 3) array of RGB pixels (uint8, or floats in [0, 1])", image)
    return tbcore.images.to_uint8(image, "image")  # tbcore's pixel rules: floats in [0, 1] are scaled to 0-255


def draw_boxes(image: np.ndarray, boxes: np.ndarray, color: tuple[int, int, int] = (255, 0, 0)) -> np.ndarray:
    """Return a copy of the RGB ``image`` with the outline of each ``[x0, y0, x1, y1]`` box drawn in ``color``."""
    out = _as_rgb(image).copy()
    height, width = out.shape[:2]
    for x0, y0, x1, y1 in np.rint(boxes).astype(int):
        left, right = max(min(x0, x1), 0), min(max(x0, x1), width - 1)
        top, bottom = max(min(y0, y1), 0), min(max(y0, y1), height - 1)
        if left > right or top > bottom:
            continue  # entirely outside the image
        out[top, left : right + 1] = out[bottom, left : right + 1] = color
        out[top : bottom + 1, left] = out[top : bottom + 1, right] = color
    return out


def encode(tag: str, image: np.ndarray, *, boxes: np.ndarray, color: Any = (255, 0, 0)) -> summary_pb2.Summary:
    """Return an image summary of ``image`` (H, W, 3) with ``boxes`` (N, 4) drawn onto it."""
    if boxes.ndim != 2 or boxes.shape[1] != 4 or boxes.dtype.kind not in "fiu":
        raise tbcore.invalid("boxes", "an (N, 4) array of [x0, y0, x1, y1] pixel coordinates", boxes)
    rgb = draw_boxes(image, boxes, tuple(int(c) for c in color))
    return tbcore.images.image_summary(tag, rgb)  # a PNG in a legacy image summary: the Images dashboard shows it


@tbcore.hookimpl
def tbcore_summary_types() -> list[tbcore.SummaryType]:
    """Provide the ``boxes`` summary type."""
    return [
        tbcore.SummaryType(
            name="boxes",  # writer.add("boxes", ...); unique across all installed plugins
            plugin_name=PLUGIN_NAME,  # the TensorBoard plugin it writes
            encode=encode,
            description="an image with bounding boxes drawn onto it (Images dashboard)",  # `tbcore plugins`
            array_options=frozenset({"boxes"}),  # options converted to numpy like the value
        )
    ]


class Box(NamedTuple):
    """One box in pixel coordinates: left, top, right, bottom (inclusive)."""

    x0: float
    y0: float
    x1: float
    y1: float


class BoxList:
    """A tiny custom array type: a list of :class:`Box`; tbcore reads it through this plugin's adapter."""

    def __init__(self, boxes: list[Box]) -> None:
        self.boxes = list(boxes)

    def __len__(self) -> int:
        return len(self.boxes)


def _boxlist_to_numpy(value: BoxList) -> np.ndarray:
    return np.array([tuple(box) for box in value.boxes], dtype=np.float64).reshape(-1, 4)


BOXLIST_ADAPTER = tbcore.ArrayAdapter(name="tbcore_boxes.BoxList", to_numpy=_boxlist_to_numpy)


@tbcore.hookimpl
def tbcore_array_adapter(cls: type) -> tbcore.ArrayAdapter | None:
    """Convert :class:`BoxList` values (and subclasses) to an (N, 4) float64 array."""
    return BOXLIST_ADAPTER if issubclass(cls, BoxList) else None
