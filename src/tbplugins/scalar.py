"""Scalars: ``add_scalar`` (one value) and ``add_scalars`` (one sub-run per key, as torch does).

The legacy ``simple_value`` form is written by default; ``new_style`` writes a rank-0
float32 tensor with the ``scalars`` plugin metadata. Both show in both TensorBoard
loaders. (torch's ``double_precision`` float64 tensors are dropped by the default Rust
loader, so tbcore writes float32 for them too; see docs/guide/migration.md.)
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import numpy as np

import tbcore
from tbcore.proto import summary_pb2

PLUGIN_NAME = "scalars"
PROTO_VERSION = 0


def metadata(display_name: str = "", description: str = "") -> summary_pb2.SummaryMetadata:
    """Return the ``scalars`` plugin metadata (empty content: ``ScalarPluginData{version: 0}``)."""
    return tbcore.summary_metadata(PLUGIN_NAME, b"", display_name=display_name, description=description)


def encode(tag: str, scalar_value: Any, *, new_style: bool = False) -> summary_pb2.Summary:
    """Return a scalar summary: legacy ``simple_value``, or a rank-0 float32 tensor if ``new_style``."""
    value = tbcore.as_float(scalar_value)
    if not new_style:
        return summary_pb2.Summary(value=[summary_pb2.Summary.Value(tag=tag, simple_value=value)])
    return tbcore.tensor_summary(tag, np.float32(value), plugin_name=PLUGIN_NAME)


def decode(value: summary_pb2.Summary.Value) -> float:
    """Return the number stored in a scalar ``Summary.Value`` (``simple_value`` or a one-element tensor)."""
    if value.WhichOneof("value") == "tensor":
        return float(tbcore.tensor_to_numpy(value.tensor).reshape(-1)[0])
    return float(value.simple_value)


def run_name(main_tag: str, key: str) -> str:
    """Return torch's sub-run name for ``add_scalars``: ``<main_tag with / as _>_<key>``."""
    return f"{main_tag.replace('/', '_')}_{key}"


def encode_many(tag: str, tag_scalar_dict: Any, *, same_run: bool = False) -> list[tbcore.Encoded]:
    """Return one scalar per key of ``tag_scalar_dict``, each in the sub-run :func:`run_name` with tag ``tag``.

    With ``same_run`` they all go to the writer's own run instead, under the tags ``<tag>/<key>``;
    a key is then only part of a tag, so it is not checked as a sub-run name (``..`` and ``\\`` are fine).
    An empty dict gives no records (as torch's writer, which logs nothing for it).
    """
    if not isinstance(tag_scalar_dict, Mapping):
        raise tbcore.invalid("tag_scalar_dict", "a dict of {str: number}", tag_scalar_dict, kind=TypeError)
    values = []
    for key, value in tag_scalar_dict.items():
        if not isinstance(key, str) or not key:
            raise tbcore.invalid("tag_scalar_dict key", "a non-empty str", key, kind=TypeError)
        if same_run:  # the key is only part of a tag
            if "\x00" in key:
                raise tbcore.invalid("tag_scalar_dict key", "a str without NUL characters", key)
        elif "\x00" in key or "\\" in key or any(part in ("", ".", "..") for part in run_name(tag, key).split("/")):
            raise tbcore.invalid("tag_scalar_dict key", "a sub-run name without NUL, '\\' or '..' parts", key)
        number = tbcore.as_float(value, f"tag_scalar_dict[{key!r}]")
        values.append((key, summary_pb2.Summary.Value(tag=f"{tag}/{key}" if same_run else tag, simple_value=number)))
    if same_run and values:
        return [tbcore.Encoded(summary=summary_pb2.Summary(value=[value for _, value in values]))]
    return [tbcore.Encoded(summary=summary_pb2.Summary(value=[value]), run=run_name(tag, key)) for key, value in values]


@tbcore.hookimpl
def tbcore_summary_types() -> list[tbcore.SummaryType]:
    """Provide ``scalar`` and ``scalars``."""
    return [
        tbcore.SummaryType(
            name="scalar",
            plugin_name=PLUGIN_NAME,
            encode=encode,
            description="one number per step (add_scalar)",
            adapt_value=False,
            decode=decode,
        ),
        tbcore.SummaryType(
            name="scalars",
            plugin_name=PLUGIN_NAME,
            encode=encode_many,
            description="several numbers per step, one sub-run per key (add_scalars)",
            adapt_value=False,
        ),
    ]
