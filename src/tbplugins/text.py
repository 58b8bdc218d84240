"""Text: Markdown shown by TensorBoard's Text dashboard (``add_text``).

The tag is ``<tag>/text_summary`` as torch writes it. Unlike torch, the string is a
rank-0 tensor, which TensorBoard renders as a Markdown block; torch's shape ``[1]``
renders as a one-cell table (docs/guide/migration.md).
"""

from __future__ import annotations

from typing import Any

import numpy as np

import tbcore
from tbcore.proto import summary_pb2

PLUGIN_NAME = "text"
PROTO_VERSION = 0


def encode(tag: str, text_string: Any) -> summary_pb2.Summary:
    """Return a text summary of ``text_string`` (a str) under ``<tag>/text_summary``."""
    if isinstance(text_string, bytes):
        try:
            text_string = text_string.decode("utf-8")
        except UnicodeDecodeError:
            raise tbcore.invalid("text_string", "a str (or UTF-8 bytes)", text_string) from None
    if not isinstance(text_string, str):
        raise tbcore.invalid("text_string", "a str", text_string, kind=TypeError)
    return tbcore.tensor_summary(f"{tag}/text_summary", np.array(text_string, dtype=object), plugin_name=PLUGIN_NAME)


def decode(value: summary_pb2.Summary.Value) -> Any:
    """Return a text value as ``str`` (rank 0 or one element) or a numpy array of ``str`` (a table)."""
    array = tbcore.tensor_to_numpy(value.tensor)
    strings = np.vectorize(lambda raw: raw.decode("utf-8", errors="replace"), otypes=[object])(array)
    return strings.reshape(-1)[0] if strings.size == 1 else strings


@tbcore.hookimpl
def tbcore_summary_types() -> list[tbcore.SummaryType]:
    """Provide ``text``."""
    return [
        tbcore.SummaryType(
            name="text",
            plugin_name=PLUGIN_NAME,
            encode=encode,
            description="Markdown text (add_text)",
            adapt_value=False,
            decode=decode,
        )
    ]
