"""Scalars that the writer thread finishes, so that no ``add_scalar``/``add_scalars`` call waits for a device.

:func:`start_scalar` turns a value into a float at once, or into a function that the writer
thread calls later (a non-blocking device copy started by the array adapter's
``to_numpy_async``); :func:`resolve_scalar` is that later call. A :class:`ScalarForm` is
the bytes of a scalar event around its float32 value for one tag, learned once from a
summary type's encoder (:func:`learn_form`), so that the writer thread frames
``new_style`` scalars without running the encoder per event.
"""

from __future__ import annotations

import math
import struct
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np

from tbcore import events
from tbcore.adapters import SCALAR_EXPECTED, adapter_for, as_float
from tbcore.encoded import Encoded, normalize
from tbcore.errors import DeferredValueError, invalid

__all__ = ["ScalarForm", "learn_form", "resolve_scalar", "start_scalar"]

_PROBE_BYTES = b"\x11\x22\x33\x44"  # a float32 (about 716.5) whose 4 bytes are all non-zero, unlike 0.0's
_PROBE = struct.unpack("<f", _PROBE_BYTES)[0]
_ZERO_BYTES = bytes(4)


def start_scalar(value: Any, argument: str = "scalar_value") -> Any:
    """Return a scalar value as a float, or as a deferred device copy (a function) for the writer thread.

    :param argument: the argument's name in error messages.
    :raises TypeError: not a real number (a str, None, complex...).
    :raises ValueError: an array that does not hold exactly one number.
    """
    cls = type(value)  # not value.__class__: torch.Tensor makes that attribute lookup slow
    if cls is np.ndarray and value.ndim == 0 and value.dtype.kind in "fiub":
        return float(value)
    if cls is int or cls is bool or isinstance(value, np.generic):
        return as_float(value, argument)
    shape = getattr(value, "shape", None)
    if shape is not None:
        if len(shape) > 1 or math.prod(shape) != 1:
            raise invalid(argument, SCALAR_EXPECTED, value)
        adapter = adapter_for(cls)
        if adapter.to_numpy_async is not None:
            try:
                started = adapter.to_numpy_async(value)
            except (TypeError, ValueError) as exc:
                raise type(exc)(f"{argument}: {exc}") from exc
            if type(started) is float or callable(started):
                return started
            return float(np.asarray(started).reshape(-1)[0])
    return as_float(value, argument)


def resolve_scalar(value: Any, tag: str, step: int) -> float:
    """Wait for a deferred device copy (queued instead of a float) and return its value, in the writer thread.

    :raises DeferredValueError: the value could not be read; only its event is lost.
    """
    try:
        return float(value().reshape(-1)[0])
    except Exception as exc:
        raise DeferredValueError(
            f"the value of tag {tag!r} at step {step} could not be read from its device, so it was not written: "
            f"{type(exc).__name__}: {exc}"
        ) from exc


@dataclass(frozen=True, slots=True)
class ScalarForm:
    """The bytes of one tag's scalar event around its float32 value.

    :param tag: the tag (named when a deferred value cannot be read).
    :param prefix: the event's ``summary`` field up to the value (like :func:`tbcore.events.scalar_tag_prefix`).
    :param suffix: the summary's bytes after the value.
    """

    tag: str
    prefix: bytes
    suffix: bytes

    def event(self, value: Any, step: int, wall_time: float) -> bytes:
        """Return the serialized event of ``value`` (a float, or a deferred copy resolved here) at ``step``."""
        if value.__class__ is not float:
            value = resolve_scalar(value, self.tag, step)
        return events.scalar_event(self.prefix, value, step, wall_time) + self.suffix


def learn_form(tag: str, encode: Callable[[float], Any]) -> ScalarForm | None:
    """Learn ``tag``'s :class:`ScalarForm` from an encoder of one float (called twice, with two probe values).

    The form is what the encoder writes: its output for 0.0 and for a probe value must be one
    plain ``Summary`` whose bytes differ only in the 4 bytes of the float32 value. Returns None
    when they do not (the float is not stored as a float32 at a fixed place).
    """
    zero, probe = _summary_bytes(encode(0.0)), _summary_bytes(encode(_PROBE))
    if zero is None or probe is None or len(zero) != len(probe) or zero == probe:
        return None
    at = next(
        i for i, (a, b) in enumerate(zip(zero, probe, strict=True)) if a != b
    )  # all 4 probe bytes differ from 0.0's
    if zero[at : at + 4] != _ZERO_BYTES or probe[at : at + 4] != _PROBE_BYTES or zero[at + 4 :] != probe[at + 4 :]:
        return None
    return ScalarForm(tag, events.summary_field(len(probe)) + probe[:at], probe[at + 4 :])


def _summary_bytes(result: Any) -> bytes | None:
    """Return the serialized ``Summary`` of an encoder's result that is one plain summary, else None."""
    records = normalize(result)
    record = records[0] if len(records) == 1 else None
    if record is None or record.summary is None or record != Encoded(summary=record.summary):
        return None
    return record.summary.SerializeToString()
