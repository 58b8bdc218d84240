"""The harness of the differential tests against torch.utils.tensorboard (tests/test_differential_torch*.py).

``both(call)`` makes the same call with torch's and tbcore's SummaryWriter into two runs;
``tensors``/``only`` read them back with TensorBoard's own loader, decoded by its
``make_ndarray``; the strategies draw inputs across the dtypes, shapes and value ranges users
pass. The test modules import torch (``pytest.importorskip``) before this module.
"""

from __future__ import annotations

import contextlib
import io
import os
import pathlib
import tempfile
from collections.abc import Callable, Iterator
from typing import Any, NamedTuple

import numpy as np
import torch
from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp
from PIL import Image
from tensorboard.util import tensor_util
from torch.utils.tensorboard import SummaryWriter as TorchWriter

from media_helpers import pixels
from tbcore import SummaryWriter
from tbcore.testing import tensorboard_accumulator

#: ``TBCORE_DIFF_SCALE=20 TBCORE_DIFF_RANDOM=1 pytest tests/test_differential_torch*.py`` explores
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
    return pixels(Image.open(io.BytesIO(blob)))


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


#: torch converts bfloat16 tensors to float16 (``_prepare_pytorch``), which overflows above 65504 and
#: rounds small values; tbcore keeps them exactly (float32). Only bfloat16 values float16 holds compare.
def bf16_fits_f16(value: Any) -> bool:
    """Whether a bfloat16 tensor's values survive torch's detour through float16 unchanged."""
    return bool(torch.equal(value.to(torch.float16).to(torch.float32), value.to(torch.float32)))
