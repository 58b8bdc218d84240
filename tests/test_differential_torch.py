"""Differential property tests, scalars to hparams: the same calls through torch's and tbcore's SummaryWriter.

Each property draws inputs across what users pass (dtypes, shapes, value ranges, numpy arrays,
torch tensors, nested lists and Python numbers), writes them with
``torch.utils.tensorboard.SummaryWriter`` into one run and with ``tbcore.SummaryWriter`` into
another, and compares what TensorBoard's own loader reads back (tests/differential.py). Where the
two legitimately differ (the deliberate differences of docs/guide/migration.md and
docs/types/*.md, and torch's bugs), the property says so next to the exclusion or the tolerance.
The media types are in tests/test_differential_torch_media.py.
"""

from __future__ import annotations

import pathlib
import re
from typing import Any

import numpy as np
import pytest
from hypothesis import assume, event, given
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

torch = pytest.importorskip("torch")

from differential import (  # noqa: E402 - needs torch
    FLOAT_DTYPES,
    INT_DTYPES,
    Runs,
    as_input,
    bf16_fits_f16,
    both,
    diff,
    finite,
    input_kinds,
    only,
    real_arrays,
    tensors,
)
from tbcore import SummaryWriter  # noqa: E402
from tbcore.testing import tensorboard_accumulator  # noqa: E402

# Other code's overflow warnings on the extreme values drawn here: torch's add_histogram (its sum and
# sum of squares; numpy's std behind bins="scott"/"doane" and the linspace of np.histogram, whose
# infinite width then makes NaN edges) and TensorBoard's reader (bucket edges beyond float32 cast to
# float32). The numpy ones are filtered by numpy's module: a warning filter cannot tell the caller.
pytestmark = [
    pytest.mark.filterwarnings("ignore:overflow encountered in dot:RuntimeWarning:torch.utils.tensorboard.summary"),
    pytest.mark.filterwarnings("ignore:overflow encountered in reduce:RuntimeWarning:numpy._core._methods"),
    pytest.mark.filterwarnings("ignore:overflow encountered in square:RuntimeWarning:numpy._core._methods"),
    pytest.mark.filterwarnings("ignore:overflow encountered in subtract:RuntimeWarning:numpy._core.function_base"),
    pytest.mark.filterwarnings("ignore:invalid value encountered in multiply:RuntimeWarning:numpy._core.function_base"),
    pytest.mark.filterwarnings("ignore:overflow encountered in cast:RuntimeWarning:tensorboard.data_compat"),
]

# ---------------------------------------------------------------- add_scalar, add_scalars


@st.composite
def scalar_values(draw: st.DrawFn) -> Any:
    """One number in each form add_scalar takes: Python, numpy scalar, 0-d / (1,) arrays and tensors."""
    form = draw(st.sampled_from(["float", "int", "bool", "fraction", "decimal", "numpy", "array", "tensor", "bf16"]))
    if form == "float":
        return draw(st.floats())
    if form == "fraction":
        return draw(st.fractions(-(10**6), 10**6))
    if form == "decimal":
        return draw(st.decimals(allow_nan=False))
    if form == "int":
        return draw(st.integers(-(2**70), 2**70))  # beyond int64 too (within float range; see migration.md)
    if form == "bool":
        return draw(st.booleans())
    array = draw(real_arrays(FLOAT_DTYPES + INT_DTYPES + [np.bool_], draw(st.sampled_from([(), (1,)]))))
    if form == "numpy":
        return array.reshape(-1)[0]  # a numpy scalar (np.float16(...), np.uint8(...)...)
    if form == "array":
        return array
    if form == "tensor":
        return torch.from_numpy(array)
    return torch.tensor(draw(st.floats(allow_nan=False)), dtype=torch.bfloat16).reshape(array.shape)


@diff(100)
@given(scalar_values(), st.booleans())
def test_add_scalar(value, new_style):
    if isinstance(value, torch.Tensor) and value.dtype == torch.bfloat16:
        assume(bf16_fits_f16(value))
    with both(lambda w: w.add_scalar("s", value, 0, new_style=new_style)) as (theirs, ours, _, _):
        (_, expected), (_, got) = only(theirs, "scalars"), only(ours, "scalars")
        assert got.dtype == expected.dtype == np.float32
        np.testing.assert_array_equal(got, expected)  # exact: both round the number once to float32


@diff(100)
@given(
    st.text(st.characters(codec="utf-8", exclude_characters="\x00"), min_size=1, max_size=20),
    st.integers(0, 2**63 - 1).flatmap(lambda n: st.sampled_from([n, np.int64(n), torch.tensor(n)])),
    st.floats(allow_nan=False),
)
def test_add_scalar_tags_and_steps(tag, step, value):
    with both(lambda w: w.add_scalar(tag, value, step)) as runs:
        with np.errstate(over="ignore"):
            expected = {tag: ("scalars", [(int(step), np.float32(value))])}
        assert tensors(runs.theirs) == tensors(runs.ours) == expected


@diff(100)
@given(
    st.dictionaries(
        st.text(st.characters(codec="utf-8", exclude_characters="/\\\x00"), min_size=1, max_size=8).filter(
            lambda key: key not in (".", "..")
        ),
        scalar_values(),
        min_size=1,
        max_size=4,
    ),
    st.sampled_from(["loss", "a/b"]),
)
def test_add_scalars(values, main_tag):
    assume(not any(isinstance(v, torch.Tensor) and v.dtype == torch.bfloat16 for v in values.values()))
    with both(lambda w: w.add_scalars(main_tag, values, 0)) as (theirs, ours, _, _):
        runs = sorted(p.name for p in theirs.iterdir() if p.is_dir())
        assert runs == sorted(p.name for p in ours.iterdir() if p.is_dir())
        assert len(runs) == len(values)
        for run in runs:
            (tag, expected), (our_tag, got) = only(theirs / run, "scalars"), only(ours / run, "scalars")
            assert tag == our_tag == main_tag
            np.testing.assert_array_equal(got, expected)


# ---------------------------------------------------------------- add_histogram

NUMPY_RULES = ["auto", "fd", "doane", "scott", "stone", "rice", "sturges", "sqrt"]
shapes = hnp.array_shapes(min_dims=1, max_dims=3, min_side=1, max_side=12)


@st.composite
def bins_options(draw: st.DrawFn) -> Any:
    """Every ``bins`` form torch's add_histogram takes: its default, numpy rules, a count, increasing edges."""
    kind = draw(st.sampled_from(["tensorflow", "rule", "count", "edges"]))
    if kind == "tensorflow":
        return "tensorflow"
    if kind == "rule":
        return draw(st.sampled_from(NUMPY_RULES))
    if kind == "count":
        return draw(st.integers(1, 300))
    edges = draw(st.lists(finite(np.float64, -1e4, 1e4), min_size=2, max_size=20, unique=True))
    return sorted(edges)


@diff(200)
@given(
    real_arrays(FLOAT_DTYPES + INT_DTYPES + [np.bool_], shapes),
    st.sampled_from([1.0, 1e-30, 1e-6, 1e6, 1e30]),
    bins_options(),
    st.one_of(st.none(), st.integers(1, 64)),
    st.sampled_from(["numpy", "torch", "list", "bf16"]),
)
def test_add_histogram(array, scale, bins, max_bins, kind):
    if array.dtype.kind == "f":
        with np.errstate(over="ignore", invalid="ignore"):
            array = (array * scale).astype(array.dtype)  # large and tiny magnitudes
        assume(np.isfinite(array).all())  # NaN/inf: a deliberate difference (migration.md)
    if kind == "bf16":
        value = as_input(array, kind)
        assume(bool(torch.isfinite(value).all()) and bf16_fits_f16(value))  # bfloat16 rounds 3.4e38 to inf
    call = lambda w: w.add_histogram("h", as_input(array, kind, w), 0, bins=bins, max_bins=max_bins)  # noqa: E731
    with both(call, may_fail=True) as runs:
        check_same_histogram(runs, bins)


@diff(100)
@given(real_arrays(FLOAT_DTYPES, shapes, special=True), bins_options(), input_kinds)
def test_add_histogram_of_nan_and_inf(array, bins, kind):
    # tbcore counts NaN and ±inf in num only (no bucket; min/max of the finite values), where torch's
    # min/max become NaN or a numpy rule fails (migration.md). What TensorBoard shows is then torch's
    # histogram of the finite values alone.
    finite_values = array[np.isfinite(array)]
    assume(finite_values.size)

    def call(writer: Any) -> None:
        value = array if isinstance(writer, SummaryWriter) else finite_values
        writer.add_histogram("h", as_input(value, kind, writer), 0, bins=bins)

    with both(call, may_fail=True) as runs:
        check_same_histogram(runs, bins)


def check_same_histogram(runs: Runs, bins: Any) -> None:
    """TensorBoard reads the same [left, right, count] rows from both runs, or torch failed for a known reason."""
    event("torch failed" if runs.torch_error is not None else "both wrote")
    if runs.torch_error is not None:
        histogram_torch_failed(runs, bins)
        return
    assert runs.our_error is None, runs.our_error
    (_, expected), (_, got) = only(runs.theirs, "histograms"), only(runs.ours, "histograms")
    np.testing.assert_array_equal(got, expected)  # exact: same edges, same counts


def histogram_torch_failed(runs: Runs, bins: Any) -> None:
    """Where torch's add_histogram raises, tbcore raises a clear error too, or writes what TensorBoard can show."""
    message = str(runs.torch_error)
    if "The histogram is empty" in message:
        # torch's bug: every value lies outside the edges (beyond the outermost "tensorflow" edge
        # |v| > 9.6e19, or outside explicit edges), so no bucket is left and torch raises. tbcore writes
        # the histogram with no bucket, as it counts such values in num only when some other value has
        # a bucket (docs/types/histogram.md).
        assert (bins == "tensorflow" or isinstance(bins, list)) and runs.our_error is None
        assert only(runs.ours, "histograms")[1].shape == (0, 3)
    else:
        # numpy cannot choose the edges for this rule (e.g. one huge value with bins="auto", a range
        # beyond float64, or a "scott" width that overflows, as for [1e300, 0.0]): tbcore's error says
        # so, naming bins
        assert isinstance(runs.our_error, ValueError), runs.our_error
        assert str(runs.our_error).startswith(f"bins: numpy.histogram cannot bin these values with bins={bins!r}")


# ---------------------------------------------------------------- add_text


@diff(100)
@given(st.text(max_size=50), st.sampled_from(["t", "a/b", "notes x"]))
def test_add_text(text, tag):
    with both(lambda w: w.add_text(tag, text, 0)) as runs:
        (their_tag, theirs), (our_tag, ours) = only(runs.theirs, "text"), only(runs.ours, "text")
        assert our_tag == their_tag == f"{tag}/text_summary"
        # torch stores shape [1] (a one-cell table), tbcore rank 0 (a Markdown block): migration.md
        assert theirs.shape == (1,) and ours.shape == ()
        assert ours.item() == theirs[0] == text.encode()


# ---------------------------------------------------------------- add_pr_curve


@st.composite
def pr_inputs(draw: st.DrawFn) -> tuple[Any, Any, int, Any]:
    """labels (0/1 as int, bool or float), predictions in [0, 1], num_thresholds <= 127, weights."""
    size = draw(st.integers(1, 60))
    labels = draw(
        hnp.arrays(draw(st.sampled_from([np.int64, np.bool_, np.float32, np.uint8])), size, elements=st.booleans())
    )
    predictions = draw(real_arrays(FLOAT_DTYPES, size, 0, 1))
    weights = draw(
        st.one_of(
            st.none(),
            finite(np.float64, 0, 10),
            hnp.arrays(np.float64, size, elements=finite(np.float64, 0, 10)),
        )
    )
    # above 127 torch silently uses 127 (a deliberate difference, docs/types/pr_curve.md)
    return labels, predictions, draw(st.integers(1, 127)), weights


@diff(150)
@given(pr_inputs(), input_kinds)
def test_add_pr_curve(inputs, kind):
    labels, predictions, num_thresholds, weights = inputs
    # tbcore puts prediction p in bucket floor(p * (num_thresholds - 1)) computed exactly (in float64);
    # torch computes it in the input's dtype, where float16/float32 rounding lifts a p just below a
    # threshold into the bucket above (docs/types/pr_curve.md). torch gets the same values as float64.
    exact = predictions.astype(np.float64)

    def call(writer: Any) -> None:
        value = predictions if isinstance(writer, SummaryWriter) else exact
        writer.add_pr_curve(
            "p", as_input(labels, kind, writer), as_input(value, kind, writer), 0, num_thresholds, weights
        )

    with both(call) as runs:
        (_, theirs), (_, ours) = only(runs.theirs, "pr_curves"), only(runs.ours, "pr_curves")
        assert theirs.shape == ours.shape == (6, num_thresholds)
        np.testing.assert_array_equal(ours, theirs)  # counts, precision and recall, float32 for float32


# ---------------------------------------------------------------- add_hparams

hparam_names = st.text(st.characters(codec="utf-8"), min_size=1, max_size=6)
# bools: a deliberate difference (torch stores True as the number 1.0; docs/types/hparams.md)
hparam_values = st.one_of(st.text(max_size=8), st.integers(-(2**70), 2**70), finite(np.float64))


def hparams_content(run_dir: pathlib.Path) -> dict[str, Any]:
    """Return the trial's experiment, session start/end (as dicts) and metric scalars, read by TensorBoard."""
    from google.protobuf.json_format import MessageToDict
    from tensorboard.plugins.hparams import metadata

    acc = tensorboard_accumulator(run_dir)
    parse = {
        metadata.EXPERIMENT_TAG: metadata.parse_experiment_plugin_data,
        metadata.SESSION_START_INFO_TAG: metadata.parse_session_start_info_plugin_data,
        metadata.SESSION_END_INFO_TAG: metadata.parse_session_end_info_plugin_data,
    }
    content = {tag: MessageToDict(read(acc.SummaryMetadata(tag).plugin_data.content)) for tag, read in parse.items()}
    content[metadata.SESSION_START_INFO_TAG].pop("startTimeSecs", None)  # wall times
    content[metadata.SESSION_END_INFO_TAG].pop("endTimeSecs", None)
    scalars = {tag: (name, points) for tag, (name, points) in tensors(run_dir).items() if name == "scalars"}
    return content | {"scalars": {tag: [(s, a.item()) for s, a in points] for tag, (_, points) in scalars.items()}}


@diff(60)
@given(
    st.dictionaries(hparam_names, hparam_values, min_size=1, max_size=4),
    st.dictionaries(hparam_names.map(lambda name: f"m/{name}"), finite(np.float64), min_size=1, max_size=3),
    st.booleans(),
    st.integers(0, 10),
)
def test_add_hparams(hparams, metrics, discrete, step):
    # a discrete domain for each hparam, listing its value and another one of its type
    domains = {k: [v, v + ("x" if isinstance(v, str) else 1)] for k, v in hparams.items()} if discrete else None
    with both(lambda w: w.add_hparams(hparams, metrics, domains, run_name="trial", global_step=step)) as runs:
        assert hparams_content(runs.ours / "trial") == hparams_content(runs.theirs / "trial")


# ---------------------------------------------------------------- add_histogram_raw, add_pr_curve_raw


@st.composite
def raw_histograms(draw: st.DrawFn) -> dict[str, Any]:
    """add_histogram_raw arguments: non-decreasing right edges, counts >= 0, min <= max around them."""
    edges = sorted(draw(st.lists(finite(np.float64, -1e6, 1e6), min_size=1, max_size=30)))
    counts = draw(st.lists(st.integers(0, 1000) | finite(np.float64, 0, 1e3), min_size=len(edges), max_size=len(edges)))
    low = draw(finite(np.float64, -1e7, edges[0]))
    return {
        "min": low,
        "max": edges[-1],
        "num": int(sum(counts)),
        "sum": draw(finite(np.float64)),
        "sum_squares": draw(finite(np.float64, 0)),
        "bucket_limits": edges,
        "bucket_counts": counts,
    }


@diff(80)
@given(raw_histograms(), st.sampled_from(["numpy", "list"]))
def test_add_histogram_raw(arguments, kind):
    def call(w: Any) -> None:
        arrays = {k: as_input(np.array(arguments[k]), kind, w) for k in ("bucket_limits", "bucket_counts")}
        w.add_histogram_raw("h", **(arguments | arrays), global_step=0)

    with both(call) as runs:
        (_, theirs), (_, ours) = only(runs.theirs, "histograms"), only(runs.ours, "histograms")
        np.testing.assert_array_equal(ours, theirs)


@diff(80)
@given(
    st.integers(1, 127).flatmap(
        lambda n: st.lists(real_arrays([np.float32, np.float64, np.int64], n, 0, 1e4), min_size=6, max_size=6)
    )
)
def test_add_pr_curve_raw(arrays):
    call = lambda w: w.add_pr_curve_raw("p", *arrays, global_step=0, num_thresholds=len(arrays[0]))  # noqa: E731
    with both(call) as runs:
        (_, theirs), (_, ours) = only(runs.theirs, "pr_curves"), only(runs.ours, "pr_curves")
        np.testing.assert_array_equal(ours, theirs)


# ---------------------------------------------------------------- add_custom_scalars

chart_tags = st.text(st.characters(codec="utf-8", exclude_characters="\x00"), min_size=1, max_size=8)
charts = st.one_of(
    # Multiline tags are regular expressions; an invalid one is an error in tbcore (docs/types/custom_scalars.md)
    st.tuples(st.just("Multiline"), st.lists(chart_tags.map(re.escape), min_size=1, max_size=4)),
    st.tuples(st.just("Margin"), st.lists(chart_tags, min_size=3, max_size=3)),
).map(list)


@diff(60)
@given(st.dictionaries(chart_tags, st.dictionaries(chart_tags, charts, min_size=1, max_size=3), min_size=1, max_size=3))
def test_add_custom_scalars(layout):
    # one call: several calls merge in tbcore, where torch keeps the last one (docs/types/custom_scalars.md)
    from tensorboard.plugins.custom_scalar import layout_pb2

    with both(lambda w: w.add_custom_scalars(layout)) as runs:
        (_, theirs), (_, ours) = only(runs.theirs, "custom_scalars"), only(runs.ours, "custom_scalars")
        assert layout_pb2.Layout.FromString(ours.item()) == layout_pb2.Layout.FromString(theirs.item())
