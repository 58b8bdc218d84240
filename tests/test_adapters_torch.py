"""The torch adapter: CPU tensors of every dtype (bfloat16/float8 losslessly), and CUDA where present."""

from __future__ import annotations

import numpy as np
import pytest

import tbcore
from tb_helpers import scalar_points
from tbcore import SummaryWriter
from tbcore.testing import tensorboard_accumulator

torch = pytest.importorskip("torch")
ml_dtypes = pytest.importorskip("ml_dtypes")

cuda = pytest.mark.skipif(not torch.cuda.is_available(), reason="needs CUDA")


def test_requires_grad_and_parameter():
    tensor = torch.linspace(0, 1, 5, requires_grad=True)
    assert np.array_equal(tbcore.as_numpy(tensor * 2), (tensor * 2).detach().numpy())
    parameter = torch.nn.Parameter(torch.ones(2, 2))
    assert tbcore.as_numpy(parameter).tolist() == [[1.0, 1.0], [1.0, 1.0]]


def test_non_contiguous_and_conjugate_views():
    base = torch.arange(12.0).reshape(3, 4)
    assert np.array_equal(tbcore.as_numpy(base.t()[::2]), base.t()[::2].numpy())
    complex_view = torch.tensor([1 + 2j]).conj()
    assert tbcore.as_numpy(complex_view).tolist() == [1 - 2j]


@pytest.mark.parametrize(
    ("dtype", "numpy_dtype"),
    [
        ("float32", "float32"),
        ("float64", "float64"),
        ("float16", "float16"),
        ("int8", "int8"),
        ("uint8", "uint8"),
        ("int16", "int16"),
        ("int32", "int32"),
        ("int64", "int64"),
        ("bool", "bool"),
    ],
)
def test_plain_dtypes(dtype, numpy_dtype):
    tensor = torch.tensor([0, 1, 1, 0]).to(getattr(torch, dtype))
    array = tbcore.as_numpy(tensor)
    assert array.dtype == np.dtype(numpy_dtype) and array.tolist() == tensor.tolist()


@pytest.mark.parametrize("dtype", ["bfloat16", "float8_e4m3fn", "float8_e5m2", "float8_e4m3fnuz", "float8_e5m2fnuz"])
def test_low_precision_floats_are_bit_exact(dtype):
    tensor = torch.tensor([0.5, -1.75, 3.0, 0.0]).to(getattr(torch, dtype))
    array = tbcore.as_numpy(tensor)
    assert array.dtype == np.dtype(getattr(ml_dtypes, dtype))
    bits = "int16" if dtype == "bfloat16" else "uint8"
    assert array.view(bits).tolist() == tensor.view(getattr(torch, bits)).tolist()


def test_bfloat16_beyond_float16_range_is_kept(logdir):
    big = torch.tensor([1e30, -3e38], dtype=torch.bfloat16)
    array = tbcore.as_numpy(big)
    assert array.astype(np.float32).tolist() == big.float().tolist()
    with SummaryWriter(logdir) as writer:
        writer.add_scalar("big", big[0], 0)
        writer.add_tensor("t", big, 0)
    acc = tensorboard_accumulator(logdir)
    assert acc.Tensors("big")[0].tensor_proto.float_val[0] == pytest.approx(big[0].item(), rel=1e-6)
    stored = tbcore.tensor_to_numpy(acc.Tensors("t")[0].tensor_proto)  # widened to float32 for TensorBoard
    assert stored.astype(ml_dtypes.bfloat16).view("int16").tolist() == big.view(torch.int16).tolist()


def test_scalar_tensor_forms(logdir):
    with SummaryWriter(logdir) as writer:
        writer.add_scalar("a", torch.tensor(1.5, requires_grad=True), 0)
        writer.add_scalar("a", torch.tensor([2.5]), 1)
        writer.add_scalar("a", torch.tensor(3, dtype=torch.int64), 2)
        with pytest.raises(ValueError, match=r"scalar_value: expected a real number.*shape \(2,\)"):
            writer.add_scalar("a", torch.ones(2), 3)
        with pytest.raises(TypeError, match="real-valued"):
            writer.add_scalar("a", torch.tensor(1j), 3)
        with pytest.raises(ValueError, match="'meta' device"):
            writer.add_histogram("h", torch.empty(3, device="meta"), 3)
    assert scalar_points(logdir, "a") == [(0, 1.5), (1, 2.5), (2, 3.0)]
    assert tensorboard_accumulator(logdir).Tags()["tensors"] == ["a"]  # nothing of the rejected calls


@pytest.mark.gpu
@cuda
def test_cuda_tensors(logdir):
    tensor = torch.arange(6.0, device="cuda").reshape(2, 3).t()
    assert np.array_equal(tbcore.as_numpy(tensor), tensor.cpu().numpy())
    assert tbcore.as_numpy(tensor.to(torch.bfloat16)).dtype == np.dtype(ml_dtypes.bfloat16)
    with SummaryWriter(logdir) as writer:
        for step in range(3):
            writer.add_scalar("gpu", torch.tensor(step * 0.5, device="cuda"), step)
        writer.add_histogram("gpu_h", torch.randn(100, device="cuda"), 0)
    assert [e.tensor_proto.float_val[0] for e in tensorboard_accumulator(logdir).Tensors("gpu")] == [0.0, 0.5, 1.0]


def test_bfloat16_tensors_reach_every_array_type(logdir):
    """bfloat16 (ml_dtypes from the adapter) is accepted where real numbers are, read back by TensorBoard."""
    values = torch.linspace(0, 1, 64, dtype=torch.bfloat16)
    vertices = torch.rand(1, 4, 3).to(torch.bfloat16)
    with SummaryWriter(logdir) as writer:
        writer.add_histogram("h", values, 1)
        writer.add_pr_curve("pr", values > 0.5, values, 1)
        writer.add_mesh("m", vertices, global_step=1)
        writer.add_embedding(values.reshape(16, 4), global_step=1, tag="e")
    acc = tensorboard_accumulator(logdir)
    histogram = tbcore.tensor_to_numpy(acc.Tensors("h")[0].tensor_proto)
    assert histogram[:, 2].sum() == 64
    assert tbcore.tensor_to_numpy(acc.Tensors("pr")[0].tensor_proto).shape[0] == 6
    mesh = tbcore.tensor_to_numpy(acc.Tensors("m_VERTEX")[0].tensor_proto)
    np.testing.assert_array_equal(mesh, vertices.float().numpy())
    assert (logdir / "00001" / "e" / "tensors.tsv").read_text().count("\n") == 16
