"""Chart layouts for TensorBoard's Custom Scalars dashboard (``add_custom_scalars*``).

A layout is the documented dict form ``{category: {title: ["Multiline", [tag regexes]]
| ["Margin", [value, lower, upper]]}}``. The encoder takes one layout or a sequence of
them, merged in order (a chart with an existing category and title replaces it), and
returns the ``Layout`` proto under TensorBoard's tag ``custom_scalars__config__``.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np

import tbcore
from tbcore.proto import plugin_custom_scalar_pb2 as layout_pb2
from tbcore.proto import summary_pb2

PLUGIN_NAME = "custom_scalars"
PROTO_VERSION = 0
CONFIG_TAG = "custom_scalars__config__"  #: the tag TensorBoard reads layouts from

_FORM = "a dict {category: {title: ['Multiline', [tags]] or ['Margin', [value, lower, upper]]}}"


def _chart(category: str, title: Any, spec: Any) -> layout_pb2.Chart:
    where = f"layout[{category!r}][{title!r}]"
    if not isinstance(title, str):
        raise tbcore.invalid(f"layout[{category!r}] key", "a chart title as a str", title, kind=TypeError)
    if isinstance(spec, (str, bytes)) or not isinstance(spec, Sequence) or len(spec) != 2:
        expected = "a pair ['Multiline', [tags]] or ['Margin', [value, lower, upper]]"
        raise tbcore.invalid(where, expected, spec, kind=TypeError)
    kind, tags = spec
    if isinstance(tags, str) or not isinstance(tags, Sequence) or not all(isinstance(t, str) for t in tags):
        raise tbcore.invalid(f"{where}[1]", "a list of tag strings", tags, kind=TypeError)
    if kind == "Multiline":
        for tag in tags:
            try:
                re.compile(tag)
            except re.error as exc:
                raise ValueError(f"{where}[1]: expected regular expressions, got {tag!r} ({exc})") from None
        return layout_pb2.Chart(title=title, multiline=layout_pb2.MultilineChartContent(tag=list(tags)))
    if kind == "Margin":
        if len(tags) != 3:
            raise tbcore.invalid(f"{where}[1]", "three tags [value, lower, upper]", tags)
        series = layout_pb2.MarginChartContent.Series(value=tags[0], lower=tags[1], upper=tags[2])
        return layout_pb2.Chart(title=title, margin=layout_pb2.MarginChartContent(series=[series]))
    raise tbcore.invalid(f"{where}[0]", "'Multiline' or 'Margin'", kind)


def merge(layouts: Sequence[Any]) -> dict[str, dict[str, layout_pb2.Chart]]:
    """Return ``{category: {title: Chart}}`` of ``layouts`` (dict forms) merged in order, after checking each."""
    merged: dict[str, dict[str, layout_pb2.Chart]] = {}
    for layout in layouts:
        if not isinstance(layout, Mapping):
            raise tbcore.invalid("layout", _FORM, layout, kind=TypeError)
        for category, charts in layout.items():
            if not isinstance(category, str):
                raise tbcore.invalid("layout key", "a category title as a str", category, kind=TypeError)
            if not isinstance(charts, Mapping):
                raise tbcore.invalid(f"layout[{category!r}]", "a dict {title: [kind, tags]}", charts, kind=TypeError)
            built = {title: _chart(category, title, spec) for title, spec in charts.items()}
            merged.setdefault(category, {}).update(built)
    return merged


def layout_proto(layout: Any) -> layout_pb2.Layout:
    """Return the ``Layout`` proto of one layout dict or a sequence of them merged in order."""
    layouts = [layout] if isinstance(layout, Mapping) else layout
    if isinstance(layouts, (str, bytes)) or not isinstance(layouts, Sequence):
        raise tbcore.invalid("layout", _FORM, layout, kind=TypeError)
    categories = [
        layout_pb2.Category(title=category, chart=list(charts.values())) for category, charts in merge(layouts).items()
    ]
    return layout_pb2.Layout(version=PROTO_VERSION, category=categories)


def encode(tag: str, layout: Any) -> summary_pb2.Summary:
    """Return the custom-scalars layout summary (always under ``custom_scalars__config__``; ``tag`` is ignored)."""
    data = np.array(layout_proto(layout).SerializeToString(), dtype=object)
    return tbcore.tensor_summary(CONFIG_TAG, data, plugin_name=PLUGIN_NAME)


@tbcore.hookimpl
def tbcore_summary_types() -> list[tbcore.SummaryType]:
    """Provide ``custom_scalars``."""
    return [
        tbcore.SummaryType(
            name="custom_scalars",
            plugin_name=PLUGIN_NAME,
            encode=encode,
            description="chart layout of the Custom Scalars dashboard (add_custom_scalars)",
            adapt_value=False,
        )
    ]
