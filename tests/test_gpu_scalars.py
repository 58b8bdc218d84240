"""CUDA values: never waited for on the calling thread, written as they were at the call (run where CUDA is)."""

from __future__ import annotations

import numpy as np
import pytest

from tb_helpers import scalar_points
from tbcore import SummaryWriter
from tbcore.testing import read_events, tensorboard_accumulator

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
    assert scalar_points(logdir, "loss") == [(step, float(step)) for step in range(20)]


def _fill_pinned_pool(writer, count=32):
    """Log ``count`` CUDA values while the GPU is busy, then wait: torch's pinned-memory cache then holds
    ``count`` free blocks, as it does in a training loop after its first steps (growing it calls
    cudaHostAlloc, which may wait for the device; that is a first-steps cost, not a per-step one)."""
    torch.cuda._sleep(200_000_000)
    for step in range(count):
        writer.add_scalar("warm-up", torch.zeros((), device="cuda"), step)
    writer.flush()
    torch.cuda.synchronize()


def test_add_scalar_returns_while_the_gpu_is_still_busy(logdir):
    """The stream is still running queued work when add_scalar returns: the caller never waited for it."""
    with SummaryWriter(logdir) as writer:
        writer.add_scalar("loss", torch.zeros((), device="cuda"), 0)
        writer.add_scalars("group", {"a": torch.zeros((), device="cuda")}, 0)  # "a" is a known key at step 1
        _fill_pinned_pool(writer)
        torch.cuda._sleep(2_000_000_000)  # about a second of GPU clock cycles on the current stream
        loss = torch.full((), 3.0, device="cuda")
        writer.add_scalar("loss", loss, 1)
        writer.add_scalars("group", {"a": loss * 2}, 1)
        still_busy = not torch.cuda.current_stream().query()
    assert still_busy
    assert scalar_points(logdir, "loss") == [(0, 0.0), (1, 3.0)]
    assert scalar_points(logdir / "group_a", "group") == [(0, 0.0), (1, 6.0)]


def test_new_style_new_add_scalars_keys_and_same_run_return_while_the_gpu_is_still_busy(logdir):
    """The first new_style call of a tag, a new add_scalars key and same_run only queue the value too."""
    with SummaryWriter(logdir) as writer:
        _fill_pinned_pool(writer)
        torch.cuda._sleep(2_000_000_000)  # about a second of GPU clock cycles on the current stream
        loss = torch.full((), 3.0, device="cuda")
        writer.add_scalar("new", loss, 1, new_style=True)
        writer.add_scalar("double", loss, 1, double_precision=True)
        writer.add_scalars("group", {"a": loss * 2}, 1)  # new main tag and key
        writer.add_scalars("group", {"a": loss, "b": loss * 3}, 2)  # a known key and a new one
        writer.add_scalar("new", loss + 1, 2, new_style=True)  # a tag seen before
        writer.add_scalars("same", {"c": loss, "d": loss * 5}, 1, same_run=True)  # one event of both keys
        loss.add_(1000)  # changed in place after the calls: must not be what is logged
        still_busy = not torch.cuda.current_stream().query()
    assert still_busy
    assert scalar_points(logdir, "new") == [(1, 3.0), (2, 4.0)]
    assert scalar_points(logdir, "double") == [(1, 3.0)]
    assert scalar_points(logdir / "group_a", "group") == [(1, 6.0), (2, 3.0)]
    assert scalar_points(logdir / "group_b", "group") == [(2, 9.0)]
    assert scalar_points(logdir, "same/c") == [(1, 3.0)]
    assert scalar_points(logdir, "same/d") == [(1, 15.0)]


def test_bfloat16_and_add_scalars_cuda_values(logdir):
    with SummaryWriter(logdir) as writer:
        writer.add_scalar("x", torch.tensor(0.3, dtype=torch.bfloat16, device="cuda"), 0)
        for step in range(3):
            values = {"a": torch.tensor(float(step), device="cuda"), "b": torch.tensor([step * 2.0], device="cuda")}
            writer.add_scalars("m", values, step)
    assert scalar_points(logdir, "x") == [(0, pytest.approx(0.30078125))]
    assert scalar_points(logdir / "m_a", "m") == [(0, 0.0), (1, 1.0), (2, 2.0)]
    assert scalar_points(logdir / "m_b", "m") == [(0, 0.0), (1, 2.0), (2, 4.0)]


def _summaries(logdir, device):
    """Write every array-taking summary from tensors on ``device``; return the serialized summaries."""
    generator = torch.Generator().manual_seed(0)
    image = torch.rand(3, 16, 16, generator=generator)
    values = torch.randn(1000, generator=generator)
    labels = torch.rand(100, generator=generator) > 0.5
    vertices = torch.rand(1, 8, 3, generator=generator)
    with SummaryWriter(logdir) as writer:
        writer.add_image("image", image.to(device), 0, walltime=0.0)
        writer.add_images("images", image.expand(4, 3, 16, 16).to(device), 0, walltime=0.0)
        writer.add_histogram("histogram", values.to(device), 0, walltime=0.0)
        writer.add_pr_curve("pr", labels.to(device), values[:100].sigmoid().to(device), 0, walltime=0.0)
        writer.add_mesh("mesh", vertices.to(device), global_step=0, walltime=0.0)
        writer.add_audio("audio", values.clamp(-1, 1).to(device), 0, walltime=0.0)
        writer.add_scalar("bf16", values[0].to(torch.bfloat16).to(device), 0, walltime=0.0)
    return [e.summary.SerializeToString() for e in read_events(logdir) if e.summary.value]


def test_cuda_arrays_give_the_same_summaries_as_cpu(tmp_path):
    cuda = _summaries(tmp_path / "cuda", "cuda")
    assert len(cuda) == 7  # image, images, histogram, pr curve, mesh vertices, audio, scalar
    assert cuda == _summaries(tmp_path / "cpu", "cpu")


def test_graph_of_a_cuda_model_matches_the_cpu_graph(tmp_path):
    def graph(device, logdir):
        torch.manual_seed(0)
        model = torch.nn.Sequential(torch.nn.Linear(8, 16), torch.nn.ReLU(), torch.nn.Linear(16, 2)).to(device)
        with SummaryWriter(logdir) as writer:
            writer.add_graph(model, torch.randn(4, 8, device=device))
        nodes = tensorboard_accumulator(logdir).Graph().node
        return [(n.name, n.op, [[d.size for d in s.dim] for s in n.attr["_output_shapes"].list.shape]) for n in nodes]

    cuda = graph("cuda", tmp_path / "cuda")
    assert any(op.startswith("aten::") for _, op, _ in cuda)
    assert cuda == graph("cpu", tmp_path / "cpu")


def test_many_steps_keep_every_value_in_order(logdir):
    """A training-like loop: 2000 steps of a CUDA loss, every value written exactly, in order."""
    weights = torch.randn(256, 256, device="cuda")
    expected = []
    with SummaryWriter(logdir) as writer:
        for step in range(2000):
            loss = (weights @ weights).mean()
            writer.add_scalar("loss", loss, step)
            expected.append(float(np.float32(loss.item())))  # read after the call (this waits; the writer did not)
            weights.mul_(0.999)
    assert scalar_points(logdir, "loss") == list(enumerate(expected))
