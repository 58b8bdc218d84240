"""Pure encoders: build ``Summary`` protos without a writer.

For frameworks that keep their own event writer: every function returns what the
writer would write (a ``Summary``, or :class:`tbcore.Encoded` records for types that
need more than one summary or files) and never touches the disk. Values go through the
same array adapters and summary-type plugins as ``SummaryWriter.add``.

>>> from tbcore import summary
>>> proto = summary.scalar("loss", 0.25)
"""

from __future__ import annotations

from typing import Any

from tbcore import plugins
from tbcore.adapters import as_numpy
from tbcore.registry import lookup
from tbcore.validate import check_tag

__all__ = ["encode", "histogram", "scalar", "tensor", "text"]


def encode(kind: str, tag: str, value: Any, **options: Any) -> Any:
    """Encode ``value`` as summary type ``kind`` (any installed type); returns what its encoder returns."""
    stype = lookup(plugins.summary_types(), kind, plugins.failed_plugins())
    tag = check_tag(tag)
    if stype.adapt_value:
        value = as_numpy(value, stype.value_name)
    for name in stype.array_options:
        if options.get(name) is not None:
            options[name] = as_numpy(options[name], name)
    return stype.encode(tag, value, **options)


def scalar(tag: str, scalar_value: Any, new_style: bool = False) -> Any:
    """Return a scalar ``Summary`` (legacy ``simple_value``, or a float32 tensor if ``new_style``)."""
    return encode("scalar", tag, scalar_value, new_style=new_style)


def histogram(tag: str, values: Any, bins: Any = "tensorflow", max_bins: int | None = None) -> Any:
    """Return a histogram ``Summary`` of ``values``."""
    return encode("histogram", tag, values, bins=bins, max_bins=max_bins)


def text(tag: str, text_string: str) -> Any:
    """Return a text ``Summary`` (tag ``<tag>/text_summary``)."""
    return encode("text", tag, text_string)


def tensor(tag: str, value: Any) -> Any:
    """Return a raw tensor ``Summary``."""
    return encode("tensor", tag, value)
