"""Bad input to add_graph/add_onnx_graph, and builders that never import a missing framework."""

from __future__ import annotations

import re
import subprocess
import sys
import textwrap

import pytest

from tb_helpers import all_scalar_points, scalar_points
from tbcore import SummaryWriter
from tbcore.testing import read_events, tensorboard_accumulator


def graph_events(logdir):
    return [e for e in read_events(logdir) if e.HasField("graph_def") or e.HasField("tagged_run_metadata")]


def assert_nothing_written_and_usable(writer, logdir):
    """After calls checked by the ``rejects`` fixture: no graph at all, and a later scalar lands."""
    writer.add_scalar("after", 1.0, 0)
    writer.flush()
    assert graph_events(logdir) == []
    assert any(v.tag == "after" for e in read_events(logdir) for v in e.summary.value)
    tags = tensorboard_accumulator(logdir).Tags()
    assert not tags["graph"] and set(tags["tensors"]) == set(all_scalar_points(logdir))  # no run metadata blob
    assert scalar_points(logdir, "after") == [(0, 1.0)]


MODELS = (
    "a torch.nn.Module, torch.jit module or torch.export.ExportedProgram (extra 'torch'), "
    "a JAX-traceable function with example arguments (extra 'jax'), "
    "or an ONNX ModelProto or the path of an .onnx file (extra 'onnx')"
)


LONG = list(range(100))  # its repr is cut to 60 characters in the message


@pytest.mark.parametrize(
    ("model", "given"),
    [(42, "int 42"), (None, "NoneType None"), ([1, 2], "list [1, 2]"), (LONG, f"list {repr(LONG)[:57]}...")],
)
def test_unrecognised_model(logdir, rejects, model, given):
    with SummaryWriter(logdir) as writer:
        rejects(
            writer,
            lambda: writer.add_graph(model),
            TypeError,
            f"^{re.escape(f'model: expected {MODELS}, got {given}')}$",
        )
        assert_nothing_written_and_usable(writer, logdir)


def test_one_helper_cuts_reprs():
    """Error messages and node attrs cut long reprs with the same helper, tbcore.errors.short_repr."""
    from tbcore import errors, graph

    assert graph.short_repr is errors.short_repr
    assert graph.short_repr("x" * 10) == repr("x" * 10)
    cut = graph.short_repr("x" * 300)
    assert len(cut) == 200 and cut == repr("x" * 300)[:197] + "..."
    assert errors.short_repr(LONG, 60) == errors.describe(LONG).removeprefix("list ")


def test_a_string_that_is_no_file(logdir, rejects):
    """add_graph("typo"): says what add_graph accepts and that the path does not exist; onnx is not needed to say so."""
    message = f"model: expected {MODELS}, got the path 'typo', which does not exist"
    with SummaryWriter(logdir) as writer:
        rejects(writer, lambda: writer.add_graph("typo"), ValueError, f"^{re.escape(message)}$")
        assert_nothing_written_and_usable(writer, logdir)


def test_torch_inputs_that_do_not_match(logdir, rejects):
    torch = pytest.importorskip("torch")
    model = torch.nn.Sequential(torch.nn.Linear(3, 4))
    with SummaryWriter(logdir) as writer:
        rejects(
            writer,
            lambda: writer.add_graph(model, torch.randn(2, 5)),
            ValueError,
            r"could not run Sequential on \(torch\.Tensor of shape \(2, 5\) and dtype torch\.float32\).*"
            r"mat1 and mat2 shapes cannot be multiplied",
        )
        assert_nothing_written_and_usable(writer, logdir)


def test_jax_inputs_that_do_not_match(logdir, rejects):
    jax = pytest.importorskip("jax")

    def f(w, x):
        return x @ w

    with SummaryWriter(logdir) as writer:
        rejects(
            writer,
            lambda: writer.add_graph(f, (jax.numpy.ones((3, 4)), jax.numpy.ones((2, 5)))),
            ValueError,
            r"could not trace .*f with JAX on \(jax.* of shape \(3, 4\).*\(2, 5\)",
        )
        assert_nothing_written_and_usable(writer, logdir)


def test_jax_function_that_cannot_be_traced(logdir, rejects):
    jax = pytest.importorskip("jax")

    def branchy(x):
        return x if x.sum() > 0 else -x

    with SummaryWriter(logdir) as writer:
        error = r"could not trace .*branchy with JAX.*TracerBoolConversionError"
        rejects(writer, lambda: writer.add_graph(branchy, jax.numpy.ones(3)), ValueError, error)
        rejects(writer, lambda: writer.add_graph(lambda s: s, "not an array"), ValueError, r"could not trace")
        assert_nothing_written_and_usable(writer, logdir)


def run_python(code: str) -> None:
    result = subprocess.run([sys.executable, "-c", textwrap.dedent(code)], capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stderr


def test_without_torch_jax_or_onnx(tmp_path):
    """Frameworks blocked: no builder imports them, the writer reports what to install and goes on."""
    run_python(
        f"""
        import sys
        for name in ("torch", "jax", "onnx"):
            sys.modules[name] = None
        from tbcore import SummaryWriter, plugins
        names = set(plugins.plugin_infos())
        assert {{"torch_graph", "jax_graph", "onnx_graph"}} <= names, names
        with SummaryWriter({str(tmp_path)!r}) as writer:
            try:
                writer.add_graph(lambda x: x, 1.0)
            except TypeError as exc:
                assert "extra 'jax'" in str(exc), exc
            else:
                raise AssertionError("a plain function is not a JAX function without JAX")
            try:
                writer.add_onnx_graph("missing.onnx")
            except ValueError as exc:
                assert "'missing.onnx', which does not exist" in str(exc), exc
            else:
                raise AssertionError("no ValueError for a missing file")
            try:
                writer.add_onnx_graph({__file__!r})
            except ImportError as exc:
                assert "tbcore[onnx]" in str(exc), exc
            else:
                raise AssertionError("no ImportError without onnx")
            writer.add_scalar("ok", 1.0, 0)
        assert all(sys.modules[name] is None for name in ("torch", "jax", "onnx"))
        """
    )


def test_builders_import_no_framework(tmp_path):
    """With everything installed but nothing imported, loading the graph plugins imports no framework."""
    run_python(
        f"""
        import sys
        import pytest
        from tbcore import SummaryWriter, plugins
        plugins.get_plugin_manager()
        with SummaryWriter({str(tmp_path)!r}) as writer:
            with pytest.raises(TypeError, match="got function"):  # not a JAX function while JAX is not imported
                writer.add_graph(lambda x: x, 1.0)
        loaded = [name for name in ("torch", "jax", "onnx") if name in sys.modules]
        assert not loaded, loaded
        """
    )
