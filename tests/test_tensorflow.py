"""The real TensorFlow beside tbcore: one process with tensorboardX too, TensorFlow values, tf.summary alongside.

Runs where TensorFlow is installed (``bash .ci/run tensorflow`` makes such a venv, with
tensorboardX); skipped elsewhere. With TensorFlow present, TensorBoard's loaders read
through TensorFlow's C++ record reader, which checks every CRC, instead of its stub.
TensorFlow's own readers judging every summary type: tests/test_tensorflow_readers.py.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys

import numpy as np
import pytest

tf = pytest.importorskip("tensorflow")
from google.protobuf import text_format  # noqa: E402
from tensorboard import context  # noqa: E402

import tbcore  # noqa: E402
from tbcore import reader  # noqa: E402
from tbcore.testing import TensorBoardServer, read_events, tensorboard_provider  # noqa: E402
from tf_helpers import tf_events, tf_values  # noqa: E402

RNG = np.random.default_rng(7)
TABLES = ("scalars", "images", "audio", "text", "histograms")
#: what a clash of protos or registrations prints (protobuf, TensorFlow's op/kernel registry)
CLASH = ("duplicate", "already registered", "already in the pool", "couldn't build proto", "conflict")


# ---------------------------------------------------------------- one process, both import orders
IMPORT_ORDER_SCRIPT = """
import importlib, json, os, pkgutil, sys, warnings
warnings.simplefilter("always")
logdir = sys.argv[1]
with warnings.catch_warnings(record=True) as caught:
    if TBCORE_FIRST:
        import tbcore
        early = tbcore.SummaryWriter(os.path.join(logdir, "tbcore"))
        early.add_scalar("loss", 0.5, 1)
        early.flush()
    import tensorflow as tf
    import tensorboardX
    import tbcore
    import tbcore.proto, tensorboardX.proto
    for package in (tbcore.proto, tensorboardX.proto):  # every message of both, not only what import loads
        for module in pkgutil.iter_modules(package.__path__):
            importlib.import_module(f"{package.__name__}.{module.name}")
    from tensorboard.compat.proto import event_pb2  # TensorBoard's copies too
    with tbcore.SummaryWriter(os.path.join(logdir, "tbcore")) as writer:
        writer.add_scalar("loss", 0.25, 2)
        writer.add_histogram("h", [1.0, 2.0, 3.0], 2)
    with tf.summary.create_file_writer(os.path.join(logdir, "tf")).as_default():
        tf.summary.scalar("loss", 0.125, step=3)
    with tensorboardX.SummaryWriter(os.path.join(logdir, "tbx")) as tbx:
        tbx.add_scalar("loss", 0.0625, 4)
    if TBCORE_FIRST:
        early.add_scalar("loss", 0.75, 5)
        early.close()
found = {}
for run in ("tbcore", "tf", "tbx"):
    for name in sorted(os.listdir(os.path.join(logdir, run))):
        for event in tf.compat.v1.train.summary_iterator(os.path.join(logdir, run, name)):
            for value in event.summary.value:
                number = value.simple_value if value.HasField("simple_value") else None
                if value.HasField("tensor"):
                    number = float(tf.make_ndarray(value.tensor))
                found.setdefault(run, []).append([value.tag, event.step, number])
protobuf_warnings = [str(w.message) for w in caught if "proto" in f"{w.filename} {w.message}".lower()]
print(json.dumps({"found": found, "warnings": protobuf_warnings}))
"""


@pytest.mark.slow
@pytest.mark.parametrize("tbcore_first", [False, True], ids=["tensorflow_first", "tbcore_first"])
def test_one_process_with_tensorflow_and_tensorboardx(tmp_path, tbcore_first):
    """TensorFlow, tensorboardX and tbcore (every proto module of both) load in one process and all write."""
    pytest.importorskip("tensorboardX")
    script = IMPORT_ORDER_SCRIPT.replace("TBCORE_FIRST", str(tbcore_first))
    env = {**os.environ, "TF_CPP_MIN_LOG_LEVEL": "1"}  # keep TensorFlow's warnings and errors in stderr
    result = subprocess.run(
        [sys.executable, "-c", script, str(tmp_path)], capture_output=True, text=True, timeout=240, env=env
    )
    assert result.returncode == 0, result.stderr
    clashes = [line for line in result.stderr.splitlines() if any(word in line.lower() for word in CLASH)]
    assert clashes == []
    report = json.loads(result.stdout.splitlines()[-1])
    assert report["warnings"] == []
    found = report["found"]
    early = [["loss", 1, 0.5], ["loss", 5, 0.75]] if tbcore_first else []
    assert sorted(found["tbcore"], key=lambda v: v[1]) == early[:1] + [["loss", 2, 0.25], ["h", 2, None]] + early[1:]
    assert found["tf"] == [["loss", 3, 0.125]]
    assert found["tbx"] == [["loss", 4, 0.0625]]


def test_tensorboard_reads_through_tensorflow():
    """In this venv TensorBoard's loaders (every reader used by the tests here) run on TensorFlow, not its stub."""
    from tensorboard.backend.event_processing import event_file_loader
    from tensorboard.compat import tf as tensorboard_tf

    assert tensorboard_tf.__version__ == tf.__version__
    assert event_file_loader.tf.__version__ == tf.__version__


def test_tensorflow_values_as_input(logdir):
    """TensorFlow tensors and variables are logged through the ``__array__`` adapter, rank-0 bfloat16 included."""
    image = tf.cast(tf.reshape(tf.range(60), [3, 4, 5]) * 4, tf.uint8)
    with tbcore.SummaryWriter(str(logdir)) as writer:
        writer.add_scalar("constant", tf.constant(1.5), 0)
        writer.add_scalar("variable", tf.Variable(2.5), 0)
        writer.add_scalar("bfloat16", tf.constant(3.5, tf.bfloat16), 0)
        writer.add_scalar("bfloat16_new", tf.constant([4.5], tf.bfloat16), 0, new_style=True)
        writer.add_image("image", image, 0)
        writer.add_histogram("histogram", tf.range(10.0), 0)
        writer.add_tensor("strings", tf.constant([["a", "b"]]), 0)
        writer.add_tensor("bfloat16_tensor", tf.constant([1.5, -2.0], tf.bfloat16), 0)
    values = {tag: pairs[0][1] for tag, pairs in tf_values(logdir).items()}
    assert [values[tag].simple_value for tag in ("constant", "variable", "bfloat16")] == [1.5, 2.5, 3.5]
    assert tf.make_ndarray(values["bfloat16_new"].tensor) == 4.5
    png = values["image"].image.encoded_image_string
    assert np.array_equal(tf.io.decode_png(png).numpy(), tf.transpose(image, [1, 2, 0]).numpy())
    assert values["histogram"].histo.num == 10 and values["histogram"].histo.sum == 45
    assert tf.make_ndarray(values["strings"].tensor).tolist() == [[b"a", b"b"]]
    widened = values["bfloat16_tensor"]  # stored as float32 (exact), the dtype named in the plugin content
    assert tf.make_ndarray(widened.tensor).tolist() == [1.5, -2.0]
    assert widened.metadata.plugin_data.content == b"bfloat16"


# ---------------------------------------------------------------- tf.summary and tbcore side by side
@pytest.fixture(scope="module")
def side_by_side(tmp_path_factory):
    """tf.summary, tbcore and tensorboardX writing the same values at once into runs of one logdir."""
    logdir = tmp_path_factory.mktemp("side_by_side")
    image = RNG.integers(0, 256, (5, 6, 3), dtype=np.uint8)
    samples = RNG.uniform(-1, 1, 64).astype(np.float32)
    tbx = pytest.importorskip("tensorboardX").SummaryWriter(str(logdir / "tbx"))
    tf_writer = tf.summary.create_file_writer(str(logdir / "tf"))
    with tbcore.SummaryWriter(str(logdir / "tbcore")) as writer:
        for step in range(3):
            loss = 1 / (step + 3)
            with tf_writer.as_default(step=step):
                tf.summary.scalar("loss", loss)
                tf.summary.image("img", image[None])
                tf.summary.audio("snd", samples[None, :, None], 8000)
                tf.summary.text("note", "hi *there*")
                tf.summary.histogram("h", samples)
            writer.add_scalar("loss", loss, step)
            writer.add_image("img", image, step, dataformats="HWC")
            writer.add_audio("snd", samples, step, sample_rate=8000)
            writer.add_text("note", "hi *there*", step)
            writer.add_histogram("h", samples, step)
            tbx.add_scalar("loss", loss, step)
    tf_writer.close()
    tbx.close()
    return logdir, image, samples


def test_tensorboard_shows_tf_summary_and_tbcore_alike(side_by_side):
    """TensorBoard's data provider (on TensorFlow) lists every run and reads the same values from each."""
    logdir, image, samples = side_by_side
    provider, ctx = tensorboard_provider(logdir), context.RequestContext()
    assert sorted(run.run_name for run in provider.list_runs(ctx, experiment_id="")) == ["tbcore", "tbx", "tf"]
    scalars = provider.read_scalars(ctx, experiment_id="", plugin_name="scalars", downsample=100)
    series = {run: [(p.step, p.value) for p in tags["loss"]] for run, tags in scalars.items()}
    assert series["tbcore"] == series["tf"] == series["tbx"] == [(s, float(np.float32(1 / (s + 3)))) for s in range(3)]
    images = provider.read_blob_sequences(ctx, experiment_id="", plugin_name="images", downsample=10)
    for run in ("tbcore", "tf"):
        png = provider.read_blob(ctx, blob_key=images[run]["img"][-1].values[2].blob_key)
        assert np.array_equal(tf.io.decode_png(png).numpy(), image)
    audio = provider.read_blob_sequences(ctx, experiment_id="", plugin_name="audio", downsample=10)
    pcm = {}
    for run in ("tbcore", "tf"):
        wav = provider.read_blob(ctx, blob_key=audio[run]["snd"][-1].values[0].blob_key)
        decoded, rate = tf.audio.decode_wav(wav)
        assert int(rate) == 8000
        pcm[run] = decoded.numpy()[:, 0] * 32768
    # deliberate difference: tbcore (as torch) scales floats by 32767, TensorFlow's encode_wav by 32768
    assert np.abs(pcm["tbcore"] - samples * 32767).max() <= 0.5 + 1e-3
    assert np.abs(pcm["tf"] - pcm["tbcore"]).max() <= 1


def test_text_and_histograms_side_by_side(side_by_side):
    """Text matches (under torch's ``<tag>/text_summary`` tag for tbcore); histograms hold the same values."""
    logdir, _, samples = side_by_side
    provider, ctx = tensorboard_provider(logdir), context.RequestContext()
    text = provider.read_tensors(ctx, experiment_id="", plugin_name="text", downsample=10)
    assert text["tbcore"]["note/text_summary"][-1].numpy == text["tf"]["note"][-1].numpy == b"hi *there*"
    histograms = provider.read_tensors(ctx, experiment_id="", plugin_name="histograms", downsample=10)
    for run in ("tbcore", "tf"):  # different buckets (torch's exponential edges vs TensorFlow's 30 equal ones)
        buckets = histograms[run]["h"][-1].numpy
        assert buckets[:, 2].sum() == samples.size
        assert (buckets[0, 0], buckets[-1, 1]) == pytest.approx((samples.min(), samples.max()))


def test_tbcore_reader_reads_tensorflow_files(side_by_side):
    """tbcore's own reader reads TensorFlow's event files (its ``.v2`` names, its tensor forms) as TensorFlow does."""
    logdir, image, samples = side_by_side
    ours = [text_format.MessageToString(event) for event in read_events(logdir, "tf")]
    assert ours == [text_format.MessageToString(event) for event in tf_events(logdir, "tf")]
    assert sum(len(event.summary.value) for event in read_events(logdir, "tf")) == 15
    tables = {name: getattr(reader, name)(logdir, runs=["tf"], as_frame=False) for name in TABLES}
    assert tables["scalars"]["value"].tolist() == [np.float32(1 / (step + 3)) for step in range(3)]
    assert np.array_equal(tf.io.decode_png(tables["images"]["value"][-1]["encoded"]).numpy(), image)
    clip = tables["audio"]["value"][-1]
    theirs = tf.audio.decode_wav(clip["encoded"])[0].numpy()[:, 0]
    # the same PCM; tbcore divides it by 32767 (the inverse of its own scaling), TensorFlow by 32768
    assert clip["sample_rate"] == 8000 and np.array_equal(np.rint(clip["samples"] * 32767), theirs * 32768)
    assert np.abs(clip["samples"] - samples).max() < 2 / 32767
    assert tables["text"]["value"].tolist() == ["hi *there*"] * 3
    assert [h["num"] for h in tables["histograms"]["value"]] == [samples.size] * 3


@pytest.mark.slow
@pytest.mark.server
def test_tensorboard_server_on_tensorflow_shows_both(side_by_side):
    """A real TensorBoard server (Python loader, on TensorFlow) serves tf.summary's and tbcore's runs alike."""
    logdir, _, _ = side_by_side
    with TensorBoardServer(logdir, load_fast="false") as server:
        environment = server.get_json("/data/environment")
        assert "MultiplexerDataProvider" in environment["debug"]["data_provider"]
        runs = sorted(server.wait_for("/data/runs", lambda r: len(r) == 3))
        assert runs == ["tbcore", "tbx", "tf"]
        path, complete = "/data/plugin/scalars/scalars", lambda points: len(points) == 3
        points = {run: server.wait_for(path, complete, run=run, tag="loss") for run in runs}
        assert [p[1:] for p in points["tbcore"]] == [p[1:] for p in points["tf"]] == [p[1:] for p in points["tbx"]]
