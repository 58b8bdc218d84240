"""Differential property tests: the same calls through torch's and tbcore's SummaryWriter, judged by TensorBoard.

Each property draws inputs across what users pass (dtypes, shapes, layouts, value ranges,
numpy arrays, torch tensors and Python numbers), writes them with
``torch.utils.tensorboard.SummaryWriter`` into one run and with ``tbcore.SummaryWriter`` into
another, and compares what TensorBoard's own loader reads back, decoded with TensorBoard's
``make_ndarray`` and the plugins' parsers. Where the two legitimately differ (the deliberate
differences of docs/guide/migration.md and docs/types/*.md, and torch's bugs), the property
says so next to the exclusion or the tolerance.
"""

from __future__ import annotations

import contextlib
import io
import os
import pathlib
import re
import tempfile
from collections.abc import Callable, Iterator
from typing import Any, NamedTuple

import numpy as np
import pytest
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

torch = pytest.importorskip("torch")
TorchWriter = pytest.importorskip("torch.utils.tensorboard").SummaryWriter

from PIL import Image  # noqa: E402
from tensorboard.util import tensor_util  # noqa: E402

from tbcore import SummaryWriter  # noqa: E402
from tbcore.testing import tensorboard_accumulator  # noqa: E402

#: ``TBCORE_DIFF_SCALE=20 TBCORE_DIFF_RANDOM=1 pytest tests/test_differential_torch.py`` explores
#: further (20x the examples, new ones on each run) than the fixed examples CI runs.
SCALE = int(os.environ.get("TBCORE_DIFF_SCALE", "1"))
RANDOM = os.environ.get("TBCORE_DIFF_RANDOM") == "1"


def diff(max_examples: int) -> settings:
    """Reproducible in CI: the same examples on every run, no example database."""
    return settings(
        deadline=None,
        derandomize=not RANDOM,
        database=None,
        max_examples=max_examples * SCALE,
        suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
    )


FLOAT_DTYPES = [np.float16, np.float32, np.float64]
INT_DTYPES = [np.int8, np.int16, np.int32, np.int64, np.uint8]


# ---------------------------------------------------------------- writing and reading both runs


class Runs(NamedTuple):
    """The two runs one call wrote, and what each writer raised (None: it accepted the input)."""

    theirs: pathlib.Path
    ours: pathlib.Path
    torch_error: Exception | None
    our_error: Exception | None


def _call(writer: Any, call: Callable[[Any], object]) -> Exception | None:
    with writer:
        try:
            call(writer)
        except Exception as error:  # noqa: BLE001 - the property decides what each side may raise
            return error
    return None


@contextlib.contextmanager
def both(call: Callable[[Any], object], *, may_fail: bool = False) -> Iterator[Runs]:
    """Run ``call(writer)`` with torch's writer and with tbcore's, each in its own run.

    Unless ``may_fail`` (then the property checks ``Runs.torch_error`` and ``Runs.our_error``),
    an error of either call is re-raised.
    """
    with tempfile.TemporaryDirectory() as tmp:
        theirs, ours = pathlib.Path(tmp, "torch"), pathlib.Path(tmp, "ours")
        torch_error = _call(TorchWriter(str(theirs)), call)
        our_error = _call(SummaryWriter(ours), call)
        if not may_fail and (torch_error or our_error):
            raise torch_error or our_error
        yield Runs(theirs, ours, torch_error, our_error)


def tensors(run_dir: pathlib.Path) -> dict[str, tuple[str, list[tuple[int, np.ndarray]]]]:
    """Return ``{tag: (plugin_name, [(step, array), ...])}`` as TensorBoard's Python loader reads the run."""
    acc = tensorboard_accumulator(run_dir)
    return {
        tag: (
            acc.SummaryMetadata(tag).plugin_data.plugin_name,
            [(event.step, tensor_util.make_ndarray(event.tensor_proto)) for event in acc.Tensors(tag)],
        )
        for tag in acc.Tags().get("tensors", [])
    }


def only(run_dir: pathlib.Path, plugin: str) -> tuple[str, np.ndarray]:
    """Return the one (tag, array) of ``plugin`` in the run; it must hold exactly one tag with one point."""
    found = [(tag, points) for tag, (name, points) in tensors(run_dir).items() if name == plugin]
    assert len(found) == 1, found
    tag, points = found[0]
    assert [step for step, _ in points] == [0]
    return tag, points[0][1]


def as_input(array: np.ndarray, kind: str, writer: Any = None) -> Any:
    """Return ``array`` as the user passes it to ``writer``: a numpy array, a torch tensor, or a (nested) list.

    torch takes no lists, so for ``kind="list"`` only tbcore gets the list and torch the array:
    the property then checks that tbcore reads a list as the array it holds.
    """
    if kind == "torch":
        return torch.from_numpy(np.ascontiguousarray(array))
    if kind == "bf16":
        with np.errstate(over="ignore"):  # float64 beyond float32: inf, as bfloat16 would make it
            return torch.from_numpy(array.astype(np.float32)).to(torch.bfloat16)
    if kind == "list" and isinstance(writer, SummaryWriter):
        return array.tolist()
    return array


def png_pixels(blob: bytes) -> np.ndarray:
    """Decode a PNG into (H, W, C) uint8."""
    array = np.asarray(Image.open(io.BytesIO(blob)))
    return array[:, :, np.newaxis] if array.ndim == 2 else array


# ---------------------------------------------------------------- strategies


def finite(
    dtype: Any, low: float | None = None, high: float | None = None, *, special: bool = False
) -> st.SearchStrategy[float]:
    """Finite values of a float dtype, optionally within [low, high]; with ``special``, NaN and ±inf too."""
    width = {np.float16: 16, np.float32: 32, np.float64: 64}[dtype]
    return st.floats(low, high, allow_nan=special, allow_infinity=special, width=width)


@st.composite
def real_arrays(
    draw: st.DrawFn,
    dtypes: list[Any],
    shape: Any,
    low: float | None = None,
    high: float | None = None,
    *,
    special: bool = False,
) -> np.ndarray:
    """Arrays of one of ``dtypes`` (floats finite unless ``special``, within [low, high] when given),
    sometimes all one value."""
    dtype = draw(st.sampled_from(dtypes))
    if np.issubdtype(dtype, np.floating):
        elements = finite(dtype, low, high, special=special)
    elif dtype is np.bool_:
        elements = st.booleans()
    else:
        info = np.iinfo(dtype)
        elements = st.integers(
            int(info.min if low is None else max(low, info.min)), int(info.max if high is None else min(high, info.max))
        )
    if draw(st.booleans()):  # constant arrays (all-equal, single values) are where edge cases hide
        return np.full(draw(shape) if isinstance(shape, st.SearchStrategy) else shape, draw(elements), dtype)
    return draw(hnp.arrays(dtype, shape, elements=elements))


input_kinds = st.sampled_from(["numpy", "torch", "list"])


# ---------------------------------------------------------------- add_scalar, add_scalars


#: torch converts bfloat16 tensors to float16 (``_prepare_pytorch``), which overflows above 65504 and
#: rounds small values; tbcore keeps them exactly (float32). Only bfloat16 values float16 holds compare.
def bf16_fits_f16(value: Any) -> bool:
    """Whether a bfloat16 tensor's values survive torch's detour through float16 unchanged."""
    return bool(torch.equal(value.to(torch.float16).to(torch.float32), value.to(torch.float32)))


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
        if runs.torch_error is not None:
            histogram_torch_failed(runs, bins)
            return
        assert runs.our_error is None, runs.our_error
        (_, expected), (_, got) = only(runs.theirs, "histograms"), only(runs.ours, "histograms")
        np.testing.assert_array_equal(got, expected)  # [left, right, count] rows: same edges, same counts


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
        if runs.torch_error is not None:
            histogram_torch_failed(runs, bins)
            return
        assert runs.our_error is None, runs.our_error
        (_, expected), (_, got) = only(runs.theirs, "histograms"), only(runs.ours, "histograms")
        np.testing.assert_array_equal(got, expected)


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


# ---------------------------------------------------------------- add_image, add_images

PIXEL_DTYPES = [np.uint8, np.bool_, *FLOAT_DTYPES]  # other ints: a deliberate difference (docs/types/image.md)


@st.composite
def images(draw: st.DrawFn, batch: bool) -> tuple[np.ndarray, str]:
    """An image (or a batch) in a random layout, with its ``dataformats``: uint8, bool, or floats around [0, 1]."""
    letters = "NCHW" if batch else draw(st.sampled_from(["CHW", "HW"]))
    layout = "".join(draw(st.permutations(letters)))
    sizes = {"N": draw(st.integers(1, 11)), "C": draw(st.sampled_from([1, 3, 4] if batch else [1, 2, 3, 4]))}
    sizes |= {"H": draw(st.integers(1, 9)), "W": draw(st.integers(1, 9))}
    shape = tuple(sizes[letter] for letter in layout)
    low, high = draw(st.sampled_from([(0, 1), (-0.5, 1.5), (None, None)]))  # out of [0, 1]: clipped by both
    # ±inf too (255 and 0 in both); NaN: a deliberate difference (tbcore refuses it; migration.md)
    array = draw(real_arrays(PIXEL_DTYPES, shape, low, high, special=low is None))
    assume(not np.isnan(array).any())
    if array.dtype == np.uint8:
        array = draw(real_arrays([np.uint8], shape))
    return array, draw(st.sampled_from([layout, layout.lower()]))


def image_blob(run_dir: pathlib.Path) -> tuple[int, int, np.ndarray]:
    """Return (width, height, pixels) of the run's one image as TensorBoard's loader holds it."""
    _, blob = only(run_dir, "images")
    width, height, png = blob.tolist()
    return int(width), int(height), png_pixels(png)


def torch_pixels(array: np.ndarray, layout: str) -> tuple[np.ndarray, np.ndarray]:
    """Return torch's scaled values ``s`` (float32, before its uint8 truncation) in (H, W, C), and their fraction."""
    from torch.utils.tensorboard._utils import convert_to_HWC

    hwc = convert_to_HWC(array, layout)
    scale = np.float32(1 if hwc.dtype == np.uint8 else 255)
    scaled = np.clip(hwc.astype(np.float32) * scale, 0, 255)
    return scaled, scaled - np.floor(scaled)


def check_same_image(runs: Runs, array: np.ndarray, layout: str) -> None:
    """The two images have one size, and tbcore's pixels are torch's, rounded where torch truncates."""
    width, height, theirs = image_blob(runs.theirs)
    assert image_blob(runs.ours)[:2] == (width, height) == theirs.shape[1::-1]
    ours = np.broadcast_to(image_blob(runs.ours)[2], theirs.shape)  # grey: one channel here, RGB in torch's
    scaled, fraction = torch_pixels(array, layout)
    np.testing.assert_array_equal(theirs, scaled.astype(np.uint8))  # what torch does, understood
    # floats: torch truncates s = x * 255, tbcore rounds it (docs/types/image.md), so exactly the
    # pixels whose fraction is >= 0.5 are one higher; uint8 and bool pixels are identical
    np.testing.assert_array_equal(ours.astype(int), theirs + (fraction >= 0.5))


@diff(150)
@given(images(batch=False), input_kinds)
def test_add_image(image, kind):
    array, layout = image
    channels = array.shape[layout.upper().index("C")] if "C" in layout.upper() else 1
    call = lambda w: w.add_image("i", as_input(array, kind, w), 0, dataformats=layout)  # noqa: E731
    with both(call, may_fail=channels == 2) as runs:
        if channels == 2:
            # torch writes grey+alpha (PIL's LA); tbcore takes 1, 3 or 4 channels (docs/types/image.md)
            assert runs.torch_error is None and isinstance(runs.our_error, ValueError)
            assert "expected 1, 3 or 4 channels" in str(runs.our_error)
            return
        check_same_image(runs, array, layout)


@diff(150)
@given(images(batch=True), input_kinds)
def test_add_images(image, kind):
    array, layout = image
    channels = array.shape[layout.upper().index("C")]
    call = lambda w: w.add_images("i", as_input(array, kind, w), 0, dataformats=layout)  # noqa: E731
    with both(call, may_fail=channels == 4) as runs:
        if channels == 4:
            # torch's make_grid takes 1 or 3 channels (AssertionError); tbcore tiles RGBA (docs/types/image.md)
            assert isinstance(runs.torch_error, AssertionError) and runs.our_error is None
            assert image_blob(runs.ours)[2].shape[2] == 4
            return
        check_same_image(runs, array, layout)


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


# ---------------------------------------------------------------- add_audio


def wav_samples(run_dir: pathlib.Path) -> tuple[np.ndarray, int]:
    """Return the run's one clip (samples (L, C) int16, sample rate) as TensorBoard's loader holds it."""
    import wave

    _, clip = only(run_dir, "audio")
    with wave.open(io.BytesIO(clip.reshape(-1)[0])) as file:
        assert file.getsampwidth() == 2
        data = np.frombuffer(file.readframes(file.getnframes()), "<i2")
        return data.reshape(-1, file.getnchannels()), file.getframerate()


@diff(150)
@given(
    real_arrays(
        FLOAT_DTYPES,
        st.sampled_from([(2,), (1, 2), (2, 1), (1, 1, 2)]).flatmap(
            lambda axes: st.integers(1, 400).map(lambda n: tuple(n if a == 2 else 1 for a in axes))
        ),
        -1.5,
        1.5,
    ),
    st.integers(1, 96_000),
    input_kinds,
)
def test_add_audio(array, sample_rate, kind):
    # int16 input: a deliberate difference (torch clips it to [-1, 1] and scales; docs/types/audio.md)
    call = lambda w: w.add_audio("a", as_input(array, kind, w), 0, sample_rate=sample_rate)  # noqa: E731
    with both(call, may_fail=array.size == 1) as runs:
        ours, our_rate = wav_samples(runs.ours)
        assert our_rate == sample_rate and ours.shape == (array.size, 1)
        exact = np.clip(array.reshape(-1, 1).astype(np.float64), -1, 1) * 32767
        # tbcore rounds x * 32767 (computed in float32: within 0.5 of the exact product, plus float32's
        # rounding of it)
        assert np.abs(ours - exact).max() <= 0.5 + 32767 * 2**-24
        if array.size == 1:
            # torch squeezes one sample to 0-d and raises "input tensor should be 1 dimensional"
            assert isinstance(runs.torch_error, AssertionError)
            return
        theirs, their_rate = wav_samples(runs.theirs)
        assert their_rate == sample_rate and theirs.shape == ours.shape
        if array.dtype != np.float16:  # torch truncates x * 32767 towards zero: at most one step away
            assert np.abs(ours.astype(int) - theirs).max() <= 1
        # float16: torch multiplies in float16, which rounds to steps of up to 16 and makes 1.0 (32768 in
        # float16) wrap around to -32768 in int16 (docs/types/audio.md); tbcore's samples are checked above


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
    # a discrete domain for each str hparam, listing its value and one more (numbers: torch's too)
    domains = {k: [v, v + "x"] for k, v in hparams.items() if isinstance(v, str)} if discrete else None
    with both(lambda w: w.add_hparams(hparams, metrics, domains, run_name="trial", global_step=step)) as runs:
        assert hparams_content(runs.ours / "trial") == hparams_content(runs.theirs / "trial")


# ---------------------------------------------------------------- add_mesh


@st.composite
def meshes(draw: st.DrawFn) -> tuple[np.ndarray, np.ndarray | None, np.ndarray | None, dict[str, Any] | None]:
    """(B, N, 3) vertices, optional uint8-range colors and in-range faces, optional config."""
    batch, count = draw(st.integers(1, 3)), draw(st.integers(1, 20))
    vertices = draw(real_arrays([np.float32, np.float64], (batch, count, 3), -1e6, 1e6))
    colors = draw(st.none() | real_arrays([np.uint8, np.int64, np.float32], (batch, count, 3), 0, 255))
    faces = draw(
        st.none() | hnp.arrays(np.int64, (batch, draw(st.integers(1, 10)), 3), elements=st.integers(0, count - 1))
    )
    config = draw(st.none() | st.just({"camera": {"cls": "PerspectiveCamera", "fov": 75}, "material": {"size": 2}}))
    return vertices, colors, faces, config


def mesh_content(run_dir: pathlib.Path) -> dict[str, Any]:
    """Return ``{tag: (metadata as dict, values as float64)}`` of the run's mesh tags, read by TensorBoard."""
    from google.protobuf.json_format import MessageToDict
    from tensorboard.plugins.mesh import metadata

    acc = tensorboard_accumulator(run_dir)
    return {
        tag: (MessageToDict(metadata.parse_plugin_metadata(acc.SummaryMetadata(tag).plugin_data.content)), values)
        for tag, (name, [(_, values)]) in tensors(run_dir).items()
        if name == "mesh"
    }


@diff(60)
@given(meshes(), input_kinds)
def test_add_mesh(mesh, kind):
    vertices, colors, faces, config = mesh

    def call(w: Any) -> None:
        colors_, faces_ = (None if a is None else as_input(a, kind, w) for a in (colors, faces))
        w.add_mesh("m", as_input(vertices, kind, w), colors=colors_, faces=faces_, config_dict=config, global_step=0)

    with both(call) as runs:
        theirs, ours = mesh_content(runs.theirs), mesh_content(runs.ours)
        assert sorted(ours) == sorted(theirs)
        for tag, (meta, values) in theirs.items():
            assert ours[tag][0] == meta
            # torch stores float32 for all three parts, tbcore float32/int32/uint8 (docs/types/mesh.md);
            # fractional float colors are rounded by tbcore, where the mesh plugin truncates torch's
            expected = np.rint(values) if tag.endswith("_COLOR") else values
            np.testing.assert_array_equal(ours[tag][1].astype(np.float32), expected)


# ---------------------------------------------------------------- add_embedding

labels = st.one_of(
    # tabs and line breaks: tbcore writes spaces, torch breaks the TSV (docs/types/embedding.md)
    st.text(st.characters(codec="utf-8", exclude_characters="\t\n\r"), max_size=6),
    st.integers(-1000, 1000),
    finite(np.float64),
)


@st.composite
def embeddings(draw: st.DrawFn) -> dict[str, Any]:
    """add_embedding arguments: (N, D) points, optional labels (one column or rows with a header), thumbnails."""
    count = draw(st.integers(1, 12))
    arguments: dict[str, Any] = {
        "mat": draw(
            real_arrays([np.float16, np.float32, np.float64, np.int64, np.uint8], (count, draw(st.integers(1, 5))))
        )
    }
    columns = draw(st.sampled_from([0, 1, 2, 3]))
    if columns == 1:
        arguments["metadata"] = draw(st.lists(labels, min_size=count, max_size=count))
    elif columns:
        arguments["metadata"] = draw(
            st.lists(st.lists(labels, min_size=columns, max_size=columns), min_size=count, max_size=count)
        )
        arguments["metadata_header"] = [f"col{i}" for i in range(columns)]
    if draw(st.booleans()):
        # square float thumbnails: torch's sprite canvas is square, and it multiplies uint8 by 255
        # too (both deliberate differences, docs/types/embedding.md)
        side = draw(st.integers(1, 6))
        thumbnails = draw(real_arrays([np.float32], (count, draw(st.sampled_from([1, 3])), side, side), 0, 1))
        arguments["label_img"] = torch.from_numpy(thumbnails)
    arguments["global_step"] = draw(st.none() | st.integers(0, 99_999))
    arguments["tag"] = draw(st.sampled_from(["default", "features", "a b", "x%y"]))
    return arguments


def projector_content(run_dir: pathlib.Path) -> list[dict[str, Any]]:
    """Return each embedding in the run's projector config with its files' content, as the projector reads them."""
    from google.protobuf import text_format
    from tensorboard.plugins.projector import projector_config_pb2, projector_plugin

    config = text_format.Parse((run_dir / "projector_config.pbtxt").read_text(), projector_config_pb2.ProjectorConfig())
    found = []
    for info in config.embeddings:
        info.ClearField("tensor_shape")  # tbcore records it, torch leaves it to the projector
        files = {"tensor": projector_plugin._read_tensor_tsv_file(str(run_dir / info.tensor_path))}
        if info.metadata_path:
            files["metadata"] = (run_dir / info.metadata_path).read_bytes()
        if info.sprite.image_path:
            files["sprite"] = png_pixels((run_dir / info.sprite.image_path).read_bytes())
        found.append({"info": text_format.MessageToString(info), **files})
    return found


@diff(80)
@given(embeddings())
def test_add_embedding(arguments):
    with both(lambda w: w.add_embedding(**arguments)) as runs:
        [theirs], [ours] = projector_content(runs.theirs), projector_content(runs.ours)
        assert ours["info"] == theirs["info"]
        np.testing.assert_array_equal(ours["tensor"], theirs["tensor"])  # float32 both: the projector's type
        assert ours.get("metadata") == theirs.get("metadata")
        if "sprite" in theirs:
            np.testing.assert_array_equal(ours["sprite"], theirs["sprite"])


# ---------------------------------------------------------------- add_video


def gif_frames(run_dir: pathlib.Path, frame_ms: int) -> np.ndarray:
    """Return the frames (T, H, W, 3) of the run's one GIF, as TensorBoard's loader holds it.

    Pillow stores identical consecutive frames once, lasting their total time: such a frame is
    repeated once per ``frame_ms`` of its duration, so the result is what the animation shows.
    """
    from PIL import ImageSequence

    _, blob = only(run_dir, "images")
    image = Image.open(io.BytesIO(blob.tolist()[2]))
    frames = [(np.asarray(frame.convert("RGB")), frame.info["duration"]) for frame in ImageSequence.Iterator(image)]
    assert all(duration % frame_ms == 0 for _, duration in frames)
    return np.stack([frame for frame, duration in frames for _ in range(duration // frame_ms)])


@diff(30)
@given(
    st.tuples(
        st.integers(1, 5), st.integers(1, 3), st.sampled_from([1, 3]), st.integers(1, 4), st.integers(1, 4)
    ).flatmap(lambda shape: real_arrays([np.uint8], shape)),
    input_kinds,
)
def test_add_video(array, kind):
    from torch.utils.tensorboard._utils import _prepare_video

    with both(lambda w: w.add_video("v", as_input(array, kind, w), 0, fps=4)) as runs:
        # torch 2.13 + moviepy 2 writes a value holding only the tag, which TensorBoard ignores
        # (docs/types/video.md): its run has no image. The frames torch would have encoded are
        # those of its _prepare_video and uint8 scaling, which tbcore's GIF holds (at most 256
        # colours per frame here, so the palette is exact).
        assert [name for name, _ in tensors(runs.theirs).values()] == []
        expected = np.clip(_prepare_video(array).astype(np.float32) * 255, 0, 255).astype(np.uint8)
        frames = gif_frames(runs.ours, 250)
        expected = np.broadcast_to(expected, (*expected.shape[:3], 3))  # grey: RGB in the GIF
        assert frames.shape == expected.shape
        # torch divides uint8 by 255 and multiplies back, which can lose 1; tbcore keeps uint8 as is
        assert set(np.unique(frames.astype(int) - expected)) <= {0, 1}


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
