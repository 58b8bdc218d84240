"""Matplotlib figures: ``add_figure`` renders one figure (or a list, as a grid) into an image.

The figure is drawn by matplotlib's Agg renderer and its RGBA buffer is encoded directly
(no ``savefig`` PNG round trip). The image is RGB like torch's, or RGBA when the figure
has transparent pixels. ``close=True`` closes the figures through pyplot, if pyplot is
in use. matplotlib is never imported unless a figure is passed.
"""

from __future__ import annotations

import sys
from typing import Any

import numpy as np

import tbcore
from tbcore.images import image_summary
from tbcore.proto import summary_pb2
from tbplugins.imaging import image_grid

PLUGIN_NAME = "images"
PROTO_VERSION = 0

_EXPECTED = "a matplotlib.figure.Figure or a non-empty list of them"


def _is_figure(value: Any) -> bool:
    return tbcore.lazy_issubclass(type(value), "matplotlib.figure", "Figure")


def render(figure: Any) -> np.ndarray:
    """Return the (H, W, 4) RGBA pixels of ``figure`` drawn by Agg, leaving the figure's own canvas in place."""
    from matplotlib.backends.backend_agg import FigureCanvasAgg

    original = figure.canvas
    canvas = original if isinstance(original, FigureCanvasAgg) else FigureCanvasAgg(figure)
    try:
        canvas.draw()
        return np.array(canvas.buffer_rgba(), dtype=np.uint8, copy=True)
    finally:
        if canvas is not original:
            figure.set_canvas(original)


def _close(figures: list[Any]) -> None:
    pyplot = sys.modules.get("matplotlib.pyplot")
    if pyplot is not None:
        for figure in figures:
            pyplot.close(figure)


def encode(tag: str, figure: Any, *, close: bool = True) -> summary_pb2.Summary:
    """Return an image summary of ``figure`` (or a grid of a list of figures of one size)."""
    figures = list(figure) if isinstance(figure, (list, tuple)) else [figure]
    if not figures:
        raise tbcore.invalid("figure", _EXPECTED, figure)
    for item in figures:
        if not _is_figure(item):
            raise tbcore.invalid("figure", _EXPECTED, item, kind=TypeError)
    rendered = [render(item) for item in figures]
    if close:
        _close(figures)
    sizes = sorted({image.shape[:2] for image in rendered})
    if len(sizes) > 1:
        raise ValueError(f"figure: expected figures of one size in pixels (height, width), got sizes {sizes}")
    batch = np.stack(rendered)
    if batch[..., 3].min() == 255:
        batch = batch[..., :3]
    return image_summary(tag, image_grid(batch))


@tbcore.hookimpl
def tbcore_summary_types() -> list[tbcore.SummaryType]:
    """Provide ``figure``."""
    return [
        tbcore.SummaryType(
            name="figure",
            plugin_name=PLUGIN_NAME,
            encode=encode,
            description="a matplotlib figure rendered to an image (add_figure)",
            adapt_value=False,
        )
    ]
