"""ONNX models (files and ModelProto) in the graph dashboard."""

from __future__ import annotations

import numpy as np
import pytest

onnx = pytest.importorskip("onnx")
from onnx import TensorProto, helper, numpy_helper  # noqa: E402

from tbcore import SummaryWriter  # noqa: E402
from tbcore.testing import tensorboard_accumulator  # noqa: E402

DT_FLOAT, DT_INT64 = 1, 9


def small_model():
    """x (N, 3) -> /fc/Gemm (weights 4x3) -> /act/Relu -> /ArgMax (int64) and y."""
    weight = numpy_helper.from_array(np.ones((4, 3), np.float32), "fc.weight")
    bias = numpy_helper.from_array(np.zeros(4, np.float32), "fc.bias")
    nodes = [
        helper.make_node("Gemm", ["x", "fc.weight", "fc.bias"], ["h"], name="/fc/Gemm", transB=1, alpha=1.0),
        helper.make_node("Relu", ["h"], ["y"], name="/act/Relu"),
        helper.make_node("ArgMax", ["y"], ["label"], name="/ArgMax", axis=1, keepdims=0),
    ]
    graph = helper.make_graph(
        nodes,
        "small",
        [helper.make_tensor_value_info("x", TensorProto.FLOAT, ["N", 3])],
        [
            helper.make_tensor_value_info("y", TensorProto.FLOAT, ["N", 4]),
            helper.make_tensor_value_info("label", TensorProto.INT64, ["N"]),
        ],
        [weight, bias],
    )
    return helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)])


def shapes(node):
    return [[d.size for d in s.dim] for s in node.attr["_output_shapes"].list.shape]


def check(nodes):
    assert nodes["input/x"].op == "IO Node" and shapes(nodes["input/x"]) == [[-1, 3]]
    gemm = nodes["fc/Gemm"]
    assert gemm.op == "Gemm" and list(gemm.input) == ["input/x", "fc.weight", "fc.bias"]
    assert shapes(gemm) == [[-1, 4]] and gemm.attr["dtype"].type == DT_FLOAT
    assert gemm.attr["transB"].i == 1 and gemm.attr["alpha"].f == 1.0
    assert nodes["fc.weight"].op == "Const" and shapes(nodes["fc.weight"]) == [[4, 3]]
    assert nodes["ArgMax"].attr["dtype"].type == DT_INT64  # ONNX's INT64 (7) mapped, not copied
    assert list(nodes["output/label"].input) == ["ArgMax"] and list(nodes["output/y"].input) == ["act/Relu"]


@pytest.mark.parametrize("form", ["path", "str", "model"])
def test_onnx_file_and_model(logdir, tmp_path, form):
    model = small_model()
    path = tmp_path / "small.onnx"
    onnx.save(model, path)
    value = {"path": path, "str": str(path), "model": model}[form]
    with SummaryWriter(logdir) as writer:
        writer.add_onnx_graph(value)
    check({n.name: n for n in tensorboard_accumulator(logdir).Graph().node})


def test_not_an_onnx_file(logdir, tmp_path):
    path = tmp_path / "junk.onnx"
    path.write_bytes(b"\xff\x00 not a protobuf")
    with SummaryWriter(logdir) as writer:
        with pytest.raises(ValueError, match=r"prototxt: expected an ONNX model file, got .*junk\.onnx"):
            writer.add_onnx_graph(path)
        with pytest.raises(FileNotFoundError):
            writer.add_onnx_graph(tmp_path / "missing.onnx")
        writer.add_onnx_graph(small_model())
    check({n.name: n for n in tensorboard_accumulator(logdir).Graph().node})
