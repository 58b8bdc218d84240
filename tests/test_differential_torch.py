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
import pathlib
import tempfile
from collections.abc import Callable, Iterator
from typing import Any

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

#: Reproducible in CI: the same examples on every run, no example database.
DIFF = settings(
    deadline=None,
    derandomize=True,
    database=None,
    max_examples=25,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)

FLOAT_DTYPES = [np.float16, np.float32, np.float64]
INT_DTYPES = [np.int8, np.int16, np.int32, np.int64, np.uint8]


# ---------------------------------------------------------------- writing and reading both runs


@contextlib.contextmanager
def both(call: Callable[[Any], object]) -> Iterator[tuple[pathlib.Path, pathlib.Path]]:
    """Run ``call(writer)`` with torch's writer and with tbcore's, each in its own run; yield both run dirs."""
    with tempfile.TemporaryDirectory() as tmp:
        theirs, ours = pathlib.Path(tmp, "torch"), pathlib.Path(tmp, "ours")
        with TorchWriter(str(theirs)) as writer:
            call(writer)
        with SummaryWriter(ours) as writer:
            call(writer)
        yield theirs, ours


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


def as_input(array: np.ndarray, kind: str) -> Any:
    """Return ``array`` as the user passes it: a numpy array, a torch tensor or a (nested) list."""
    if kind == "torch":
        return torch.from_numpy(np.ascontiguousarray(array))
    if kind == "list":
        return array.tolist()
    return array


def png_pixels(blob: bytes) -> np.ndarray:
    """Decode a PNG into (H, W, C) uint8."""
    array = np.asarray(Image.open(io.BytesIO(blob)))
    return array[:, :, np.newaxis] if array.ndim == 2 else array


# ---------------------------------------------------------------- strategies


def finite(dtype: Any, low: float | None = None, high: float | None = None) -> st.SearchStrategy[float]:
    """Finite values of a float dtype, optionally within [low, high]."""
    width = {np.float16: 16, np.float32: 32, np.float64: 64}[dtype]
    return st.floats(low, high, allow_nan=False, allow_infinity=False, width=width)


@st.composite
def real_arrays(
    draw: st.DrawFn, dtypes: list[Any], shape: Any, low: float | None = None, high: float | None = None
) -> np.ndarray:
    """Arrays of one of ``dtypes`` (floats finite, within [low, high] when given), sometimes all one value."""
    dtype = draw(st.sampled_from(dtypes))
    if np.issubdtype(dtype, np.floating):
        elements = finite(dtype, low, high)
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


input_kinds = st.sampled_from(["numpy", "torch"])


# ---------------------------------------------------------------- add_scalar, add_scalars

#: torch converts bfloat16 tensors to float16 (``_prepare_pytorch``), which overflows above 65504 and
#: rounds small values; tbcore keeps them exactly (float32). Only bfloat16 values float16 holds compare.
def bf16_fits_f16(value: Any) -> bool:
    """Whether a bfloat16 tensor's values survive torch's detour through float16 unchanged."""
    return bool(torch.equal(value.to(torch.float16).to(torch.float32), value.to(torch.float32)))


@st.composite
def scalar_values(draw: st.DrawFn) -> Any:
    """One number in each form add_scalar takes: Python, numpy scalar, 0-d / (1,) arrays and tensors."""
    form = draw(st.sampled_from(["float", "int", "bool", "numpy", "array", "tensor", "bf16"]))
    if form == "float":
        return draw(st.floats())
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


@DIFF
@given(scalar_values(), st.booleans())
def test_add_scalar(value, new_style):
    if isinstance(value, torch.Tensor) and value.dtype == torch.bfloat16:
        assume(bf16_fits_f16(value))
    with both(lambda w: w.add_scalar("s", value, 0, new_style=new_style)) as (theirs, ours):
        (_, expected), (_, got) = only(theirs, "scalars"), only(ours, "scalars")
        assert got.dtype == expected.dtype == np.float32
        np.testing.assert_array_equal(got, expected)  # exact: both round the number once to float32


@DIFF
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
    with both(lambda w: w.add_scalars(main_tag, values, 0)) as (theirs, ours):
        runs = sorted(p.name for p in theirs.iterdir() if p.is_dir())
        assert runs == sorted(p.name for p in ours.iterdir() if p.is_dir())
        assert len(runs) == len(values)
        for run in runs:
            (tag, expected), (our_tag, got) = only(theirs / run, "scalars"), only(ours / run, "scalars")
            assert tag == our_tag == main_tag
            np.testing.assert_array_equal(got, expected)
