"""Decoded tables of tbcore.reader, on files written by tbcore, torch and tensorboardX."""

from __future__ import annotations

import io

import numpy as np
import pytest

import tbcore
from tbcore import SummaryWriter
from tbcore.decode import TagPlugins, decode_value
from tbcore.reader import histograms, hparams, images, scalars, table, tensors, text
from tbcore.testing import tensorboard_accumulator


def _writers():
    torch_tb = pytest.importorskip("torch.utils.tensorboard")
    tbx = pytest.importorskip("tensorboardX")
    return {"tbcore": SummaryWriter, "torch": torch_tb.SummaryWriter, "tensorboardX": tbx.SummaryWriter}


@pytest.mark.parametrize("name", ["tbcore", "torch", "tensorboardX"])
def test_reads_files_of_each_writer(logdir, name):
    writer_class = _writers()[name]
    values = np.arange(100, dtype=np.float64)
    writer = writer_class(str(logdir))
    for step in range(5):
        writer.add_scalar("loss", 1.0 / (step + 1), step)
        writer.add_histogram("w", values + step, step)
    writer.add_text("note", "**hello**", 3)
    writer.add_scalars("multi", {"a": 1.0, "b": 2.0}, 0)
    writer.close()

    frame = scalars(logdir, as_frame=False)
    main = frame["run"] == "."
    assert frame["tag"][main].tolist() == ["loss"] * 5
    assert frame["value"][main] == pytest.approx([1.0, 0.5, 1 / 3, 0.25, 0.2])
    sub_runs = ["multi/a", "multi/b"] if name == "tensorboardX" else ["multi_a", "multi_b"]  # tensorboardX nests
    assert sorted(set(frame["run"][~main].tolist())) == sub_runs

    hist = histograms(logdir, as_frame=False)
    assert hist["step"].tolist() == list(range(5))
    last = hist["value"][-1]
    assert (last["min"], last["max"], last["num"]) == (4.0, 103.0, 100.0)
    assert last["counts"].sum() == 100 and last["limits"].shape == last["counts"].shape
    # the same numbers TensorBoard's own loader sees
    from tensorboard.util import tensor_util

    rows = tensor_util.make_ndarray(tensorboard_accumulator(logdir).Tensors("w")[-1].tensor_proto)
    assert rows[:, 2].sum() == 100 and rows[0, 0] == last["min"] and rows[-1, 1] == last["max"]

    notes = text(logdir, as_frame=False)
    assert notes["tag"].tolist() == ["note/text_summary"]
    assert notes["value"][0] == "**hello**"


def test_tensors_and_new_style_scalars(logdir):
    array = np.arange(12, dtype=np.int16).reshape(3, 4)
    with SummaryWriter(logdir) as writer:
        writer.add_tensor("t", array, 2)
        writer.add_scalar("s", 0.25, 1, new_style=True)
        writer.add_histogram_raw("raw", 0, 3, 6, 9, 21, [1, 2, 3], [1, 2, 3], 0)
    got = tensors(logdir, as_frame=False)
    assert got["step"].tolist() == [2]
    np.testing.assert_array_equal(got["value"][0], array)
    assert got["value"][0].dtype == np.int16
    assert scalars(logdir, as_frame=False)["value"].tolist() == [0.25]
    raw = histograms(logdir, as_frame=False)["value"][0]
    assert raw["counts"].tolist() == [1, 2, 3] and raw["sum_squares"] == 21


def test_every_builtin_decoder_inverts_its_encoder():
    types = {name: stype for name, (stype, _) in tbcore.plugins.summary_types().items()}
    scalar = types["scalar"]
    for new_style in (False, True):
        value = scalar.encode("x", 1.5, new_style=new_style).value[0]
        assert scalar.decode(value) == 1.5
    text_value = types["text"].encode("t", "héllo").value[0]
    assert types["text"].decode(text_value) == "héllo"
    array = np.array([[1.5, -2.0]], dtype=np.float32)
    assert types["tensor"].decode(types["tensor"].encode("t", array).value[0]).tolist() == array.tolist()
    hist = types["histogram"].decode(types["histogram"].encode("h", np.array([1.0, 2.0, 2.0])).value[0])
    assert (hist["min"], hist["max"], hist["num"], hist["sum"]) == (1.0, 2.0, 3.0, 5.0)


def test_histogram_decoder_reads_the_tensor_form():
    rows = np.array([[0.0, 1.0, 2.0], [1.0, 3.0, 5.0]])
    summary = tbcore.tensor_summary("h", rows, plugin_name="histograms")
    decoded = decode_value(summary.value[0], "histograms")
    assert (decoded["min"], decoded["max"], decoded["num"]) == (0.0, 3.0, 7.0)
    assert decoded["limits"].tolist() == [1.0, 3.0] and decoded["counts"].tolist() == [2.0, 5.0]


def test_plugin_without_decoder_is_decoded_generically(logdir, fresh_plugins):
    class Quads:
        @staticmethod
        @tbcore.hookimpl
        def tbcore_summary_types():
            encode = lambda tag, value: tbcore.tensor_summary(tag, value, plugin_name="quads")  # noqa: E731
            return [tbcore.SummaryType(name="quads", plugin_name="quads", encode=encode)]

    fresh_plugins.register(Quads(), "quads-without-decoder")  # not "boxes": the example plugin may be installed
    with SummaryWriter(logdir) as writer:
        writer.add("quads", "b", np.ones((2, 4), np.float32), 1)
    got = table(logdir, "quads", as_frame=False)
    assert got["value"][0].shape == (2, 4)


def test_tag_plugins_first_metadata_wins():
    first = tbcore.tensor_summary("t", np.float32(1), plugin_name="scalars").value[0]
    later = tbcore.tensor_summary("t", np.float32(1), plugin_name="other").value[0]
    later.ClearField("metadata")
    plugins_of = TagPlugins()
    assert plugins_of.plugin_of(first) == "scalars"
    assert plugins_of.plugin_of(later) == "scalars"


def test_images_and_hparams_tables(logdir):
    pytest.importorskip("PIL")
    picture = np.zeros((3, 8, 16), dtype=np.float32)
    picture[0] = 1.0
    with SummaryWriter(logdir) as writer:
        writer.add_image("pic", picture, 2)
        writer.add_hparams({"lr": 0.1, "opt": "sgd", "warm": True}, {"hparam/acc": 0.9}, run_name="trial")
    got = images(logdir, as_frame=False)
    (value,) = got["value"]
    assert (value["width"], value["height"]) == (16, 8) and value["encoded"].startswith(b"\x89PNG")
    from PIL import Image

    decoded = np.asarray(Image.open(io.BytesIO(value["encoded"])).convert("RGB"))
    assert decoded.shape == (8, 16, 3) and decoded[0, 0].tolist() == [255, 0, 0]
    found = hparams(logdir, as_frame=False)
    assert set(found["run"].tolist()) == {"trial"}
    by_tag = dict(zip(found["tag"].tolist(), found["value"], strict=True))
    start = by_tag["_hparams_/session_start_info"]["session_start_info"]["hparams"]
    assert start == {"lr": 0.1, "opt": "sgd", "warm": True}
    assert "experiment" in by_tag["_hparams_/experiment"]


def test_image_decoder_reads_the_tensor_form():
    summary = tbcore.tensor_summary("i", np.array([b"2", b"1", b"png-a", b"png-b"], dtype=object), plugin_name="images")
    decoded = decode_value(summary.value[0], "images")
    assert (decoded["width"], decoded["height"], decoded["images"]) == (2, 1, [b"png-a", b"png-b"])


@pytest.mark.parametrize(("dtype", "field"), [("DT_COMPLEX64", "scomplex_val"), ("DT_COMPLEX128", "dcomplex_val")])
def test_complex_value_fields_decode_as_tensorboard_does(dtype, field):
    from tensorboard.compat.proto import tensor_pb2 as tb_tensor_pb2
    from tensorboard.util import tensor_util

    from tbcore.proto import tensor_pb2, tensor_shape_pb2, types_pb2

    shape = tensor_shape_pb2.TensorShapeProto(dim=[tensor_shape_pb2.TensorShapeProto.Dim(size=2)])
    proto = tensor_pb2.TensorProto(dtype=getattr(types_pb2, dtype), tensor_shape=shape, **{field: [1, 2, 3, 4]})
    expected = tensor_util.make_ndarray(tb_tensor_pb2.TensorProto.FromString(proto.SerializeToString()))
    np.testing.assert_array_equal(tbcore.tensor_to_numpy(proto), expected)


def test_float8_value_field_decodes():
    ml_dtypes = pytest.importorskip("ml_dtypes")
    from tbcore.proto import tensor_pb2, tensor_shape_pb2, types_pb2

    values = np.array([1.0, -2.0, 0.5], ml_dtypes.float8_e4m3fn)
    shape = tensor_shape_pb2.TensorShapeProto(dim=[tensor_shape_pb2.TensorShapeProto.Dim(size=3)])
    proto = tensor_pb2.TensorProto(dtype=types_pb2.DT_FLOAT8_E4M3FN, tensor_shape=shape, float8_val=values.tobytes())
    assert tbcore.tensor_to_numpy(proto).astype(np.float32).tolist() == [1.0, -2.0, 0.5]


def test_tags_filter_never_decodes_other_tags(logdir, fresh_plugins):
    decoded = []

    def decode(value):
        decoded.append(value.tag)
        if value.tag == "poison":
            raise ValueError("this value must never be decoded")
        return tbcore.tensor_to_numpy(value.tensor)

    class Counted:
        @staticmethod
        @tbcore.hookimpl
        def tbcore_summary_types():
            encode = lambda tag, value: tbcore.tensor_summary(tag, value, plugin_name="counted")  # noqa: E731
            return [tbcore.SummaryType(name="counted", plugin_name="counted", encode=encode, decode=decode)]

    fresh_plugins.register(Counted(), "counted-decoder")
    with SummaryWriter(logdir) as writer:
        for step in range(3):
            for tag in ("keep", "other", "poison"):
                writer.add("counted", tag, np.full(2, step, np.float32), step)
    both = table(logdir, "counted", tags=["keep", "other"], as_frame=False)
    assert decoded == ["keep", "other"] * 3
    decoded.clear()
    only = table(logdir, "counted", tags=["keep"], as_frame=False)
    assert decoded == ["keep"] * 3
    chosen = both["tag"] == "keep"
    for column in ("run", "tag", "step", "wall_time"):
        np.testing.assert_array_equal(only[column], both[column][chosen])
    assert [v.tolist() for v in only["value"]] == [[0, 0], [1, 1], [2, 2]]
    with pytest.raises(ValueError, match="never be decoded"):
        table(logdir, "counted", as_frame=False)
