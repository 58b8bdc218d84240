"""Keeping every file the writer creates inside its log directory."""

from __future__ import annotations

import datetime
import os
import socket
from typing import Any

from tbcore.errors import invalid

__all__ = ["check_name_part", "default_log_dir", "relative_parts", "safe_join"]


def check_name_part(value: Any, argument: str) -> str:
    """Return ``value`` if it can be part of a file or directory name: no separators, NUL or ``..``."""
    if not isinstance(value, str):
        raise invalid(argument, "a str", value, kind=TypeError)
    if "/" in value or "\\" in value or "\x00" in value or value in (".", ".."):
        raise invalid(argument, "a str without '/', '\\', NUL, and not '.' or '..'", value)
    return value


def relative_parts(relative: Any, argument: str) -> list[str]:
    """Return the segments of ``relative``, a POSIX path that cannot leave the directory it is joined to.

    :raises ValueError: naming ``argument`` for an absolute path, a drive, ``..``, ``.``, empty
        segments, backslashes or NUL.
    """
    if not isinstance(relative, str):
        raise invalid(argument, "a relative path as a str", relative, kind=TypeError)
    parts = relative.split("/")
    if (
        not relative
        or relative.startswith("/")
        or "\\" in relative
        or "\x00" in relative
        or any(part in ("", ".", "..") for part in parts)
        or (len(relative) > 1 and relative[1] == ":")
    ):
        expected = "a relative path inside the log directory (no '..', '\\', NUL or leading '/')"
        raise invalid(argument, expected, relative)
    return parts


def safe_join(root: str, relative: Any, argument: str) -> str:
    """Return ``root/relative`` after checking that it stays inside ``root``.

    ``relative`` is a POSIX path: it must not be absolute, contain NUL, backslashes or
    ``..`` segments, and must not resolve (through symbolic links) outside ``root``.

    :raises ValueError: naming ``argument`` when the path would leave ``root``.
    """
    parts = relative_parts(relative, argument)
    joined = os.path.join(root, *parts)
    real_root = os.path.realpath(root)
    real = os.path.realpath(joined)
    if real != real_root and not real.startswith(real_root.rstrip(os.sep) + os.sep):
        raise invalid(argument, "a path that stays inside the log directory", relative)
    return joined


def default_log_dir(comment: str = "") -> str:
    """Return torch's default log directory: ``runs/<Mon>DD_HH-MM-SS_<hostname><comment>``."""
    if comment:
        check_name_part(comment, "comment")
    stamp = datetime.datetime.now().strftime("%b%d_%H-%M-%S")
    return os.path.join("runs", f"{stamp}_{socket.gethostname()}{comment}")
