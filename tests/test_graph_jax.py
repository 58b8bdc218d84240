"""JAX functions in the graph dashboard: nodes from the jaxpr, nested calls as name scopes."""

from __future__ import annotations

import pytest

jax = pytest.importorskip("jax")
jnp = jax.numpy

from tbcore import SummaryWriter  # noqa: E402
from tbcore.testing import tensorboard_accumulator  # noqa: E402

DT_FLOAT, DT_INT32, DT_BOOL = 1, 3, 10


def shapes(node):
    return [[d.size for d in s.dim] for s in node.attr["_output_shapes"].list.shape]


@jax.custom_jvp
def soft(x):
    return jnp.log1p(jnp.exp(x))


soft.defjvp(lambda primals, tangents: (soft(primals[0]), jax.nn.sigmoid(primals[0]) * tangents[0]))


@jax.custom_vjp
def clip_grad(x):
    return x


clip_grad.defvjp(lambda x: (x, None), lambda _, g: (jnp.clip(g, -1, 1),))


@jax.jit
def mlp(params, x):
    """An MLP whose layers run in a scan, with cond, while and custom derivatives."""

    def layer(h, w):
        h = jnp.tanh(h @ w)
        return h, h.mean()

    h, means = jax.lax.scan(layer, x, params["layers"])
    h = jax.lax.cond(means.sum() > 0, lambda v: v * 2, lambda v: -v, h)
    _, h = jax.lax.while_loop(lambda c: c[0] < 2, lambda c: (c[0] + 1, c[1] + 1), (0, h))
    return soft(clip_grad(h @ params["out"])), means


PARAMS = {"layers": jnp.ones((3, 8, 8)), "out": jnp.ones((8, 2))}


def graph_of(logdir, fn, inputs):
    with SummaryWriter(logdir) as writer:
        writer.add_graph(fn, inputs)
    return {n.name: n for n in tensorboard_accumulator(logdir).Graph().node}


def test_mlp_with_scan_and_nested_calls(logdir):
    nodes = graph_of(logdir, mlp, (PARAMS, jnp.ones((4, 8))))
    assert shapes(nodes["input/params.layers"]) == [[3, 8, 8]] and shapes(nodes["input/x"]) == [[4, 8]]
    dot = nodes["jit[mlp]/scan[layer]/dot_general"]
    assert dot.op == "dot_general" and shapes(dot) == [[4, 8]] and dot.attr["dtype"].type == DT_FLOAT
    assert set(dot.input) == {"input/x", "input/params.layers"}
    scan = nodes["jit[mlp]/scan[layer]/scan"]
    assert shapes(scan) == [[4, 8], [3]]
    assert nodes["jit[mlp]/cond/cond"].input[0] == "jit[mlp]/convert_element_type"
    assert {"jit[mlp]/cond/branches0/neg", "jit[mlp]/cond/branches1/mul"} <= set(nodes)
    assert nodes["jit[mlp]/while/cond_jaxpr/lt"].attr["dtype"].type == DT_BOOL
    assert nodes["jit[mlp]/while/while"].attr["dtype"].type == DT_INT32
    assert "jit[mlp]/custom_jvp_call[soft]/log1p" in nodes
    assert "jit[mlp]/custom_vjp_call[clip_grad]/custom_vjp_call" in nodes
    assert nodes["output/output.1"].input == ["jit[mlp]/jit"] and shapes(nodes["output/output.1"]) == [[4, 2]]
    assert nodes["output/output.2"].input == ["jit[mlp]/jit:1"] and shapes(nodes["output/output.2"]) == [[3]]
    for node in nodes.values():  # every node carries shapes and a dtype
        assert node.attr["_output_shapes"].list.shape and node.attr["dtype"].type, node.name


def test_plain_function_with_keyword_and_bfloat16_inputs(logdir):
    def affine(x, *, scale):
        return (x * scale).astype(jnp.bfloat16)

    nodes = graph_of(logdir, affine, {"x": jnp.ones((2, 3)), "scale": jnp.float32(2)})
    assert set(nodes["mul"].input) == {"input/x", "input/scale"}
    assert nodes["convert_element_type"].attr["dtype"].type == 14  # DT_BFLOAT16


def test_verbose_prints_the_jaxpr(logdir, capsys):
    graph_of(logdir, jnp.sin, jnp.ones(3))
    with SummaryWriter(logdir) as writer:
        writer.add_graph(jnp.cos, jnp.ones(3), verbose=True)
    assert "cos" in capsys.readouterr().out


def test_literals_are_const_nodes(logdir):
    """Constant operands (``x * 2.0``, a loop's start ``0``, a returned ``1.0``) are Const nodes with their value."""

    def f(x):
        _, h = jax.lax.while_loop(lambda c: c[0] < 3, lambda c: (c[0] + 1, c[1] * 2.0), (0, x))
        return h, 1.5

    nodes = graph_of(logdir, f, jnp.ones((2, 3)))
    start, limit = nodes["literal"], nodes["while/cond_jaxpr/literal"]
    assert start.op == "Const" and start.attr["value"].s == b"0" and start.attr["dtype"].type == DT_INT32
    assert shapes(start) == [[]] and limit.attr["value"].s == b"3"
    assert nodes["while/cond_jaxpr/lt"].input == ["literal", "while/cond_jaxpr/literal"]
    two = nodes["while/body_jaxpr/literal_1"]
    assert two.attr["value"].s == b"2.0" and two.attr["dtype"].type == DT_FLOAT
    assert nodes["while/body_jaxpr/mul"].input == ["input/x", "while/body_jaxpr/literal_1"]
    assert nodes["output/output.2"].input == ["literal_1"] and nodes["literal_1"].attr["value"].s == b"1.5"
