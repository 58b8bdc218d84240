"""add_image / add_images: every layout and dtype read back through TensorBoard and decoded with PIL."""

from __future__ import annotations

import io
import itertools

import numpy as np
import pytest
from PIL import Image

from media_helpers import decoded_image, modules_after, pixels, rejected_then_usable
from tbcore import SummaryWriter, images, summary
from tbcore.proto import summary_pb2

RNG = np.random.default_rng(0)
REF = RNG.integers(0, 256, (6, 5, 3), dtype=np.uint8)  # (H, W, C)


def write(logdir, kind, value, **options):
    with SummaryWriter(logdir) as writer:
        getattr(writer, f"add_{kind}")("x", value, 0, **options)
    return pixels(decoded_image(logdir, "x"))


@pytest.mark.parametrize(
    ("layout", "make"),
    [
        ("CHW", lambda a: a.transpose(2, 0, 1)),
        ("HWC", lambda a: a),
        ("WHC", lambda a: a.transpose(1, 0, 2)),
        ("chw", lambda a: a.transpose(2, 0, 1)),
        ("CWH", lambda a: a.transpose(2, 1, 0)),
    ],
)
@pytest.mark.parametrize("channels", [1, 3, 4])
def test_layouts_and_channels(logdir, layout, make, channels):
    ref = RNG.integers(0, 256, (6, 5, channels), dtype=np.uint8)
    got = write(logdir, "image", make(ref), dataformats=layout)
    np.testing.assert_array_equal(got, ref)


@pytest.mark.parametrize(("layout", "make"), [("HW", lambda a: a), ("WH", lambda a: a.T)])
def test_two_dimensional_layouts(logdir, layout, make):
    grey = REF[:, :, 0]
    np.testing.assert_array_equal(write(logdir, "image", make(grey), dataformats=layout)[:, :, 0], grey)


@pytest.mark.parametrize("dtype", [np.float16, np.float32, np.float64, "bfloat16"])
def test_floats_are_scaled_and_rounded(logdir, dtype):
    if dtype == "bfloat16":
        dtype = pytest.importorskip("ml_dtypes").bfloat16
    value = (REF.astype(np.float64) / 255).astype(dtype)
    expected = np.round(value.astype(np.float64) * 255)
    got = write(logdir, "image", value, dataformats="HWC")
    assert np.abs(got.astype(int) - expected).max() <= 0 if dtype != np.float16 else 1


def test_float_values_are_clipped_never_wrapped(logdir):
    value = np.array([[-0.5, 0.0, 1.0, 1.5, 300.0, -np.inf, np.inf, 0.5]], dtype=np.float32)
    got = write(logdir, "image", value, dataformats="HW")[0, :, 0]
    assert got.tolist() == [0, 0, 255, 255, 255, 0, 255, 128]


def test_integer_and_bool_dtypes(logdir):
    ints = np.array([[-5, 0, 17, 255, 300, 70000]], dtype=np.int32)
    assert write(logdir, "image", ints, dataformats="HW")[0, :, 0].tolist() == [0, 0, 17, 255, 255, 255]
    flags = np.array([[True, False, True]])
    assert write(logdir / "b", "image", flags, dataformats="HW")[0, :, 0].tolist() == [255, 0, 255]


def test_torch_jax_list_and_pil_inputs(logdir):
    torch = pytest.importorskip("torch")
    jnp = pytest.importorskip("jax.numpy")
    chw = REF.transpose(2, 0, 1)
    inputs = {
        "torch": torch.from_numpy(chw.copy()),
        "torch_float": torch.from_numpy(chw / 255.0).float(),
        "jax": jnp.asarray(chw),
        "list": chw.tolist(),
    }
    with SummaryWriter(logdir) as writer:
        for tag, value in inputs.items():
            writer.add_image(tag, value, 0)
        writer.add_image("pil", Image.fromarray(REF), 0)  # PIL images carry their layout
    for tag in [*inputs, "pil"]:
        if tag == "list":
            continue
        np.testing.assert_array_equal(pixels(decoded_image(logdir, tag)), REF)
    np.testing.assert_array_equal(pixels(decoded_image(logdir, "list")), np.clip(REF, 0, 255))


@pytest.mark.parametrize("mode", ["L", "RGB", "RGBA", "P", "1", "LA", "CMYK", "I;16"])
def test_pil_modes(logdir, mode):
    source = Image.fromarray(REF).convert(mode) if mode != "I;16" else Image.fromarray(REF[:, :, 0].astype(np.uint16))
    got = write(logdir, "image", source)
    if mode in ("L", "RGB", "RGBA", "I;16"):
        expected = pixels(source) if mode != "I;16" else REF[:, :, :1]
    elif mode == "1":
        expected = pixels(source).astype(np.uint8) * 255
    else:
        expected = pixels(source.convert("RGBA" if "A" in mode else "RGB"))
    np.testing.assert_array_equal(got, expected)


def test_list_of_pil_images_is_a_batch(logdir):
    got = write(logdir, "images", [Image.fromarray(REF), Image.fromarray(255 - REF)])
    np.testing.assert_array_equal(got, np.concatenate([REF, 255 - REF], axis=1))


@pytest.mark.parametrize("count", [1, 3, 8, 9, 17])
@pytest.mark.parametrize("channels", [1, 3])
def test_grid_matches_torch(logdir, count, channels):
    convert_to_HWC = pytest.importorskip("torch.utils.tensorboard._utils").convert_to_HWC

    batch = RNG.integers(0, 256, (count, channels, 4, 3), dtype=np.uint8)
    got = write(logdir, "images", batch)
    expected = convert_to_HWC(batch, "NCHW")  # torch's tiling; grey becomes RGB there
    np.testing.assert_array_equal(np.broadcast_to(got, expected.shape), expected)


@pytest.mark.parametrize(("layout", "axes"), [("NHWC", (0, 2, 3, 1)), ("NHW", None), ("HWCN", (2, 3, 1, 0))])
def test_batch_layouts(logdir, layout, axes):
    batch = RNG.integers(0, 256, (3, 3, 4, 2), dtype=np.uint8)  # N C H W
    if axes is None:
        batch = batch[:, :1]
        value = batch[:, 0]
    else:
        value = batch.transpose(axes)
    got = write(logdir, "images", value, dataformats=layout)
    np.testing.assert_array_equal(got, np.concatenate(list(batch.transpose(0, 2, 3, 1)), axis=1))


def test_rgba_grid(logdir):
    batch = RNG.integers(0, 256, (2, 4, 3, 3), dtype=np.uint8)
    got = write(logdir, "images", batch)
    assert got.shape == (3, 6, 4)


def test_pure_encoder_returns_a_legacy_image():
    proto = summary.image("a", REF, dataformats="HWC")
    assert isinstance(proto, summary_pb2.Summary)
    image = proto.value[0].image
    assert (image.height, image.width, image.colorspace) == (6, 5, 3)
    assert image.encoded_image_string.startswith(b"\x89PNG")
    assert summary.images("b", np.zeros((2, 1, 3, 3))).value[0].image.width == 6


BAD = [
    (REF, "CHW", ValueError, r"img_tensor: expected 1, 3 or 4 channels"),
    (REF[:, :, :2], "HWC", ValueError, r"img_tensor: expected 1, 3 or 4 channels .* got shape \(6, 5, 2\)"),
    (REF, "HW", ValueError, r"img_tensor: expected 2 dimensions for dataformats='HW', got shape \(6, 5, 3\)"),
    (np.zeros((3, 0, 4)), "CHW", ValueError, r"img_tensor: expected a non-empty image"),
    (np.full((3, 2, 2), np.nan), "CHW", ValueError, r"img_tensor: expected pixel values without NaN"),
    (np.zeros((3, 2, 2), dtype=complex), "CHW", TypeError, r"img_tensor: expected real pixel values"),
    (REF, "HWW", ValueError, r"dataformats: expected distinct letters"),
    (REF, "XYZ", ValueError, r"dataformats: expected distinct letters"),
    (REF, "CH", ValueError, r"dataformats: expected distinct letters"),
    (REF, 3, TypeError, r"dataformats: expected a str"),
    ("an image", "CHW", TypeError, r"img_tensor"),
]


@pytest.mark.parametrize(("value", "layout", "error", "match"), BAD)
def test_bad_input_writes_nothing_and_writer_stays_usable(logdir, value, layout, error, match):
    rejected_then_usable(
        logdir,
        error,
        match,
        bad=lambda writer: writer.add_image("bad", value, 0, dataformats=layout),
        good=lambda writer: writer.add_image("good", REF, 1, dataformats="HWC"),
    )


def test_images_need_no_pillow_import():
    code = "import tempfile, numpy as np, tbcore\nw = tbcore.SummaryWriter(tempfile.mkdtemp())\n"
    code += "w.add_image('a', np.zeros((3, 4, 4)), 0)\nw.close()"
    assert modules_after(code)[0] == "[]"


TORCH_CASES = [
    ("image", lambda: REF.transpose(2, 0, 1) / 255.0, "CHW"),
    ("image", lambda: REF, "HWC"),
    ("image", lambda: REF[:, :, 0], "HW"),
    ("image", lambda: REF[:, :, 0].T / 255.0, "WH"),
    ("images", lambda: np.stack([REF, 255 - REF, REF // 2]).transpose(0, 3, 1, 2), "NCHW"),
    ("images", lambda: np.stack([REF[:, :, :1]] * 10) / 255.0, "NHWC"),
]


@pytest.mark.parametrize(("kind", "make", "layout"), TORCH_CASES)
def test_matches_torch_writer(logdir, kind, make, layout):
    torch = pytest.importorskip("torch")
    from torch.utils.tensorboard import SummaryWriter as TorchWriter

    value = torch.from_numpy(np.ascontiguousarray(make()))
    with TorchWriter(str(logdir / "torch")) as writer:
        getattr(writer, f"add_{kind}")("x", value, 0, dataformats=layout)
    ours = write(logdir / "ours", kind, value, dataformats=layout)
    theirs = pixels(decoded_image(logdir / "torch", "x"))
    assert ours.shape[:2] == theirs.shape[:2]
    difference = np.abs(np.broadcast_to(ours, theirs.shape).astype(int) - theirs)
    assert difference.max() <= 1  # torch truncates floats, tbcore rounds


@pytest.mark.parametrize("layout", ["".join(p) for p in itertools.permutations("NCHW")])
def test_every_batch_layout_matches_torch(layout):
    convert_to_HWC = pytest.importorskip("torch.utils.tensorboard._utils").convert_to_HWC

    nchw = RNG.integers(0, 256, (3, 3, 4, 5), dtype=np.uint8)
    value = nchw.transpose(["NCHW".index(letter) for letter in layout])
    proto = summary.images("x", value, dataformats=layout)
    got = np.asarray(Image.open(io.BytesIO(proto.value[0].image.encoded_image_string)))
    np.testing.assert_array_equal(got, convert_to_HWC(value, layout))


@pytest.mark.parametrize("channels", [1, 2, 3, 4])
def test_public_png_encoder_and_image_summary(logdir, channels):
    image = RNG.integers(0, 256, (7, 9, channels), dtype=np.uint8)
    decoded = np.asarray(Image.open(io.BytesIO(images.encode_png(image))))
    np.testing.assert_array_equal(decoded.reshape(image.shape), image)
    with SummaryWriter(logdir) as writer:
        writer.file_writer.add_summary(images.image_summary("public", image), 3)
    np.testing.assert_array_equal(pixels(decoded_image(logdir, "public")), image)


@pytest.mark.parametrize(
    ("image", "error"),
    [
        (np.zeros((4, 4), np.uint8), ValueError),
        (np.zeros((4, 4, 5), np.uint8), ValueError),
        (np.zeros((0, 4, 3), np.uint8), ValueError),
        (np.zeros((4, 4, 3)), TypeError),
        ([[[0, 0, 0]]], TypeError),
    ],
)
def test_public_png_encoder_says_what_pixels_it_takes(image, error):
    """Plugin authors call it directly: a wrong shape or dtype gets the usual message, not a KeyError or IndexError."""
    with pytest.raises(error, match=r"^image: expected (a uint8 numpy array|pixels of shape \(H, W, C\))"):
        images.encode_png(image)


def test_public_pixel_conversion():
    assert images.to_uint8(np.array([0.0, 0.5, 1.2, -1.0]), "x").tolist() == [0, 128, 255, 0]
    assert images.to_uint8(np.array([True, False]), "x").tolist() == [255, 0]
    assert images.to_uint8(np.array([-5, 7, 300], np.int16), "x").tolist() == [0, 7, 255]
    with pytest.raises(ValueError, match="^x: expected pixel values without NaN"):
        images.to_uint8(np.array([0.5, np.nan]), "x")
    for wrong in (np.array(["a"]), np.array([1j]), np.zeros(2, dtype=[("a", "f4")])):
        with pytest.raises(
            TypeError, match=r"^x: expected real pixel values \(uint8, float in \[0, 1\], bool or int\)"
        ):
            images.to_uint8(wrong, "x")
    ml_dtypes = pytest.importorskip("ml_dtypes")
    for small in (ml_dtypes.bfloat16, ml_dtypes.float8_e4m3fn):
        assert images.to_uint8(np.array([0.0, 0.5, 1.0, 2.0], dtype=small), "x").tolist() == [0, 128, 255, 255]
