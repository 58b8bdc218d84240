"""Meshes read back by TensorBoard's loader and mesh plugin parser, compared with torch."""

from __future__ import annotations

import json

import numpy as np
import pytest
from tensorboard.plugins.mesh import metadata as mesh_metadata
from tensorboard.plugins.mesh import plugin_data_pb2
from tensorboard.util import tensor_util

from tbcore import SummaryWriter
from tbcore.testing import read_events, tensorboard_accumulator

VERTICES = np.array([[[0, 0, 0], [1, 0, 0], [0, 1, 0], [0, 0, 1]]], dtype=np.float64) * 2.5
COLORS = np.array([[[255, 0, 0], [0, 255, 0], [0, 0, 255], [10, 20, 30]]])
FACES = np.array([[[0, 1, 2], [0, 1, 3], [0, 2, 3], [1, 2, 3]]])
CONFIG = {"camera": {"cls": "PerspectiveCamera", "fov": 75}, "material": {"cls": "PointsMaterial", "size": 0.1}}


def read_mesh(logdir, tag):
    acc = tensorboard_accumulator(logdir)
    parts = {}
    for suffix in ("VERTEX", "FACE", "COLOR"):
        name = f"{tag}_{suffix}"
        if name in acc.Tags()["tensors"]:
            array = tensor_util.make_ndarray(acc.Tensors(name)[-1].tensor_proto)
            parts[suffix] = (array, mesh_metadata.parse_plugin_metadata(acc.SummaryMetadata(name).plugin_data.content))
    return parts


def test_mesh_parts_in_one_summary_with_their_dtypes(logdir):
    with SummaryWriter(logdir) as writer:
        writer.add_mesh("tetra", VERTICES, colors=COLORS, faces=FACES, config_dict=CONFIG, global_step=7)
    events = [e for e in read_events(logdir) if e.summary.value]
    assert len(events) == 1 and [v.tag for v in events[0].summary.value] == [
        "tetra_VERTEX",
        "tetra_FACE",
        "tetra_COLOR",
    ]
    parts = read_mesh(logdir, "tetra")
    assert set(parts) == {"VERTEX", "FACE", "COLOR"}, "TensorBoard does not list every part"
    expected = {"VERTEX": (VERTICES, np.float32), "FACE": (FACES, np.int32), "COLOR": (COLORS, np.uint8)}
    for suffix, (array, meta) in parts.items():
        values, dtype = expected[suffix]
        assert array.dtype == dtype and array.shape == values.shape
        np.testing.assert_array_equal(array, values.astype(dtype))
        assert meta.name == "tetra" and meta.components == 14 and list(meta.shape) == list(values.shape)
        assert meta.content_type == plugin_data_pb2.MeshPluginData.ContentType.Value(suffix)
        assert json.loads(meta.json_config) == CONFIG


def test_point_cloud_without_faces(logdir):
    cloud = np.random.default_rng(0).random((2, 100, 3))
    with SummaryWriter(logdir) as writer:
        writer.add_mesh("cloud", cloud, colors=np.full((2, 100, 3), 128.0))
    parts = read_mesh(logdir, "cloud")
    assert set(parts) == {"VERTEX", "COLOR"}
    assert parts["VERTEX"][1].components == (1 << 1) | (1 << 3)
    assert parts["VERTEX"][1].json_config == "{}"
    np.testing.assert_array_equal(parts["COLOR"][0], np.full((2, 100, 3), 128, np.uint8))


def test_mesh_matches_torch(logdir, tmp_path):
    torch = pytest.importorskip("torch")
    TorchWriter = pytest.importorskip("torch.utils.tensorboard").SummaryWriter

    args = (torch.as_tensor(VERTICES), torch.as_tensor(COLORS), torch.as_tensor(FACES), CONFIG)
    with SummaryWriter(logdir) as ours, TorchWriter(str(tmp_path / "torch")) as theirs:
        for writer in (ours, theirs):
            writer.add_mesh("tetra", *args, global_step=1)
    ours_parts, theirs_parts = read_mesh(logdir, "tetra"), read_mesh(tmp_path / "torch", "tetra")
    assert set(ours_parts) == set(theirs_parts) == {"VERTEX", "FACE", "COLOR"}
    for suffix, (array, meta) in ours_parts.items():
        torch_array, torch_meta = theirs_parts[suffix]
        assert torch_array.dtype == np.float32  # torch writes every part as float32
        np.testing.assert_array_equal(array, torch_array.astype(array.dtype))
        assert meta == torch_meta


@pytest.mark.parametrize(
    ("kwargs", "error", "match"),
    [
        (
            {"vertices": VERTICES[0]},
            ValueError,
            r"vertices: expected an array of shape \(B, N, 3\), got .* shape \(4, 3\)",
        ),
        ({"vertices": np.zeros((1, 4, 2))}, ValueError, r"vertices: expected an array of shape \(B, N, 3\)"),
        ({"vertices": VERTICES.astype(str)}, TypeError, "vertices: expected a .* array of real numbers"),
        ({"vertices": VERTICES * np.nan}, ValueError, "vertices: expected finite values"),
        ({"faces": FACES + 1}, ValueError, r"faces: expected vertex indices in \[0, 3\] .* got indices from 1 to 4"),
        ({"faces": FACES - 1}, ValueError, r"faces: expected vertex indices in \[0, 3\]"),
        ({"faces": FACES[0]}, ValueError, r"faces: expected an array of shape \(1, N, 3\)"),
        ({"faces": FACES + 0.5}, ValueError, "faces: expected integer vertex indices"),
        ({"colors": COLORS[:, :3]}, ValueError, r"colors: expected an array of shape \(1, 4, 3\)"),
        ({"colors": COLORS * 2}, ValueError, r"colors: expected RGB values in \[0, 255\]"),
        ({"config_dict": {"x": object()}}, TypeError, "config_dict: expected a JSON-serializable dict"),
        ({"config_dict": "{}"}, TypeError, "config_dict: expected a dict"),
    ],
)
def test_mesh_bad_input(logdir, rejects, kwargs, error, match):
    args = {"vertices": VERTICES, "colors": COLORS, "faces": FACES, **kwargs}
    with SummaryWriter(logdir) as writer:
        rejects(writer, lambda: writer.add_mesh("m", global_step=1, **args), error, match)
