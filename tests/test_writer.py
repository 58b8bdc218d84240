"""SummaryWriter itself: constructor, file names, flush, close, reopen, shared bad input, integration API."""

from __future__ import annotations

import datetime
import math
import os
import re
import socket
import subprocess
import sys

import numpy as np
import pytest

from tb_helpers import scalar_points
from tbcore import SummaryWriter
from tbcore.testing import read_events, tensorboard_accumulator

pytestmark = pytest.mark.core

NAME = re.compile(r"^events\.out\.tfevents\.(\d{10})\.(.+)\.(\d+)\.(\d+)(.*)$")


def _event_files(directory) -> list[str]:
    return sorted(f for f in os.listdir(directory) if "tfevents" in f)


# ---------------------------------------------------------------------------------------------- constructor
def test_default_log_dir_is_torchs(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    before = datetime.datetime.now().replace(microsecond=0)
    with SummaryWriter(comment="_lr0.1") as writer:
        logdir = writer.get_logdir()
    head, name = os.path.split(logdir)
    assert head == "runs" and name.endswith(f"_{socket.gethostname()}_lr0.1")
    stamp = datetime.datetime.strptime(name[:14], "%b%d_%H-%M-%S").replace(year=before.year)
    assert abs((stamp - before).total_seconds()) < 5
    assert _event_files(logdir)


@pytest.mark.parametrize(
    ("kwargs", "error", "match"),
    [
        ({"log_dir": 3}, TypeError, r"log_dir: expected a str or os.PathLike path, or None, got int 3"),
        ({"log_dir": ""}, ValueError, r"log_dir: expected a non-empty path"),
        ({"purge_step": -1}, ValueError, r"purge_step: expected an int in \[0, 2\*\*63 - 1\]"),
        ({"purge_step": 1.5}, TypeError, r"purge_step: expected an int >= 0"),
        ({"max_queue": 0}, ValueError, r"max_queue: expected an int > 0, got int 0"),
        ({"max_queue": 2.0}, TypeError, r"max_queue: expected an int > 0"),
        ({"flush_secs": 0}, ValueError, r"flush_secs: expected a number > 0"),
        ({"flush_secs": math.nan}, ValueError, r"flush_secs: expected a number > 0"),
        ({"flush_secs": "1"}, TypeError, r"flush_secs: expected a number > 0"),
        ({"filename_suffix": "/x"}, ValueError, r"filename_suffix: expected a str without '/'"),
        ({"filename_suffix": 1}, TypeError, r"filename_suffix: expected a str"),
        ({"log_dir": None, "comment": "a/b"}, ValueError, r"comment: expected a str without '/'"),
    ],
)
def test_constructor_bad_input(tmp_path, monkeypatch, kwargs, error, match):
    monkeypatch.chdir(tmp_path)
    kwargs = {"log_dir": str(tmp_path / "run"), **kwargs}
    with pytest.raises(error, match=match):
        SummaryWriter(**kwargs)
    assert not (tmp_path / "run").exists() and not (tmp_path / "runs").exists()


# ---------------------------------------------------------------------------------------------- file names
def test_file_name_format_and_suffix(logdir):
    with SummaryWriter(logdir, filename_suffix=".rank3") as writer:
        writer.add_scalar("x", 1.0, 0)
    (name,) = _event_files(logdir)
    secs, host, pid, _uid, suffix = NAME.match(name).groups()
    assert (host, int(pid), suffix) == (socket.gethostname(), os.getpid(), ".rank3")
    assert abs(int(secs) - datetime.datetime.now().timestamp()) < 60
    first = read_events(logdir)[0]
    assert first.file_version == "brain.Event:2" and first.step == 0


def test_file_names_unique_and_in_creation_order(logdir):
    writers = [SummaryWriter(logdir) for _ in range(12)]
    paths = [w._main.path for w in writers]
    for writer in writers:
        writer.close()
    names = [os.path.basename(p) for p in paths]
    assert len(set(names)) == 12 and sorted(names) == names  # TensorBoard reads a run's files in name order


def test_file_names_unique_across_processes(logdir):
    code = f"from tbcore import SummaryWriter\nSummaryWriter({str(logdir)!r}).close()"
    procs = [subprocess.Popen([sys.executable, "-c", code]) for _ in range(3)]
    assert [p.wait(60) for p in procs] == [0, 0, 0]
    assert len(_event_files(logdir)) == 3


# ---------------------------------------------------------------------------------------------- lifecycle
def test_flush_makes_data_readable_without_close(logdir):
    writer = SummaryWriter(logdir, max_queue=1000, flush_secs=10_000)
    for step in range(5):
        writer.add_scalar("x", float(step), step)
    writer.add_histogram("h", [1.0, 2.0], 0)
    writer.add_text("t", "hi", 0)
    writer.flush()
    acc = tensorboard_accumulator(logdir)
    assert [e.step for e in acc.Tensors("x")] == list(range(5))
    assert sorted(acc.Tags()["tensors"]) == ["h", "t/text_summary", "x"]
    writer.add_scalar("x", 5.0, 5)
    writer.flush()
    assert len(tensorboard_accumulator(logdir).Tensors("x")) == 6
    writer.close()


def test_max_queue_writes_without_flush(logdir):
    writer = SummaryWriter(logdir, max_queue=2, flush_secs=10_000)
    for step in range(4):
        writer.add_scalar("x", float(step), step)
    writer._pipeline.sync()  # wait for the writer thread's batch, not a flush
    assert len(tensorboard_accumulator(logdir).Tensors("x")) >= 2
    writer.close()


def test_close_is_idempotent_and_context_manager_closes(logdir):
    with SummaryWriter(logdir) as writer:
        writer.add_scalar("x", 1.0, 0)
    assert writer._main is None
    writer.close()
    writer.close()
    assert [e.step for e in tensorboard_accumulator(logdir).Tensors("x")] == [0]


def test_add_after_close_reopens_a_new_file(logdir):
    writer = SummaryWriter(logdir)
    writer.add_scalar("x", 1.0, 0)
    writer.close()
    writer.add_scalar("x", 2.0, 1)
    writer.add_histogram("h", [1.0], 1)
    writer.close()
    files = _event_files(logdir)
    assert len(files) == 2
    assert read_events(logdir)[-3].file_version == "brain.Event:2"
    assert [e.step for e in tensorboard_accumulator(logdir).Tensors("x")] == [0, 1]


def test_pending_events_are_written_at_exit_without_close(logdir):
    code = (
        f"from tbcore import SummaryWriter\nw = SummaryWriter({str(logdir)!r}, flush_secs=10_000)\n"
        "for s in range(3):\n    w.add_scalar('x', float(s), s)\n"
    )
    subprocess.run([sys.executable, "-c", code], check=True, timeout=60)
    assert [e.step for e in tensorboard_accumulator(logdir).Tensors("x")] == [0, 1, 2]


# ---------------------------------------------------------------------------------------------- shared bad input
BAD_COMMON = [
    ({"tag": 3}, TypeError, r"tag: expected a non-empty str, got int 3"),
    ({"tag": ""}, ValueError, r"tag: expected a non-empty str"),
    ({"tag": "a\x00b"}, ValueError, r"tag: expected a str without NUL"),
    ({"tag": "x" * 5000}, ValueError, r"tag: expected a str of at most 4096"),
    ({"global_step": -1}, ValueError, r"global_step: expected an int in \[0, 2\*\*63 - 1\], got int -1"),
    ({"global_step": 2**63}, ValueError, r"global_step: expected an int in \[0, 2\*\*63 - 1\]"),
    ({"global_step": 1.5}, TypeError, r"global_step: expected an int >= 0, got float 1.5"),
    ({"global_step": "1"}, TypeError, r"global_step: expected an int >= 0"),
    ({"global_step": True}, TypeError, r"global_step: expected an int >= 0"),
    ({"walltime": math.nan}, ValueError, r"walltime: expected a finite float of seconds since the epoch, got float n"),
    ({"walltime": math.inf}, ValueError, r"walltime: expected a finite float"),
    ({"walltime": -math.inf}, ValueError, r"walltime: expected a finite float"),
    ({"walltime": "now"}, TypeError, r"walltime: expected a finite float"),
]
METHODS = {
    "add_scalar": ("scalar_value", 1.0),
    "add_histogram": ("values", [1.0, 2.0]),
    "add_text": ("text_string", "hello"),
    "add_tensor": ("tensor", [1, 2]),
    "add_scalars": ("tag_scalar_dict", {"a": 1.0}),
}


@pytest.mark.parametrize("method", sorted(METHODS))
@pytest.mark.parametrize(("bad", "error", "match"), BAD_COMMON, ids=[repr(b)[:30] for b, _, _ in BAD_COMMON])
def test_bad_common_arguments(logdir, rejects, method, bad, error, match):
    value_name, value = METHODS[method]
    kwargs = {"tag": "ok", value_name: value, "global_step": 1, "walltime": 1.7e9, **bad}
    if method == "add_scalars":
        kwargs["main_tag"] = kwargs.pop("tag")
    with SummaryWriter(logdir) as writer:
        rejects(writer, lambda: getattr(writer, method)(**kwargs), error, match)
        writer.add_scalar("after", 1.0, 7)
    events = read_events(logdir)
    assert [e.summary.value[0].tag for e in events[1:]] == ["after_rejected_call", "after"]
    assert sorted(tensorboard_accumulator(logdir).Tags()["tensors"]) == ["after", "after_rejected_call"]
    assert scalar_points(logdir, "after") == [(7, 1.0)]
    assert sorted(os.listdir(logdir)) == _event_files(logdir)  # no sub-run appeared


@pytest.mark.parametrize(
    ("value", "error", "match"),
    [
        ("1.0", TypeError, r"scalar_value: expected a real number.*got str '1.0'"),
        (None, TypeError, r"scalar_value: expected a real number"),
        (1j, TypeError, r"scalar_value: expected a real number"),
        (np.zeros(2), ValueError, r"scalar_value: expected a real number.*shape \(2,\)"),
        (np.zeros((1, 1)), ValueError, r"scalar_value: expected a real number.*shape \(1, 1\)"),
        (np.zeros(0), ValueError, r"scalar_value: expected a real number.*shape \(0,\)"),
        (np.array(["a"]), TypeError, r"scalar_value: expected a real number"),
        ([1.0, 2.0], ValueError, r"scalar_value: expected a real number"),
    ],
)
@pytest.mark.parametrize("style", [{}, {"new_style": True}, {"double_precision": True}])
def test_bad_scalar_values(logdir, value, error, match, style):
    with SummaryWriter(logdir) as writer:
        with pytest.raises(error, match=match):
            writer.add_scalar("x", value, 0, **style)
        writer.add_scalar("x", 1.0, 1, **style)
    assert [e.step for e in tensorboard_accumulator(logdir).Tensors("x")] == [1]


def test_generic_add_checks_the_tag_once_and_reads_plugin_failures_only_for_an_error(logdir, monkeypatch):
    from tbcore import plugins, summary, validate
    from tbcore import writer as writer_module
    from tbcore.errors import UnknownSummaryType

    checked, failures = [], []

    def counting_check_tag(tag, argument="tag"):
        checked.append(tag)
        return validate.check_tag(tag, argument)

    def failed_plugins():
        failures.append(1)
        return {"gone": "ImportError: x"}

    monkeypatch.setattr(writer_module, "check_tag", counting_check_tag)
    monkeypatch.setattr(summary, "check_tag", counting_check_tag)
    monkeypatch.setattr(plugins, "failed_plugins", failed_plugins)
    with SummaryWriter(logdir) as writer:
        writer.add_histogram("h", [1.0, 2.0], 0)
        writer.add("text", "t", "hello", step=0)
        assert checked == ["h", "t"] and not failures  # one check per call, no copy of the failures
        with pytest.raises(UnknownSummaryType, match=r"failed to load: gone \(ImportError: x\)"):
            writer.add("histgram", "h", [1.0])
        assert failures == [1]
    assert summary.encode("scalar", "x", 1.0).value[0].simple_value == 1.0 and checked[-1] == "x"
    assert sorted(tensorboard_accumulator(logdir).Tags()["tensors"]) == ["h", "t/text_summary"]


class _Seconds(float):
    """A float subclass: not the plain-float fast path of the wall time check."""


def test_wall_time_forms(logdir):
    from tbcore.validate import check_walltime

    walls = [1.7e9, -5.5, 0.0, _Seconds(3.25), np.float64(12.5), np.float32(0.5), 7, np.int64(8)]
    assert [check_walltime(wall) for wall in walls] == [float(wall) for wall in walls]
    assert all(type(check_walltime(wall)) is float for wall in walls)
    with pytest.raises(ValueError, match="walltime: expected a finite float"):
        check_walltime(_Seconds("nan"))
    with SummaryWriter(logdir) as writer:
        for step, wall in enumerate(walls):
            writer.add_scalar("x", 1.0, step, walltime=wall)
    assert [e.wall_time for e in tensorboard_accumulator(logdir).Tensors("x")] == [float(w) for w in walls]


def test_step_forms_and_huge_values(logdir):
    with SummaryWriter(logdir) as writer:
        writer.add_scalar("x", 1.0, np.int64(3))
        writer.add_scalar("x", 2.0, 4.0)
        writer.add_scalar("x", 10**400, 2**63 - 1)
        writer.add_scalar("y", -(10**400), 0, new_style=True)
    events = tensorboard_accumulator(logdir).Tensors("x")
    assert [e.step for e in events] == [3, 4, 2**63 - 1] and events[2].tensor_proto.float_val[0] == math.inf
    assert read_events(logdir)[-1].summary.value[0].tensor.tensor_content == np.float32(-np.inf).tobytes()
    assert scalar_points(logdir, "y") == [(0, -math.inf)]


# ---------------------------------------------------------------------------------------------- integration API
def test_integration_api_with_tensorboards_protos(logdir):
    from tensorboard.compat.proto import event_pb2, summary_pb2

    with SummaryWriter(logdir) as writer:
        assert writer.file_writer.get_logdir() == str(logdir)
        summary = summary_pb2.Summary(value=[summary_pb2.Summary.Value(tag="a", simple_value=1.5)])
        writer.file_writer.add_summary(summary, 4, 1.7e9)
        event = event_pb2.Event(summary=summary_pb2.Summary(value=[summary_pb2.Summary.Value(tag="b", simple_value=2)]))
        writer._get_file_writer().add_event(event, step=5, walltime=1.7e9 + 1)
        with pytest.raises(TypeError, match=r"summary: expected a Summary protocol buffer"):
            writer.file_writer.add_summary("not a proto", 1)
        with pytest.raises(ValueError, match=r"walltime: expected a finite float"):
            writer.file_writer.add_event(event, 1, math.nan)
        with pytest.raises(TypeError, match=r"^event: expected an Event protocol buffer, got .*Summary"):
            writer.file_writer.add_event(summary, 6)  # another message: its bytes are no Event
        with pytest.raises(TypeError, match=r"^summary: expected a Summary protocol buffer, got .*Event"):
            writer.file_writer.add_summary(event, 6)
        with pytest.raises(TypeError, match=r"^graph_def: expected a GraphDef protocol buffer, got str"):
            writer.file_writer.add_graph("not a graph")
    acc = tensorboard_accumulator(logdir)
    assert [(e.step, e.wall_time) for e in acc.Tensors("a")] == [(4, 1.7e9)]
    assert [(e.step, e.wall_time) for e in acc.Tensors("b")] == [(5, 1.7e9 + 1)]
    assert len(read_events(logdir)) == 3  # file version, a, b: nothing of the rejected calls


def test_get_file_writer_reopens_after_close(logdir):
    from tensorboard.compat.proto import summary_pb2

    writer = SummaryWriter(logdir)
    writer.close()
    summary = summary_pb2.Summary(value=[summary_pb2.Summary.Value(tag="a", simple_value=1.0)])
    writer._get_file_writer().add_summary(summary, 1)
    writer.close()
    assert len(_event_files(logdir)) == 2
    assert [e.step for e in tensorboard_accumulator(logdir).Tensors("a")] == [1]
