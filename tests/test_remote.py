"""Log directories given as fsspec URLs (memory://): segments, bounded uploads, assets, errors, path safety."""

from __future__ import annotations

import fnmatch
import os
import subprocess
import sys
import threading
import uuid

import pytest

fsspec = pytest.importorskip("fsspec")

from reliability_helpers import COLLECT_IN_WRITER_THREAD, all_files_intact, python, sigterm_when_ready, wait_for  # noqa: E402
from remote_helpers import UploadCounter, download, fork_while_held, log_dir_contents  # noqa: E402
from tb_helpers import scalar_points  # noqa: E402
from tbcore import Asset, Encoded, SummaryWriter, remote, segments  # noqa: E402
from tbcore.proto import summary_pb2  # noqa: E402
from tbcore.testing import TensorBoardServer, read_events, tensorboard_accumulator  # noqa: E402


@pytest.fixture
def memfs():
    """The in-memory filesystem; the test's objects are removed afterwards."""
    fs = fsspec.filesystem("memory")
    root = f"/tbcore-test-{uuid.uuid4().hex[:8]}"
    yield fs, root
    if fs.exists(root):
        fs.rm(root, recursive=True)


@pytest.fixture
def uploads(memfs, monkeypatch):
    """Counts the in-memory store's uploads; ``uploads.fail_next`` makes the next ones fail (no backoff)."""
    fs, _ = memfs
    monkeypatch.setattr(remote, "BACKOFF_SECS", 0.001)
    counter = UploadCounter(fs.pipe_file)
    monkeypatch.setattr(fs, "pipe_file", counter)
    return counter


def _steps(acc, tag):
    return [event.step for event in acc.Tensors(tag)]


def test_memory_url_round_trip_read_by_tensorboard(memfs, tmp_path):
    fs, root = memfs
    with SummaryWriter(f"memory://{root}/run") as writer:
        assert writer.get_logdir() == f"memory://{root}/run"
        for step in range(20):
            writer.add_scalar("loss", 1.0 / (step + 1), step)
        writer.add_scalars("multi", {"a": 1.0, "b": 2.0}, 3)
        writer.add_text("notes", "hello", 0)
    names = download(fs, f"{root}/run", tmp_path)
    assert all("tfevents" in name.rsplit("/", 1)[-1] for name in names)
    acc = tensorboard_accumulator(tmp_path)
    assert _steps(acc, "loss") == list(range(20))
    assert acc.Tensors("loss")[3].tensor_proto.float_val[0] == pytest.approx(0.25)
    assert "notes/text_summary" in acc.Tags()["tensors"]
    assert tensorboard_accumulator(tmp_path / "multi_a").Tensors("multi")[0].tensor_proto.float_val[0] == 1.0


def test_same_events_as_a_local_writer(memfs, tmp_path, logdir):
    fs, root = memfs
    for target in (f"memory://{root}/run", logdir):
        with SummaryWriter(target) as writer:
            for step in range(5):
                writer.add_scalar("x", step * 0.5, step, walltime=100.0 + step)
                writer.add_histogram("h", [1.0, 2.0, float(step)], step, walltime=100.0 + step)
    download(fs, f"{root}/run", tmp_path)
    remote_events = [e for e in read_events(tmp_path) if e.HasField("summary")]
    local_events = [e for e in read_events(logdir) if e.HasField("summary")]
    assert remote_events == local_events and len(remote_events) == 10
    assert scalar_points(tmp_path, "x") == scalar_points(logdir, "x") == [(step, step * 0.5) for step in range(5)]
    remote_histograms, local_histograms = (tensorboard_accumulator(d).Tensors("h") for d in (tmp_path, logdir))
    assert [e.tensor_proto for e in remote_histograms] == [e.tensor_proto for e in local_histograms]
    assert len(remote_histograms) == 5


def test_many_segments_read_in_order_by_python_loader_while_written(memfs, tmp_path, monkeypatch):
    """A segment is final before the next one exists, so the loader that never goes back misses nothing."""
    fs, root = memfs
    monkeypatch.setattr(remote, "SEGMENT_BYTES", 1024)
    acc = None
    with SummaryWriter(f"memory://{root}/run") as writer:
        for step in range(400):
            writer.add_scalar("loss", float(step), step)
            if step % 37 == 36:
                writer.flush()
                download(fs, f"{root}/run", tmp_path)
                if acc is None:
                    acc = tensorboard_accumulator(tmp_path)
                else:
                    acc.Reload()
                assert _steps(acc, "loss") == list(range(step + 1))
    names = download(fs, f"{root}/run", tmp_path)
    assert len(names) >= 8
    assert names == sorted(names)
    acc.Reload()
    assert _steps(acc, "loss") == list(range(400))
    assert _steps(tensorboard_accumulator(tmp_path), "loss") == list(range(400))


@pytest.mark.slow
@pytest.mark.server
def test_many_segments_read_by_the_rust_data_server(memfs, tmp_path, monkeypatch):
    fs, root = memfs
    monkeypatch.setattr(remote, "SEGMENT_BYTES", 512)
    with SummaryWriter(f"memory://{root}/run", max_queue=1) as writer:
        for step in range(200):
            writer.add_scalar("loss", float(step), step)
            if step % 10 == 9:
                writer.flush()
    assert len(download(fs, f"{root}/run", tmp_path)) >= 8
    with TensorBoardServer(tmp_path, load_fast="true") as server:
        data = server.wait_for("/data/plugin/scalars/scalars", lambda d: len(d) == 200, run=".", tag="loss")
    assert [point[1] for point in data] == list(range(200))


def test_bytes_uploaded_per_flush_stay_bounded_over_a_long_run(memfs, monkeypatch, uploads):
    fs, root = memfs
    segment_bytes = 16 * 1024
    monkeypatch.setattr(remote, "SEGMENT_BYTES", segment_bytes)
    flushes, per_flush = 500, 20
    with SummaryWriter(f"memory://{root}/run", max_queue=1000) as writer:
        for flush in range(flushes):
            for i in range(per_flush):
                writer.add_scalar("loss", 0.5, flush * per_flush + i)
            writer.flush()
    stored = sum(fs.size(path) for path in fs.find(f"{root}/run"))
    flush_bytes = stored / flushes
    assert len(uploads.sizes) == flushes
    # each upload is at most one segment plus what the flush added: never the whole run
    assert max(uploads.sizes) <= segment_bytes + 2 * flush_bytes
    assert stored > 20 * segment_bytes
    # small flushes share a segment: far fewer objects than flushes
    assert len(fs.find(f"{root}/run")) <= flushes / remote.REWRITE_FACTOR
    # over the run: at most about REWRITE_FACTOR times the data, instead of flushes / 2 times
    assert sum(uploads.sizes) <= (remote.REWRITE_FACTOR + 1) * stored
    assert stored * flushes / 2 > 20 * sum(uploads.sizes)


def test_uploads_without_flush_after_flush_secs(memfs, tmp_path):
    fs, root = memfs
    writer = SummaryWriter(f"memory://{root}/run", max_queue=1, flush_secs=0.2)
    writer.add_scalar("x", 1.0, 0)

    def uploaded_point():
        download(fs, f"{root}/run", tmp_path)
        return scalar_points(tmp_path, "x") == [(0, 1.0)]

    assert wait_for(uploaded_point, timeout=30, interval=0.2), "the point was not uploaded within 30 s"
    writer.close()


def test_close_uploads_what_is_pending(memfs, tmp_path):
    fs, root = memfs
    writer = SummaryWriter(f"memory://{root}/run", max_queue=1)
    writer.add_scalars("s", {"a": 1.0, "b": 2.0}, 7)
    writer.add_scalar("x", 2.0, 7)
    writer._pipeline.sync()
    assert [t for t in threading.enumerate() if isinstance(t, threading.Timer)]  # one upload timer waits
    assert not fs.exists(f"{root}/run") or not fs.find(f"{root}/run")
    writer.close()
    assert not [t for t in threading.enumerate() if isinstance(t, threading.Timer) and not t.finished.is_set()]
    download(fs, f"{root}/run", tmp_path)
    assert _steps(tensorboard_accumulator(tmp_path), "x") == [7]


def test_transient_failures_are_retried(memfs, tmp_path, uploads):
    fs, root = memfs
    uploads.fail_next = [ConnectionError("reset by peer"), TimeoutError("slow")]
    with SummaryWriter(f"memory://{root}/run") as writer:
        writer.add_scalar("x", 1.0, 1)
        writer.flush()
    assert not uploads.fail_next
    download(fs, f"{root}/run", tmp_path)
    assert _steps(tensorboard_accumulator(tmp_path), "x") == [1]


@pytest.mark.parametrize("error", [PermissionError("InvalidAccessKeyId"), FileNotFoundError("NoSuchBucket")])
def test_permanent_failure_is_raised_at_flush_and_close(memfs, tmp_path, uploads, error):
    fs, root = memfs
    uploads.fail_next = [error] * 2
    writer = SummaryWriter(f"memory://{root}/run")
    writer.add_scalar("x", 1.0, 1)
    with pytest.raises(type(error), match=r"tbcore could not upload memory://.*tfevents.*\(1 try\)"):
        writer.flush()
    with pytest.raises(type(error), match="could not upload"):
        writer.close()  # close tries once more, and says so
    assert not fs.exists(f"{root}/run") or not fs.find(f"{root}/run")
    # the writer stays usable: adding after close() starts a new event file
    writer.add_scalar("x", 2.0, 2)
    writer.close()
    download(fs, f"{root}/run", tmp_path)
    assert _steps(tensorboard_accumulator(tmp_path), "x") == [2]


def test_failure_after_all_retries_is_raised_at_the_next_call(memfs, tmp_path, monkeypatch, uploads):
    fs, root = memfs
    uploads.fail_next = [ConnectionError("down")] * remote.TRIES
    monkeypatch.setattr(remote, "SEGMENT_BYTES", 64)  # the writer thread uploads at once
    writer = SummaryWriter(f"memory://{root}/run", max_queue=1)
    writer.add_scalar("x", 1.0, 1)
    writer._pipeline.sync()
    with pytest.raises(OSError, match=rf"could not upload .*\({remote.TRIES} tries\): ConnectionError: down"):
        writer.add_scalar("x", 2.0, 2)
    with pytest.raises(OSError, match="ConnectionError: down"):
        writer.close()  # close reports the error too, after uploading what was pending
    download(fs, f"{root}/run", tmp_path)
    assert _steps(tensorboard_accumulator(tmp_path), "x") == [1]


def test_assets_and_sub_runs_go_to_the_store(memfs):
    fs, root = memfs
    summary = summary_pb2.Summary(value=[summary_pb2.Summary.Value(tag="t", simple_value=1.0)])
    with SummaryWriter(f"memory://{root}/run") as writer:
        writer.write(Encoded(summary=summary, assets=(Asset("proj/config.txt", b"one\n"),)), 0)
        writer.write(Encoded(summary=summary, assets=(Asset("proj/config.txt", lambda old: old + b"two\n"),)), 1)
        writer.write(Encoded(summary=summary, run="trial/1", assets=(Asset("meta.tsv", b"x"),)), 0)
    assert fs.cat_file(f"{root}/run/proj/config.txt") == b"one\ntwo\n"
    assert fs.cat_file(f"{root}/run/trial/1/meta.tsv") == b"x"
    assert any("tfevents" in path for path in fs.find(f"{root}/run/trial/1"))


@pytest.mark.parametrize(
    ("record", "argument"),
    [
        (Encoded(run="../escape"), "run"),
        (Encoded(run="a/../../escape"), "run"),
        (Encoded(assets=(Asset("../escape.txt", b"x"),)), "asset path"),
        (Encoded(assets=(Asset("/abs.txt", b"x"),)), "asset path"),
        (Encoded(run="sub", assets=(Asset("a/../../x", b"x"),)), "asset path"),
    ],
)
def test_paths_cannot_leave_a_remote_log_dir(memfs, record, argument):
    fs, root = memfs
    with SummaryWriter(f"memory://{root}/base/run") as writer:
        with pytest.raises(ValueError, match=argument):
            writer.write(record, 0)
        writer.add_scalar("after", 1.0, 0)
    assert all(path.startswith(f"{root}/base/run/") for path in fs.find(root))
    assert len(fs.find(root)) == 1


def test_storage_options_are_passed_and_checked(memfs, logdir):
    fs, root = memfs
    with pytest.raises(TypeError, match="storage_options"):
        SummaryWriter(f"memory://{root}/run", storage_options=["key"])
    with pytest.raises(ValueError, match="storage_options.*local log_dir"):
        SummaryWriter(logdir, storage_options={"key": "x"})
    assert not fs.exists(f"{root}/run")
    with SummaryWriter(f"memory://{root}/run", storage_options={}) as writer:
        writer.add_scalar("x", 1.0, 0)


def test_file_url_is_the_local_fast_path(logdir):
    with SummaryWriter(f"file://{logdir}") as writer:
        assert writer.get_logdir() == str(logdir)
        writer.add_scalar("x", 1.0, 0)
    assert _steps(tensorboard_accumulator(logdir), "x") == [0]
    assert not any(name.endswith(".00000000") for name in (p.name for p in logdir.iterdir()))


def test_segment_names_sort_in_write_order_and_keep_the_suffix():
    names = [segments.segment_name("events.out.tfevents.1.h.2.3", i, ".v2") for i in (0, 1, 9, 10, 99999, 100000)]
    assert names == sorted(names)
    assert all(name.endswith(".v2") and "tfevents" in name for name in names)


def test_import_tbcore_and_local_writes_do_not_import_fsspec(logdir):
    code = (
        "import sys, tbcore\n"
        f"w = tbcore.SummaryWriter({str(logdir)!r}); w.add_scalar('x', 1.0, 0); w.close()\n"
        "bad = [m for m in ('fsspec', 's3fs', 'tbcore.remote') if m in sys.modules]\n"
        "assert not bad, bad\n"
    )
    subprocess.run([sys.executable, "-c", code], check=True, timeout=120)


@pytest.mark.skipif(not hasattr(os, "fork"), reason="needs os.fork")
@pytest.mark.filterwarnings("ignore:os.fork:RuntimeWarning")  # JAX, if imported, warns; the child only exits
def test_a_forked_child_never_uploads_the_parents_segments(memfs, tmp_path, monkeypatch):
    fs, root = memfs
    log = tmp_path / "uploads.log"

    def logging_pipe_file(path, data, **kwargs):
        with open(log, "a") as out:
            out.write(f"{os.getpid()}\n")
        return inner(path, data, **kwargs)

    inner = fs.pipe_file
    monkeypatch.setattr(fs, "pipe_file", logging_pipe_file)
    writer = SummaryWriter(f"memory://{root}/run")
    writer.add_scalar("x", 1.0, 0)
    writer._pipeline.sync()  # the record waits in the segment, not yet uploaded
    pid = os.fork()
    if pid == 0:  # the child: the at-fork hook drops the parent's files; exit without cleanup
        os._exit(0)
    os.waitpid(pid, 0)
    writer.close()
    assert log.read_text().split() == [str(os.getpid())]


@pytest.mark.skipif(not hasattr(os, "fork"), reason="needs os.fork")
@pytest.mark.filterwarnings("ignore:os.fork:RuntimeWarning")  # JAX, if imported, warns
def test_a_child_forked_while_the_upload_timer_lock_was_held_logs_remotely(memfs, tmp_path):
    """The parent's upload-timer lock, held at the fork, is not the child's: its uploads do not deadlock."""
    fs, root = memfs
    writer = SummaryWriter(f"memory://{root}/run", flush_secs=60)
    writer.add_scalar("x", 1.0, 0)
    writer._pipeline.sync()  # the parent's record waits for the upload timer

    def child() -> None:  # the child's memory store is its own: it copies what it sees for the parent to read
        writer.add_scalar("x", 2.0, 1)
        writer.flush()
        writer.close()
        download(fs, f"{root}/run", tmp_path / "child")

    assert fork_while_held(writer._storage._timer_lock, child) == 0
    writer.close()
    download(fs, f"{root}/run", tmp_path / "parent")
    assert _steps(tensorboard_accumulator(tmp_path / "child"), "x") == [1]
    assert _steps(tensorboard_accumulator(tmp_path / "parent"), "x") == [0]


REFUSING_STORE = """
import sys
import fsspec
from tbcore import SummaryWriter, remote
remote.BACKOFF_SECS = 0.001

def refuse(path, data, **kwargs):
    raise PermissionError("InvalidAccessKeyId")

fsspec.filesystem("memory").pipe_file = refuse
writer = SummaryWriter("memory://refused/run", max_queue=10_000, flush_secs=10_000)
writer.add_scalar("x", 1.0, 0)
"""
UPLOAD_ERROR = (
    "tbcore: events of memory://refused/run may be lost: tbcore could not upload "
    "memory://refused/run/events.out.tfevents.* (1 try): PermissionError: InvalidAccessKeyId"
)


def _lines_before(stderr: str, marker: str) -> list[str]:
    lines = stderr.splitlines()
    assert marker in lines, stderr
    return lines[: lines.index(marker)]


def test_upload_error_of_a_collected_writer_is_printed_when_it_is_collected():
    """A remote writer garbage-collected without close(): its upload error is printed then, not at exit."""
    result = python(REFUSING_STORE + 'del writer\nprint("collected", file=sys.stderr)\n')
    assert result.returncode == 0, result.stderr
    assert [fnmatch.fnmatch(line, UPLOAD_ERROR) for line in _lines_before(result.stderr, "collected")] == [True]


def test_upload_error_of_a_writer_collected_in_its_own_thread_is_printed():
    """Collected by the cyclic garbage collector in its writer thread (which its close waits for): closed
    from a new thread at once, and the upload error is printed, instead of a silent deadlock."""
    code = (
        COLLECT_IN_WRITER_THREAD
        + REFUSING_STORE
        + """
writer.cycle = writer
pipeline, file = writer._pipeline, writer._file("")
del writer
collect_in_writer_thread(pipeline, file)
print("closed", file=sys.stderr)
"""
    )
    result = python(code)
    assert result.returncode == 0, result.stderr
    assert [fnmatch.fnmatch(line, UPLOAD_ERROR) for line in _lines_before(result.stderr, "closed")] == [True]


@pytest.mark.parametrize(
    ("path", "expected"),
    [
        ("s3://b/run", True),
        ("gs://b/run", True),
        ("memory://x", True),
        ("simplecache::s3://b/run", True),
        ("abfs://container/run", True),
        ("runs/exp", False),
        ("/abs/runs", False),
        ("C://runs", False),
        ("weird name://x", False),
    ],
)
def test_which_log_dirs_are_urls(path, expected):
    from tbcore.storage import is_url

    assert is_url(path) is expected


def test_embeddings_hparams_and_sub_runs_match_a_local_writer(memfs, tmp_path, logdir):
    np = pytest.importorskip("numpy")
    fs, root = memfs
    for target in (f"memory://{root}/run", logdir):
        with SummaryWriter(target) as writer:
            writer.add_embedding(np.arange(12, dtype=np.float32).reshape(4, 3), metadata=list("abcd"), global_step=2)
            writer.add_embedding(np.ones((2, 2), np.float32), tag="second", global_step=3)
            writer.add_hparams({"lr": 0.1, "opt": "adam"}, {"hp/acc": 0.9}, run_name="trial1")
            writer.add_scalars("pair", {"a": 1.0, "b": 2.0}, 0)
    copy = tmp_path / "remote"
    download(fs, f"{root}/run", copy)
    remote_assets, remote_runs = log_dir_contents(copy)
    local_assets, local_runs = log_dir_contents(logdir)
    assert remote_assets == local_assets
    assert any(name.endswith("projector_config.pbtxt") for name in remote_assets)
    assert sorted(remote_runs) == sorted(local_runs) and "trial1" in remote_runs
    assert remote_runs == local_runs
    acc = tensorboard_accumulator(copy / "trial1")
    assert "_hparams_/session_start_info" in acc.Tags()["tensors"]


SIGTERM_DURING_UPLOAD = """
import pathlib, signal, sys, threading, time
from fsspec.implementations.memory import MemoryFileSystem
from tbcore import SummaryWriter, lifecycle
lifecycle.SIGNAL_FLUSH_TIMEOUT = 600.0  # a handler waiting for the upload's lock would hang past the test's bound
mirror = pathlib.Path(sys.argv[1])  # every object stored is copied here, for the test to read once the child is dead
original = MemoryFileSystem.pipe_file
armed = [True]

def add_more():
    for step in range(50, 100):  # queued; the writer thread waits for the segment's lock held by the upload
        writer.add_scalar("loss", float(step), step)

def slow_pipe_file(self, path, value, **kwargs):
    if armed:  # the first upload (flush() below, in the main thread): more steps come, then the SIGTERM
        armed.clear()
        adder = threading.Thread(target=add_more)
        adder.start()
        adder.join()
        print("uploading", flush=True)
        for _ in range(6000):  # bounded: 60 s
            if signal.getsignal(signal.SIGTERM) is signal.SIG_DFL:  # tbcore's handler has run
                break
            time.sleep(0.01)
    original(self, path, value, **kwargs)
    target = mirror / path.lstrip("/")
    target.parent.mkdir(parents=True, exist_ok=True)
    target.write_bytes(value)

MemoryFileSystem.pipe_file = slow_pipe_file
writer = SummaryWriter("memory://sigterm/run", max_queue=10)
for step in range(50):
    writer.add_scalar("loss", float(step), step)
writer.flush()
print("flush returned", flush=True)  # never: the SIGTERM ends the process once the upload is done
"""


def test_sigterm_during_a_flush_upload_loses_nothing_and_ends_promptly(tmp_path):
    """SIGTERM while the main thread uploads a segment in flush(), holding its lock, with more steps queued:
    the handler does not wait for that lock; the upload finishes, everything is written and the process
    dies by SIGTERM (a handler that waited would hang for the child's 600 s timeout). See test_s3.py for
    the same with s3fs, whose uploads run in fsspec's event loop."""
    out = sigterm_when_ready(SIGTERM_DURING_UPLOAD, "uploading", tmp_path)
    assert "flush returned" not in out
    run = tmp_path / "sigterm" / "run"
    all_files_intact(run)
    assert scalar_points(run, "loss") == [(step, float(step)) for step in range(100)]
