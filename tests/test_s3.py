"""s3:// log directories on a real S3 HTTP endpoint (moto's server on 127.0.0.1), with s3fs as the client."""

from __future__ import annotations

import os
import subprocess
import sys
import uuid

import numpy as np
import pytest

s3fs = pytest.importorskip("s3fs")
moto_server = pytest.importorskip("moto.server")

from reliability_helpers import all_files_intact, sigterm_when_ready  # noqa: E402
from remote_helpers import UploadCounter, download, fork_while_held, log_dir_contents  # noqa: E402
from tb_helpers import scalar_points  # noqa: E402
from tbcore import SummaryWriter, remote  # noqa: E402
from tbcore.reader import list_runs  # noqa: E402
from tbcore.testing import read_events, tensorboard_accumulator  # noqa: E402

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def endpoint():
    """A moto S3 server on 127.0.0.1 (an ephemeral port), stopped by its handle."""
    server = moto_server.ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    server.start()
    host, port = server.get_host_and_port()
    yield f"http://{host}:{port}"
    server.stop()


@pytest.fixture
def s3(endpoint, monkeypatch):
    """``(filesystem, bucket, storage_options)`` for a fresh bucket; credentials are dummy env vars."""
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "testing")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "testing")
    monkeypatch.setenv("AWS_DEFAULT_REGION", "us-east-1")
    options = {"endpoint_url": endpoint}
    fs = s3fs.S3FileSystem(**options)
    bucket = f"tbcore-{uuid.uuid4().hex[:10]}"
    fs.mkdir(bucket)
    return fs, bucket, options


def _log_everything(writer: SummaryWriter) -> None:
    for step in range(30):
        writer.add_scalar("train/loss", 1.0 / (step + 1), step, walltime=1000.0 + step)
        if step % 10 == 0:
            writer.add_histogram("weights", np.linspace(-1, 1, 50) * step, step, walltime=1000.0 + step)
    writer.add_text("notes", "**bold**", 0, walltime=1000.0)
    writer.add_scalars("multi", {"a": 1.0, "b": 2.0}, 0, walltime=1000.0)
    writer.add_embedding(np.eye(3, dtype=np.float32), metadata=["x", "y", "z"], global_step=1)
    writer.add_hparams({"lr": 0.01}, {"hp/loss": 0.5}, run_name="trial")


def test_s3_run_read_back_by_tensorboard_matches_a_local_run(s3, tmp_path, logdir):
    fs, bucket, options = s3
    with SummaryWriter(f"s3://{bucket}/exp/run", storage_options=options) as writer:
        assert writer.get_logdir() == f"s3://{bucket}/exp/run"
        _log_everything(writer)
    with SummaryWriter(logdir) as local:
        _log_everything(local)
    fs.invalidate_cache()
    copy = tmp_path / "remote"
    download(fs, f"{bucket}/exp/run", copy)
    assert log_dir_contents(copy) == log_dir_contents(logdir)  # assets, sub-runs, events
    assert sorted(list_runs(copy)) == [".", "multi_a", "multi_b", "trial"]
    remote_acc, local_acc = tensorboard_accumulator(copy), tensorboard_accumulator(logdir)
    assert remote_acc.Tags()["tensors"] == local_acc.Tags()["tensors"]
    for tag in local_acc.Tags()["tensors"]:
        assert remote_acc.Tensors(tag) == local_acc.Tensors(tag)
    assert [p.step for p in remote_acc.Tensors("train/loss")] == list(range(30))
    assert tensorboard_accumulator(copy / "multi_b").Tensors("multi")[0].tensor_proto.float_val[0] == 2.0


def test_s3_long_run_uploads_bounded_bytes_per_flush(s3, tmp_path, monkeypatch):
    fs, bucket, options = s3
    segment_bytes = 8 * 1024
    monkeypatch.setattr(remote, "SEGMENT_BYTES", segment_bytes)
    flushes = 120
    with SummaryWriter(f"s3://{bucket}/long", storage_options=options, max_queue=1000) as writer:
        counter = UploadCounter(writer._storage.fs.pipe_file)  # s3fs's client, as the writer calls it
        monkeypatch.setattr(writer._storage.fs, "pipe_file", counter)
        for flush in range(flushes):
            for i in range(25):
                writer.add_scalar("loss", float(i), flush * 25 + i)
            writer.flush()
    fs.invalidate_cache()
    names = download(fs, f"{bucket}/long", tmp_path)
    stored = sum((tmp_path / name).stat().st_size for name in names)
    assert len(names) >= 8 and names == sorted(names)
    assert len(counter.sizes) == flushes
    assert max(counter.sizes) <= segment_bytes + 2 * stored / flushes
    assert sum(counter.sizes) <= (remote.REWRITE_FACTOR + 1) * stored  # the whole file each time: ~flushes / 2
    assert [p.step for p in tensorboard_accumulator(tmp_path).Tensors("loss")] == list(range(flushes * 25))


def test_fsspec_config_supplies_the_endpoint(s3, tmp_path, monkeypatch):
    """Without storage_options, the endpoint comes from fsspec's usual configuration."""
    import fsspec.config

    fs, bucket, options = s3
    monkeypatch.setitem(fsspec.config.conf, "s3", dict(options))
    with SummaryWriter(f"s3://{bucket}/configured") as writer:
        writer.add_scalar("x", 3.0, 5)
    fs.invalidate_cache()
    download(fs, f"{bucket}/configured", tmp_path)
    assert [e.step for e in read_events(tmp_path) if e.HasField("summary")] == [5]
    assert scalar_points(tmp_path, "x") == [(5, 3.0)]


def test_missing_bucket_is_a_clear_error_at_flush_and_close(s3, monkeypatch):
    fs, bucket, options = s3
    monkeypatch.setattr(remote, "BACKOFF_SECS", 0.001)
    writer = SummaryWriter(f"s3://{bucket}-missing/run", storage_options=options)
    writer.add_scalar("x", 1.0, 0)
    with pytest.raises(FileNotFoundError, match=rf"tbcore could not upload s3://{bucket}-missing/run/.*tfevents"):
        writer.flush()
    with pytest.raises(FileNotFoundError, match="could not upload"):
        writer.close()
    assert not fs.exists(f"{bucket}-missing")  # the writer never creates buckets


def test_assets_go_to_the_bucket(s3):
    from tbcore import Asset, Encoded
    from tbcore.proto import summary_pb2

    fs, bucket, options = s3
    summary = summary_pb2.Summary(value=[summary_pb2.Summary.Value(tag="t", simple_value=1.0)])
    with SummaryWriter(f"s3://{bucket}/run", storage_options=options) as writer:
        writer.write(Encoded(summary=summary, assets=(Asset("projector_config.pbtxt", b"a\n"),)), 0)
        writer.write(Encoded(summary=summary, assets=(Asset("projector_config.pbtxt", lambda old: old + b"b\n"),)), 1)
        writer.write(Encoded(summary=summary, run="hp/trial", assets=(Asset("meta.tsv", b"x"),)), 0)
        with pytest.raises(ValueError, match="asset path"):
            writer.write(Encoded(summary=summary, assets=(Asset("../../escape", b"x"),)), 0)
    fs.invalidate_cache()
    assert fs.cat_file(f"{bucket}/run/projector_config.pbtxt") == b"a\nb\n"
    assert fs.cat_file(f"{bucket}/run/hp/trial/meta.tsv") == b"x"
    assert not fs.exists(f"{bucket}/escape")


def test_pending_data_is_uploaded_when_the_process_exits_without_close(s3, tmp_path):
    fs, bucket, options = s3
    code = (
        "import tbcore\n"
        f"w = tbcore.SummaryWriter('s3://{bucket}/exit', storage_options={options!r})\n"
        "for step in range(3): w.add_scalar('x', float(step), step)\n"
    )
    subprocess.run([sys.executable, "-c", code], check=True, timeout=120, env=dict(os.environ))
    fs.invalidate_cache()
    download(fs, f"{bucket}/exit", tmp_path)
    assert [e.step for e in read_events(tmp_path) if e.HasField("summary")] == [0, 1, 2]
    assert scalar_points(tmp_path, "x") == [(0, 0.0), (1, 1.0), (2, 2.0)]


@pytest.mark.skipif(not hasattr(os, "fork"), reason="needs os.fork")
@pytest.mark.filterwarnings("ignore:os.fork:RuntimeWarning")  # JAX, if imported, warns
def test_a_forked_child_logs_to_s3(s3, tmp_path):
    """s3fs refuses to run in a forked child, and the upload timer's lock may be held at the fork:
    the child opens a client of its own and a lock of its own, and its events reach the bucket."""
    fs, bucket, options = s3
    writer = SummaryWriter(f"s3://{bucket}/forked", storage_options=options)
    writer.add_scalar("x", 1.0, 0)
    writer.flush()  # the parent's client has run before the fork

    def child() -> None:
        writer.add_scalar("x", 2.0, 1)
        writer.flush()
        writer.close()

    assert fork_while_held(writer._storage._timer_lock, child) == 0
    writer.add_scalar("x", 3.0, 2)
    writer.close()
    fs.invalidate_cache()
    names = download(fs, f"{bucket}/forked", tmp_path)
    assert len(names) == 2  # the parent's event file and the child's
    assert sorted(p.step for p in tensorboard_accumulator(tmp_path).Tensors("x")) == [0, 1, 2]


def test_tensorboard_reads_the_bucket_directly_while_segments_are_written(s3, monkeypatch):
    """TensorBoard's Python loader on s3:// (its boto3 client): it never goes back to an older segment."""
    pytest.importorskip("boto3")
    fs, bucket, options = s3
    from tensorboard.compat.tensorflow_stub.io import gfile

    # TensorBoard reads S3_ENDPOINT once, when its S3 filesystem is registered at import
    monkeypatch.setattr(gfile.get_filesystem("s3://x/y"), "_s3_endpoint", options["endpoint_url"])
    monkeypatch.setattr(remote, "SEGMENT_BYTES", 1024)
    acc = None
    with SummaryWriter(f"s3://{bucket}/live", storage_options=options) as writer:
        for step in range(300):
            writer.add_scalar("loss", float(step), step)
            if step % 29 == 28:
                writer.flush()
                if acc is None:
                    acc = tensorboard_accumulator(f"s3://{bucket}/live")
                else:
                    acc.Reload()
                assert [p.step for p in acc.Tensors("loss")] == list(range(step + 1))
    acc.Reload()
    assert [p.step for p in acc.Tensors("loss")] == list(range(300))
    fs.invalidate_cache()
    assert len(fs.find(f"{bucket}/live")) >= 8


SIGTERM_DURING_UPLOAD = """
import asyncio, signal, sys
import s3fs
from tbcore import SummaryWriter, lifecycle
lifecycle.SIGNAL_FLUSH_TIMEOUT = 600.0  # a handler waiting for the upload's lock would hang past the test's bound
bucket, endpoint = sys.argv[1], sys.argv[2]
original = s3fs.S3FileSystem._pipe_file
armed = [True]

async def slow_pipe_file(self, path, data, **kwargs):
    if armed:  # the first upload (flush() below): accept more steps, say so, and stay inside until the SIGTERM
        armed.clear()
        for step in range(50, 100):  # queued; the writer thread waits for the segment's lock held by this upload
            writer.add_scalar("loss", float(step), step)
        print("uploading", flush=True)
        for _ in range(6000):  # bounded: 60 s
            if signal.getsignal(signal.SIGTERM) is signal.SIG_DFL:  # tbcore's handler has run
                break
            await asyncio.sleep(0.01)
    return await original(self, path, data, **kwargs)

s3fs.S3FileSystem._pipe_file = slow_pipe_file  # before the filesystem is made: its sync methods wrap this
writer = SummaryWriter(f"s3://{bucket}/run", storage_options={"endpoint_url": endpoint}, max_queue=10)
for step in range(50):
    writer.add_scalar("loss", float(step), step)
writer.flush()
print("flush returned", flush=True)  # never: the SIGTERM ends the process once the upload is done
"""


def test_sigterm_during_a_flush_upload_loses_nothing_and_ends_promptly(s3, tmp_path):
    """SIGTERM while the main thread uploads a segment in flush(), holding its lock, with more steps queued:
    the handler does not wait for that lock; the upload finishes, everything is written, the process dies
    by SIGTERM (a handler that waited would hang for the child's 600 s timeout)."""
    fs, bucket, options = s3
    out = sigterm_when_ready(SIGTERM_DURING_UPLOAD, "uploading", bucket, options["endpoint_url"], env=dict(os.environ))
    assert "flush returned" not in out
    fs.invalidate_cache()
    download(fs, f"{bucket}/run", tmp_path)
    all_files_intact(tmp_path)
    assert scalar_points(tmp_path, "loss") == [(step, float(step)) for step in range(100)]
