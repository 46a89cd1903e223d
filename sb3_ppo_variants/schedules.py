"""rl-zoo3's linear schedules (``lin_<value>``) as picklable objects, for the grids and configuration files that can
only hold strings; SB3's constructors take numbers or callables, never strings."""

from __future__ import annotations

from typing import Any

#: the constructor arguments that take a schedule of the progress remaining, as rl-zoo3 converts them
SCHEDULED_ARGUMENTS = ("learning_rate", "clip_range", "clip_range_vf")
PREFIX = "lin_"


class LinearSchedule:
    """
    ``initial`` times the progress remaining (1 at the start of ``learn``, 0 at its end): rl-zoo3's ``lin_<initial>``,
    with the same arithmetic (``progress_remaining * initial``).

    :param initial: the value at the start
    """

    def __init__(self, initial: float) -> None:
        self.initial = float(initial)

    def __call__(self, progress_remaining: float) -> float:
        return progress_remaining * self.initial

    def __repr__(self) -> str:
        return f"{PREFIX}{self.initial!r}"

    def __eq__(self, other: object) -> bool:
        return isinstance(other, LinearSchedule) and other.initial == self.initial

    def __hash__(self) -> int:
        return hash(self.initial)


def linear(initial: float) -> str:
    """The rl-zoo3 string of a linear schedule from ``initial`` to 0 (``lin_0.0003``)."""
    return f"{PREFIX}{float(initial)!r}"


def from_strings(kwargs: dict[str, Any]) -> dict[str, Any]:
    """
    ``kwargs`` with every ``lin_<value>`` string of a :data:`SCHEDULED_ARGUMENTS` argument turned into a
    :class:`LinearSchedule`, as rl-zoo3 converts its yml files.

    :raises ValueError: a string of such an argument that is not ``lin_<number>``
    """
    converted = dict(kwargs)
    for name in SCHEDULED_ARGUMENTS:
        value = converted.get(name)
        if not isinstance(value, str):
            continue
        try:
            if not value.startswith(PREFIX):
                raise ValueError
            converted[name] = LinearSchedule(float(value[len(PREFIX) :]))
        except ValueError:
            raise ValueError(f"`{name}` must be a number or a linear schedule 'lin_<number>', got {value!r}") from None
    return converted
