"""Log directories on any fsspec filesystem (S3, GCS, Azure, memory, ...): paths, assets, retries.

Imported only when a ``log_dir`` is a URL, so ``import tbcore`` never imports fsspec.
Credentials and endpoints come from the filesystem package's usual configuration
(environment variables, config files, fsspec's config) or the writer's
``storage_options`` keyword. Event files are written as bounded segments by
:class:`tbcore.segments.SegmentedEventFile`.

Every store operation is retried with exponential backoff; failures that retrying
cannot fix (bad credentials, a missing bucket) stop at once. Either way the caller gets
an :class:`OSError` naming the object.
"""

from __future__ import annotations

import atexit
import contextlib
import itertools
import threading
import time
from collections.abc import Callable, Iterable, Sequence
from contextlib import AbstractContextManager
from typing import TYPE_CHECKING, Any, TypeVar

import fsspec

from tbcore.paths import relative_parts
from tbcore.segments import SegmentedEventFile

if TYPE_CHECKING:
    from tbcore.event_file import BaseEventFile
    from tbcore.pipeline import Pipeline

__all__ = ["FsspecStorage", "with_retries"]

T = TypeVar("T")
TRIES = 5  #: attempts per store operation before a transient failure is reported
BACKOFF_SECS = 0.25  #: wait before the second attempt; doubles after each failure
MAX_BACKOFF_SECS = 8.0
SEGMENT_BYTES = 4 * 1024 * 1024  #: an event-file segment is final, and a new one started, past this size
REWRITE_FACTOR = 8  #: ... or once re-uploading it has cost this many times its size
#: Failures that another attempt cannot fix: bad credentials, a missing bucket, a bad path.
PERMANENT = (PermissionError, FileNotFoundError, IsADirectoryError, NotADirectoryError, ValueError, TypeError)
#: Object stores have no directories to create (and s3fs's makedirs would create a missing bucket).
OBJECT_STORES = frozenset({"s3", "s3a", "gs", "gcs", "az", "abfs", "abfss", "adl", "oci", "oss"})


def with_retries(operation: Callable[[], T], path: str, action: str) -> T:
    """Return ``operation()``, retrying transient failures with exponential backoff.

    :raises OSError: naming ``path``, at once for a permanent failure (see :data:`PERMANENT`),
        or after :data:`TRIES` attempts; the original exception is its ``__cause__``.
    """
    delay = BACKOFF_SECS
    for attempt in itertools.count(1):
        try:
            return operation()
        except PERMANENT as exc:
            raise _as_os_error(exc, path, action, attempt) from exc
        except Exception as exc:  # noqa: BLE001 - network libraries raise their own types: retry, then report
            if attempt >= TRIES:
                raise _as_os_error(exc, path, action, attempt) from exc
            time.sleep(delay)
            delay = min(delay * 2, MAX_BACKOFF_SECS)
    raise AssertionError("unreachable")  # pragma: no cover


def _as_os_error(exc: BaseException, path: str, action: str, attempts: int) -> OSError:
    reason = exc.strerror if isinstance(exc, OSError) and exc.strerror else str(exc)
    tries = "1 try" if attempts == 1 else f"{attempts} tries"
    message = f"tbcore could not {action} {path} ({tries}): {type(exc).__name__}: {reason}"
    cls = type(exc) if isinstance(exc, OSError) and type(exc).__module__ == "builtins" else OSError
    return cls(message)


class FsspecStorage:
    """A log directory on an fsspec filesystem; paths handed around are URLs under ``root``."""

    def __init__(
        self,
        root_url: str,
        options: dict[str, Any],
        segment_bytes: int = SEGMENT_BYTES,
        rewrite_factor: int = REWRITE_FACTOR,
    ) -> None:
        self.root_url = root_url
        self._options = options
        self._fs: Any
        self._fs, path = fsspec.core.url_to_fs(root_url, **options)
        self.root_path = path.rstrip("/")
        self.segment_bytes = segment_bytes
        self.rewrite_factor = rewrite_factor
        self._waiting: set[SegmentedEventFile] = set()
        self._timer: threading.Timer | None = None
        self._timer_lock = threading.Lock()
        protocols = self._fs.protocol if isinstance(self._fs.protocol, (tuple, list)) else (self._fs.protocol,)
        self.makes_dirs = not OBJECT_STORES.intersection(protocols)

    @classmethod
    def from_url(cls, url: str, options: dict[str, Any]) -> tuple[str, FsspecStorage]:
        """Return ``(log_dir, storage)`` for a log directory URL and fsspec ``options``."""
        url = url.rstrip("/")
        storage = cls(url, options, SEGMENT_BYTES, REWRITE_FACTOR)
        _register_exit_hook()
        return url, storage

    @property
    def fs(self) -> Any:
        """The fsspec filesystem; opened again on first use in a forked child (see :meth:`after_fork_in_child`)."""
        if self._fs is None:
            self._fs = fsspec.core.url_to_fs(self.root_url, **self._options)[0]
        return self._fs

    def after_fork_in_child(self) -> None:
        """Start afresh in a forked child: the parent's timer does not run here, and its lock may have been
        held at the fork. The filesystem is opened again when first used: fsspec's asynchronous clients
        (s3fs, gcsfs, adlfs) refuse to run in a forked child, and opening it only then costs children that
        never log (DataLoader workers) nothing.
        """
        self._timer_lock = threading.Lock()
        self._timer = None
        self._waiting = set()
        self._fs = None

    def fs_path(self, url: str) -> str:
        """Return the filesystem's own path for a URL under the log directory."""
        return self.root_path + url[len(self.root_url) :]

    def join(self, root: str, relative: Any, argument: str) -> str:
        """Return ``root/relative``; ``relative`` must not be absolute or contain ``..`` (no symbolic links here)."""
        return "/".join([root.rstrip("/"), *relative_parts(relative, argument)])

    def event_file(self, directory: str, suffix: str, pipeline: Pipeline) -> BaseEventFile:
        """Start a new segmented event file in ``directory``; upload failures are reported to ``pipeline``."""
        self.makedirs(directory)

        return SegmentedEventFile(self, directory, suffix, pipeline.flush_secs, pipeline.keep_error)

    def upload_later(self, file: SegmentedEventFile, delay: float) -> None:
        """Upload what waits in ``file`` within ``delay`` seconds (one timer thread for all files)."""
        with self._timer_lock:
            self._waiting.add(file)
            if self._timer is None:
                self._timer = threading.Timer(delay, self._upload_waiting)
                self._timer.daemon = True
                self._timer.start()

    def forget(self, file: SegmentedEventFile) -> None:
        """Stop waiting for a closed ``file``; the timer stops when no file waits."""
        with self._timer_lock:
            self._waiting.discard(file)
            if not self._waiting and self._timer is not None:
                self._timer.cancel()
                self._timer = None

    def _upload_waiting(self) -> None:
        with self._timer_lock:
            files, self._waiting, self._timer = self._waiting, set(), None
        for file in files:
            file.upload_waiting()

    def makedirs(self, directory: str) -> None:
        """Create ``directory`` on filesystems that have directories."""
        if self.makes_dirs:
            path = self.fs_path(directory)
            with_retries(lambda: self.fs.makedirs(path, exist_ok=True), directory, "create directory")

    def put(self, url: str, data: bytes) -> None:
        """Store ``data`` as the object ``url`` (replacing it), with retries."""
        path = self.fs_path(url)
        with_retries(lambda: self.fs.pipe_file(path, data), url, "upload")

    def get(self, url: str) -> bytes | None:
        """Return the bytes of the object ``url``, or None if it does not exist."""
        path = self.fs_path(url)

        def read() -> bytes | None:
            try:
                return bytes(self.fs.cat_file(path))
            except FileNotFoundError:
                return None

        return with_retries(read, url, "read")

    def read_asset(self, path: str) -> bytes | None:
        """Download an asset, or None if it does not exist."""
        return self.get(path)

    def write_asset(self, path: str, data: bytes) -> None:
        """Upload an asset (object stores replace objects atomically)."""
        self.makedirs(path.rsplit("/", 1)[0])
        self.put(path, bytes(data))

    def lock_assets(self, paths: Sequence[str]) -> AbstractContextManager[Any]:
        """Lock nothing: object stores have no locks, so concurrent updates of one asset can lose one (documented)."""
        return contextlib.nullcontext()

    def flush(self, files: Iterable[BaseEventFile]) -> None:
        """Upload what is pending in every segmented event file (raises the first OSError)."""
        for file in files:
            if isinstance(file, SegmentedEventFile):
                file.upload()


_exit_hook: list[bool] = []


def _register_exit_hook() -> None:
    """Close writers with remote log dirs at exit, while fsspec's event loop can still use threads.

    ``weakref.finalize`` (which closes local writers) runs after ``concurrent.futures`` has shut
    its executors down, and an upload started then never finishes. Threading's exit hooks run
    before that (``concurrent.futures`` registers its own the same way; later hooks run first).
    """
    if not _exit_hook:
        _exit_hook.append(True)
        getattr(threading, "_register_atexit", atexit.register)(_close_remote_writers)


def _close_remote_writers() -> None:
    from tbcore.lifecycle import live_writers

    for writer in live_writers():
        if isinstance(getattr(writer, "_storage", None), FsspecStorage):
            writer._finalizer()  # prints an error as at garbage collection: "tbcore: events of <log_dir> may be lost"
