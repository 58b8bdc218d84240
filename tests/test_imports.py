"""tbcore stays framework-free on import and numpy-only writes, and its protos coexist with TensorBoard's."""

from __future__ import annotations

import subprocess
import sys
import textwrap

import pytest

pytestmark = pytest.mark.core

FRAMEWORKS = ("torch", "jax", "tensorflow", "PIL", "matplotlib")


def _run(code: str) -> str:
    result = subprocess.run([sys.executable, "-c", textwrap.dedent(code)], capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stderr
    return result.stdout


def test_import_and_numpy_write_import_no_framework(tmp_path):
    out = _run(
        f"""
        import sys
        import numpy as np
        import tbcore
        with tbcore.SummaryWriter({str(tmp_path)!r}) as writer:
            writer.add_scalar("s", 1.0, 0)
            writer.add_scalar("s", np.float32(2.0), 1)
            writer.add_scalar("n", np.array(3.0), 1, new_style=True)
            writer.add_histogram("h", np.random.randn(100), 0)
            writer.add_histogram_raw("r", 0, 1, 2, 1, 1, [0.5, 1.0], [1, 1], 0)
            writer.add_text("t", "hello", 0)
            writer.add_tensor("x", np.arange(6).reshape(2, 3), 0)
            writer.add_scalars("m", {{"a": 1.0}}, 0)
        print(",".join(m for m in {FRAMEWORKS!r} if m in sys.modules))
        """
    )
    assert out.strip() == ""


@pytest.mark.parametrize("tbcore_first", [False, True])
def test_tensorboard_protos_and_ours_in_one_process(tmp_path, tbcore_first):
    """No descriptor-pool clash: TensorBoard's (and tensorboardX's, if installed) protos load beside ours."""
    out = _run(
        f"""
        import importlib.util
        if {tbcore_first}:
            import tbcore
        from tensorboard.compat.proto import event_pb2 as tb_event, summary_pb2 as tb_summary
        if importlib.util.find_spec("tensorboardX"):
            import tensorboardX  # noqa: F401 - its own protos in the same process
        import tbcore
        from tbcore.proto import event_pb2
        from tbcore.testing import read_events, tensorboard_accumulator
        with tbcore.SummaryWriter({str(tmp_path)!r}) as writer:
            writer.add_scalar("ours", 1.5, 1)
            summary = tb_summary.Summary(value=[tb_summary.Summary.Value(tag="theirs", simple_value=2.5)])
            writer.file_writer.add_summary(summary, 2)
            writer._get_file_writer().add_event(tb_event.Event(summary=summary), step=3)
        events = read_events({str(tmp_path)!r})
        assert all(isinstance(e, event_pb2.Event) for e in events)
        parsed = tb_event.Event.FromString(events[1].SerializeToString())
        assert parsed.summary.value[0].simple_value == 1.5
        acc = tensorboard_accumulator({str(tmp_path)!r})
        print(acc.Tensors("ours")[0].tensor_proto.float_val[0], [e.step for e in acc.Tensors("theirs")])
        """
    )
    assert out.split() == ["1.5", "[2,", "3]"]


def test_adapter_lookup_imports_no_framework():
    """Choosing adapters for many types never imports a framework to check them."""
    out = _run(
        f"""
        import sys, decimal
        import numpy as np
        import tbcore
        from tbcore.adapters import adapter_for
        for value in (1, 2.0, True, [1], (1,), np.float16(1), np.zeros(2), np.array(['a'])):
            tbcore.as_numpy(value)
        try:
            adapter_for(decimal.Decimal)
        except TypeError as exc:
            assert "got decimal.Decimal (no array adapter accepts it)" in str(exc), exc
        else:
            raise AssertionError("an adapter was found for decimal.Decimal")
        print(",".join(m for m in {FRAMEWORKS!r} if m in sys.modules))
        """
    )
    assert out.strip() == ""
