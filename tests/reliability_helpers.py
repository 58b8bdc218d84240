"""Helpers shared by the reliability tests: child Python processes and strict read-back."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import textwrap
import time
from typing import Any

from tbcore.reader import list_runs
from tbcore.verify import verify_file

CHILD_TIMEOUT = 120

#: Child code: ``collect_in_writer_thread(pipeline, file)`` queues a scalar (x = 2.0 at step 1) whose
#: value the writer thread computes by running the garbage collector, so that a writer in a reference
#: cycle is collected in its own thread; then waits for that and for the closes it started.
COLLECT_IN_WRITER_THREAD = """
import gc, threading
import numpy as np

def collect_in_writer_thread(pipeline, file):
    collected = threading.Event()

    def value():
        gc.collect()
        collected.set()
        return np.array([2.0])

    pipeline.put_scalar(file, "x", value, 1, 0.0)
    pipeline._wake()
    assert collected.wait(60), "the writer thread did not run the garbage collector"
    for thread in threading.enumerate():
        if thread.name == "tbcore-close":
            thread.join(60)
"""


def python(code: str, *args: Any, wait: bool = True, **popen: Any) -> Any:
    """Run ``code`` (dedented) in a fresh interpreter with ``args`` as sys.argv[1:].

    With ``wait`` return the CompletedProcess (text output), else the Popen (stdout piped).
    """
    command = [sys.executable, "-c", textwrap.dedent(code), *map(str, args)]
    if wait:
        return subprocess.run(command, capture_output=True, text=True, timeout=CHILD_TIMEOUT, **popen)
    return subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, **popen)


def sigterm_when_ready(code: str, ready: str, *args: Any, timeout: float = 60.0, **popen: Any) -> str:
    """Run ``code`` as :func:`python` does, send SIGTERM once it prints the line ``ready``; return its stdout.

    Fails if the child does not die by SIGTERM, or still runs after ``timeout`` seconds (it is killed then).
    """
    child = python(code, *args, wait=False, **popen)
    try:
        assert child.stdout.readline().strip() == ready
        child.send_signal(signal.SIGTERM)
        out, err = child.communicate(timeout=timeout)
    except subprocess.TimeoutExpired:
        raise AssertionError(f"the child still ran {timeout} s after SIGTERM") from None
    finally:
        if child.poll() is None:
            child.kill()
            child.communicate()
    assert child.returncode == -signal.SIGTERM, err
    return out


def all_files_intact(logdir: str | os.PathLike[str], *, torn_tail: bool = False) -> list[str]:
    """Check that every event file under ``logdir`` is whole, valid records (``torn_tail``: but a cut last one).

    Returns their paths.
    """
    paths = [path for files in list_runs(logdir).values() for path in files]
    for path in paths:
        report = verify_file(path)
        assert report.ok or (torn_tail and report.problem.startswith("truncated record")), report
    return paths


def wait_for(predicate: Any, timeout: float = 60.0, interval: float = 0.05) -> bool:
    """Poll ``predicate()`` until it is true or ``timeout`` passes; return its last value."""
    deadline = time.monotonic() + timeout
    while True:
        value = predicate()
        if value or time.monotonic() > deadline:
            return bool(value)
        time.sleep(interval)


def wait_child(pid: int, timeout: float = 60.0) -> int:
    """Wait for the forked child ``pid`` and return its exit status; kill it and fail if it hangs past ``timeout``."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        done, status = os.waitpid(pid, os.WNOHANG)
        if done:
            return os.waitstatus_to_exitcode(status)
        time.sleep(0.01)
    os.kill(pid, signal.SIGKILL)
    os.waitpid(pid, 0)
    raise AssertionError("the forked child hung")
