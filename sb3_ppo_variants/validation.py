"""Argument checks that run at construction, before any environment is built or stepped.

SB3 checks few arguments, some with ``assert`` (which ``python -O`` removes) and some only when training reaches them.
Every check here raises ``TypeError`` for a wrong type and ``ValueError`` for a value outside its range, and the
message names the argument and the accepted range. Where the stock algorithm itself checks an argument with
``assert``, the error is an :class:`AssertionCompatibleValueError`, so code written for SB3 still catches it.
"""

from __future__ import annotations

import math
from typing import Any


class AssertionCompatibleValueError(ValueError, AssertionError):
    """
    A value outside the accepted range of an argument that the stock algorithm (SB3 PPO, MaskablePPO, RecurrentPPO)
    checks with ``assert``: a ``ValueError`` like every range error of this package, and an ``AssertionError`` like
    the stock algorithm's, so that ``except AssertionError`` and ``pytest.raises(AssertionError)`` written for SB3
    still catch it.
    """


def _check_number(name: str, value: Any, error: type[ValueError] = ValueError) -> float:
    # bool is an int subclass, but True as a coefficient is a bug, not a number.
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise TypeError(f"`{name}` must be a number, got {type(value).__name__} {value!r}")
    if math.isnan(value):
        raise error(f"`{name}` must not be NaN")
    return float(value)


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
    :param allow_inf: whether +inf/-inf are accepted (inside the bounds)
    :param error: the class of a range error (:class:`AssertionCompatibleValueError` where the stock algorithm asserts)
    :return: the value as a float
    """
    number = _check_number(name, value, error)
    if math.isinf(number) and not allow_inf:
        raise error(f"`{name}` must be finite, got {number}")
    too_low = number < low if low_inclusive else number <= low
    too_high = number > high if high_inclusive else number >= high
    if too_low or too_high:
        left = "[" if low_inclusive else "("
        right = "]" if high_inclusive else ")"
        raise error(f"`{name}` must be in {left}{low}, {high}{right}, got {value!r}")
    return number


def check_int(name: str, value: Any, *, low: int, error: type[ValueError] = ValueError) -> int:
    """
    Check that ``value`` is an integer >= ``low``.

    :param name: the argument's name, for the message
    :param value: the value to check
    :param low: the smallest accepted value
    :param error: the class of a range error (:class:`AssertionCompatibleValueError` where the stock algorithm asserts)
    :return: the value
    """
    if isinstance(value, bool) or not isinstance(value, int):
        raise TypeError(f"`{name}` must be an int, got {type(value).__name__} {value!r}")
    if value < low:
        raise error(f"`{name}` must be an int >= {low}, got {value}")
    return value


def check_float_or_schedule(
    name: str, value: Any, *, allow_inf: bool = False, allow_zero: bool = False, error: type[ValueError] = ValueError
) -> None:
    """
    Check a hyperparameter that is either a positive number or a schedule (a callable of the progress remaining).

    A schedule's values are not checked: SB3 and the zoo use schedules that reach 0 at the end of training.

    :param name: the argument's name, for the message
    :param value: the value to check
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
    check_float(name, value, low=0.0, low_inclusive=allow_zero, allow_inf=allow_inf, error=error)
