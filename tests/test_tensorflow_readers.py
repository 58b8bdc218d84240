"""TensorFlow's own readers judge tbcore's files: every summary type, and TensorProtos both ways.

``tf.data.TFRecordDataset`` checks every record's CRCs; ``tf.compat.v1.train.summary_iterator``,
``tf.make_ndarray``, ``tf.io.decode_png``/``decode_gif``, ``tf.audio.decode_wav`` and
``tf.graph_util.import_graph_def`` decode what we wrote. Runs where TensorFlow is installed
(``bash .ci/run tensorflow``); skipped elsewhere.
"""

from __future__ import annotations

import types

import numpy as np
import pytest

tf = pytest.importorskip("tensorflow")
from google.protobuf import text_format  # noqa: E402
from tensorflow.core.framework import tensor_pb2 as tf_tensor_pb2  # noqa: E402

import tbcore  # noqa: E402
from tbcore.graph import GraphNode, graph_encoded  # noqa: E402
from tbcore.proto import event_pb2, graph_pb2, tensor_pb2, types_pb2  # noqa: E402
from tbcore.testing import read_events  # noqa: E402
from tf_helpers import tf_events, tf_value, tf_values  # noqa: E402

RNG = np.random.default_rng(11)


@pytest.fixture(scope="module")
def written(tmp_path_factory):
    """Every summary type written once by tbcore; the inputs are returned beside the logdir."""
    logdir = tmp_path_factory.mktemp("every_type")
    logged = types.SimpleNamespace(
        image=RNG.integers(0, 256, (3, 9, 13), dtype=np.uint8),
        grey=RNG.integers(0, 256, (7, 5), dtype=np.uint8),
        batch=RNG.integers(0, 256, (3, 4, 6, 5), dtype=np.uint8),
        video=RNG.integers(0, 4, (1, 3, 3, 5, 6), dtype=np.uint8) * 60,  # few colours: the GIF keeps them exactly
        samples=RNG.uniform(-1.2, 1.2, (2, 300)),
        pcm=RNG.integers(-32768, 32768, 200, dtype=np.int16),
        tensor=RNG.normal(size=(2, 3, 4)),
        histogram=RNG.normal(size=1000),
        labels=RNG.integers(0, 2, 50),
        predictions=RNG.random(50),
        vertices=RNG.normal(size=(1, 5, 3)).astype(np.float32),
        colors=RNG.integers(0, 256, (1, 5, 3), dtype=np.uint8),
        faces=np.array([[[0, 1, 2], [2, 3, 4]]], dtype=np.int32),
        embedding=RNG.normal(size=(4, 3)).astype(np.float32),
        thumbnails=RNG.integers(0, 256, (4, 3, 2, 2), dtype=np.uint8),
        counts=np.array([[5, 3, 0], [5, 1, 0], [0, 4, 5], [0, 2, 5], [0.5, 0.75, 0], [1, 0.6, 0]], dtype=np.float32),
        nodes=[
            GraphNode("x", "Placeholder", shapes=[[2, 3]], dtype="float32"),
            GraphNode("scope/y", "Identity", inputs=["x"], attrs={"T": graph_pb2.AttrValue(type=types_pb2.DT_FLOAT)}),
        ],
    )
    with tbcore.SummaryWriter(str(logdir)) as writer:
        writer.add_scalar("scalar", 0.1, 1)
        writer.add_scalar("scalar_new", 0.2, 2, new_style=True)
        writer.add_scalars("many", {"a": 1.0, "b": 2.0}, 3)
        writer.add_histogram("histogram", logged.histogram, 4)
        writer.add_histogram_raw("histogram_raw", 0, 3, 4, 6, 14, [1, 2, 3], [1, 2, 1], 4)
        writer.add_image("image", logged.image, 5)
        writer.add_image("grey", logged.grey, 5, dataformats="HW")
        writer.add_images("images", logged.batch, 5)
        writer.add_image_with_boxes("boxes", logged.image, np.array([[1, 1, 8, 5]]), 5, labels=["box"])
        writer.add_video("video", logged.video, 6, fps=5)
        writer.add_audio("audio", logged.samples, 7, sample_rate=8000, dataformats="CL")
        writer.add_audio("pcm", logged.pcm, 7, sample_rate=22050)
        writer.add_text("text", "héllo *world*", 8)
        writer.add_tensor("tensor", logged.tensor, 9)
        writer.add_pr_curve("pr", logged.labels, logged.predictions, 10, num_thresholds=11)
        writer.add_pr_curve_raw("pr_raw", *logged.counts, 10, num_thresholds=3)
        writer.add_mesh("mesh", logged.vertices, colors=logged.colors, faces=logged.faces, global_step=11)
        writer.add_custom_scalars_multilinechart(["scalar", "scalar_new"], "category", "chart")
        writer.add_embedding(
            logged.embedding, metadata=list("abcd"), label_img=logged.thumbnails, global_step=12, tag="points"
        )
        writer.add_hparams({"lr": 0.1, "optimizer": "adam", "layers": 3}, {"accuracy": 0.9}, run_name="trial")
        writer.write(graph_encoded(logged.nodes, run_metadata_device="/device:CPU:0"), 0)
    return logdir, logged


def test_tfrecord_dataset_checks_every_record(written):
    """tf.data reads every record of every file (CRCs checked) and TensorFlow's Event parses each field as ours."""
    logdir, _ = written
    files = sorted(logdir.rglob("*tfevents*"))
    assert {f.parent.name for f in files} >= {logdir.name, "trial", "many_a", "many_b"}
    for path in files:
        records = list(tf.data.TFRecordDataset(str(path)).as_numpy_iterator())
        ours = [event.SerializeToString() for event in read_events(path.parent)]
        assert records == ours
        for raw in records:  # a field TensorFlow's schema did not know would be missing from its text form
            theirs = tf.compat.v1.Event.FromString(raw)
            assert text_format.MessageToString(theirs) == text_format.MessageToString(event_pb2.Event.FromString(raw))


def test_scalars_and_histograms_as_tensorflow_reads_them(written):
    logdir, logged = written
    assert tf_value(logdir, "scalar").simple_value == np.float32(0.1)
    new_style = tf.make_ndarray(tf_value(logdir, "scalar_new").tensor)
    assert new_style.dtype == np.float32 and new_style.shape == () and new_style == np.float32(0.2)
    assert tf_value(logdir, "many", "many_b").simple_value == 2.0
    histo = tf_value(logdir, "histogram").histo
    assert (histo.num, histo.min, histo.max) == (1000, logged.histogram.min(), logged.histogram.max())
    assert sum(histo.bucket) == 1000 and len(histo.bucket) == len(histo.bucket_limit)
    assert histo.sum == pytest.approx(logged.histogram.sum())
    raw = tf_value(logdir, "histogram_raw").histo
    assert (list(raw.bucket_limit), list(raw.bucket), raw.num, raw.sum_squares) == ([1, 2, 3], [1, 2, 1], 4, 14)


def test_images_decode_to_our_pixels(written):
    """tf.io.decode_png / decode_gif (libpng, giflib) give back exactly the pixels we logged."""
    logdir, logged = written
    image = tf_value(logdir, "image").image
    assert np.array_equal(tf.io.decode_png(image.encoded_image_string).numpy(), logged.image.transpose(1, 2, 0))
    assert (image.height, image.width, image.colorspace) == (9, 13, 3)
    grey = tf.io.decode_png(tf_value(logdir, "grey").image.encoded_image_string).numpy()
    assert np.array_equal(grey, logged.grey[:, :, None])
    grid = tf.io.decode_png(tf_value(logdir, "images").image.encoded_image_string).numpy()
    assert grid.shape == (6, 3 * 5, 4)  # torch's grid: 8 images per row, no padding
    assert np.array_equal(grid[:, 5:10], logged.batch[1].transpose(1, 2, 0))
    frames = tf.io.decode_gif(tf_value(logdir, "video").image.encoded_image_string).numpy()
    assert np.array_equal(frames, logged.video[0].transpose(0, 2, 3, 1))
    boxes = tf.io.decode_png(tf_value(logdir, "boxes").image.encoded_image_string).numpy()
    assert boxes.shape == (9, 13, 3)  # drawn by Pillow, read by libpng


def test_audio_decodes_to_our_samples(written):
    """tf.audio.decode_wav reads our WAV: the 16-bit PCM is clip(x) * 32767 rounded, or the int16 given."""
    logdir, logged = written
    wav, label = tf.make_ndarray(tf_value(logdir, "audio").tensor)[0]
    samples, rate = tf.audio.decode_wav(wav)
    assert int(rate) == 8000 and label == b""
    pcm = samples.numpy() * 32768  # decode_wav divides by 32768
    assert pcm.shape == (300, 2) and np.abs(pcm - np.clip(logged.samples, -1, 1).T * 32767).max() <= 0.5 + 1e-3
    samples, rate = tf.audio.decode_wav(tf.make_ndarray(tf_value(logdir, "pcm").tensor)[0, 0])
    assert int(rate) == 22050 and np.array_equal(samples.numpy()[:, 0] * 32768, logged.pcm)


def test_tensors_decode_with_make_ndarray(written):
    """tf.make_ndarray of every tensor-form summary gives back what we logged."""
    logdir, logged = written
    assert np.array_equal(tf.make_ndarray(tf_value(logdir, "tensor").tensor), logged.tensor)
    assert tf.make_ndarray(tf_value(logdir, "text/text_summary").tensor) == "héllo *world*".encode()
    pr = tf.make_ndarray(tf_value(logdir, "pr").tensor)
    assert pr.shape == (6, 11) and pr.dtype == np.float32
    assert np.array_equal(tf.make_ndarray(tf_value(logdir, "pr_raw").tensor), logged.counts)
    positives = logged.labels.sum()
    assert (pr[0, 0], pr[1, 0]) == (positives, len(logged.labels) - positives)  # TP, FP at threshold 0
    for part, array in (("VERTEX", logged.vertices), ("FACE", logged.faces), ("COLOR", logged.colors)):
        assert np.array_equal(tf.make_ndarray(tf_value(logdir, f"mesh_{part}").tensor), array)
    from tensorboard.plugins.custom_scalar import layout_pb2

    layout = layout_pb2.Layout.FromString(tf.make_ndarray(tf_value(logdir, "custom_scalars__config__").tensor).item())
    assert [c.title for c in layout.category] == ["category"]
    assert list(layout.category[0].chart[0].multiline.tag) == ["scalar", "scalar_new"]


def test_hparams_as_tensorflow_reads_them(written):
    """The hparams tags of the trial run parse with TensorBoard's plugin protos after TensorFlow read them."""
    from tensorboard.plugins.hparams import plugin_data_pb2

    logdir, _ = written
    values = tf_values(logdir, "trial")
    assert set(values) == {
        "_hparams_/experiment",
        "_hparams_/session_start_info",
        "_hparams_/session_end_info",
        "accuracy",
    }
    [(_, start)] = values["_hparams_/session_start_info"]
    data = plugin_data_pb2.HParamsPluginData.FromString(start.metadata.plugin_data.content)
    hparams = data.session_start_info.hparams
    assert (hparams["lr"].number_value, hparams["optimizer"].string_value, hparams["layers"].number_value) == (
        0.1,
        "adam",
        3,
    )
    assert values["accuracy"][0][1].simple_value == np.float32(0.9)


def test_graph_imports_into_tensorflow(written):
    """TensorFlow parses our GraphDef and RunMetadata, and imports a graph made of its own ops."""
    logdir, _ = written
    [graph_event] = [e for e in tf_events(logdir) if e.graph_def]
    graph_def = tf.compat.v1.GraphDef.FromString(graph_event.graph_def)
    with tf.Graph().as_default() as graph:
        tf.graph_util.import_graph_def(graph_def, name="")
    operations = [(op.name, op.type, op.outputs[0].shape.as_list()) for op in graph.get_operations()]
    assert operations == [("x", "Placeholder", [2, 3]), ("scope/y", "Identity", [2, 3])]
    [metadata_event] = [e for e in read_events(logdir) if e.HasField("tagged_run_metadata")]
    metadata = tf.compat.v1.RunMetadata.FromString(metadata_event.tagged_run_metadata.run_metadata)
    assert [d.device for d in metadata.step_stats.dev_stats] == ["/device:CPU:0"]


def test_embedding_files_read_with_tensorflow_gfile(written):
    from tensorboard.plugins.projector import projector_config_pb2

    logdir, logged = written
    config = text_format.Parse(
        tf.io.gfile.GFile(str(logdir / "projector_config.pbtxt")).read(), projector_config_pb2.ProjectorConfig()
    )
    [embedding] = config.embeddings
    rows = tf.io.gfile.GFile(str(logdir / embedding.tensor_path)).read().splitlines()
    np.testing.assert_array_equal(np.array([r.split("\t") for r in rows], dtype=np.float32), logged.embedding)
    assert tf.io.gfile.GFile(str(logdir / embedding.metadata_path)).read().split() == list("abcd")
    sprite = tf.io.decode_png(tf.io.read_file(str(logdir / embedding.sprite.image_path))).numpy()
    assert sprite.shape == (4, 4, 3) and list(embedding.sprite.single_image_dim) == [2, 2]  # a 2 x 2 grid
    assert np.array_equal(sprite[:2, 2:], logged.thumbnails[1].transpose(1, 2, 0))


# ---------------------------------------------------------------- TensorProto both ways, every dtype
def _dtypes() -> list[str]:
    """Every dtype tbcore writes that TensorFlow has too (it lacks the float8 *fnuz kinds)."""
    return [name for name in tbcore.DTYPE_TO_ENUM if not name.endswith("fnuz")]


def _numpy_dtype(name: str) -> np.dtype:
    import ml_dtypes

    return np.dtype(getattr(ml_dtypes, name, None) or name)


def _to_tf(proto: tensor_pb2.TensorProto):
    """Our TensorProto as TensorFlow's message (through its bytes)."""
    return tf_tensor_pb2.TensorProto.FromString(proto.SerializeToString())


def _from_tf(proto) -> np.ndarray:
    """TensorFlow's TensorProto decoded by tbcore (through its bytes)."""
    return tbcore.tensor_to_numpy(tensor_pb2.TensorProto.FromString(proto.SerializeToString()))


@pytest.mark.parametrize("name", _dtypes())
def test_tensor_protos_both_ways(name):
    """Our TensorProto decodes with tf.make_ndarray, and tbcore decodes TensorFlow's (bulk and one-value forms)."""
    array = (np.arange(12) % 5 - (name[0] != "u")).astype(_numpy_dtype(name)).reshape(3, 4)
    theirs = tf.make_ndarray(_to_tf(tbcore.make_tensor_proto(array)))
    assert theirs.dtype == array.dtype and theirs.tobytes() == array.tobytes()
    back = _from_tf(tf.make_tensor_proto(array))
    assert back.dtype == array.dtype and back.shape == (3, 4) and back.tobytes() == array.tobytes()
    filled = tf.make_tensor_proto(array[1, 1], dtype=tf.as_dtype(array.dtype), shape=[2, 2])  # typed *_val field
    back = _from_tf(filled)
    assert back.dtype == array.dtype and back.tobytes() == tf.make_ndarray(filled).tobytes()


def test_string_tensor_protos_both_ways():
    strings = np.array([["a", "β"], ["", "long " * 20]])
    theirs = tf.make_ndarray(_to_tf(tbcore.make_tensor_proto(strings)))
    assert theirs.tolist() == [[s.encode() for s in row] for row in strings.tolist()]
    assert _from_tf(tf.make_tensor_proto(strings)).tolist() == theirs.tolist()
