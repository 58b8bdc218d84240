"""tbcore-boxes, used through its installed entry point and read back by TensorBoard."""

from __future__ import annotations

import struct
import zlib

import numpy as np
import pytest
from tbcore_boxes import Box, BoxList

from tbcore import SummaryWriter, as_numpy, plugins
from tbcore.testing import TensorBoardServer, tensorboard_accumulator


def decode_png(data: bytes) -> np.ndarray:
    """Decode an 8-bit RGB PNG whose rows use filter 0 (None) or 2 (Up), as tbcore.images.encode_png writes them."""
    assert data.startswith(b"\x89PNG\r\n\x1a\n")
    pos, chunks = 8, {}
    while pos < len(data):
        (length,) = struct.unpack(">I", data[pos : pos + 4])
        kind = data[pos + 4 : pos + 8]
        chunks[kind] = chunks.get(kind, b"") + data[pos + 8 : pos + 8 + length]
        pos += 12 + length
    width, height, depth, colour = struct.unpack(">IIBB", chunks[b"IHDR"][:10])
    assert (depth, colour) == (8, 2)  # 8-bit RGB
    rows = np.frombuffer(zlib.decompress(chunks[b"IDAT"]), np.uint8).reshape(height, 1 + width * 3)
    pixels = np.zeros((height, width * 3), np.uint8)
    for index in range(height):
        kind, line = rows[index, 0], rows[index, 1:]
        assert kind in (0, 2), f"row {index}: filter {kind} is not decoded by this test"
        above = pixels[index - 1] if index else 0
        pixels[index] = line + above if kind == 2 else line  # uint8 sums wrap around, as PNG's do
    return pixels.reshape(height, width, 3)


def test_registered_through_the_entry_point():
    info = plugins.plugin_infos()["boxes"]
    assert (info.distribution, info.module) == ("tbcore-boxes", "tbcore_boxes")
    assert plugins.summary_types()["boxes"][1] == "boxes"


def test_boxlist_adapter():
    array = as_numpy(BoxList([Box(1, 2, 3, 4), Box(5, 6, 7, 8)]))
    assert array.dtype == np.float64 and array.tolist() == [[1, 2, 3, 4], [5, 6, 7, 8]]
    assert as_numpy(BoxList([])).shape == (0, 4)


def test_boxes_shown_as_an_image(tmp_path):
    image = np.zeros((20, 30, 3), dtype=np.uint8)
    with SummaryWriter(tmp_path) as writer:
        writer.add("boxes", "val/det", image, step=3, boxes=BoxList([Box(2, 3, 10, 8)]))
        writer.add("boxes", "val/det", image.astype(np.float32), step=4, boxes=[[0, 0, 29, 19]], color=(0, 255, 0))
    acc = tensorboard_accumulator(tmp_path)
    assert acc.summary_metadata["val/det"].plugin_data.plugin_name == "images"
    events = acc.Tensors("val/det")
    assert [e.step for e in events] == [3, 4]
    width, height, png = events[0].tensor_proto.string_val
    assert (width, height) == (b"30", b"20")
    pixels = decode_png(png)
    assert pixels[3, 2:11].tolist() == [[255, 0, 0]] * 9 and pixels[3:9, 10].tolist() == [[255, 0, 0]] * 6
    assert not pixels[5, 5].any() and not pixels[0, 0].any()
    outline = decode_png(events[1].tensor_proto.string_val[2])
    assert outline[0, 0].tolist() == [0, 255, 0] and outline[19, 29].tolist() == [0, 255, 0]


def test_bad_boxes_raise_before_anything_is_written(tmp_path):
    with SummaryWriter(tmp_path) as writer:
        with pytest.raises(ValueError, match=r"boxes: expected an \(N, 4\) array"):
            writer.add("boxes", "b", np.zeros((4, 4, 3), np.uint8), boxes=[[1, 2, 3]])
        with pytest.raises(ValueError, match=r"image: expected an \(H, W, 3\)"):
            writer.add("boxes", "b", np.zeros((4, 4)), boxes=[[0, 0, 1, 1]])
        writer.add("boxes", "b", np.zeros((4, 4, 3), np.uint8), step=1, boxes=[[0, 0, 1, 1]])
    assert [e.step for e in tensorboard_accumulator(tmp_path).Tensors("b")] == [1]


@pytest.mark.server
@pytest.mark.parametrize("load_fast", ["false", "true"])
def test_images_dashboard_serves_the_boxes(tmp_path, load_fast):
    with SummaryWriter(tmp_path) as writer:
        writer.add("boxes", "det", np.zeros((8, 8, 3), np.uint8), step=1, boxes=BoxList([Box(0, 0, 7, 7)]))
    with TensorBoardServer(tmp_path, load_fast=load_fast) as server:
        tags = server.wait_for("/data/plugin/images/tags", lambda d: "det" in d.get(".", {}))
        assert tags["."]["det"]["samples"] == 1
        (entry,) = server.get_json("/data/plugin/images/images", run=".", tag="det")
        pixels = decode_png(server.get(f"/data/plugin/images/individualImage?{entry['query']}"))
        assert pixels[0, 0].tolist() == [255, 0, 0] and not pixels[4, 4].any()
