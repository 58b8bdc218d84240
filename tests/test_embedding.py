"""Embeddings read back with the projector config proto and TSV reader, compared with torch, kept in the log dir."""

from __future__ import annotations

import io
import os

import numpy as np
import pytest
from google.protobuf import text_format
from PIL import Image
from tensorboard.plugins.projector.projector_config_pb2 import ProjectorConfig
from tensorboard.plugins.projector.projector_plugin import _read_tensor_tsv_file

from media_helpers import modules_after
from tbcore import SummaryWriter, summary
from tbcore.testing import TensorBoardServer

RNG = np.random.default_rng(0)
MAT = (RNG.standard_normal((20, 6)) * 10.0 ** RNG.integers(-30, 30, (20, 6))).astype(np.float32)
LABELS = [f"point {i}" for i in range(20)]
IMAGES = RNG.random((20, 3, 8, 8))


def torch_sprite(images, side):
    """The atlas torch builds: thumbnails as floats in [0, 1] times 255, truncated, row-major on a side x side grid."""
    count, _, height, width = images.shape
    atlas = np.zeros((side * height, side * width, 3), np.uint8)
    for index, image in enumerate(images):
        row, column = divmod(index, side)
        atlas[row * height : (row + 1) * height, column * width : (column + 1) * width] = image.transpose(1, 2, 0) * 255
    return atlas


def read_config(run_dir):
    config = ProjectorConfig()
    text_format.Parse((run_dir / "projector_config.pbtxt").read_text(), config)
    return config


def test_files_and_config_as_the_projector_reads_them(logdir):
    with SummaryWriter(logdir) as writer:
        writer.add_embedding(MAT, metadata=LABELS, label_img=IMAGES, global_step=3, tag="points")
    (info,) = read_config(logdir).embeddings
    assert (info.tensor_name, info.tensor_path, list(info.tensor_shape)) == (
        "points:00003",
        "00003/points/tensors.tsv",
        [20, 6],
    )
    assert info.metadata_path == "00003/points/metadata.tsv"
    assert (info.sprite.image_path, list(info.sprite.single_image_dim)) == ("00003/points/sprite.png", [8, 8])
    np.testing.assert_array_equal(_read_tensor_tsv_file(str(logdir / info.tensor_path)), MAT)
    assert (logdir / info.metadata_path).read_text() == "".join(f"{label}\n" for label in LABELS)
    sprite = np.asarray(Image.open(logdir / info.sprite.image_path))
    assert sprite.shape == (40, 40, 3)  # ceil(sqrt(20)) = 5 thumbnails per row, padded to 5 rows
    np.testing.assert_array_equal(sprite, torch_sprite(IMAGES, 5))
    np.testing.assert_array_equal(sprite[8:16, 16:24], (IMAGES[7].transpose(1, 2, 0) * 255).astype(np.uint8))
    assert not sprite[32:].any()


def test_metadata_columns_and_headers(logdir):
    rows = [[i, "odd" if i % 2 else "even\tish"] for i in range(20)]
    with SummaryWriter(logdir) as writer:
        writer.add_embedding(MAT, metadata=rows, metadata_header=["index", "parity"], tag="two")
        writer.add_embedding(MAT, metadata=[[label] for label in LABELS], metadata_header=["label"], tag="one")
        writer.add_embedding(MAT, metadata=np.arange(20), tag="array")
    lines = (logdir / "00000/two/metadata.tsv").read_text().splitlines()
    assert lines[:3] == ["index\tparity", "0\teven ish", "1\todd"] and len(lines) == 21
    assert (logdir / "00000/one/metadata.tsv").read_text().splitlines() == LABELS  # one column: no header line
    assert (logdir / "00000/array/metadata.tsv").read_text().splitlines() == [str(i) for i in range(20)]


def test_config_lists_every_embedding_across_writers(logdir):
    with SummaryWriter(logdir) as writer:
        writer.add_embedding(MAT, tag="a")
        writer.add_embedding(MAT * 2, tag="a", global_step=5)
    with SummaryWriter(logdir) as writer:  # a new writer object keeps the earlier entries (torch's loses them)
        writer.add_embedding(MAT, tag="b", global_step=1)
        writer.add_embedding(MAT * 3, tag="a", global_step=5)  # the same tag and step replace the entry
    names = [e.tensor_name for e in read_config(logdir).embeddings]
    assert names == ["a:00000", "b:00001", "a:00005"]
    np.testing.assert_array_equal(_read_tensor_tsv_file(str(logdir / "00005/a/tensors.tsv")), MAT * 3)


def test_matches_torch(logdir, tmp_path):
    torch = pytest.importorskip("torch")
    TorchWriter = pytest.importorskip("torch.utils.tensorboard").SummaryWriter

    args = {"metadata": LABELS, "label_img": torch.as_tensor(IMAGES), "global_step": 2, "tag": "p%q"}
    with SummaryWriter(logdir) as ours, TorchWriter(str(tmp_path)) as theirs:
        for writer in (ours, theirs):
            writer.add_embedding(torch.as_tensor(MAT), **args)
            writer.add_embedding(MAT, metadata=[[1, "a"]] * 20, metadata_header=["n", "s"], tag="cols")
    ours_config, torch_config = read_config(logdir), read_config(tmp_path)
    for info in ours_config.embeddings:
        del info.tensor_shape[:]  # tbcore also records the shape, which torch leaves to the projector
    assert ours_config == torch_config
    for info in torch_config.embeddings:
        np.testing.assert_array_equal(
            _read_tensor_tsv_file(str(logdir / info.tensor_path)),
            _read_tensor_tsv_file(str(tmp_path / info.tensor_path)),
        )
        assert (logdir / info.metadata_path).read_bytes() == (tmp_path / info.metadata_path).read_bytes()
    sprite = "00002/p%25q/sprite.png"
    ours_png, torch_png = (np.asarray(Image.open(io.BytesIO((d / sprite).read_bytes()))) for d in (logdir, tmp_path))
    np.testing.assert_array_equal(ours_png, torch_png)


def test_encoder_is_pure(logdir):
    encoded = summary.embedding(MAT, metadata=LABELS, global_step=1, tag="x")
    assert [a.path for a in encoded.assets] == ["00001/x/tensors.tsv", "00001/x/metadata.tsv", "projector_config.pbtxt"]
    assert not any(logdir.iterdir())
    first = encoded.assets[-1].data(None)
    assert encoded.assets[-1].data(first) == first


@pytest.mark.parametrize(
    ("kwargs", "error", "match"),
    [
        ({"tag": "a/b"}, ValueError, r"tag: expected a name without '/' or '\\' .*, got str 'a/b'"),
        ({"tag": "a\\b"}, ValueError, "tag: expected a name without"),
        ({"tag": ".."}, ValueError, "tag: expected a name without .* not '.' or '..'"),
        ({"global_step": -1}, ValueError, r"global_step: expected an int in \[0, 2\*\*63 - 1\]"),
        ({"metadata": LABELS[:-1]}, ValueError, r"metadata: expected one entry per row of mat \(20\), got 19"),
        ({"metadata": "labels"}, TypeError, "metadata: expected a list"),
        ({"label_img": IMAGES[:5]}, ValueError, r"label_img: expected one image per row of mat \(20\), got 5"),
        (
            {"label_img": IMAGES[:, :2]},
            ValueError,
            r"label_img: expected an \(N, C, H, W\) array of images with C = 1 or 3 and H, W >= 1",
        ),
        (
            {"label_img": np.zeros((20, 3, 0, 4))},
            ValueError,
            r"label_img: expected an \(N, C, H, W\) array of images with C = 1 or 3 and H, W >= 1",
        ),
        (
            {"label_img": np.zeros((20, 3, 2000, 2000))},
            ValueError,
            "label_img: expected thumbnails whose sprite fits 8192",
        ),
        ({"mat": MAT[0]}, ValueError, r"mat: expected a non-empty array of shape \(N, D\)"),
        ({"mat": MAT.astype(str)}, TypeError, r"mat: expected an \(N, D\) array of real numbers"),
        (
            {"metadata": [[1, 2]] * 20, "metadata_header": ["a", "b", "c"]},
            ValueError,
            r"metadata\[0\]: expected a list of 3",
        ),
    ],
)
def test_bad_input(logdir, rejects, kwargs, error, match):
    args = {"mat": MAT, "tag": "t", **kwargs}
    with SummaryWriter(logdir) as writer:
        rejects(writer, lambda: writer.add_embedding(**args), error, match)


def test_never_writes_outside_the_log_dir(logdir, tmp_path, rejects):
    outside = tmp_path / "outside"
    outside.mkdir()
    os.symlink(outside, logdir / "00007")
    with SummaryWriter(logdir) as writer:
        rejects(writer, lambda: writer.add_embedding(MAT, global_step=7), ValueError, "stays inside the log directory")
    assert not any(outside.iterdir())


def test_uint8_grey_and_non_square_thumbnails(logdir):
    thumbs = RNG.integers(0, 256, (5, 1, 6, 4)).astype(np.uint8)
    with SummaryWriter(logdir) as writer:
        writer.add_embedding(MAT[:5], label_img=thumbs, tag="tall")
    (info,) = read_config(logdir).embeddings
    assert list(info.sprite.single_image_dim) == [4, 6]
    sprite = np.asarray(Image.open(logdir / info.sprite.image_path))
    assert sprite.shape == (3 * 6, 3 * 4, 3)
    np.testing.assert_array_equal(sprite[6:12, 4:8], np.repeat(thumbs[4].transpose(1, 2, 0), 3, axis=2))


def test_tsv_restores_every_float32_exactly(tmp_path):
    from tbplugins.tsv import format_matrix

    rng = np.random.default_rng(5)
    values = (rng.standard_normal((300, 40)) * 10.0 ** rng.integers(-45, 38, (300, 40))).astype(np.float32)
    values[0, :8] = [0.0, -0.0, 1.0, np.float32(1e-45), np.finfo(np.float32).max, np.finfo(np.float32).tiny, 0.1, -1e8]
    assert np.all(np.isfinite(values))
    with_nan = values.copy()
    with_nan[1, :3] = [np.nan, np.inf, -np.inf]  # non-finite values take a slower path
    for matrix in (values, with_nan):
        path = tmp_path / "tensors.tsv"
        path.write_bytes(format_matrix(matrix))
        np.testing.assert_array_equal(_read_tensor_tsv_file(str(path)), matrix)


def test_unreadable_existing_config_stops_the_call_before_any_file(logdir, rejects):
    (logdir / "projector_config.pbtxt").write_text("not a { projector config")
    call = {"metadata": LABELS, "label_img": IMAGES, "global_step": 4, "tag": "late"}
    match = r"projector_config.pbtxt: expected the existing file .* to be a projector config .*; fix or remove it"
    with SummaryWriter(logdir) as writer:
        rejects(writer, lambda: writer.add_embedding(MAT, **call), ValueError, match)
        (logdir / "projector_config.pbtxt").unlink()
        writer.add_embedding(MAT, **call)  # the same call lands once the file is gone
    assert [e.tensor_name for e in read_config(logdir).embeddings] == ["late:00004"]
    assert sorted(p.name for p in (logdir / "00004/late").iterdir()) == ["metadata.tsv", "sprite.png", "tensors.tsv"]


WORKER = """
import pathlib, sys, time
import numpy as np
from tbcore import SummaryWriter

logdir, barrier, worker, workers, count = sys.argv[1], pathlib.Path(sys.argv[2]), *map(int, sys.argv[3:])
(barrier / str(worker)).touch()
deadline = time.monotonic() + 60
while len(list(barrier.iterdir())) < workers and time.monotonic() < deadline:  # start together
    time.sleep(0.005)
with SummaryWriter(logdir) as writer:
    for step in range(count):
        writer.add_embedding(np.full((3, 2), worker, np.float32), tag=f"worker{worker}", global_step=step)
"""


@pytest.mark.slow
def test_processes_adding_embeddings_at_once_keep_every_entry(logdir, tmp_path):
    import subprocess
    import sys

    workers, count = 4, 25
    barrier = tmp_path / "barrier"
    barrier.mkdir()
    script = tmp_path / "worker.py"
    script.write_text(WORKER)
    args = [str(logdir), str(barrier), "", str(workers), str(count)]
    processes = []
    try:
        for worker in range(workers):
            args[2] = str(worker)
            processes.append(subprocess.Popen([sys.executable, str(script), *args], stderr=subprocess.PIPE, text=True))
        for process in processes:
            assert process.wait(timeout=120) == 0, process.stderr.read()
    finally:
        for process in processes:
            if process.poll() is None:
                process.kill()
                process.wait()
            process.stderr.close()
    names = sorted(e.tensor_name for e in read_config(logdir).embeddings)
    assert names == sorted(f"worker{w}:{s:05d}" for w in range(workers) for s in range(count))
    leftovers = [p.name for p in logdir.iterdir() if p.suffix == ".lock" or ".tmp-" in p.name]
    assert leftovers == []


def test_sprite_needs_no_pillow():
    code = "import tempfile, numpy as np, tbcore\nd = tempfile.mkdtemp()\nw = tbcore.SummaryWriter(d)\n"
    code += "w.add_embedding(np.ones((5, 2)), label_img=np.full((5, 1, 3, 3), 0.5))\nw.close()\n"
    code += "print(open(d + '/00000/default/sprite.png', 'rb').read(4))"
    modules, lines = modules_after(code)
    assert modules == "[]" and lines == ["b'\\x89PNG'"]


@pytest.mark.slow
@pytest.mark.server
@pytest.mark.parametrize("load_fast", ["false", "true"])
def test_projector_serves_the_sprite_torch_serves(logdir, load_fast):
    torch = pytest.importorskip("torch")
    TorchWriter = pytest.importorskip("torch.utils.tensorboard").SummaryWriter

    grey = RNG.random((7, 1, 5, 5))
    with SummaryWriter(logdir / "ours") as ours, TorchWriter(str(logdir / "torch")) as theirs:
        for writer in (ours, theirs):
            writer.add_embedding(MAT, label_img=torch.as_tensor(IMAGES), global_step=2, tag="rgb")
            writer.add_embedding(MAT[:7], label_img=torch.as_tensor(grey), global_step=2, tag="grey")
    expected = {"rgb:00002": torch_sprite(IMAGES, 5), "grey:00002": torch_sprite(np.repeat(grey, 3, axis=1), 3)}
    with TensorBoardServer(logdir, load_fast=load_fast) as server:
        server.wait_for("/data/plugins_listing", lambda d: d["projector"]["enabled"])
        runs = ("ours", "torch")
        server.wait_for("/data/plugin/projector/runs", lambda listed: set(runs) <= set(listed))
        for name, pixels in expected.items():
            ours, theirs = (server.get("/data/plugin/projector/sprite_image", run=run, name=name) for run in runs)
            np.testing.assert_array_equal(np.asarray(Image.open(io.BytesIO(ours))), pixels)
            np.testing.assert_array_equal(np.asarray(Image.open(io.BytesIO(theirs))), pixels)


def test_lock_file_never_leads_outside_the_log_dir(logdir, tmp_path):
    target = tmp_path / "outside.txt"
    os.symlink(target, logdir / "projector_config.pbtxt.lock")
    with SummaryWriter(logdir) as writer, pytest.raises(OSError):
        writer.add_embedding(MAT)
    assert not target.exists() and not (logdir / "00000").exists()
