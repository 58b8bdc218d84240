"""Where a writer's files go: the local disk (``os`` calls) or any fsspec URL.

A :class:`Storage` opens event files, joins run and asset paths safely and writes
assets. :class:`LocalStorage` keeps the fast local path (plain ``os`` calls, no fsspec).
A ``log_dir`` written as a URL (``s3://bucket/run``, ``gs://``, ``az://``, ``memory://``,
or a chained ``simplecache::s3://...``) selects :class:`tbcore.remote.FsspecStorage`,
which imports fsspec only then; ``file://`` URLs are local paths.
"""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterable, Mapping
from typing import TYPE_CHECKING, Any, Protocol

from tbcore.errors import invalid
from tbcore.event_file import EventFile
from tbcore.paths import safe_join

if TYPE_CHECKING:
    from tbcore.event_file import Pipeline

__all__ = ["LocalStorage", "Storage", "is_url", "open_storage"]


class Storage(Protocol):
    """What the writer needs from a place to keep its files."""

    def join(self, root: str, relative: Any, argument: str) -> str:
        """Return ``root/relative``, raising ValueError naming ``argument`` if it leaves ``root``."""
        ...

    def event_file(self, directory: str, suffix: str, pipeline: Pipeline) -> EventFile:
        """Create a new event file in ``directory`` (created if needed), written by ``pipeline``."""
        ...

    def write_asset(self, path: str, data: Any) -> None:
        """Write an asset: ``data`` is bytes, or a function from the current bytes (or None) to new bytes."""
        ...

    def flush(self, files: Iterable[EventFile]) -> None:
        """Make what the pipeline already wrote to ``files`` durable in the store (raises OSError)."""
        ...


class LocalStorage:
    """Files on the local disk through ``os`` calls (the default, and the fast path)."""

    def join(self, root: str, relative: Any, argument: str) -> str:
        """Return ``root/relative`` after :func:`tbcore.paths.safe_join`'s checks (symbolic links included)."""
        return safe_join(root, relative, argument)

    def event_file(self, directory: str, suffix: str, pipeline: Pipeline) -> EventFile:
        """Create a new local event file in ``directory``."""
        return EventFile(directory, suffix)

    def write_asset(self, path: str, data: Any) -> None:
        """Write an asset file atomically (a temporary file renamed over it)."""
        if callable(data):
            try:
                with open(path, "rb") as existing:
                    current: bytes | None = existing.read()
            except FileNotFoundError:
                current = None
            data = data(current)
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

    def flush(self, files: Iterable[EventFile]) -> None:
        """Nothing to do: every write already reached the operating system."""


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
