"""Drop-in: every public method of torch's SummaryWriter exists here with the same parameters and defaults."""

from __future__ import annotations

import inspect

import pytest

from tbcore import SummaryWriter

torch_tensorboard = pytest.importorskip("torch.utils.tensorboard")
TORCH_METHODS = {
    name: function
    for name, function in inspect.getmembers(torch_tensorboard.SummaryWriter, inspect.isfunction)
    if not name.startswith("_") or name == "__init__"
}


def _parameters(function):
    return [(p.name, p.default, p.kind) for p in inspect.signature(function).parameters.values()]


@pytest.mark.parametrize("name", sorted(TORCH_METHODS))
def test_same_parameters_and_defaults_as_torch(name):
    assert hasattr(SummaryWriter, name), f"SummaryWriter.{name} is missing"
    theirs, ours = _parameters(TORCH_METHODS[name]), _parameters(getattr(SummaryWriter, name))
    assert ours[: len(theirs)] == theirs
    for extra_name, default, kind in ours[len(theirs) :]:  # tbcore's additions never change a torch call
        assert default is not inspect.Parameter.empty or kind is inspect.Parameter.VAR_KEYWORD, extra_name
