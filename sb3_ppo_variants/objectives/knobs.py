"""What an objective adds to its presets' constructors (its knobs, checked at construction) and to the zoo's Optuna
search space."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, ClassVar

from sb3_ppo_variants.validation import check_choice, check_float


@dataclass(frozen=True)
class FloatKnob:
    """
    A constructor argument of an objective: a finite float, checked at construction.

    :param default: its default (the paper's value)
    :param low: the smallest accepted value
    :param low_inclusive: whether ``low`` itself is accepted
    :param doc: its ``:param`` text
    """

    default: float
    low: float
    low_inclusive: bool
    doc: str

    #: the preset constructors' annotation of the argument
    annotation: ClassVar[str] = "float"

    def check(self, name: str, value: Any) -> float:
        """``value`` as a float, or ``TypeError``/``ValueError`` naming ``name`` and the accepted range."""
        return check_float(name, value, low=self.low, low_inclusive=self.low_inclusive)


@dataclass(frozen=True)
class ChoiceKnob:
    """
    A constructor argument of an objective that is one of a few strings, checked at construction.

    :param default: its default
    :param choices: the accepted strings
    :param doc: its ``:param`` text
    """

    default: str
    choices: tuple[str, ...]
    doc: str
    annotation: ClassVar[str] = "str"

    def check(self, name: str, value: Any) -> str:
        """``value``, or ``TypeError``/``ValueError`` naming ``name`` and the accepted strings."""
        return check_choice(name, value, self.choices)


@dataclass(frozen=True)
class LogUniform:
    """An Optuna ``suggest_float(name, low, high, log=True)``."""

    low: float
    high: float


@dataclass(frozen=True)
class Categorical:
    """An Optuna ``suggest_categorical(name, choices)``."""

    choices: tuple[Any, ...]
