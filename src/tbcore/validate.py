"""Checks of the arguments every ``add_*`` call shares: tag, step and wall time.

Each check either returns the value in canonical form or raises the error produced by
:func:`tbcore.errors.invalid`, so messages read the same everywhere.
"""

from __future__ import annotations

import math
import numbers
from typing import Any

from tbcore.errors import invalid

__all__ = ["MAX_STEP", "MAX_TAG_LENGTH", "check_step", "check_tag", "check_walltime", "check_positive"]

MAX_STEP = 2**63 - 1  #: largest step an int64 ``Event.step`` holds
MAX_TAG_LENGTH = 4096  #: longest tag accepted, in characters


def check_tag(tag: Any, argument: str = "tag") -> str:
    """Return ``tag`` if it is a non-empty str without NUL characters, at most 4096 characters long.

    :param argument: the argument's name, used in the error message (also for the others below).
    :raises TypeError: ``tag`` is not a str.
    :raises ValueError: an empty str, a NUL character, or too long.
    """
    if not isinstance(tag, str):
        raise invalid(argument, "a non-empty str", tag, kind=TypeError)
    if not tag:
        raise invalid(argument, "a non-empty str", tag)
    if "\x00" in tag:
        raise invalid(argument, "a str without NUL characters", tag)
    if len(tag) > MAX_TAG_LENGTH:
        raise invalid(argument, f"a str of at most {MAX_TAG_LENGTH} characters", tag)
    return tag


def check_step(step: Any, argument: str = "global_step") -> int:
    """Return ``step`` as an int in ``[0, 2**63 - 1]``; ``None`` means 0.

    Integral numpy scalars and 0-d integer arrays/tensors (anything with ``__index__``)
    are accepted; floats are accepted only when they hold a whole number.

    :raises TypeError: a bool, a fractional float or a non-number.
    :raises ValueError: a negative step or one above ``2**63 - 1``.
    """
    if step is None:
        return 0
    if isinstance(step, bool):
        raise invalid(argument, "an int >= 0", step, kind=TypeError)
    if isinstance(step, numbers.Integral) or hasattr(step, "__index__"):
        try:
            value = int(step.__index__())
        except TypeError:
            raise invalid(argument, "an int >= 0", step, kind=TypeError) from None
    elif isinstance(step, float) and step.is_integer():
        value = int(step)
    else:
        raise invalid(argument, "an int >= 0", step, kind=TypeError)
    if not 0 <= value <= MAX_STEP:
        raise invalid(argument, "an int in [0, 2**63 - 1]", step)
    return value


def check_walltime(walltime: Any, argument: str = "walltime") -> float:
    """Return ``walltime`` (a real number of seconds since the epoch) as a float.

    :raises TypeError: a bool or a non-number.
    :raises ValueError: NaN or an infinity.
    """
    if walltime.__class__ is float and -math.inf < walltime < math.inf:  # the common case: a finite float
        return walltime
    if isinstance(walltime, bool) or not isinstance(walltime, numbers.Real):
        raise invalid(argument, "a finite float of seconds since the epoch", walltime, kind=TypeError)
    value = float(walltime)
    if not math.isfinite(value):
        raise invalid(argument, "a finite float of seconds since the epoch", walltime)
    return value


def check_positive(value: Any, argument: str, *, integer: bool = False) -> Any:
    """Return ``value`` if it is a finite number > 0 (as an int when ``integer``).

    :param integer: require an integral number.
    :raises TypeError: a bool, a non-number, or a non-integral number when ``integer``.
    :raises ValueError: zero, a negative number, NaN or an infinity.
    """
    expected = "an int > 0" if integer else "a number > 0"
    wrong_type = not isinstance(value, numbers.Real) or (integer and not isinstance(value, numbers.Integral))
    if isinstance(value, bool) or wrong_type:
        raise invalid(argument, expected, value, kind=TypeError)
    number = float(value)
    if not number > 0 or not math.isfinite(number):
        raise invalid(argument, expected, value)
    return int(value) if integer else value
