"""tbcore.filelock: the cross-process lock that guards read-modify-write asset updates."""

from __future__ import annotations

import os
import sys
import threading

import pytest

from tbcore.filelock import LOCK_SUFFIX, locked

pytestmark = pytest.mark.skipif(sys.platform == "win32", reason="no flock on Windows: the lock is a no-op there")


def _open_fds() -> set[str]:
    return set(os.listdir("/proc/self/fd")) if os.path.isdir("/proc/self/fd") else set()


def test_two_threads_take_turns_and_no_lock_file_stays(tmp_path):
    path = str(tmp_path / "config.pbtxt")
    inside, overlaps = [], []

    def work() -> None:
        for _ in range(20):
            with locked([path]):
                inside.append(1)
                if len(inside) > 1:
                    overlaps.append(1)
                inside.pop()

    threads = [threading.Thread(target=work) for _ in range(3)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert overlaps == []
    assert os.listdir(tmp_path) == []


def test_a_lock_file_removed_while_held_is_released_quietly(tmp_path):
    """A cleanup that deletes ``*.lock`` must not turn a finished update into an error, nor leak the descriptor."""
    path = str(tmp_path / "config.pbtxt")
    before = _open_fds()
    with locked([path]):
        os.unlink(path + LOCK_SUFFIX)
    assert _open_fds() == before
    with locked([path]):  # the lock is free again
        assert os.path.exists(path + LOCK_SUFFIX)
    assert os.listdir(tmp_path) == []


def test_a_lock_file_replaced_while_held_is_left_to_its_new_holder(tmp_path):
    path = str(tmp_path / "config.pbtxt")
    with locked([path]):
        os.unlink(path + LOCK_SUFFIX)
        with open(path + LOCK_SUFFIX, "wb"):  # another writer's lock file, made after the cleanup
            pass
    assert os.listdir(tmp_path) == ["config.pbtxt.lock"]
