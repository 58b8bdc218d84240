"""Video: ``add_video`` writes an animated GIF, which TensorBoard shows in the Images dashboard.

``vid_tensor`` is (N, T, C, H, W): N videos of T frames, C of 1 (grey), 3 (RGB) or 4
(RGBA, alpha dropped: GIF has no partial transparency) channels; uint8 as is, floats in
[0, 1] (see :mod:`tbplugins.imaging`). The N videos are tiled into one frame grid as torch
tiles them. The GIF is written by Pillow (no moviepy needed; faster than moviepy's
imageio path, see the gif_4x16x3x64x64 benchmark workload): each frame lasts
``1000 / fps`` ms (GIF counts in 10 ms units) and the animation loops forever. A moviepy
clip is accepted too: it is sampled at ``fps`` frames per second over its duration.
"""

from __future__ import annotations

import io
from typing import Any

import numpy as np

import tbcore
from tbcore.images import check_dtype, image_summary, to_uint8
from tbcore.proto import summary_pb2
from tbplugins.imaging import power_of_two_grid, to_nhwc
from tbplugins.optional import require

PLUGIN_NAME = "images"
PROTO_VERSION = 0

_MAX_DELAY = 65535  # GIF stores frame delays in 10 ms units as a 16-bit number


def _is_clip(value: Any) -> bool:
    return tbcore.lazy_issubclass(type(value), "moviepy.video.VideoClip", "VideoClip")


def clip_frames(clip: Any, fps: float) -> np.ndarray:
    """Return a moviepy clip sampled at ``fps`` as a (1, T, H, W, 3) uint8 array."""
    frames = [np.asarray(frame) for frame in clip.iter_frames(fps=fps, dtype="uint8")]
    if not frames:
        raise tbcore.invalid("vid_tensor", "a moviepy clip with at least one frame", clip)
    return np.stack(frames)[np.newaxis]


def frame_duration(fps: float) -> int:
    """Return the GIF frame duration in ms for ``fps``: ``1000 / fps`` rounded to GIF's 10 ms units, within the
    range a GIF can store (10 ms to 655.35 s)."""
    return min(_MAX_DELAY, max(1, round(100 / fps))) * 10


def gif_frames(frames: np.ndarray) -> list[Any]:
    """Return (T, H, W, C) uint8 frames (C 1 or 3) as Pillow images that the GIF writer stores without changes.

    Grey frames stay grey (exact). RGB videos with at most 256 colours in all get one exact
    shared palette; others are quantised frame by frame with Pillow's fast octree method
    (100x faster than the median cut Pillow uses by default, which made GIF writing slower
    than moviepy's).
    """
    Image = require("PIL.Image", "video", "add_video")
    if frames.shape[3] == 1:
        return [Image.fromarray(frame[:, :, 0]) for frame in frames]
    keys = (frames[..., 0].astype(np.uint32) << 16) | (frames[..., 1].astype(np.uint32) << 8) | frames[..., 2]
    colors, index = np.unique(keys, return_inverse=True)
    if colors.size > 256:
        method, dither = Image.Quantize.FASTOCTREE, Image.Dither.NONE
        return [Image.fromarray(frame).quantize(256, method=method, dither=dither) for frame in frames]
    palette = np.stack([colors >> 16, (colors >> 8) & 255, colors & 255], axis=1).astype(np.uint8).tobytes()
    images = []
    for indices in index.reshape(frames.shape[:3]).astype(np.uint8):
        image = Image.fromarray(indices)
        image.putpalette(palette)
        images.append(image)
    return images


def encode_gif(frames: np.ndarray, fps: float) -> bytes:
    """Return an animated, endlessly looping GIF of (T, H, W, C) uint8 frames (C 1 or 3) at ``fps``."""
    images = gif_frames(frames)
    output = io.BytesIO()
    images[0].save(output, format="GIF", save_all=True, append_images=images[1:], duration=frame_duration(fps), loop=0)
    return output.getvalue()


def encode(tag: str, vid_tensor: Any, *, fps: float = 4) -> summary_pb2.Summary:
    """Return an image summary holding ``vid_tensor`` (N, T, C, H, W) as an animated GIF."""
    fps = tbcore.check_positive(fps, "fps")
    if _is_clip(vid_tensor):
        videos = clip_frames(vid_tensor, fps)
    else:
        array = tbcore.as_numpy(vid_tensor, "vid_tensor")
        check_dtype(array, "vid_tensor")
        if array.ndim != 5:
            raise tbcore.invalid("vid_tensor", "5 dimensions (N, T, C, H, W)", array)
        videos = to_uint8(to_nhwc(array, "NTCHW", "vid_tensor"), "vid_tensor")
    frames = power_of_two_grid(videos)
    if frames.shape[3] == 4:
        frames = frames[..., :3]
    return image_summary(tag, frames[0], encode_gif(frames, fps))


@tbcore.hookimpl
def tbcore_summary_types() -> list[tbcore.SummaryType]:
    """Provide ``video``."""
    return [
        tbcore.SummaryType(
            name="video",
            plugin_name=PLUGIN_NAME,
            encode=encode,
            description="videos as an animated GIF in the Images dashboard (add_video)",
            adapt_value=False,
        )
    ]
