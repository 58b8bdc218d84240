"""CUDA scalars: the value logged is the value at the call, even if the tensor changes right after."""

from __future__ import annotations

import pytest

from tbcore import SummaryWriter
from tbcore.testing import read_events

torch = pytest.importorskip("torch")
pytestmark = [pytest.mark.gpu, pytest.mark.skipif(not torch.cuda.is_available(), reason="needs CUDA")]


def test_cuda_scalar_keeps_the_value_at_the_call(logdir):
    big = torch.randn(4096, 4096, device="cuda")
    with SummaryWriter(logdir) as writer:
        for step in range(20):
            busy = big @ big  # queue work before the copy so that it is still pending when add_scalar returns
            loss = busy[0, 0] * 0 + step
            writer.add_scalar("loss", loss, step)
            loss.add_(1000)  # changed in place after the call: must not be what is logged
            big.mul_(1.0)
    values = [(e.step, e.summary.value[0].simple_value) for e in read_events(logdir) if e.summary.value]
    assert values == [(step, float(step)) for step in range(20)]


def test_bfloat16_cuda_scalar(logdir):
    with SummaryWriter(logdir) as writer:
        writer.add_scalar("x", torch.tensor(0.3, dtype=torch.bfloat16, device="cuda"), 0)
    [event] = [e for e in read_events(logdir) if e.summary.value]
    assert event.summary.value[0].simple_value == pytest.approx(0.30078125)
