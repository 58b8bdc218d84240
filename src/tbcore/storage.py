"""Where a writer's files go: the local disk (``os`` calls) or any fsspec URL.

A :class:`Storage` opens event files, joins run and asset paths safely and writes
assets (:func:`write_assets`). :class:`LocalStorage` keeps the fast local path (plain
``os`` calls, no fsspec).
A ``log_dir`` written as a URL (``s3://bucket/run``, ``gs://``, ``az://``, ``memory://``,
or a chained ``simplecache::s3://...``) selects :class:`tbcore.remote.FsspecStorage`,
which imports fsspec only then; ``file://`` URLs are local paths.
"""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterable, Mapping, Sequence
from contextlib import AbstractContextManager
from typing import TYPE_CHECKING, Any, Protocol

from tbcore.errors import invalid
from tbcore.event_file import BaseEventFile, EventFile
from tbcore.filelock import locked
from tbcore.paths import safe_join

if TYPE_CHECKING:
    from tbcore.pipeline import Pipeline

__all__ = ["LocalStorage", "Storage", "is_url", "open_storage", "write_assets"]


class Storage(Protocol):
    """What the writer needs from a place to keep its files."""

    def join(self, root: str, relative: Any, argument: str) -> str:
        """Return ``root/relative``, raising ValueError naming ``argument`` if it leaves ``root``."""
        ...

    def event_file(self, directory: str, suffix: str, pipeline: Pipeline) -> BaseEventFile:
        """Create a new event file in ``directory`` (created if needed), written by ``pipeline``."""
        ...

    def read_asset(self, path: str) -> bytes | None:
        """Return the content of the asset file ``path``, or None if it does not exist."""
        ...

    def write_asset(self, path: str, data: bytes) -> None:
        """Write the asset file ``path``, replacing it atomically."""
        ...

    def lock_assets(self, paths: Sequence[str]) -> AbstractContextManager[Any]:
        """Return a context that holds ``paths`` against other writers' read-modify-write (where the store can)."""
        ...

    def flush(self, files: Iterable[BaseEventFile]) -> None:
        """Make what the pipeline already wrote to ``files`` durable in the store (raises OSError)."""
        ...

    def after_fork_in_child(self) -> None:
        """Drop what belongs to the parent process (locks, timers, clients); called in a forked child."""
        ...


class LocalStorage:
    """Files on the local disk through ``os`` calls (the default, and the fast path)."""

    def join(self, root: str, relative: Any, argument: str) -> str:
        """Return ``root/relative`` after :func:`tbcore.paths.safe_join`'s checks (symbolic links included)."""
        return safe_join(root, relative, argument)

    def event_file(self, directory: str, suffix: str, pipeline: Pipeline) -> BaseEventFile:
        """Create a new local event file in ``directory``."""
        return EventFile(directory, suffix)

    def read_asset(self, path: str) -> bytes | None:
        """Return the content of the file ``path``, or None if it does not exist."""
        try:
            with open(path, "rb") as existing:
                return existing.read()
        except FileNotFoundError:
            return None

    def write_asset(self, path: str, data: bytes) -> None:
        """Write an asset file atomically (a temporary file renamed over it)."""
        os.makedirs(os.path.dirname(path) or ".", exist_ok=True)
        tmp = f"{path}.tmp-{os.getpid()}-{uuid.uuid4().hex[:8]}"
        try:
            with open(tmp, "wb") as out:
                out.write(data)
            os.replace(tmp, path)
        except BaseException:
            if os.path.exists(tmp):
                os.unlink(tmp)
            raise

    def lock_assets(self, paths: Sequence[str]) -> AbstractContextManager[Any]:
        """Lock ``paths`` across processes and threads (:mod:`tbcore.filelock`)."""
        return locked(paths)

    def flush(self, files: Iterable[BaseEventFile]) -> None:
        """Nothing to do: every write already reached the operating system."""

    def after_fork_in_child(self) -> None:
        """Nothing to do: local files hold no lock, timer or client."""


def write_assets(storage: Storage, assets: Sequence[tuple[str, Any]]) -> None:
    """Write one call's asset files (``(path, data)``), so that an update that fails leaves nothing written.

    ``data`` is bytes, or a function from the file's current bytes (None if it does not exist)
    to its new bytes. The functions run first, on the current content, while
    :meth:`Storage.lock_assets` holds their files: one that raises (e.g. content it cannot
    parse) stops the call before any file is written. Then the plain files are written,
    then the functions' results; the lock makes concurrent writers (other processes
    included, on local disks) apply their updates one after the other.
    """
    if not assets:
        return  # most calls: nothing to lock
    updates = sorted({path for path, data in assets if callable(data)})
    with storage.lock_assets(updates):
        results: dict[str, bytes] = {}
        for path, data in assets:
            if callable(data):
                results[path] = data(results[path] if path in results else storage.read_asset(path))
        for path, data in assets:
            if not callable(data):
                storage.write_asset(path, data)
        for path, content in results.items():
            storage.write_asset(path, content)


def is_url(path: str) -> bool:
    """Return True if ``path`` is a URL for fsspec (``scheme://...`` or a chained ``a::b://...``)."""
    head, sep, _ = path.partition("://")
    scheme = head.replace("::", "").replace("+", "").replace("-", "").replace(".", "")
    return bool(sep) and len(head) > 1 and scheme.isalnum()  # one letter is a Windows drive (C://)


def open_storage(log_dir: str, storage_options: Mapping[str, Any] | None = None) -> tuple[str, Storage]:
    """Return the normalized ``log_dir`` and the storage that writes it.

    :param storage_options: keyword arguments for the fsspec filesystem (only for URLs).
    """
    if storage_options is not None and not isinstance(storage_options, Mapping):
        expected = "a mapping of fsspec filesystem options, or None"
        raise invalid("storage_options", expected, storage_options, kind=TypeError)
    if log_dir.startswith("file://"):
        local = log_dir[len("file://") :]
        if not local.startswith("/"):
            raise invalid("log_dir", "a file:// URL with an absolute path (file:///abs/path)", log_dir)
        return local, LocalStorage()
    if not is_url(log_dir):
        if storage_options:
            raise invalid("storage_options", "None for a local log_dir (they apply to URLs only)", storage_options)
        return log_dir, LocalStorage()
    from tbcore.remote import FsspecStorage

    return FsspecStorage.from_url(log_dir, dict(storage_options or {}))
