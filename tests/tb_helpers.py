"""Reading what a test wrote back through TensorBoard's own loader, shared by many test files."""

from __future__ import annotations

import os

from tensorboard.util import tensor_util

from tbcore.testing import tensorboard_accumulator


def all_scalar_points(run_dir: str | os.PathLike[str]) -> dict[str, list[tuple[int, float]]]:
    """Return ``{tag: [(step, value), ...]}`` of one run as TensorBoard's own loader reads it (loaded once).

    Values are decoded by TensorBoard's ``make_ndarray``, so float and double encodings both read back.
    """
    acc = tensorboard_accumulator(run_dir)
    return {
        tag: [(p.step, float(tensor_util.make_ndarray(p.tensor_proto))) for p in acc.Tensors(tag)]
        for tag in acc.Tags().get("tensors", [])
        if acc.SummaryMetadata(tag).plugin_data.plugin_name == "scalars"
    }


def scalar_points(run_dir: str | os.PathLike[str], tag: str) -> list[tuple[int, float]]:
    """Return ``(step, value)`` of ``tag`` in one run as TensorBoard's own loader reads it."""
    return all_scalar_points(run_dir).get(tag, [])
