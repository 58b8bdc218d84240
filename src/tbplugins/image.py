"""Images: ``add_image`` (one image) and ``add_images`` (a batch tiled into one grid), as torch writes them.

Written as TensorBoard's legacy ``Summary.Image`` holding a PNG, which both loaders show
in the Images dashboard. Layouts, dtypes and grids follow :mod:`tbplugins.imaging`; the
PNG encoder (:mod:`tbcore.images`) needs no Pillow. Grey images stay one-channel PNGs
(torch expands them to RGB: the pixels shown are the same).
"""

from __future__ import annotations

from typing import Any

import tbcore
from tbcore.images import image_summary
from tbcore.proto import summary_pb2
from tbplugins.imaging import image_grid, pixels

PLUGIN_NAME = "images"
PROTO_VERSION = 0


def encode(tag: str, img_tensor: Any, *, dataformats: str = "CHW") -> summary_pb2.Summary:
    """Return an image summary of ``img_tensor`` laid out as ``dataformats`` (a batch becomes one grid)."""
    return image_summary(tag, image_grid(pixels(img_tensor, dataformats, "img_tensor")))


def encode_batch(tag: str, img_tensor: Any, *, dataformats: str = "NCHW") -> summary_pb2.Summary:
    """Return one grid image of the batch ``img_tensor`` (8 images per row, as torch tiles them)."""
    return encode(tag, img_tensor, dataformats=dataformats)


def decode(value: summary_pb2.Summary.Value) -> dict[str, Any]:
    """Return an image value as ``{width, height, colorspace, encoded, images}``.

    ``encoded`` is the (first) picture's file bytes (PNG, or GIF for videos) and ``images`` all
    of them: the legacy form holds one picture, the tensor form ``[width, height, picture...]``
    any number (``colorspace`` is then 0: unknown).
    """
    if value.WhichOneof("value") == "image":
        image = value.image
        encoded = bytes(image.encoded_image_string)
        size = {"width": image.width, "height": image.height, "colorspace": image.colorspace}
        return {**size, "encoded": encoded, "images": [encoded]}
    width, height, *pictures = [bytes(item) for item in value.tensor.string_val]
    size = {"width": int(width), "height": int(height), "colorspace": 0}
    return {**size, "encoded": pictures[0] if pictures else b"", "images": pictures}


@tbcore.hookimpl
def tbcore_summary_types() -> list[tbcore.SummaryType]:
    """Provide ``image`` and ``images``."""
    return [
        tbcore.SummaryType(
            name="image",
            plugin_name=PLUGIN_NAME,
            encode=encode,
            description="one image per step, PNG (add_image)",
            adapt_value=False,
            decode=decode,
        ),
        tbcore.SummaryType(
            name="images",
            plugin_name=PLUGIN_NAME,
            encode=encode_batch,
            description="a batch of images tiled into one grid per step (add_images)",
            adapt_value=False,
        ),
    ]
