"""Differential property tests of the media types (images, audio, video, mesh, embeddings) against torch.

As in tests/test_differential_torch.py: the same calls through torch's and tbcore's
SummaryWriter, compared as TensorBoard reads them (tests/differential.py), with each
legitimate difference stated where the property excludes it or allows for it.
"""

from __future__ import annotations

import io
import pathlib
from typing import Any

import numpy as np
import pytest
from hypothesis import assume, given
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

torch = pytest.importorskip("torch")

from differential import (  # noqa: E402 - needs torch
    FLOAT_DTYPES,
    Runs,
    as_input,
    both,
    diff,
    finite,
    input_kinds,
    only,
    png_pixels,
    real_arrays,
    tensors,
)
from media_helpers import decoded_wav, gif_frames  # noqa: E402
from tbcore.testing import tensorboard_accumulator  # noqa: E402

# Other code's warnings about the extreme values drawn here (tbcore's own warnings still show): torch's
# add_image casting pixel values beyond float32's range to float32, and TensorBoard's projector doing
# the same with an embedding.
pytestmark = [
    pytest.mark.filterwarnings("ignore:overflow encountered in cast:RuntimeWarning:torch.utils.tensorboard.summary"),
    pytest.mark.filterwarnings(
        "ignore:overflow encountered in cast:RuntimeWarning:tensorboard.plugins.projector.projector_plugin"
    ),
]

# ---------------------------------------------------------------- add_image, add_images

PIXEL_DTYPES = [np.uint8, np.bool_, *FLOAT_DTYPES]  # other ints: a deliberate difference (docs/types/image.md)


@st.composite
def images(draw: st.DrawFn, batch: bool) -> tuple[np.ndarray, str]:
    """An image (or a batch) in a random layout, with its ``dataformats``: uint8, bool, or floats around [0, 1]."""
    letters = "NCHW" if batch else draw(st.sampled_from(["CHW", "HW"]))
    layout = "".join(draw(st.permutations(letters)))
    sizes = {"N": draw(st.integers(1, 11)), "C": draw(st.sampled_from([1, 3, 4] if batch else [1, 2, 3, 4]))}
    sizes |= {"H": draw(st.integers(1, 9)), "W": draw(st.integers(1, 9))}
    shape = tuple(sizes[letter] for letter in layout)
    low, high = draw(st.sampled_from([(0, 1), (-0.5, 1.5), (None, None)]))  # out of [0, 1]: clipped by both
    # ±inf too (255 and 0 in both); NaN: a deliberate difference (tbcore refuses it; migration.md)
    array = draw(real_arrays(PIXEL_DTYPES, shape, low, high, special=low is None))
    assume(not np.isnan(array).any())
    if array.dtype == np.uint8:
        array = draw(real_arrays([np.uint8], shape))
    return array, draw(st.sampled_from([layout, layout.lower()]))


def image_blob(run_dir: pathlib.Path) -> tuple[int, int, np.ndarray]:
    """Return (width, height, pixels) of the run's one image as TensorBoard's loader holds it."""
    _, blob = only(run_dir, "images")
    width, height, png = blob.tolist()
    return int(width), int(height), png_pixels(png)


def torch_pixels(array: np.ndarray, layout: str) -> tuple[np.ndarray, np.ndarray]:
    """Return torch's scaled values ``s`` (float32, before its uint8 truncation) in (H, W, C), and their fraction."""
    from torch.utils.tensorboard._utils import convert_to_HWC

    hwc = convert_to_HWC(array, layout)
    scale = np.float32(1 if hwc.dtype == np.uint8 else 255)
    with np.errstate(over="ignore"):  # beyond float32: inf, clipped to 255
        scaled = np.clip(hwc.astype(np.float32) * scale, 0, 255)
    return scaled, scaled - np.floor(scaled)


def check_same_image(runs: Runs, array: np.ndarray, layout: str) -> None:
    """The two images have one size, and tbcore's pixels are torch's, rounded where torch truncates."""
    width, height, theirs = image_blob(runs.theirs)
    assert image_blob(runs.ours)[:2] == (width, height) == theirs.shape[1::-1]
    ours = np.broadcast_to(image_blob(runs.ours)[2], theirs.shape)  # grey: one channel here, RGB in torch's
    scaled, fraction = torch_pixels(array, layout)
    np.testing.assert_array_equal(theirs, scaled.astype(np.uint8))  # what torch does, understood
    # floats: torch truncates s = x * 255, tbcore rounds it (docs/types/image.md), so exactly the
    # pixels whose fraction is >= 0.5 are one higher; uint8 and bool pixels are identical
    np.testing.assert_array_equal(ours.astype(int), theirs + (fraction >= 0.5))


@diff(150)
@given(images(batch=False), input_kinds)
def test_add_image(image, kind):
    array, layout = image
    channels = array.shape[layout.upper().index("C")] if "C" in layout.upper() else 1
    call = lambda w: w.add_image("i", as_input(array, kind, w), 0, dataformats=layout)  # noqa: E731
    with both(call, may_fail=channels == 2) as runs:
        if channels == 2:
            # torch writes grey+alpha (PIL's LA); tbcore takes 1, 3 or 4 channels (docs/types/image.md)
            assert runs.torch_error is None and isinstance(runs.our_error, ValueError)
            assert "expected 1, 3 or 4 channels" in str(runs.our_error)
            return
        check_same_image(runs, array, layout)


@diff(150)
@given(images(batch=True), input_kinds)
def test_add_images(image, kind):
    array, layout = image
    channels = array.shape[layout.upper().index("C")]
    call = lambda w: w.add_images("i", as_input(array, kind, w), 0, dataformats=layout)  # noqa: E731
    with both(call, may_fail=channels == 4) as runs:
        if channels == 4:
            # torch's make_grid takes 1 or 3 channels (AssertionError); tbcore tiles RGBA (docs/types/image.md)
            assert isinstance(runs.torch_error, AssertionError) and runs.our_error is None
            assert image_blob(runs.ours)[2].shape[2] == 4
            return
        check_same_image(runs, array, layout)


# ---------------------------------------------------------------- add_audio


def wav_samples(run_dir: pathlib.Path) -> tuple[np.ndarray, int]:
    """Return the run's one clip (samples (L, C) int16, sample rate) as TensorBoard's loader holds it."""
    _, clip = only(run_dir, "audio")
    samples, rate, width = decoded_wav(clip.reshape(-1)[0])
    assert width == 2
    return samples, rate


@diff(150)
@given(
    real_arrays(
        FLOAT_DTYPES,
        st.sampled_from([(2,), (1, 2), (2, 1), (1, 1, 2)]).flatmap(
            lambda axes: st.integers(1, 400).map(lambda n: tuple(n if a == 2 else 1 for a in axes))
        ),
        -1.5,
        1.5,
    ),
    st.integers(1, 96_000),
    input_kinds,
)
def test_add_audio(array, sample_rate, kind):
    # int16 input: a deliberate difference (torch clips it to [-1, 1] and scales; docs/types/audio.md)
    call = lambda w: w.add_audio("a", as_input(array, kind, w), 0, sample_rate=sample_rate)  # noqa: E731
    with both(call, may_fail=array.size == 1) as runs:
        ours, our_rate = wav_samples(runs.ours)
        assert our_rate == sample_rate and ours.shape == (array.size, 1)
        exact = np.clip(array.reshape(-1, 1).astype(np.float64), -1, 1) * 32767
        # tbcore rounds x * 32767 (computed in float32: within 0.5 of the exact product, plus float32's
        # rounding of it)
        assert np.abs(ours - exact).max() <= 0.5 + 32767 * 2**-24
        if array.size == 1:
            # torch squeezes one sample to 0-d and raises "input tensor should be 1 dimensional"
            assert isinstance(runs.torch_error, AssertionError)
            return
        theirs, their_rate = wav_samples(runs.theirs)
        assert their_rate == sample_rate and theirs.shape == ours.shape
        if array.dtype != np.float16:  # torch truncates x * 32767 towards zero: at most one step away
            assert np.abs(ours.astype(int) - theirs).max() <= 1
        # float16: torch multiplies in float16, which rounds to steps of up to 16 and makes 1.0 (32768 in
        # float16) wrap around to -32768 in int16 (docs/types/audio.md); tbcore's samples are checked above


# ---------------------------------------------------------------- add_mesh


@st.composite
def meshes(draw: st.DrawFn) -> tuple[np.ndarray, np.ndarray | None, np.ndarray | None, dict[str, Any] | None]:
    """(B, N, 3) vertices, optional uint8-range colors and in-range faces, optional config."""
    batch, count = draw(st.integers(1, 3)), draw(st.integers(1, 20))
    vertices = draw(real_arrays([np.float32, np.float64], (batch, count, 3), -1e6, 1e6))
    colors = draw(st.none() | real_arrays([np.uint8, np.int64, np.float32], (batch, count, 3), 0, 255))
    faces = draw(
        st.none() | hnp.arrays(np.int64, (batch, draw(st.integers(1, 10)), 3), elements=st.integers(0, count - 1))
    )
    config = draw(st.none() | st.just({"camera": {"cls": "PerspectiveCamera", "fov": 75}, "material": {"size": 2}}))
    return vertices, colors, faces, config


def mesh_content(run_dir: pathlib.Path) -> dict[str, Any]:
    """Return ``{tag: (metadata as dict, values as float64)}`` of the run's mesh tags, read by TensorBoard."""
    from google.protobuf.json_format import MessageToDict
    from tensorboard.plugins.mesh import metadata

    acc = tensorboard_accumulator(run_dir)
    return {
        tag: (MessageToDict(metadata.parse_plugin_metadata(acc.SummaryMetadata(tag).plugin_data.content)), values)
        for tag, (name, [(_, values)]) in tensors(run_dir).items()
        if name == "mesh"
    }


@diff(60)
@given(meshes(), input_kinds)
def test_add_mesh(mesh, kind):
    vertices, colors, faces, config = mesh

    def call(w: Any) -> None:
        colors_, faces_ = (None if a is None else as_input(a, kind, w) for a in (colors, faces))
        w.add_mesh("m", as_input(vertices, kind, w), colors=colors_, faces=faces_, config_dict=config, global_step=0)

    with both(call) as runs:
        theirs, ours = mesh_content(runs.theirs), mesh_content(runs.ours)
        assert sorted(ours) == sorted(theirs)
        for tag, (meta, values) in theirs.items():
            assert ours[tag][0] == meta
            # torch stores float32 for all three parts, tbcore float32/int32/uint8 (docs/types/mesh.md);
            # fractional float colors are rounded by tbcore, where the mesh plugin truncates torch's
            expected = np.rint(values) if tag.endswith("_COLOR") else values
            np.testing.assert_array_equal(ours[tag][1].astype(np.float32), expected)


# ---------------------------------------------------------------- add_embedding

labels = st.one_of(
    # tabs and line breaks: tbcore writes spaces, torch breaks the TSV (docs/types/embedding.md)
    st.text(st.characters(codec="utf-8", exclude_characters="\t\n\r"), max_size=6),
    st.integers(-1000, 1000),
    finite(np.float64),
)


@st.composite
def embeddings(draw: st.DrawFn) -> dict[str, Any]:
    """add_embedding arguments: (N, D) points, optional labels (one column or rows with a header), thumbnails."""
    count = draw(st.integers(1, 12))
    arguments: dict[str, Any] = {
        "mat": draw(
            real_arrays([np.float16, np.float32, np.float64, np.int64, np.uint8], (count, draw(st.integers(1, 5))))
        )
    }
    columns = draw(st.sampled_from([0, 1, 2, 3]))
    if columns == 1:
        arguments["metadata"] = draw(st.lists(labels, min_size=count, max_size=count))
    elif columns:
        arguments["metadata"] = draw(
            st.lists(st.lists(labels, min_size=columns, max_size=columns), min_size=count, max_size=count)
        )
        arguments["metadata_header"] = [f"col{i}" for i in range(columns)]
    if draw(st.booleans()):
        # square float thumbnails: torch's sprite canvas is square, and it multiplies uint8 by 255
        # too (both deliberate differences, docs/types/embedding.md)
        side = draw(st.integers(1, 6))
        thumbnails = draw(real_arrays([np.float32], (count, draw(st.sampled_from([1, 3])), side, side), 0, 1))
        arguments["label_img"] = torch.from_numpy(thumbnails)
    arguments["global_step"] = draw(st.none() | st.integers(0, 99_999))
    arguments["tag"] = draw(st.sampled_from(["default", "features", "a b", "x%y"]))
    return arguments


def projector_content(run_dir: pathlib.Path) -> list[dict[str, Any]]:
    """Return each embedding in the run's projector config with its files' content, as the projector reads them."""
    from google.protobuf import text_format
    from tensorboard.plugins.projector import projector_config_pb2, projector_plugin

    config = text_format.Parse((run_dir / "projector_config.pbtxt").read_text(), projector_config_pb2.ProjectorConfig())
    found = []
    for info in config.embeddings:
        info.ClearField("tensor_shape")  # tbcore records it, torch leaves it to the projector
        files = {"tensor": projector_plugin._read_tensor_tsv_file(str(run_dir / info.tensor_path))}
        if info.metadata_path:
            files["metadata"] = (run_dir / info.metadata_path).read_bytes()
        if info.sprite.image_path:
            files["sprite"] = png_pixels((run_dir / info.sprite.image_path).read_bytes())
        found.append({"info": text_format.MessageToString(info), **files})
    return found


@diff(80)
@given(embeddings())
def test_add_embedding(arguments):
    with both(lambda w: w.add_embedding(**arguments)) as runs:
        [theirs], [ours] = projector_content(runs.theirs), projector_content(runs.ours)
        assert ours["info"] == theirs["info"]
        np.testing.assert_array_equal(ours["tensor"], theirs["tensor"])  # float32 both: the projector's type
        assert ours.get("metadata") == theirs.get("metadata")
        if "sprite" in theirs:
            np.testing.assert_array_equal(ours["sprite"], theirs["sprite"])


# ---------------------------------------------------------------- add_video


def shown_frames(run_dir: pathlib.Path, frame_ms: int) -> np.ndarray:
    """Return the frames (T, H, W, 3) of the run's one GIF, as TensorBoard's loader holds it.

    Pillow stores identical consecutive frames once, lasting their total time: such a frame is
    repeated once per ``frame_ms`` of its duration, so the result is what the animation shows.
    """
    from PIL import Image

    _, blob = only(run_dir, "images")
    frames = gif_frames(Image.open(io.BytesIO(blob.tolist()[2])))
    assert all(duration % frame_ms == 0 for _, duration in frames)
    return np.stack([frame for frame, duration in frames for _ in range(duration // frame_ms)])


@diff(30)
@given(
    st.tuples(
        st.integers(1, 5), st.integers(1, 3), st.sampled_from([1, 3]), st.integers(1, 4), st.integers(1, 4)
    ).flatmap(lambda shape: real_arrays([np.uint8], shape)),
    input_kinds,
)
def test_add_video(array, kind):
    from torch.utils.tensorboard._utils import _prepare_video

    with both(lambda w: w.add_video("v", as_input(array, kind, w), 0, fps=4)) as runs:
        # torch 2.13 + moviepy 2 writes a value holding only the tag, which TensorBoard ignores
        # (docs/types/video.md): its run has no image. The frames torch would have encoded are
        # those of its _prepare_video and uint8 scaling, which tbcore's GIF holds (at most 256
        # colours per frame here, so the palette is exact).
        assert [name for name, _ in tensors(runs.theirs).values()] == []
        expected = np.clip(_prepare_video(array).astype(np.float32) * 255, 0, 255).astype(np.uint8)
        frames = shown_frames(runs.ours, 250)
        expected = np.broadcast_to(expected, (*expected.shape[:3], 3))  # grey: RGB in the GIF
        assert frames.shape == expected.shape
        # torch divides uint8 by 255 and multiplies back, which can lose 1; tbcore keeps uint8 as is
        assert set(np.unique(frames.astype(int) - expected)) <= {0, 1}
