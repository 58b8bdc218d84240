"""No argument can create or modify a file outside the log directory (checked in a sandbox)."""

from __future__ import annotations

import os

import numpy as np
import pytest

from tbcore import SummaryWriter, plugins

pytestmark = pytest.mark.core  # numpy + tensorboard only: also run with the oldest dependencies

EVIL = [
    "../escaped",
    "../../escaped",
    "a/../../escaped",
    "/tmp/tbcore-escaped",
    "..",
    ".",
    "..\\escaped",
    "x\x00y",
    "~/escaped",
    "",
    "a//b",
    "C:\\escaped",
]


def _snapshot(root) -> dict[str, tuple[int, int]]:
    found = {}
    for directory, dirs, files in os.walk(root):
        for name in dirs + files:
            path = os.path.join(directory, name)
            info = os.lstat(path)
            found[path] = (info.st_mtime_ns, info.st_size)
    return found


def _call_everything(writer: SummaryWriter, value: str) -> None:
    """Every writer argument that ends up in a path, given ``value``; errors are fine, escapes are not."""
    calls = [
        lambda: writer.add_scalars(value, {"k": 1.0}, 0),
        lambda: writer.add_scalars("main", {value: 1.0}, 0),
        lambda: writer.add_scalars(value, {value: 1.0}, 0),
    ]
    kinds = plugins.summary_types()
    if "hparams" in kinds:
        calls.append(lambda: writer.add_hparams({"lr": 0.1}, {"metric": 1.0}, run_name=value))
    if "embedding" in kinds:
        calls.append(lambda: writer.add_embedding(np.zeros((3, 2)), tag=value))
        calls.append(lambda: writer.add_embedding(np.zeros((3, 2)), tag="e", global_step=value))
        calls.append(lambda: writer.add_embedding(np.zeros((3, 2)), metadata=[value] * 3, tag="m"))
    for call in calls:
        try:
            call()
        except (TypeError, ValueError):
            pass


@pytest.fixture
def sandbox(tmp_path, monkeypatch):
    """``tmp_path/box`` holds the log dir, a working directory and bait files; returns (box, logdir)."""
    box = tmp_path / "box"
    logdir = box / "inner" / "logs"
    logdir.mkdir(parents=True)
    (box / "cwd").mkdir()
    (box / "bait.txt").write_text("bait")
    (box / "inner" / "bait.txt").write_text("bait")
    (box / "outside_dir").mkdir()
    os.symlink(box / "outside_dir", logdir / "main_k")  # a sub-run name pointing out of the log dir
    monkeypatch.chdir(box / "cwd")
    return box, logdir


def test_no_argument_writes_outside_the_log_dir(sandbox):
    box, logdir = sandbox
    before = _snapshot(box)
    writer = SummaryWriter(logdir, max_queue=1)
    for value in EVIL:
        _call_everything(writer, value)
        for suffix_or_comment in ("filename_suffix", "comment"):
            try:
                other = SummaryWriter(None if suffix_or_comment == "comment" else logdir, **{suffix_or_comment: value})
                other.add_scalar("x", 1.0, 0)
                other.close()
            except (TypeError, ValueError):
                pass
    writer.add_scalar("still", 1.0, 0)
    writer.close()
    after = _snapshot(box)
    allowed = (str(logdir) + os.sep, str(box / "cwd" / "runs") + os.sep)
    changed = {path for path in after if before.get(path) != after[path]}
    parents = {str(logdir), str(box / "cwd"), str(box / "cwd" / "runs")}  # they gain entries: their mtime changes
    escaped = {path for path in changed if not path.startswith(allowed) and path not in parents}
    assert escaped == set()
    assert os.listdir(box / "outside_dir") == []
    assert not os.path.exists("/tmp/tbcore-escaped")


@pytest.mark.parametrize("value", [value for value in EVIL if value])  # "" is torch's default: no name part
def test_path_arguments_are_rejected_with_a_clear_error(logdir, value):
    """filename_suffix and comment are single name parts: separators, NUL, '.' and '..' are refused."""
    with pytest.raises(ValueError, match="filename_suffix: expected"):
        SummaryWriter(logdir, filename_suffix=value)
    with pytest.raises(ValueError, match="comment: expected"):
        SummaryWriter(comment=value)


def test_log_dir_with_dot_dot_is_the_log_dir(tmp_path):
    """A log_dir spelled with '..' is where the user asked: everything lands under its normalised path."""
    (tmp_path / "a").mkdir()
    with SummaryWriter(str(tmp_path / "a" / ".." / "b")) as writer:
        writer.add_scalars("m", {"k": 1.0}, 0)
    assert sorted(os.listdir(tmp_path)) == ["a", "b"]
    assert os.listdir(tmp_path / "a") == []
    with pytest.raises(ValueError, match="log_dir: expected a non-empty path without NUL"):
        SummaryWriter(str(tmp_path / "x\x00y"))
