"""Shared fixtures: a fresh log directory, TensorBoard readers and a plugin manager reset."""

from __future__ import annotations

import pathlib

import pytest

from tbcore import plugins


@pytest.fixture
def logdir(tmp_path: pathlib.Path) -> pathlib.Path:
    """A fresh, empty log directory."""
    path = tmp_path / "logs"
    path.mkdir()
    return path


@pytest.fixture
def fresh_plugins():
    """Reload plugins before and after the test, so registrations made in it do not leak."""
    plugins.reset()
    yield plugins
    plugins.reset()


def _snapshot(root: pathlib.Path) -> dict[str, bytes]:
    return {str(p.relative_to(root)): p.read_bytes() for p in sorted(root.rglob("*")) if p.is_file()}


_LANDED = "after_rejected_call"  # the tag of the add that ``rejects`` makes after the rejected call


def _landed(accumulator) -> list[float]:
    """The values of ``_LANDED`` that TensorBoard's Python loader reads in the run (new events loaded first)."""
    accumulator.Reload()
    if _LANDED not in accumulator.Tags()["tensors"]:
        return []
    return [float(event.tensor_proto.float_val[0]) for event in accumulator.Tensors(_LANDED)]


@pytest.fixture
def rejects(logdir):
    """``rejects(writer, call, error, match)``: ``call()`` raises, writes nothing, and the writer still works after.

    That a later add lands is judged by TensorBoard's own reader (the Python loader).
    """
    from tbcore.testing import tensorboard_accumulator

    def check(writer, call, error, match):
        writer.flush()
        before = _snapshot(logdir)
        accumulator = tensorboard_accumulator(logdir)  # one loader for the whole check: it reads only new events
        landed = _landed(accumulator)
        with pytest.raises(error, match=match):
            call()
        writer.flush()
        assert _snapshot(logdir) == before
        writer.add_scalar(_LANDED, 0.5, 0)
        writer.flush()
        assert _landed(accumulator) == [*landed, 0.5]

    return check
