"""Argument checks that run at construction, before any environment is built or stepped.

SB3 checks few arguments, some with ``assert`` (which ``python -O`` removes) and some only when training reaches them.
Every check here raises ``TypeError`` for a wrong type and ``ValueError`` for a value outside its range, and the
message names the argument and the accepted range. Where the stock algorithm itself checks an argument with
``assert``, the error is an :class:`AssertionCompatibleValueError`, so code written for SB3 still catches it.

Numbers are accepted in every real type users and tuners pass (``int``, ``float``, numpy's integer and floating
scalars such as ``np.int64(64)`` or ``np.float32(0.99)``); booleans (``True``, ``np.bool_(True)``) are not numbers
here, and a Python int too large for a float is out of every finite range.
"""

from __future__ import annotations

import math
import numbers
from typing import Any

import numpy as np


class AssertionCompatibleValueError(ValueError, AssertionError):
    """
    A value outside the accepted range of an argument that the stock algorithm (SB3 PPO, MaskablePPO, RecurrentPPO)
    checks with ``assert``: a ``ValueError`` like every range error of this package, and an ``AssertionError`` like
    the stock algorithm's, so that ``except AssertionError`` and ``pytest.raises(AssertionError)`` written for SB3
    still catch it.
    """


def is_bool(value: Any) -> bool:
    """Whether ``value`` is a Python or numpy boolean."""
    return isinstance(value, (bool, np.bool_))


def _shown(value: Any) -> str:
    text = repr(value)
    return text if len(text) <= 40 else f"{text[:20]}...{text[-10:]} ({len(text)} characters)"


def interval(low: float, high: float, low_inclusive: bool = True, high_inclusive: bool = True) -> str:
    """The interval in the messages' notation: ``[0.0, 1.0]``, ``(0.0, inf)``; an infinite end is always open."""
    left = "[" if low_inclusive and math.isfinite(low) else "("
    right = "]" if high_inclusive and math.isfinite(high) else ")"
    return f"{left}{low}, {high}{right}"


def check_float(
    name: str,
    value: Any,
    *,
    low: float = -math.inf,
    high: float = math.inf,
    low_inclusive: bool = True,
    high_inclusive: bool = True,
    allow_inf: bool = False,
    error: type[ValueError] = ValueError,
) -> float:
    """
    Check that ``value`` is a real number in the given interval.

    :param name: the argument's name, for the message
    :param value: the value to check
    :param low: lower bound
    :param high: upper bound
    :param low_inclusive: whether ``low`` itself is accepted
    :param high_inclusive: whether ``high`` itself is accepted
    :param allow_inf: whether +inf/-inf are accepted (where the bounds include them)
    :param error: the class of a range error (:class:`AssertionCompatibleValueError` where the stock algorithm asserts)
    :return: the value as a float
    """
    # an accepted infinity is a closed end of the interval: clip_range in (0.0, inf]
    accepted = interval(low, high, low_inclusive, high_inclusive)
    if allow_inf:
        accepted = accepted[:-1] + "]" if math.isinf(high) else accepted
        accepted = "[" + accepted[1:] if math.isinf(low) else accepted
    # bool is an int subclass, but True as a coefficient is a bug, not a number.
    if is_bool(value) or not isinstance(value, numbers.Real):
        raise TypeError(f"`{name}` must be a real number in {accepted}, got {type(value).__name__} {_shown(value)}")
    try:
        number = float(value)
    except OverflowError:
        raise error(f"`{name}` must be finite, in {accepted}, got an int too large for a float: {_shown(value)}") from None
    if math.isnan(number):
        raise error(f"`{name}` must be in {accepted}, got NaN")
    if math.isinf(number) and not allow_inf:
        raise error(f"`{name}` must be finite, in {accepted}, got {number}")
    too_low = number < low if low_inclusive else number <= low
    too_high = number > high if high_inclusive else number >= high
    if too_low or too_high:
        raise error(f"`{name}` must be in {accepted}, got {_shown(value)}")
    return number


def check_int(name: str, value: Any, *, low: int, high: int | None = None, error: type[ValueError] = ValueError) -> int:
    """
    Check that ``value`` is an integer in [``low``, ``high``].

    :param name: the argument's name, for the message
    :param value: the value to check
    :param low: the smallest accepted value
    :param high: the largest accepted value (None: no bound)
    :param error: the class of a range error (:class:`AssertionCompatibleValueError` where the stock algorithm asserts)
    :return: the value as a Python int
    """
    accepted = f"an int >= {low}" if high is None else f"an int in [{low}, {high}]"
    if is_bool(value) or not isinstance(value, numbers.Integral):
        raise TypeError(f"`{name}` must be {accepted}, got {type(value).__name__} {_shown(value)}")
    number = int(value)
    if number < low or (high is not None and number > high):
        raise error(f"`{name}` must be {accepted}, got {_shown(number)}")
    return number


def check_bool(name: str, value: Any) -> bool:
    """
    Check that ``value`` is a boolean (``True``/``False`` or a numpy boolean; not a string such as ``"False"``).

    :param name: the argument's name, for the message
    :param value: the value to check
    :return: the value as a Python bool
    """
    if not is_bool(value):
        raise TypeError(f"`{name}` must be True or False, got {type(value).__name__} {_shown(value)}")
    return bool(value)


def check_choice(name: str, value: Any, choices: tuple[str, ...]) -> str:
    """
    Check that ``value`` is one of the strings ``choices``.

    :param name: the argument's name, for the message
    :param value: the value to check
    :param choices: the accepted strings
    :return: the value
    """
    accepted = " or ".join(repr(choice) for choice in choices)
    if not isinstance(value, str):
        raise TypeError(f"`{name}` must be {accepted}, got {type(value).__name__} {_shown(value)}")
    if value not in choices:
        raise ValueError(f"`{name}` must be {accepted}, got {value!r}")
    return value


def check_float_or_schedule(
    name: str,
    value: Any,
    *,
    high: float = math.inf,
    allow_inf: bool = False,
    allow_zero: bool = False,
    error: type[ValueError] = ValueError,
) -> None:
    """
    Check a hyperparameter that is either a positive number or a schedule (a callable of the progress remaining).

    A schedule's values are not checked here: SB3 and the zoo use schedules that reach 0 at the end of training.

    :param name: the argument's name, for the message
    :param value: the value to check
    :param high: the largest accepted number
    :param allow_inf: whether +inf is accepted (e.g. ``clip_range=inf``, which clips nothing)
    :param allow_zero: whether 0 is accepted (e.g. ``learning_rate=0``, which SB3 accepts)
    :param error: the class of a range error (:class:`AssertionCompatibleValueError` where the stock algorithm asserts)
    """
    if callable(value):
        return
    if isinstance(value, str):
        raise TypeError(
            f"`{name}` must be a number or a callable schedule, got the string {value!r}"
            " (rl-zoo3 schedule strings such as 'lin_0.2' are converted by the zoo, not by the constructor)"
        )
    check_float(name, value, low=0.0, high=high, low_inclusive=allow_zero, allow_inf=allow_inf, error=error)


#: the arguments that take a number or a schedule, which SB3 turns into a ``FloatSchedule``
NUMBER_OR_SCHEDULE = ("learning_rate", "clip_range", "clip_range_vf")


def float_unless_schedule(value: Any) -> Any:
    """
    A checked argument of :data:`NUMBER_OR_SCHEDULE` as SB3 takes it: a number as a Python float (SB3's
    ``FloatSchedule`` asserts on numpy's ``float32`` and integer scalars, with a message about the learning rate
    whatever the argument), a schedule or None unchanged.

    :param value: a number, a callable schedule or None, already checked
    """
    return value if value is None or callable(value) else float(value)
