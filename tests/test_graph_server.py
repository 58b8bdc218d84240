"""The graph dashboard of a running TensorBoard serves the graphs written by add_graph/add_onnx_graph."""

from __future__ import annotations

import warnings

import pytest
from google.protobuf import text_format

from tbcore import SummaryWriter
from tbcore.testing import TensorBoardServer

torch = pytest.importorskip("torch")
jax = pytest.importorskip("jax")
graph_pb2 = pytest.importorskip("tensorboard.compat.proto.graph_pb2")

from test_graph_jax import PARAMS, mlp  # noqa: E402
from test_graph_torch import TwoInputs, sequential  # noqa: E402


def shapes(node):
    return [[d.size for d in s.dim] for s in node.attr["_output_shapes"].list.shape]


def write_runs(logdir):
    """One run per kind of model; returns the runs expected to hold a graph."""
    with SummaryWriter(logdir / "torch_sequential") as writer:
        writer.add_graph(sequential(), torch.randn(2, 3))
    with SummaryWriter(logdir / "torch_nested") as writer:
        writer.add_graph(TwoInputs(), (torch.randn(2, 4), torch.randn(2, 3)))
    with SummaryWriter(logdir / "torch_scripted") as writer, warnings.catch_warnings():
        warnings.simplefilter("ignore", DeprecationWarning)  # torch.jit.script is deprecated in torch 2.13
        writer.add_graph(torch.jit.script(sequential()), torch.randn(5, 3))
    with SummaryWriter(logdir / "jax_mlp") as writer:
        writer.add_graph(mlp, (PARAMS, jax.numpy.ones((4, 8))))
    runs = {"torch_sequential", "torch_nested", "torch_scripted", "jax_mlp"}
    try:
        from test_graph_onnx import control_flow_model, small_model
    except pytest.skip.Exception:
        return runs
    import onnx

    onnx.save(small_model(), logdir / "small.onnx")
    with SummaryWriter(logdir / "onnx_file") as writer:
        writer.add_onnx_graph(logdir / "small.onnx")
    with SummaryWriter(logdir / "onnx_control_flow") as writer:
        writer.add_onnx_graph(control_flow_model())
    return runs | {"onnx_file", "onnx_control_flow"}


def served_graph(server, run):
    text = server.get("/data/plugin/graphs/graph", run=run, conceptual="false").decode()
    graph = text_format.Parse(text, graph_pb2.GraphDef())
    return {n.name: n for n in graph.node}


@pytest.mark.server
@pytest.mark.slow
@pytest.mark.parametrize("load_fast", ["false", "true"])
def test_graphs_on_a_running_server(logdir, load_fast):
    runs = write_runs(logdir)
    with TensorBoardServer(logdir, load_fast=load_fast) as server:
        info = server.wait_for("/data/plugin/graphs/info", lambda d: runs <= set(d))
        assert all(info[run]["run_graph"] for run in runs)
        assert info["torch_sequential"]["tags"]["step1"]["profile"]

        nodes = served_graph(server, "torch_sequential")
        linear = nodes["Sequential/Linear[2]/linear_1"]
        assert linear.op == "aten::linear" and shapes(linear) == [[2, 2]]
        assert nodes["output/output.1"].input == [linear.name]
        assert shapes(nodes["input/input"]) == [[2, 3]]

        nodes = served_graph(server, "torch_nested")
        deep = nodes["TwoInputs/Sequential[enc]/Block[1]/ReLU[act]/relu_1"]
        assert deep.op == "aten::relu" and shapes(deep) == [[2, 4]]
        assert shapes(nodes["input/x"]) == [[2, 4]] and shapes(nodes["input/y"]) == [[2, 3]]
        assert nodes["TwoInputs/Linear[side]/linear_2"].input[0] == "input/y"

        nodes = served_graph(server, "torch_scripted")  # shapes from a run: TorchScript has none for its ops
        assert [shapes(n) for n in nodes.values() if n.op.startswith("aten::")] == [[[5, 4]], [[5, 4]], [[5, 2]]]
        assert shapes(nodes["input/input.1"]) == [[5, 3]] and shapes(nodes["output/output.1"]) == [[5, 2]]

        nodes = served_graph(server, "jax_mlp")
        dot = nodes["jit[mlp]/scan[layer]/dot_general"]
        assert dot.op == "dot_general" and shapes(dot) == [[4, 8]]
        assert shapes(nodes["jit[mlp]/scan[layer]/scan"]) == [[4, 8], [3]]
        limit = nodes["jit[mlp]/while/cond_jaxpr/literal"]  # the literal 2 of `c[0] < 2`
        assert limit.op == "Const" and limit.attr["value"].s == b"2"

        if "onnx_file" in runs:
            nodes = served_graph(server, "onnx_file")
            assert nodes["fc/Gemm"].op == "Gemm" and shapes(nodes["fc/Gemm"]) == [[-1, 4]]
            assert nodes["output/y"].input == ["act/Relu"]
            from test_graph_onnx import check_control_flow

            check_control_flow(served_graph(server, "onnx_control_flow"))
