"""The JAX adapter: host and device arrays, bfloat16 kept, a clear error for tracers."""

from __future__ import annotations

import subprocess
import sys
import textwrap

import numpy as np
import pytest

import tbcore
from tb_helpers import scalar_points
from tbcore import SummaryWriter
from tbcore.testing import read_events, tensorboard_accumulator

jax = pytest.importorskip("jax")
jnp = pytest.importorskip("jax.numpy")
ml_dtypes = pytest.importorskip("ml_dtypes")

gpu = pytest.mark.skipif(not any(d.platform == "gpu" for d in jax.devices()), reason="needs a JAX GPU")


def test_arrays_and_dtypes():
    array = jnp.arange(6, dtype=jnp.float32).reshape(2, 3)
    assert np.array_equal(tbcore.as_numpy(array), np.arange(6, dtype=np.float32).reshape(2, 3))
    bf16 = jnp.array([1e30, 0.5], dtype=jnp.bfloat16)
    converted = tbcore.as_numpy(bf16)
    assert converted.dtype == np.dtype(ml_dtypes.bfloat16) and converted.astype(np.float32)[1] == 0.5
    assert tbcore.as_numpy(jnp.array([True, False])).dtype == np.bool_


def test_scalars_and_histograms(logdir):
    with SummaryWriter(logdir) as writer:
        writer.add_scalar("s", jnp.float32(1.25), 0)
        writer.add_scalar("s", jnp.array([2.5], dtype=jnp.bfloat16), 1)
        writer.add_histogram("h", jnp.linspace(0, 1, 11), 0)
    acc = tensorboard_accumulator(logdir)
    assert scalar_points(logdir, "s") == [(0, 1.25), (1, 2.5)]
    assert acc.Tensors("h")[0].tensor_proto.tensor_shape.dim[1].size == 3
    buckets = tbcore.tensor_to_numpy(acc.Tensors("h")[0].tensor_proto)  # TensorBoard's [left, right, count] rows
    assert buckets[:, 2].sum() == 11 and buckets[0, 0] == 0.0 and buckets[-1, 1] == 1.0


def test_tracer_gets_a_clear_error(logdir):
    with SummaryWriter(logdir) as writer:

        @jax.jit
        def step(x):
            writer.add_scalar("inside", x, 0)
            return x

        with pytest.raises(TypeError, match=r"cannot log a traced JAX value .*jax\.debug\.callback"):
            step(jnp.float32(1.0))
        with pytest.raises(TypeError, match=r"values: cannot log a traced JAX value"):
            jax.jit(lambda x: writer.add_histogram("inside", x, 0) or x)(jnp.ones(3))
        writer.add_scalar("after", 1.0, 0)
    assert [e.summary.value[0].tag for e in read_events(logdir)[1:]] == ["after"]
    assert tensorboard_accumulator(logdir).Tags()["tensors"] == ["after"]
    assert scalar_points(logdir, "after") == [(0, 1.0)]


def test_donated_arrays_keep_the_value_at_the_call(logdir):
    """A value donated to the next step (donate_argnums) is still written: tbcore reads its own copy."""
    train_step = jax.jit(lambda state: state + 1.0, donate_argnums=0)
    big = jnp.ones((1024, 1024))
    pending = jax.jit(lambda b, s: (b @ b).sum() * 0 + s, donate_argnums=1)
    state = jnp.float32(0.0) + 0
    with SummaryWriter(logdir, max_queue=1000, flush_secs=100) as writer:
        for step in range(5):
            writer.add_scalar("ready", state, step)
            state = train_step(state)  # the logged array is deleted here
        for step in range(5):
            state = pending(big, state)  # possibly still computing at the call
            writer.add_scalar("pending", state, step)
            state = train_step(state)
    assert scalar_points(logdir, "ready") == [(step, float(step)) for step in range(5)]
    assert scalar_points(logdir, "pending") == [(step, step + 5.0) for step in range(5)]


def test_an_array_deleted_before_the_call_is_a_value_error(logdir):
    """A donated (deleted) array is refused on the calling thread; jax's ``is_ready()`` on it crashes the process.

    Run in a child process: the crash (a segmentation fault in jaxlib) would end the test session.
    """
    script = textwrap.dedent(
        f"""
        import jax.numpy as jnp, pytest, tbcore
        gone = jnp.float32(1.5) + 0
        gone.delete()
        with tbcore.SummaryWriter({str(logdir)!r}) as writer:
            for call, argument in [
                (lambda: writer.add_scalar("s", gone, 0), "scalar_value"),
                (lambda: writer.add_scalar("s", gone, 0, new_style=True), "scalar_value"),
                (lambda: writer.add_scalars("m", {{"a": gone}}, 0), "tag_scalar_dict\\['a'\\]"),
                (lambda: writer.add_histogram("h", gone, 0), "values"),
            ]:
                with pytest.raises(ValueError, match=argument + ": expected a JAX array that was not deleted"):
                    call()
            writer.add_scalar("after", jnp.float32(2.5), 1)
        print("done")
        """
    )
    child = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=120)
    assert (child.returncode, child.stdout.strip()) == (0, "done"), child.stderr[-2000:]
    assert scalar_points(logdir, "after") == [(1, 2.5)]
    assert [e.summary.value[0].tag for e in read_events(logdir)[1:]] == ["after"]
    assert tensorboard_accumulator(logdir).Tags()["tensors"] == ["after"]


@pytest.mark.gpu
@gpu
def test_device_arrays(logdir):
    array = jax.device_put(jnp.arange(4.0), jax.devices("gpu")[0])
    assert tbcore.as_numpy(array).tolist() == [0.0, 1.0, 2.0, 3.0]
    with SummaryWriter(logdir) as writer:
        writer.add_scalar("g", array[1], 0)
    assert tensorboard_accumulator(logdir).Tensors("g")[0].tensor_proto.float_val[0] == 1.0


def test_sharded_array_is_gathered_to_the_host(tmp_path):
    """An array sharded over two (CPU) devices is fetched whole; run in a child with two host devices."""
    import subprocess
    import sys
    import textwrap

    code = textwrap.dedent(
        f"""
        import os
        os.environ["XLA_FLAGS"] = "--xla_force_host_platform_device_count=2"
        import jax, jax.numpy as jnp, numpy as np
        from jax.sharding import Mesh, NamedSharding, PartitionSpec
        import tbcore
        assert len(jax.devices()) == 2
        mesh = Mesh(np.array(jax.devices()), ("x",))
        array = jax.device_put(jnp.arange(8.0), NamedSharding(mesh, PartitionSpec("x")))
        assert len(array.addressable_shards) == 2
        assert tbcore.as_numpy(array).tolist() == list(range(8))
        with tbcore.SummaryWriter({str(tmp_path)!r}) as writer:
            writer.add_histogram("h", array, 0)
            writer.add_scalar("s", array.sum(), 0)
        print("ok")
        """
    )
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert result.stdout.strip() == "ok", result.stderr
    assert tensorboard_accumulator(tmp_path).Tensors("s")[0].tensor_proto.float_val[0] == 28.0


@pytest.mark.gpu
@gpu
def test_add_scalar_does_not_wait_for_a_busy_device(logdir):
    """add_scalar returns while the value is still being computed; the written value is exact."""
    ones = jax.device_put(jnp.ones((4096, 4096)), jax.devices("gpu")[0])
    heavy = jax.jit(lambda a: jax.lax.fori_loop(0, 1000, lambda i, b: (b @ a) / 4096.0, a).mean())
    with SummaryWriter(logdir) as writer:
        writer.add_scalar("loss", heavy(ones), 0)  # compiles both the loop and tbcore's device copy
        writer.flush()
        loss = heavy(ones)
        writer.add_scalar("loss", loss, 1)
        still_computing = not loss.is_ready()
    assert still_computing
    assert scalar_points(logdir, "loss") == [(0, 1.0), (1, 1.0)]
