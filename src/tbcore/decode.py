"""Summary values back to Python: which plugin a value belongs to, and its decoder.

A value's plugin is the ``plugin_name`` of the first metadata seen for its tag in the
file (as TensorBoard keeps it), or for legacy values the oneof that is set
(``simple_value`` → ``scalars``, ``image`` → ``images``, ``audio`` → ``audio``, ``histo``
→ ``histograms``). Values are decoded by the ``decode`` of an installed
:class:`tbcore.SummaryType` for that plugin (built-in or third-party); without one,
tensors become numpy arrays and legacy messages dicts of their fields.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from tbcore import plugins
from tbcore.proto import summary_pb2
from tbcore.tensor import tensor_to_numpy

__all__ = ["TagPlugins", "decode_value", "decoders", "message_dict"]

_LEGACY = {"simple_value": "scalars", "image": "images", "audio": "audio", "histo": "histograms"}


class TagPlugins:
    """Remembers the plugin of each tag of one event file (the first metadata wins)."""

    def __init__(self) -> None:
        self._known: dict[str, str] = {}

    def plugin_of(self, value: summary_pb2.Summary.Value) -> str:
        """Return the TensorBoard plugin name of ``value`` (``""`` if it has none)."""
        kind = value.WhichOneof("value")
        if kind in _LEGACY:
            return _LEGACY[kind]
        known = self._known.get(value.tag)
        if known is None:
            known = self._known[value.tag] = value.metadata.plugin_data.plugin_name
        return known


def decoders() -> dict[str, Callable[[Any], Any]]:
    """Return ``{plugin name: decode}`` from the installed summary types that have a decoder (first by type name)."""
    found: dict[str, Callable[[Any], Any]] = {}
    for _name, (stype, _provider) in sorted(plugins.summary_types().items()):
        if stype.decode is not None:
            found.setdefault(stype.plugin_name, stype.decode)
    return found


def message_dict(message: Any) -> dict[str, Any]:
    """Return the set fields of a protobuf message as a dict (bytes stay bytes, repeated fields become lists)."""
    out: dict[str, Any] = {}
    for field, value in message.ListFields():
        if field.message_type is not None and field.label != field.LABEL_REPEATED:
            out[field.name] = message_dict(value)
        else:
            out[field.name] = list(value) if field.label == field.LABEL_REPEATED else value
    return out


def decode_value(
    value: summary_pb2.Summary.Value, plugin_name: str, found: dict[str, Callable[[Any], Any]] | None = None
) -> Any:
    """Decode ``value`` with its plugin's decoder, or generically (tensor → numpy, legacy → dict).

    :param found: :func:`decoders`, when decoding many values (looked up once).
    """
    decoder = (decoders() if found is None else found).get(plugin_name)
    if decoder is not None:
        return decoder(value)
    kind = value.WhichOneof("value")
    if kind == "tensor":
        return tensor_to_numpy(value.tensor)
    if kind == "simple_value":
        return float(value.simple_value)
    if kind is None:
        return message_dict(value.metadata.plugin_data)
    return message_dict(getattr(value, kind))
