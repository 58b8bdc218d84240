"""Hyperparameter trials read back with TensorBoard's loader and hparams metadata parsers, compared with torch."""

from __future__ import annotations

import numpy as np
import pytest
from tensorboard.plugins.hparams import api_pb2
from tensorboard.plugins.hparams import metadata as hp_metadata

from tb_helpers import all_scalar_points
from tbcore import SummaryWriter, summary
from tbcore.testing import tensorboard_accumulator

HPARAMS = {"lr": 0.01, "layers": 3, "optimizer": "adam", "augment": True}


def read_trial(run_dir):
    """Return (experiment, session start, session end or None, {metric tag: [(step, value)]}) of a run."""
    acc = tensorboard_accumulator(run_dir)

    def content(tag):
        return acc.SummaryMetadata(tag).plugin_data.content

    tags = acc.Tags()["tensors"]
    end = (
        hp_metadata.parse_session_end_info_plugin_data(content(hp_metadata.SESSION_END_INFO_TAG))
        if (hp_metadata.SESSION_END_INFO_TAG in tags)
        else None
    )
    return (
        hp_metadata.parse_experiment_plugin_data(content(hp_metadata.EXPERIMENT_TAG)),
        hp_metadata.parse_session_start_info_plugin_data(content(hp_metadata.SESSION_START_INFO_TAG)),
        end,
        all_scalar_points(run_dir),
    )


def test_default_layout_is_a_sub_run_with_types_kept(logdir):
    with SummaryWriter(logdir) as writer:
        writer.add_hparams(HPARAMS, {"hparam/accuracy": 0.75, "hparam/loss": 0.5}, global_step=4)
    (run,) = [p for p in logdir.iterdir() if p.is_dir()]
    float(run.name)  # torch's default run name: str(time.time())
    experiment, start, end, scalars = read_trial(run)
    types = {info.name: api_pb2.DataType.Name(info.type) for info in experiment.hparam_infos}
    assert types == {
        "lr": "DATA_TYPE_FLOAT64",
        "layers": "DATA_TYPE_FLOAT64",
        "optimizer": "DATA_TYPE_STRING",
        "augment": "DATA_TYPE_BOOL",
    }
    values = {
        name: (value.WhichOneof("kind"), getattr(value, value.WhichOneof("kind")))
        for name, value in start.hparams.items()
    }
    assert values == {
        "lr": ("number_value", 0.01),
        "layers": ("number_value", 3.0),
        "optimizer": ("string_value", "adam"),
        "augment": ("bool_value", True),
    }
    assert [m.name.tag for m in experiment.metric_infos] == ["hparam/accuracy", "hparam/loss"]
    assert end.status == api_pb2.STATUS_SUCCESS
    assert scalars == {"hparam/accuracy": [(4, 0.75)], "hparam/loss": [(4, 0.5)]}


def test_matches_torch_except_bools(logdir, tmp_path):
    TorchWriter = pytest.importorskip("torch.utils.tensorboard").SummaryWriter
    torch_hparams = pytest.importorskip("torch.utils.tensorboard.summary").hparams

    hparams = dict(HPARAMS)
    domains = {"optimizer": ["adam", "sgd"], "lr": [0.01, 0.1]}
    with SummaryWriter(logdir) as ours, TorchWriter(str(tmp_path)) as theirs:
        for writer in (ours, theirs):
            writer.add_hparams(hparams, {"acc": 0.5}, domains, run_name="trial", global_step=2)
    ours_trial, torch_trial = read_trial(logdir / "trial"), read_trial(tmp_path / "trial")
    assert ours_trial[1:] != torch_trial[1:]  # torch stores True as the number 1.0 ...
    torch_start = torch_trial[1]
    torch_start.hparams["augment"].bool_value = True  # ... once fixed, everything else is identical
    for info in torch_trial[0].hparam_infos:
        if info.name == "augment":
            info.type = api_pb2.DATA_TYPE_BOOL
    assert ours_trial[0] == torch_trial[0] and ours_trial[1:] == (torch_start, *torch_trial[2:])
    plain = {"lr": 0.1, "name": "x"}
    assert [s.SerializeToString() for s in summary.hparams(plain, {"m": 1.0})] == [
        s.SerializeToString() for s in torch_hparams(plain, {"m": 1.0})
    ]


def test_current_run_domains_later_metrics_and_end_status(logdir):
    with SummaryWriter(logdir) as writer:
        writer.add_hparams(
            HPARAMS,
            {"val/acc": None, "train/loss": 2.0},
            hparam_domain_discrete={"optimizer": ["adam", "sgd"], "augment": [True, False], "layers": [1, 3]},
            run_name=".",
            hparam_domain_interval={"lr": (1e-4, 1.0)},
            status=None,
        )
        for step in range(3):
            writer.add_scalar("val/acc", 0.5 + step / 10, step * 100)
        writer.add("hparams_end", ".", "failure", 300)
    assert [p for p in logdir.iterdir() if p.is_dir()] == []
    experiment, start, end, scalars = read_trial(logdir)
    infos = {info.name: info for info in experiment.hparam_infos}
    assert [v.string_value for v in infos["optimizer"].domain_discrete.values] == ["adam", "sgd"]
    assert [v.bool_value for v in infos["augment"].domain_discrete.values] == [True, False]
    assert [v.number_value for v in infos["layers"].domain_discrete.values] == [1.0, 3.0]
    assert (infos["lr"].domain_interval.min_value, infos["lr"].domain_interval.max_value) == (1e-4, 1.0)
    assert end.status == api_pb2.STATUS_FAILURE
    assert [m.name.tag for m in experiment.metric_infos] == ["val/acc", "train/loss"]
    assert scalars["val/acc"] == [(0, 0.5), (100, 0.6000000238418579), (200, pytest.approx(0.7))]


@pytest.mark.parametrize(
    ("call", "error", "match"),
    [
        ({"hparam_dict": {"lr": [0.1, 0.2]}}, TypeError, r"hparam_dict\['lr'\]: expected a bool, str, int or float"),
        ({"hparam_dict": {"lr": None}}, TypeError, r"hparam_dict\['lr'\]: expected a bool, str, int or float"),
        ({"hparam_dict": {"lr": np.ones(3)}}, TypeError, r"hparam_dict\['lr'\]: expected .* one-element"),
        ({"hparam_dict": {"lr": float("nan")}}, ValueError, r"hparam_dict\['lr'\]: expected a finite number"),
        ({"hparam_dict": [("lr", 0.1)]}, TypeError, "hparam_dict: expected a dict"),
        ({"metric_dict": {"acc": "high"}}, TypeError, r"metric_dict\['acc'\]: expected a number, or None"),
        ({"metric_dict": {"acc": [1.0]}}, TypeError, r"metric_dict\['acc'\]: expected a bool, str, int or float"),
        ({"hparam_domain_discrete": {"momentum": [0.9]}}, ValueError, "hparam_domain: expected names of hparam_dict"),
        (
            {"hparam_domain_discrete": {"opt": [1, 2]}},
            TypeError,
            r"hparam_domain_discrete\['opt'\]: expected values of",
        ),
        ({"hparam_domain_discrete": {"opt": "adam"}}, TypeError, "expected a non-empty list of values"),
        ({"hparam_domain_interval": {"opt": (0, 1)}}, TypeError, "expected an interval only for a numeric hparam"),
        (
            {"hparam_domain_interval": {"lr": (1, 0)}},
            ValueError,
            r"expected a pair \(min, max\) of numbers with min <= max",
        ),
        ({"status": "done"}, ValueError, "status: expected one of 'success', 'failure', 'running', 'unknown'"),
        ({"run_name": "../escape"}, ValueError, "run_name: expected a relative run name without '..'"),
        ({"run_name": "/abs"}, ValueError, "run_name: expected a relative run name"),
    ],
)
def test_bad_input(logdir, rejects, call, error, match):
    args = {"hparam_dict": {"lr": 0.1, "opt": "adam"}, "metric_dict": {"acc": 0.5}, "run_name": "t", **call}
    with SummaryWriter(logdir) as writer:
        rejects(writer, lambda: writer.add_hparams(**args), error, match)


def test_numpy_and_torch_values(logdir):
    torch = pytest.importorskip("torch")

    hparams = {"a": np.int64(3), "b": torch.tensor(0.5), "c": np.bool_(True), "d": torch.tensor([2])}
    with SummaryWriter(logdir) as writer:
        writer.add_hparams(hparams, {"m": torch.tensor(1.5)}, run_name=".")
    _, start, _, scalars = read_trial(logdir)
    values = {name: getattr(value, value.WhichOneof("kind")) for name, value in start.hparams.items()}
    assert values == {"a": 3.0, "b": 0.5, "c": True, "d": 2.0} and scalars == {"m": [(0, 1.5)]}
