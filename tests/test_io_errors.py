"""I/O errors reach the caller as an OSError naming the path; no hang; what was written stays readable."""

from __future__ import annotations

import contextlib
import json
import os
import pathlib
import shutil
import subprocess
import tempfile

import numpy as np
import pytest

import tbcore
from reliability_helpers import all_files_intact, python
from tb_helpers import scalar_points
from tbcore import SummaryWriter
from tbcore.reader import list_runs

pytestmark = pytest.mark.core  # numpy + tensorboard only: also run with the oldest dependencies

FILL_UNTIL_ERROR = """
import json, os, resource, signal, sys
import numpy as np
from tbcore import SummaryWriter
logdir, limit = sys.argv[1], int(sys.argv[2])
if limit:
    signal.signal(signal.SIGXFSZ, signal.SIG_IGN)  # else the kernel kills the process instead of failing write()
    resource.setrlimit(resource.RLIMIT_FSIZE, (limit, limit))
writer = SummaryWriter(logdir, max_queue=5, flush_secs=60)
report = {"accepted": 0}
try:
    for step in range(100_000):
        writer.add_scalar("loss", float(step), step)
        writer.add_histogram("values", np.arange(200.0) * step, step)
        report["accepted"] = step + 1
        if step % 10 == 9:
            writer.flush()
except OSError as exc:
    report["error"] = [type(exc).__name__, exc.errno, str(exc)]
try:
    writer.close()
    report["close"] = "returned"
except OSError as exc:
    report["close"] = ["raised", str(exc)]
writer.add_scalar("after", 1.0, 0)  # a writer that was closed reopens a file, as torch does
report["reopened"] = True
print(json.dumps(report))
"""


def _check_full_disk_report(logdir, result, expected_errno):
    assert result.returncode == 0, result.stderr
    report = json.loads(result.stdout.strip().splitlines()[-1])
    kind, errno_, message = report["error"]
    assert errno_ == expected_errno and "tbcore could not write event file" in message
    assert str(logdir) in message
    assert report["close"][0] == "raised" and str(logdir) in report["close"][1]
    files = all_files_intact(logdir)
    assert files
    points = scalar_points(logdir, "loss")
    assert points == [(s, float(s)) for s in range(len(points))]
    assert 0 < len(points) <= report["accepted"] + 1
    return report


def test_file_size_limit_raises_efbig_and_keeps_the_file_readable(tmp_path):
    """RLIMIT_FSIZE (a disk that fills up): EFBIG with the path, at the next call; the file stays whole."""
    logdir = tmp_path / "logs"
    result = python(FILL_UNTIL_ERROR, logdir, 100_000)
    _check_full_disk_report(logdir, result, 27)  # EFBIG


@contextlib.contextmanager
def _mounted(*arguments: str):
    target = arguments[-1]
    try:
        subprocess.run(["mount", *arguments], check=True, capture_output=True, timeout=30)
    except (OSError, subprocess.SubprocessError):
        pytest.skip("cannot mount here (needs root with CAP_SYS_ADMIN)")
    try:
        yield target
    finally:
        subprocess.run(["umount", "-l", target], capture_output=True, timeout=30)


def test_full_tmpfs_raises_enospc(tmp_path):
    """A real full file system (a 256 KiB tmpfs): ENOSPC with the path; what was written reads back."""
    mount_point = tmp_path / "small"
    mount_point.mkdir()
    with _mounted("-t", "tmpfs", "-o", "size=256k", "tmpfs", str(mount_point)):
        logdir = mount_point / "logs"
        result = python(FILL_UNTIL_ERROR, logdir, 0)
        _check_full_disk_report(logdir, result, 28)  # ENOSPC


def test_read_only_file_system(tmp_path):
    """A read-only bind mount: the constructor raises an OSError naming the directory."""
    target = tmp_path / "ro"
    target.mkdir()
    with _mounted("--bind", "-o", "ro", str(target), str(target)):
        with pytest.raises(OSError, match="could not create an event file in.*ro/logs"):
            SummaryWriter(target / "logs")


def test_log_dir_deleted_while_writing(logdir):
    """Deleting the log dir under a live writer is reported (tensorboardX loses the data silently)."""
    writer = SummaryWriter(logdir, max_queue=1000, flush_secs=60)
    writer.add_scalar("loss", 1.0, 0)
    writer.flush()
    shutil.rmtree(logdir)
    writer.add_scalar("loss", 2.0, 1)
    with pytest.raises(FileNotFoundError, match="deleted or replaced") as info:
        writer.flush()
    assert str(logdir) in str(info.value)
    with pytest.raises(FileNotFoundError):
        writer.add_scalar("loss", 3.0, 2)  # sticky until close()
    with pytest.raises(FileNotFoundError):
        writer.close()
    writer.add_scalar("loss", 4.0, 3)  # after close() a new file is opened, the directory recreated
    writer.close()
    assert scalar_points(logdir, "loss") == [(3, 4.0)]


def test_log_dir_that_is_a_file(tmp_path):
    """A file where the log dir (or a sub-run dir) should be: NotADirectoryError naming it, at that call."""
    path = tmp_path / "a_file"
    path.write_text("not a directory")
    with pytest.raises(NotADirectoryError, match="could not create an event file in.*a_file"):
        SummaryWriter(path)
    logdir = tmp_path / "logs"
    writer = SummaryWriter(logdir)
    (logdir / "pair_a").write_text("in the way")
    with pytest.raises(NotADirectoryError, match="pair_a"):
        writer.add_scalars("pair", {"a": 1.0}, 0)
    writer.add_scalar("loss", 1.0, 0)
    writer.close()
    assert scalar_points(logdir, "loss") == [(0, 1.0)]
    assert path.read_text() == "not a directory"


NOT_WRITABLE = """
import json, os, sys
import multiprocessing.util
from tbcore import SummaryWriter, plugins
locked, open_dir = sys.argv[1], sys.argv[2]
plugins.summary_types()  # load what lives under root's private Python install while still root
os.setgid(65534); os.setuid(65534)  # root ignores permission bits: become nobody
report = {}
try:
    SummaryWriter(os.path.join(locked, "run"))
except OSError as exc:
    report["constructor"] = [type(exc).__name__, str(exc)]
writer = SummaryWriter(open_dir)
writer.add_scalar("loss", 1.0, 0)
writer.flush()
os.chmod(open_dir, 0o555)
try:
    writer.add_scalars("pair", {"a": 1.0}, 0)
except OSError as exc:
    report["sub_run"] = [type(exc).__name__, str(exc)]
writer.add_scalar("loss", 2.0, 1)
writer.close()
print(json.dumps(report))
"""


@pytest.fixture
def world_readable_tmp():
    """A temporary directory that an unprivileged user can enter (pytest's tmp_path is private to root)."""
    path = pathlib.Path(tempfile.mkdtemp(prefix="tbcore-io-"))
    path.chmod(0o755)
    yield path
    shutil.rmtree(path, ignore_errors=True)


def test_log_dir_not_writable(world_readable_tmp):
    """As an unprivileged user: PermissionError naming the directory; the writer keeps its own file."""
    tmp_path = world_readable_tmp
    locked = tmp_path / "locked"
    locked.mkdir(mode=0o755)
    open_dir = tmp_path / "open"
    open_dir.mkdir()
    os.chown(open_dir, 65534, 65534)
    result = python(NOT_WRITABLE, locked, open_dir)
    assert result.returncode == 0, result.stderr
    report = json.loads(result.stdout)
    assert report["constructor"][0] == "PermissionError" and str(locked / "run") in report["constructor"][1]
    assert report["sub_run"][0] == "PermissionError" and str(open_dir / "pair_a") in report["sub_run"][1]
    assert scalar_points(open_dir, "loss") == [(0, 1.0), (1, 2.0)]
    assert list(list_runs(tmp_path)) == ["open"]


def test_failure_in_the_writer_thread_is_raised_not_hung(logdir):
    """Any error in the writer thread (here a deferred device copy that fails) surfaces; flush never hangs.

    A lost device value is reported once (the writer goes on); I/O errors stay raised until close().
    """
    writer = SummaryWriter(logdir)

    def broken_copy() -> np.ndarray:
        raise RuntimeError("device lost")

    writer._pipeline.put_scalar(writer._main, "gpu", broken_copy, 0, 0.0)
    with pytest.raises(tbcore.DeferredValueError, match="tag 'gpu' at step 0 .*device lost"):
        writer.flush()
    writer.close()
    writer.add_scalar("loss", 1.0, 0)
    writer.close()
    assert scalar_points(logdir, "loss") == [(0, 1.0)]
