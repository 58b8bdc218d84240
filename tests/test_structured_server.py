"""PR curves, meshes, custom scalars, hparams and embeddings served by a running TensorBoard (both loaders)."""

from __future__ import annotations

import json
import time

import numpy as np
import pytest

from tbcore import SummaryWriter
from tbcore.testing import TensorBoardServer
from test_pr_curve import reference_curve

RNG = np.random.default_rng(3)
LABELS, PREDICTIONS = RNG.integers(0, 2, 200), RNG.random(200) * 0.8
VERTICES = RNG.random((1, 5, 3)).astype(np.float32)
FACES = np.array([[[0, 1, 2], [2, 3, 4]]], dtype=np.int32)
COLORS = RNG.integers(0, 256, (1, 5, 3)).astype(np.uint8)
MAT = RNG.standard_normal((30, 4)).astype(np.float32)
ALL_STATUSES = ["STATUS_UNKNOWN", "STATUS_SUCCESS", "STATUS_FAILURE", "STATUS_RUNNING"]


@pytest.fixture(scope="module")
def structured_logdir(tmp_path_factory):
    logdir = tmp_path_factory.mktemp("structured")
    with SummaryWriter(logdir) as writer:
        writer.add_pr_curve("pr", LABELS, PREDICTIONS, 1, num_thresholds=11)
        writer.add_mesh(
            "tetra", VERTICES, colors=COLORS, faces=FACES, config_dict={"camera": {"fov": 60}}, global_step=2
        )
        for step in range(3):
            writer.add_scalars("loss", {"train": 1.0 + step, "val": 2.0 + step}, step, same_run=True)
        writer.add_custom_scalars_marginchart(["loss/val", "loss/train", "loss/val"], category="loss", title="band")
        domains = {"hparam_domain_discrete": {"opt": ["adam", "sgd"]}, "hparam_domain_interval": {"lr": (0.0, 1.0)}}
        # TensorBoard shows the experiment (domains) of whichever trial it finds first: give both the same
        writer.add_hparams(
            {"lr": 0.1, "opt": "adam", "aug": True}, {"val/acc": None}, run_name=".", status=None, **domains
        )
        for step in range(3):
            writer.add_scalar("val/acc", 0.25 * step, step * 10)
        writer.add("hparams_end", ".", "failure", 30)
        writer.add_hparams({"lr": 0.5, "opt": "sgd", "aug": False}, {"val/acc": 0.75}, run_name="trial_b", **domains)
        writer.add_embedding(
            MAT, metadata=[f"p{i}" for i in range(30)], label_img=RNG.random((30, 1, 4, 4)), global_step=3, tag="points"
        )
    return logdir


@pytest.mark.slow
@pytest.mark.server
@pytest.mark.parametrize("load_fast", ["false", "true"])
def test_every_plugin_answers(structured_logdir, load_fast):
    with TensorBoardServer(structured_logdir, load_fast=load_fast) as server:
        check_pr_curves(server)
        check_mesh(server)
        check_custom_scalars(server)
        check_hparams(server)
        check_projector(server)


def check_pr_curves(server):
    data = server.wait_for("/data/plugin/pr_curves/pr_curves", lambda d: d.get("."), run=".", tag="pr")
    (entry,) = data["."]
    expected = reference_curve(LABELS, PREDICTIONS, 11)
    kept = len(entry["precision"])  # the plugin drops trailing thresholds where TP + FP == 0
    assert kept == int(np.max(np.nonzero(expected[0] + expected[1])[0])) + 1 < 11
    np.testing.assert_allclose(entry["precision"], expected[4, :kept], rtol=1e-6)
    np.testing.assert_allclose(entry["recall"], expected[5, :kept], rtol=1e-6)
    assert entry["true_positives"] == expected[0, :kept].astype(int).tolist() and entry["step"] == 1


def check_mesh(server):
    tags = server.wait_for("/data/plugin/mesh/tags", lambda d: "tetra" in d.get(".", {}))
    assert tags["."]["tetra"]["samples"] == 1
    meshes = server.get_json("/data/plugin/mesh/meshes", run=".", tag="tetra")
    assert sorted(m["content_type"] for m in meshes) == [1, 2, 3]
    assert all(
        m["components"] == 14 and m["step"] == 2 and json.loads(m["config"]) == {"camera": {"fov": 60}} for m in meshes
    )
    for content_type, array in (("VERTEX", VERTICES), ("FACE", FACES), ("COLOR", COLORS)):
        raw = server.get("/data/plugin/mesh/data", run=".", tag="tetra", content_type=content_type, sample=0, step=2)
        np.testing.assert_array_equal(np.frombuffer(raw, array.dtype), array.reshape(-1))


def check_custom_scalars(server):
    layout = server.wait_for("/data/plugin/custom_scalars/layout", lambda d: d.get("category"))
    (category,) = layout["category"]
    assert category["title"] == "loss" and [c["title"] for c in category["chart"]] == ["loss", "band"]
    regex = category["chart"][0]["multiline"]["tag"][0]
    data = server.get_json("/data/plugin/custom_scalars/scalars", run=".", tag=regex)
    assert data["regex_valid"] and sorted(data["tag_to_events"]) == ["loss/train", "loss/val"]
    assert [row[1:] for row in data["tag_to_events"]["loss/val"]] == [[0, 2.0], [1, 3.0], [2, 4.0]]


def check_hparams(server):
    experiment = _poll_post(server, "/data/plugin/hparams/experiment", {"experimentName": ""}, "hparamInfos")
    infos = {info["name"]: info for info in experiment["hparamInfos"]}
    assert {name: info["type"] for name, info in infos.items()} == {
        "lr": "DATA_TYPE_FLOAT64",
        "opt": "DATA_TYPE_STRING",
        "aug": "DATA_TYPE_BOOL",
    }
    assert infos["opt"]["domainDiscrete"] == ["adam", "sgd"]
    assert infos["lr"]["domainInterval"].get("maxValue") == 1.0
    body = {
        "experimentName": "",
        "allowedStatuses": ALL_STATUSES,
        "colParams": [],
        "startIndex": 0,
        "sliceSize": 100,
        "includeMetrics": True,
    }
    groups = _poll_post(server, "/data/plugin/hparams/session_groups", body, "sessionGroups", count=2)["sessionGroups"]
    by_run = {g["sessions"][0]["name"]: g for g in groups}
    assert by_run["."]["hparams"] == {"lr": 0.1, "opt": "adam", "aug": True}
    assert by_run["trial_b"]["hparams"]["aug"] is False
    assert by_run["."]["sessions"][0]["status"] == "STATUS_FAILURE"
    assert by_run["trial_b"]["sessions"][0]["status"] == "STATUS_SUCCESS"
    assert [(m["trainingStep"], m["value"]) for m in by_run["."]["metricValues"]] == [(20, 0.5)]
    assert [m["value"] for m in by_run["trial_b"]["metricValues"]] == [0.75]
    evals = server.post_json(
        "/data/plugin/hparams/metric_evals",
        {"experimentName": "", "sessionName": ".", "metricName": {"group": "", "tag": "val/acc"}},
    )
    assert [row[1:] for row in evals] == [[0, 0.0], [10, 0.25], [20, 0.5]]


def _poll_post(server, path, body, key, count=1):
    deadline, answer = time.monotonic() + 60, None
    while time.monotonic() < deadline:
        answer = server.post_json(path, body)
        if len(answer.get(key, [])) >= count:
            return answer
        time.sleep(0.5)
    raise TimeoutError(f"{path} never listed {count} {key}: {answer}")


def check_projector(server):
    server.wait_for("/data/plugins_listing", lambda d: d["projector"]["enabled"])
    assert "." in server.get_json("/data/plugin/projector/runs")
    info = server.get_json("/data/plugin/projector/info", run=".")
    (embedding,) = info["embeddings"]
    assert embedding["tensorName"] == "points:00003" and embedding["tensorShape"] == [30, 4]
    assert embedding["sprite"]["singleImageDim"] == [4, 4]
    raw = server.get("/data/plugin/projector/tensor", run=".", name="points:00003")
    np.testing.assert_array_equal(np.frombuffer(raw, "<f4").reshape(30, 4), MAT)
    assert server.get("/data/plugin/projector/metadata", run=".", name="points:00003").decode().split("\n")[:2] == [
        "p0",
        "p1",
    ]
    assert server.get("/data/plugin/projector/sprite_image", run=".", name="points:00003").startswith(b"\x89PNG")
