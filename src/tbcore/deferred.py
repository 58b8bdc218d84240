"""Scalars that the writer thread finishes, so that no ``add_scalar``/``add_scalars`` call waits for a device.

:func:`start_scalar` turns a value into a float at once, or into a function that the writer
thread calls later (a non-blocking device copy started by the array adapter's
``to_numpy_async``); :func:`resolve_scalar` is that later call. A :class:`ScalarForm` is
the bytes of a scalar event around its float32 values, learned once (per tag, or per
``add_scalars`` key set) from a summary type's encoder (:func:`learn_form`), so that the
writer thread frames ``new_style`` and ``same_run`` scalars without running the encoder per
event.
"""

from __future__ import annotations

import math
import struct
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from tbcore import events
from tbcore.adapters import SCALAR_EXPECTED, adapter_for, as_float
from tbcore.encoded import Encoded, normalize
from tbcore.errors import DeferredValueError, invalid

__all__ = ["ScalarForm", "learn_form", "resolve_scalar", "start_scalar"]

_PROBE_BYTES = b"\x11\x22\x33\x44"  # a float32 (about 716.5) whose 4 bytes all differ from 0.0's
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
    """The bytes of a scalar event around its float32 values (one for ``add_scalar``, one per key for ``same_run``).

    :param names: the tag of each value, in order (named when a deferred value cannot be read).
    :param pieces: the event's bytes from its ``summary`` field on, cut at each value (one more than ``names``).
    """

    names: tuple[str, ...]
    pieces: tuple[bytes, ...]

    def event(self, values: Sequence[Any], step: int, wall_time: float) -> bytes:
        """Return the serialized event of ``values`` (floats, or deferred copies resolved here) at ``step``."""
        floats = [
            v if v.__class__ is float else resolve_scalar(v, n, step) for v, n in zip(values, self.names, strict=True)
        ]
        return events.values_event(self.pieces, floats, step, wall_time)


def learn_form(names: Sequence[str], encode: Callable[[list[float]], Any]) -> ScalarForm | None:
    """Learn the :class:`ScalarForm` of an encoder of ``len(names)`` floats, by encoding probe values.

    The form is what the encoder writes: its output must be one plain ``Summary`` whose bytes
    for all values 0.0 and for all values a probe differ exactly in one float32 per value, and
    a third call with a distinct value per position must give the bytes that the form builds.
    Returns None when it does not (the values are not float32 at fixed places).
    """
    zero = _summary_bytes(encode([0.0] * len(names)))
    probe = _summary_bytes(encode([_PROBE] * len(names)))
    if zero is None or probe is None or len(zero) != len(probe):
        return None
    pieces, start = [], 0
    for at in _differences(zero, probe):
        if zero[at : at + 4] != _ZERO_BYTES or probe[at : at + 4] != _PROBE_BYTES:
            return None
        pieces.append(probe[start:at])
        start = at + 4
    pieces.append(probe[start:])
    if len(pieces) != len(names) + 1:
        return None
    form = ScalarForm(tuple(names), (events.summary_field(len(probe)) + pieces[0], *pieces[1:]))
    distinct = [struct.unpack("<f", bytes((1 + i % 255, 1 + i // 255 % 255, 0x33, 0x44)))[0] for i in range(len(names))]
    check = _summary_bytes(encode(distinct))
    if check is None or form.event(distinct, 0, 0.0) != events.summary_event(check, 0, 0.0):
        return None
    return form


def _differences(a: bytes, b: bytes) -> list[int]:
    """Return where ``a`` and ``b`` (of equal length) differ, as the start of each 4-byte window (a float32)."""
    found, at = [], 0
    while at < len(a):
        if a[at] != b[at]:
            found.append(at)
            at += 4
        else:
            at += 1
    return found


def _summary_bytes(result: Any) -> bytes | None:
    """Return the serialized ``Summary`` of an encoder's result that is one plain summary, else None."""
    records = normalize(result)
    record = records[0] if len(records) == 1 else None
    if record is None or record.summary is None or record != Encoded(summary=record.summary):
        return None
    return record.summary.SerializeToString()
