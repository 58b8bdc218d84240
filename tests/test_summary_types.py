"""Scalars, histograms, text and raw tensors, compared with torch and read back by TensorBoard."""

from __future__ import annotations

import math
import os
import tempfile

import numpy as np
import pytest

import tbcore
from array_cases import NUMERIC_DTYPES
from tb_helpers import all_scalar_points
from tbcore import SummaryWriter, summary
from tbcore.testing import read_events, tensorboard_accumulator, tensorboard_provider

pytestmark = pytest.mark.core

RNG = np.random.default_rng(0)
HISTOGRAM_INPUTS = {
    "normal": RNG.normal(size=1000),
    "ints": RNG.integers(0, 10, 100),
    "const": np.full(10, 3.0),
    "negative": -np.abs(RNG.normal(size=50)),
    "zeros": np.zeros(5),
    "tiny": np.array([1e-13, -1e-13, 0.0]),
    "float32": RNG.normal(size=(10, 10)).astype(np.float32),
}
BINS = [
    ("tensorflow", None),
    ("auto", None),
    (10, None),
    ("tensorflow", 30),
    (100, 7),
    ("fd", None),
    ("sqrt", 3),
    (np.array([-1.0, 0.0, 0.5, 4.0]), None),
]


def _request_context():
    from tensorboard import context

    return context.RequestContext()


def _runs_and_tags(logdir) -> dict[str, list[str]]:
    out = {}
    for root, _dirs, files in os.walk(logdir):
        if any("tfevents" in f for f in files):
            acc = tensorboard_accumulator(root)
            out[os.path.relpath(root, logdir)] = sorted(acc.Tags()["tensors"])
    return out


# ---------------------------------------------------------------------------------------------- scalars
def test_scalar_encodings_read_by_the_python_loaders(logdir):
    with SummaryWriter(logdir) as writer:
        for step in range(3):
            writer.add_scalar("legacy", step + 0.5, step)
            writer.add_scalar("new", step + 0.5, step, new_style=True)
            writer.add_scalar("double", step + 0.5, step, double_precision=True)
            writer.add_scalar("both", step + 0.5, step, new_style=True, double_precision=True)
    points = all_scalar_points(logdir)
    for tag in ("legacy", "new", "double", "both"):
        assert points[tag] == [(0, 0.5), (1, 1.5), (2, 2.5)], tag
    series = tensorboard_provider(logdir).read_scalars(
        _request_context(), experiment_id="", plugin_name="scalars", downsample=100
    )
    assert sorted(series["."]) == ["both", "double", "legacy", "new"]
    assert [p.value for p in series["."]["double"]] == [0.5, 1.5, 2.5]


def test_add_scalars_has_torch_layout(logdir, tmp_path):
    torch_tb = pytest.importorskip("torch.utils.tensorboard")
    values = {"a": 1.0, "b/c": 2.0}
    with SummaryWriter(logdir) as writer:
        writer.add_scalars("loss/train", values, 3)
    theirs = tmp_path / "torch"
    writer = torch_tb.SummaryWriter(theirs)
    writer.add_scalars("loss/train", values, 3)
    writer.close()
    expected = {".": [], "loss_train_a": ["loss/train"], "loss_train_b/c": ["loss/train"]}
    assert _runs_and_tags(logdir) == _runs_and_tags(theirs) == expected
    assert tensorboard_accumulator(logdir / "loss_train_b" / "c").Tensors("loss/train")[0].step == 3


def test_add_scalars_of_an_empty_dict_logs_nothing(logdir):
    """``{}`` (metrics filtered down to none) is no error, as with torch's writer: no sub-run, no event."""
    with SummaryWriter(logdir) as writer:
        writer.add_scalars("m", {}, 0)
        writer.add_scalars("m", {}, 0, same_run=True)
        with pytest.raises(ValueError, match=r"^global_step: "):  # the other arguments are still checked
            writer.add_scalars("m", {}, -1)
        writer.add_scalars("m", {"a": 0.5}, 1)
    assert sorted(p.name for p in logdir.iterdir() if p.is_dir()) == ["m_a"]
    assert tensorboard_accumulator(logdir).Tags()["tensors"] == []
    assert [(e.step, e.tensor_proto.float_val[0]) for e in tensorboard_accumulator(logdir / "m_a").Tensors("m")] == [
        (1, 0.5)
    ]
    assert summary.encode("scalars", "m", {}) == summary.encode("scalars", "m", {}, same_run=True) == []


def test_add_scalars_bad_input(logdir):
    with SummaryWriter(logdir) as writer:
        with pytest.raises(TypeError, match=r"tag_scalar_dict: expected a dict"):
            writer.add_scalars("m", [1.0])
        with pytest.raises(TypeError, match=r"tag_scalar_dict\['a'\]: expected a real number"):
            writer.add_scalars("m", {"a": "x"})
        with pytest.raises(ValueError, match=r"tag_scalar_dict key: expected a sub-run name"):
            writer.add_scalars("m", {"../../escape": 1.0})
    assert os.listdir(logdir) == [os.listdir(logdir)[0]]  # no sub-run was created by a failed call


# ---------------------------------------------------------------------------------------------- histograms
@pytest.mark.parametrize("name", sorted(HISTOGRAM_INPUTS))
@pytest.mark.parametrize(
    ("bins", "max_bins"), BINS, ids=[f"{b if isinstance(b, (str, int)) else 'edges'}-{m}" for b, m in BINS]
)
def test_histogram_equals_torch(name, bins, max_bins):
    pytest.importorskip("torch")
    from torch.utils.tensorboard import SummaryWriter as TorchWriter
    from torch.utils.tensorboard import summary as torch_summary

    with tempfile.TemporaryDirectory() as tmp:
        torch_writer = TorchWriter(tmp)
        torch_bins = torch_writer.default_bins if isinstance(bins, str) and bins == "tensorflow" else bins
        torch_writer.close()
    values = HISTOGRAM_INPUTS[name]
    theirs = torch_summary.histogram("h", values, torch_bins, max_bins=max_bins).value[0].histo
    ours = summary.histogram("h", values, bins=bins, max_bins=max_bins).value[0].histo
    assert list(ours.bucket_limit) == list(theirs.bucket_limit)
    assert list(ours.bucket) == list(theirs.bucket)
    assert (ours.min, ours.max, ours.num) == (theirs.min, theirs.max, theirs.num)
    assert ours.sum == pytest.approx(theirs.sum) and ours.sum_squares == pytest.approx(theirs.sum_squares)


def test_histogram_nan_and_inf_are_data(logdir):
    with SummaryWriter(logdir) as writer:
        writer.add_histogram("h", np.array([1.0, np.nan, np.inf, -2.0]), 0)
        writer.add_histogram("h", np.array([np.nan, np.nan]), 1)
    histo = [e.summary.value[0].histo for e in read_events(logdir)[1:]]
    assert (histo[0].min, histo[0].max, histo[0].num, sum(histo[0].bucket)) == (-2.0, 1.0, 4.0, 2.0)
    assert math.isnan(histo[0].sum)
    assert (histo[1].num, sum(histo[1].bucket)) == (2.0, 0.0)
    points = tensorboard_accumulator(logdir).Tensors("h")
    assert [e.step for e in points] == [0, 1]
    buckets = tbcore.tensor_to_numpy(points[0].tensor_proto)  # TensorBoard's [left, right, count] rows
    assert buckets[:, 2].sum() == 2 and buckets[0, 0] == -2.0 and buckets[-1, 1] == 1.0


@pytest.mark.parametrize(
    ("kwargs", "error", "match"),
    [
        ({"values": []}, ValueError, r"values: expected a non-empty array"),
        ({"values": ["a", "b"]}, TypeError, r"values: expected a real-valued array"),
        ({"values": [1.0], "bins": "nope"}, ValueError, r"bins: expected one of 'tensorflow', 'auto'"),
        ({"values": [1.0], "bins": 0}, ValueError, r"bins: expected an int >= 1"),
        ({"values": [1.0], "bins": [3.0, 1.0]}, ValueError, r"bins: expected a 1-d increasing array"),
        ({"values": [1.0], "max_bins": 0}, ValueError, r"max_bins: expected an int > 0"),
        ({"values": [1.0], "max_bins": 2.5}, TypeError, r"max_bins: expected an int > 0"),
        ({"values": [1.0], "bins": 10, "max_bins": True}, TypeError, r"max_bins: expected an int > 0"),
        ({"values": [1e20], "bins": 3}, ValueError, r"bins: numpy.histogram cannot bin these values"),
        # found by tests/test_differential_torch.py: numpy's "fd" width overflows (torch: OverflowError)
        ({"values": [1.7976931348623157e308, -1e292, 0.0, 0.0], "bins": "fd"}, ValueError, r"bins: numpy.histogram"),
        # found there too: numpy's "scott" width overflows and gives one edge (torch: "'list' argument must
        # have no negative elements"; tbcore wrote a histogram with no count)
        ({"values": [1e300, 0.0], "bins": "scott"}, ValueError, r"bins: numpy.histogram cannot .* 1 bin edge"),
    ],
)
def test_histogram_bad_input(logdir, rejects, kwargs, error, match):
    with SummaryWriter(logdir) as writer:
        rejects(writer, lambda: writer.add_histogram("h", global_step=1, **kwargs), error, match)
        writer.add_histogram("ok", [1.0, 2.0], 2)
    assert [e.summary.value[0].tag for e in read_events(logdir)[1:]] == ["after_rejected_call", "ok"]
    acc = tensorboard_accumulator(logdir)
    assert sorted(acc.Tags()["tensors"]) == ["after_rejected_call", "ok"] and [e.step for e in acc.Tensors("ok")] == [2]


RAW = {
    "min": 0.0,
    "max": 3.0,
    "num": 4,
    "sum": 6.0,
    "sum_squares": 14.0,
    "bucket_limits": [1.0, 2.0, 3.0],
    "bucket_counts": [2, 1, 1],
}


def test_histogram_raw_read_back(logdir):
    with SummaryWriter(logdir) as writer:
        writer.add_histogram_raw("raw", global_step=5, **RAW)
    (event,) = tensorboard_accumulator(logdir).Tensors("raw")
    buckets = tbcore.tensor_to_numpy(event.tensor_proto)
    assert event.step == 5 and buckets[:, 2].tolist() == [2, 1, 1] and buckets[:, 1].tolist() == [1.0, 2.0, 3.0]


@pytest.mark.parametrize(
    ("change", "error", "match"),
    [
        (
            {"bucket_counts": [1, 1]},
            ValueError,
            r"bucket_counts: expected as many counts as bucket_limits \(3\), got 2",
        ),
        ({"bucket_limits": [3.0, 2.0, 1.0]}, ValueError, r"bucket_limits: expected non-decreasing right edges"),
        ({"bucket_counts": [1, -1, 1]}, ValueError, r"bucket_counts: expected counts >= 0"),
        ({"bucket_limits": []}, ValueError, r"bucket_limits: expected a non-empty 1-d array"),
        ({"bucket_counts": [[1, 2, 3]]}, ValueError, r"bucket_counts: expected a non-empty 1-d array"),
        ({"min": 5.0}, ValueError, r"min: expected min <= max, got min=5.0 and max=3.0"),
        ({"num": -1}, ValueError, r"num: expected a count >= 0"),
        ({"min": "0"}, TypeError, r"min: expected a real number"),
        ({"sum": True}, TypeError, r"sum: expected a real number"),
        ({"bucket_counts": ["a", "b", "c"]}, ValueError, r"bucket_counts: expected a non-empty 1-d array of numbers"),
    ],
)
def test_histogram_raw_bad_input(logdir, change, error, match):
    with SummaryWriter(logdir) as writer:
        with pytest.raises(error, match=match):
            writer.add_histogram_raw("raw", global_step=1, **{**RAW, **change})
        writer.add_histogram_raw("raw", global_step=2, **RAW)
    assert [e.step for e in tensorboard_accumulator(logdir).Tensors("raw")] == [2]


# ---------------------------------------------------------------------------------------------- text
def test_text_tag_layout_matches_torch(logdir, tmp_path):
    torch_tb = pytest.importorskip("torch.utils.tensorboard")
    with SummaryWriter(logdir) as writer:
        writer.add_text("notes", "**bold** é", 2)
    theirs = tmp_path / "torch"
    writer = torch_tb.SummaryWriter(theirs)
    writer.add_text("notes", "**bold** é", 2)
    writer.close()
    ours_acc, theirs_acc = tensorboard_accumulator(logdir), tensorboard_accumulator(theirs)
    assert ours_acc.Tags()["tensors"] == theirs_acc.Tags()["tensors"] == ["notes/text_summary"]
    ours, their = ours_acc.Tensors("notes/text_summary")[0], theirs_acc.Tensors("notes/text_summary")[0]
    assert ours.tensor_proto.string_val == their.tensor_proto.string_val == ["**bold** é".encode()]
    assert ours_acc.summary_metadata["notes/text_summary"].plugin_data.plugin_name == "text"
    # The deliberate difference: rank 0 (a Markdown block) instead of torch's shape [1] (a one-cell table).
    assert len(ours.tensor_proto.tensor_shape.dim) == 0 and [d.size for d in their.tensor_proto.tensor_shape.dim] == [1]


def test_text_bad_input(logdir):
    with SummaryWriter(logdir) as writer:
        with pytest.raises(TypeError, match=r"text_string: expected a str, got int 3"):
            writer.add_text("t", 3)
        with pytest.raises(ValueError, match=r"text_string: expected a str \(or UTF-8 bytes\)"):
            writer.add_text("t", b"\xff")
        writer.add_text("t", b"utf-8 bytes \xc3\xa9", 1)
    (event,) = tensorboard_accumulator(logdir).Tensors("t/text_summary")
    assert event.tensor_proto.string_val == ["utf-8 bytes é".encode()]


# ---------------------------------------------------------------------------------------------- tensors


def test_add_tensor_every_dtype_through_the_data_provider(logdir):
    from tensorboard.data import provider as tb_provider

    arrays = {dtype: (np.arange(6).reshape(2, 3) % 3).astype(dtype) for dtype in NUMERIC_DTYPES}
    arrays["str"] = np.array([["a", "bé"]])
    try:
        import ml_dtypes
    except ImportError:
        ml_dtypes = None
    if ml_dtypes is not None:
        for name in ("bfloat16", "float8_e4m3fn", "float8_e5m2"):
            arrays[name] = np.array([1e30 if name == "bfloat16" else 448.0, 0.5, -2.0]).astype(getattr(ml_dtypes, name))
    with SummaryWriter(logdir) as writer:
        for tag, array in arrays.items():
            writer.add_tensor(tag, array, 1)
    provider = tensorboard_provider(logdir)
    for tag, array in arrays.items():
        result = provider.read_tensors(
            _request_context(),
            experiment_id="",
            plugin_name="tensor",
            downsample=10,
            run_tag_filter=tb_provider.RunTagFilter(tags=[tag]),
        )
        stored = result["."][tag][0].numpy
        if tag == "str":
            assert stored.tolist() == [[b"a", "bé".encode()]]
        elif array.dtype.name in ("bfloat16",) or array.dtype.name.startswith("float8"):
            assert stored.dtype == np.float32 and stored.tolist() == array.astype(np.float32).tolist()
        else:
            assert stored.dtype == array.dtype and np.array_equal(stored, array), tag


def test_add_tensor_decode_restores_low_precision_dtypes(logdir):
    ml_dtypes = pytest.importorskip("ml_dtypes")
    from tbplugins import tensor as tensor_plugin

    array = np.array([1e30, 0.5, -3.0], dtype=ml_dtypes.bfloat16)
    with SummaryWriter(logdir) as writer:
        writer.add_tensor("bf", array, 0)
    restored = tensor_plugin.decode(read_events(logdir)[1].summary.value[0])
    assert restored.dtype == array.dtype and restored.view("int16").tolist() == array.view("int16").tolist()


def test_add_tensor_object_arrays_of_strings(logdir):
    """Strings as TensorFlow, TensorBoard and tbcore's reader give them (object arrays of bytes/str) are logged too."""
    with SummaryWriter(logdir) as writer:
        writer.add_tensor("mixed", np.array([["a", b"b\xff"], ["\u00e9", b""]], dtype=object), 0)
    stored = tbcore.tensor_to_numpy(read_events(logdir)[1].summary.value[0].tensor)
    assert stored.dtype == object and stored.tolist() == [[b"a", b"b\xff"], ["\u00e9".encode(), b""]]
    with SummaryWriter(logdir) as writer:
        writer.add_tensor("again", stored, 1)
    provider_values = tensorboard_accumulator(logdir).Tensors("again")[0].tensor_proto.string_val
    assert list(provider_values) == stored.reshape(-1).tolist()


def test_add_tensor_bad_input(logdir):
    with SummaryWriter(logdir) as writer:
        with pytest.raises(TypeError, match=r"tensor: expected a numeric, bool or string array"):
            writer.add_tensor("t", np.array([np.datetime64("2020-01-01")]))
        with pytest.raises(TypeError, match=r"tensor: expected a numpy array.*got builtins.object"):
            writer.add_tensor("t", object())
        with pytest.raises(TypeError, match=r"tensor: expected .*objects only if all str or bytes.*dtype object"):
            writer.add_tensor("t", np.array(["a", 1], dtype=object))
        writer.add_tensor("t", [1, 2], 1)
    assert [e.step for e in tensorboard_accumulator(logdir).Tensors("t")] == [1]


def test_histogram_equals_torch_on_random_inputs():
    """Property test: for any finite float array and bin choice, the HistogramProto is torch's."""
    pytest.importorskip("torch")
    hypothesis = pytest.importorskip("hypothesis")
    from hypothesis import strategies as st
    from hypothesis.extra import numpy as hnp
    from torch.utils.tensorboard import SummaryWriter as TorchWriter
    from torch.utils.tensorboard import summary as torch_summary

    with tempfile.TemporaryDirectory() as tmp:
        torch_writer = TorchWriter(tmp)
        default_bins = torch_writer.default_bins
        torch_writer.close()
    values = hnp.arrays(np.float64, st.integers(1, 200), elements=st.floats(-1e6, 1e6, allow_nan=False))

    @hypothesis.settings(max_examples=60, deadline=None, derandomize=True)
    @hypothesis.given(
        values, st.sampled_from(["tensorflow", "auto", "sturges", 1, 7, 64]), st.one_of(st.none(), st.integers(1, 50))
    )
    def check(array, bins, max_bins):
        torch_bins = default_bins if bins == "tensorflow" else bins
        theirs = torch_summary.histogram("h", array, torch_bins, max_bins=max_bins).value[0].histo
        ours = summary.histogram("h", array, bins=bins, max_bins=max_bins).value[0].histo
        assert list(ours.bucket_limit) == list(theirs.bucket_limit)
        assert list(ours.bucket) == list(theirs.bucket)
        assert (ours.min, ours.max, ours.num) == (theirs.min, theirs.max, theirs.num)

    check()
