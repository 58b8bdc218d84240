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


def control_flow_model():
    """x (2, 3) -> If_0 (then: x + bias, else: -x) -> Loop_3 (3 times: v * x, x used from the outer graph) -> z."""
    then_branch = helper.make_graph(
        [helper.make_node("Add", ["x", "bias"], ["then_y"], name="/Add")],
        "then",
        [],
        [helper.make_tensor_value_info("then_y", TensorProto.FLOAT, [2, 3])],
    )
    else_branch = helper.make_graph(
        [helper.make_node("Neg", ["x"], ["else_y"], name="/Neg")],
        "else",
        [],
        [helper.make_tensor_value_info("else_y", TensorProto.FLOAT, [2, 3])],
    )
    body = helper.make_graph(
        [
            helper.make_node("Identity", ["cond_in"], ["cond_out"], name="/Identity"),
            helper.make_node("Mul", ["v_in", "x"], ["v_out"], name="/Mul"),
        ],
        "body",
        [
            helper.make_tensor_value_info("i", TensorProto.INT64, []),
            helper.make_tensor_value_info("cond_in", TensorProto.BOOL, []),
            helper.make_tensor_value_info("v_in", TensorProto.FLOAT, [2, 3]),
        ],
        [
            helper.make_tensor_value_info("cond_out", TensorProto.BOOL, []),
            helper.make_tensor_value_info("v_out", TensorProto.FLOAT, [2, 3]),
        ],
    )
    nodes = [
        helper.make_node("ReduceSum", ["x"], ["s"], name="/ReduceSum", keepdims=0),
        helper.make_node("Greater", ["s", "zero"], ["c"], name="/Greater"),
        helper.make_node("If", ["c"], ["y"], name="If_0", then_branch=then_branch, else_branch=else_branch),
        helper.make_node("Loop", ["trip", "", "y"], ["z"], name="Loop_3", body=body),
    ]
    initializers = [
        numpy_helper.from_array(np.ones((2, 3), np.float32), "bias"),
        numpy_helper.from_array(np.array(0, np.float32), "zero"),
        numpy_helper.from_array(np.array(3, np.int64), "trip"),
    ]
    graph = helper.make_graph(
        nodes,
        "control_flow",
        [helper.make_tensor_value_info("x", TensorProto.FLOAT, [2, 3])],
        [helper.make_tensor_value_info("z", TensorProto.FLOAT, [2, 3])],
        initializers,
    )
    return helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)])


def check_control_flow(nodes):
    """The If branches and the Loop body are scopes under their node, wired to the outer values they use."""
    add, neg = nodes["If_0/then_branch/Add"], nodes["If_0/else_branch/Neg"]
    assert add.op == "Add" and list(add.input) == ["input/x", "bias"] and shapes(add) == [[2, 3]]
    assert neg.op == "Neg" and list(neg.input) == ["input/x"]
    assert nodes["If_0"].op == "If" and list(nodes["If_0"].input) == ["Greater", neg.name, add.name]
    mul = nodes["Loop_3/body/Mul"]
    assert mul.op == "Mul" and list(mul.input) == ["If_0", "input/x"] and mul.attr["dtype"].type == DT_FLOAT
    assert list(nodes["Loop_3/body/Identity"].input) == []  # its input is the loop's omitted condition
    loop = nodes["Loop_3"]
    assert loop.op == "Loop" and list(loop.input) == ["trip", "If_0", "Loop_3/body/Identity", mul.name]
    assert "body" not in loop.attr and "then_branch" not in nodes["If_0"].attr
    assert list(nodes["output/z"].input) == ["Loop_3"] and shapes(nodes["output/z"]) == [[2, 3]]


def test_if_and_loop_bodies(logdir):
    onnx.checker.check_model(control_flow_model())
    with SummaryWriter(logdir) as writer:
        writer.add_onnx_graph(control_flow_model())
    check_control_flow({n.name: n for n in tensorboard_accumulator(logdir).Graph().node})


def test_not_an_onnx_file(logdir, tmp_path):
    path = tmp_path / "junk.onnx"
    path.write_bytes(b"\xff\x00 not a protobuf")
    empty = tmp_path / "empty.onnx"
    empty.write_bytes(b"")
    with SummaryWriter(logdir) as writer:
        for bad in (path, str(path)):
            with pytest.raises(
                ValueError, match=r"model: expected .*, got the path '.*junk\.onnx', which is not an ONNX"
            ):
                writer.add_onnx_graph(bad)
        with pytest.raises(
            ValueError, match=r"got the path '.*empty\.onnx', which is not an ONNX model file \(it holds"
        ):
            writer.add_graph(empty)
        with pytest.raises(ValueError, match=r"got the path '.*missing\.onnx', which does not exist$"):
            writer.add_onnx_graph(tmp_path / "missing.onnx")
        with pytest.raises(ValueError, match=r"got the path '.*', which is a directory$"):
            writer.add_onnx_graph(tmp_path)
        writer.add_onnx_graph(small_model())
    check({n.name: n for n in tensorboard_accumulator(logdir).Graph().node})
