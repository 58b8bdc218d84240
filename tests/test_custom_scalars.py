"""Custom-scalars layouts read back with TensorBoard's loader and Layout proto, merged across calls, vs torch."""

from __future__ import annotations

import re

import pytest
from tensorboard.plugins.custom_scalar import layout_pb2
from tensorboard.util import tensor_util

from tbcore import SummaryWriter
from tbcore.testing import tensorboard_accumulator

TAG = "custom_scalars__config__"


def read_layout(logdir):
    acc = tensorboard_accumulator(logdir)
    assert acc.SummaryMetadata(TAG).plugin_data.plugin_name == "custom_scalars"
    events = acc.Tensors(TAG)
    return layout_pb2.Layout.FromString(tensor_util.make_ndarray(events[-1].tensor_proto).item()), len(events)


def charts(layout):
    return {
        (category.title, chart.title): (chart.WhichOneof("content"), getattr(chart, chart.WhichOneof("content")))
        for category in layout.category
        for chart in category.chart
    }


def test_calls_merge_into_one_layout(logdir):
    with SummaryWriter(logdir) as writer:
        writer.add_custom_scalars_multilinechart(["loss/.*", "acc"], category="training", title="curves")
        writer.add_custom_scalars_marginchart(["val", "val_low", "val_high"], category="training", title="band")
        writer.add_custom_scalars({"other": {"lr": ["Multiline", ["lr"]]}})
        writer.add_custom_scalars({"training": {"curves": ["Multiline", ["loss/train"]]}})  # replaces the first chart
    layout, count = read_layout(logdir)
    assert count == 4
    assert [c.title for c in layout.category] == ["training", "other"]
    found = charts(layout)
    assert list(found) == [("training", "curves"), ("training", "band"), ("other", "lr")]
    assert list(found["training", "curves"][1].tag) == ["loss/train"]
    series = found["training", "band"][1].series[0]
    assert (found["training", "band"][0], series.value, series.lower, series.upper) == (
        "margin",
        "val",
        "val_low",
        "val_high",
    )


def test_one_layout_matches_torch(logdir, tmp_path):
    TorchWriter = pytest.importorskip("torch.utils.tensorboard").SummaryWriter

    layout = {
        "Taiwan": {"twse": ["Multiline", ["twse/0050", "twse/2330"]]},
        "USA": {"dow": ["Margin", ["dow/aaa", "dow/bbb", "dow/ccc"]], "nasdaq": ["Margin", ["n/a", "n/b", "n/c"]]},
    }
    with SummaryWriter(logdir) as ours, TorchWriter(str(tmp_path / "torch")) as theirs:
        ours.add_custom_scalars(layout)
        theirs.add_custom_scalars(layout)
    assert read_layout(logdir)[0] == read_layout(tmp_path / "torch")[0]


def test_add_scalars_same_run_declares_a_multiline_chart(logdir):
    with SummaryWriter(logdir) as writer:
        for step in range(3):
            writer.add_scalars("run/loss", {"train": 1.0 / (step + 1), "val": 2.0 / (step + 1)}, step, same_run=True)
        writer.add_scalars("acc", {"train": 0.5}, 0, same_run=True)
    acc = tensorboard_accumulator(logdir)
    assert {"run/loss/train", "run/loss/val", "acc/train"} <= set(acc.Tags()["tensors"])
    assert [e.step for e in acc.Tensors("run/loss/val")] == [0, 1, 2]
    assert acc.Tensors("run/loss/val")[2].tensor_proto.float_val[0] == pytest.approx(2.0 / 3)
    layout, count = read_layout(logdir)
    assert count == 2  # one layout per new chart, not one per call
    regex = charts(layout)["run/loss", "run/loss"][1].tag[0]
    assert [t for t in ("run/loss/train", "run/loss/val", "run/lossy", "acc/train") if re.match(regex, t)] == [
        "run/loss/train",
        "run/loss/val",
    ]


def test_add_scalars_same_run_does_not_search_the_layouts_at_every_call(logdir):
    class Counted(list):
        searches = 0

        def __contains__(self, item: object) -> bool:
            Counted.searches += 1
            return super().__contains__(item)

    with SummaryWriter(logdir) as writer:
        writer.add_custom_scalars({"c": {"t": ["Multiline", ["x"]]}})
        writer.add_scalars("loss", {"a": 1.0}, 0, same_run=True)
        writer.add_scalars("acc", {"a": 1.0}, 0, same_run=True)
        writer._custom_scalar_layouts = Counted(writer._custom_scalar_layouts)
        for step in range(1, 5):
            writer.add_scalars("loss", {"a": 1.0}, step, same_run=True)
            writer.add_scalars("acc", {"a": 1.0}, step, same_run=True)
    assert Counted.searches == 0  # each main_tag's chart was searched for at its first call only
    assert sorted(charts(read_layout(logdir)[0])) == [("acc", "acc"), ("c", "t"), ("loss", "loss")]


@pytest.mark.parametrize(
    ("layout", "error", "match"),
    [
        (["Multiline", ["a"]], TypeError, "layout: expected a dict"),
        ({"cat": ["Multiline", ["a"]]}, TypeError, r"layout\['cat'\]: expected a dict \{title: \[kind, tags\]\}"),
        ({"cat": {"t": ["Multiline", "a"]}}, TypeError, r"layout\['cat'\]\['t'\]\[1\]: expected a list of tag strings"),
        ({"cat": {"t": ["Bars", ["a"]]}}, ValueError, r"layout\['cat'\]\['t'\]\[0\]: expected 'Multiline' or 'Margin'"),
        ({"cat": {"t": ["Margin", ["a", "b"]]}}, ValueError, r"expected three tags \[value, lower, upper\]"),
        ({"cat": {"t": ["Multiline", ["(unclosed"]]}}, ValueError, "expected regular expressions, got '\\(unclosed'"),
        ({"cat": {"t": ("Multiline",)}}, TypeError, r"expected a pair \['Multiline', \[tags\]\]"),
        ({1: {"t": ["Multiline", ["a"]]}}, TypeError, "layout key: expected a category title as a str"),
    ],
)
def test_bad_layout(logdir, rejects, layout, error, match):
    with SummaryWriter(logdir) as writer:
        writer.add_custom_scalars_multilinechart(["good"])
        rejects(writer, lambda: writer.add_custom_scalars(layout), error, match)
        writer.add_custom_scalars_multilinechart(["later"], title="later")
    assert list(charts(read_layout(logdir)[0])) == [("default", "untitled"), ("default", "later")]


def test_same_run_keys_are_parts_of_tags_not_sub_run_names(logdir, rejects):
    """Keys that would make unsafe sub-runs are fine with same_run (no sub-run is made); NUL is not, nor without it."""
    keys = ["c/../d", "a\\b", "e/.", "g/"]  # each makes an unsafe sub-run name
    with SummaryWriter(logdir) as writer:
        writer.add_scalars("m", dict.fromkeys(keys, 1.5), 0, same_run=True)
        rejects(
            writer,
            lambda: writer.add_scalars("m", {"ok": 1.0, "a\x00": 2.0}, 1, same_run=True),
            ValueError,
            r"tag_scalar_dict key: expected a str without NUL characters, got str 'a\\x00'",
        )
        for key in keys:
            rejects(
                writer,
                lambda key=key: writer.add_scalars("m", {key: 1.0}, 1),
                ValueError,
                r"tag_scalar_dict key: expected a sub-run name without NUL, '\\' or '\.\.' parts",
            )
    accumulator = tensorboard_accumulator(logdir)
    for key in keys:
        assert [tensor_util.make_ndarray(e.tensor_proto).item() for e in accumulator.Tensors(f"m/{key}")] == [1.5]
