"""Helpers to check what a test wrote, with tbcore's reader and with the real TensorBoard.

For tbcore's own tests and for plugin authors. The TensorBoard helpers need the
``tensorboard`` package (``pip install tbcore[test]``)::

    from tbcore.testing import read_events, tensorboard_accumulator, TensorBoardServer

    acc = tensorboard_accumulator(logdir)        # TensorBoard's own Python loader
    with TensorBoardServer(logdir) as server:    # a real server on 127.0.0.1
        runs = server.get_json("/data/runs")
"""

from __future__ import annotations

import json
import os
import shutil
import socket
import subprocess
import sys
import time
import urllib.parse
import urllib.request
from collections.abc import Callable
from typing import Any

from tbcore.proto import event_pb2
from tbcore.reader import iter_events, run_files

__all__ = [
    "TensorBoardServer",
    "free_port",
    "read_events",
    "tensorboard_accumulator",
    "tensorboard_command",
    "tensorboard_provider",
]


def read_events(logdir: str | os.PathLike[str], run: str = ".") -> list[event_pb2.Event]:
    """Return every event of ``run`` under ``logdir`` (files in name order), read with tbcore's reader."""
    return [event for path in run_files(os.path.join(logdir, run)) for event in iter_events(path)]


def tensorboard_accumulator(run_dir: str | os.PathLike[str]) -> Any:
    """Return TensorBoard's ``plugin_event_accumulator.EventAccumulator`` for one run, loaded, keeping all points.

    :raises ImportError: the ``tensorboard`` package is not installed (so for :func:`tensorboard_provider`).
    """
    from tensorboard.backend.event_processing import plugin_event_accumulator

    acc = plugin_event_accumulator.EventAccumulator(os.fspath(run_dir), size_guidance={"tensors": 0, "scalars": 0})
    acc.Reload()
    return acc


def tensorboard_provider(logdir: str | os.PathLike[str]) -> Any:
    """Return TensorBoard's Python data provider (what ``--load_fast=false`` serves) for ``logdir``, loaded."""
    from tensorboard.backend.event_processing import data_provider, plugin_event_multiplexer

    multiplexer = plugin_event_multiplexer.EventMultiplexer(size_guidance={"tensors": 0, "scalars": 0})
    multiplexer.AddRunsFromDirectory(os.fspath(logdir))
    multiplexer.Reload()
    return data_provider.MultiplexerDataProvider(multiplexer, os.fspath(logdir))


def tensorboard_command() -> list[str]:
    """Return the command that starts TensorBoard for this Python (its ``tensorboard`` script, else ``-m``).

    Flags (``--logdir`` ...) are appended by the caller. Whether TensorBoard is installed is
    not checked: a missing one fails when the command runs.
    """
    exe = shutil.which("tensorboard", path=os.path.dirname(sys.executable)) or shutil.which("tensorboard")
    return [exe] if exe else [sys.executable, "-m", "tensorboard.main"]


def free_port() -> int:
    """Return a TCP port on 127.0.0.1 that is free right now."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


class TensorBoardServer:
    """A real ``tensorboard`` process serving ``logdir`` on 127.0.0.1, started and stopped by ``with``.

    :param load_fast: ``"false"`` for the Python loader, ``"true"`` for the Rust data server.
    :param extra_args: more command-line flags (e.g. ``["--samples_per_plugin", "images=100"]``).
    :param start_timeout: seconds :meth:`start` waits for the server to answer.
    """

    def __init__(
        self,
        logdir: str | os.PathLike[str],
        *,
        load_fast: str = "false",
        extra_args: list[str] | None = None,
        start_timeout: float = 60.0,
    ) -> None:
        self.logdir = os.fspath(logdir)
        self.load_fast = load_fast
        self.extra_args = extra_args or []
        self.start_timeout = start_timeout
        self.port = 0
        self._process: subprocess.Popen[bytes] | None = None
        self._log = b""

    def __enter__(self) -> TensorBoardServer:
        self.start()
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.stop()

    @property
    def url(self) -> str:
        """The server's base URL."""
        return f"http://127.0.0.1:{self.port}"

    def start(self) -> None:
        """Start the server on a free port and wait until it answers HTTP requests.

        :raises RuntimeError: ``tensorboard`` exited (the message holds its output).
        :raises TimeoutError: it did not answer within ``start_timeout`` seconds (it is stopped).
        """
        self.port = free_port()
        command = tensorboard_command()
        command += ["--logdir", self.logdir, "--host", "127.0.0.1", "--port", str(self.port)]
        command += ["--load_fast", self.load_fast, "--reload_interval", "1", *self.extra_args]
        self._process = subprocess.Popen(
            command, stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.STDOUT
        )
        deadline = time.monotonic() + self.start_timeout
        while time.monotonic() < deadline:
            if self._process.poll() is not None:
                out = self._process.stdout.read() if self._process.stdout else b""
                raise RuntimeError(
                    f"tensorboard exited with {self._process.returncode}: {out.decode(errors='replace')}"
                )
            try:
                self.get("/data/logdir")
                return
            except OSError:
                time.sleep(0.2)
        self.stop()
        raise TimeoutError(f"tensorboard did not answer on port {self.port} within {self.start_timeout} s")

    def stop(self) -> None:
        """Stop the server (SIGTERM, then SIGKILL after 10 s)."""
        process, self._process = self._process, None
        if process is None:
            return
        process.terminate()
        try:
            process.wait(10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(10)
        for stream in (process.stdin, process.stdout):
            if stream is not None:
                stream.close()

    def get(self, path: str, **params: Any) -> bytes:
        """Return the body of ``GET path?params``.

        :raises OSError: the request failed (``urllib.error.HTTPError`` for an error status).
        """
        query = urllib.parse.urlencode(params, doseq=True)
        with urllib.request.urlopen(f"{self.url}{path}{'?' + query if query else ''}", timeout=30) as response:
            return bytes(response.read())

    def get_json(self, path: str, **params: Any) -> Any:
        """Return the decoded JSON body of ``GET path?params``."""
        return json.loads(self.get(path, **params))

    def post_json(self, path: str, body: Any = None, form: dict[str, Any] | None = None) -> Any:
        """POST a JSON ``body`` (or a ``form``) and return the decoded JSON answer."""
        if form is not None:
            data = urllib.parse.urlencode(form, doseq=True).encode()
            content_type = "application/x-www-form-urlencoded"
        else:
            data = json.dumps(body).encode()
            content_type = "application/json"
        request = urllib.request.Request(self.url + path, data=data, headers={"Content-Type": content_type})
        with urllib.request.urlopen(request, timeout=30) as response:
            return json.loads(response.read())

    def wait_for(self, path: str, predicate: Callable[[Any], object], timeout: float = 60.0, **params: Any) -> Any:
        """Poll ``GET path?params`` until ``predicate(json)`` is true (data appears after a reload); return the JSON.

        :raises TimeoutError: the condition did not hold within ``timeout`` seconds (the message shows the
            last answer).
        """
        deadline = time.monotonic() + timeout
        last: Any = None
        while time.monotonic() < deadline:
            try:
                last = self.get_json(path, **params)
                if predicate(last):
                    return last
            except OSError:
                pass
            time.sleep(0.3)
        raise TimeoutError(f"{path} never satisfied the condition within {timeout} s; last answer: {last!r}")
