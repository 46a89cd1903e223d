"""Property-based checks of the constructor checks (Hypothesis): for every public class and numeric argument, any
value (out of range, non-finite, of a wrong type, a numpy scalar, a huge int) is refused with the argument's name
before the environment is built exactly when it is outside the documented range, and accepted otherwise."""

from __future__ import annotations

import math
import numbers
from typing import Any

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from sb3_ppo_variants.arguments import MAX_LEARNING_RATE, MAX_N_STEPS, MAX_SEED
from sb3_ppo_variants.registry import REGISTRY
from tests.test_validation import ExplodingEnv  # noqa: F401  (registers ExplodingEnv-v0, which fails if built)

ALL = [variant.cls for variant in REGISTRY]

#: name -> (int or float, low, high, low inclusive, high inclusive, inf accepted, None accepted)
RANGES: dict[str, tuple[str, float, float, bool, bool, bool, bool]] = {
    "learning_rate": ("float", 0.0, MAX_LEARNING_RATE, True, True, False, False),
    "gamma": ("float", 0.0, 1.0, True, True, False, False),
    "gae_lambda": ("float", 0.0, 1.0, True, True, False, False),
    "ent_coef": ("float", -math.inf, math.inf, True, True, False, False),
    "vf_coef": ("float", 0.0, math.inf, True, True, False, False),
    "max_grad_norm": ("float", 0.0, math.inf, False, True, True, False),
    # 0 as SB3 takes it: the epochs stop at the first minibatch whose approximate KL is above 0
    "target_kl": ("float", 0.0, math.inf, True, True, False, True),
    "n_steps": ("int", 1, MAX_N_STEPS, True, True, False, False),
    "n_epochs": ("int", 1, MAX_N_STEPS, True, True, False, False),
    "batch_size": ("int", 2, MAX_N_STEPS, True, True, False, False),  # normalize_advantage=True (the default)
    "stats_window_size": ("int", 1, math.inf, True, True, False, False),
    "verbose": ("int", 0, 2, True, True, False, False),
    "seed": ("int", 0, MAX_SEED, True, True, False, True),
}

NUMBERS = st.one_of(
    st.floats(allow_nan=True, allow_infinity=True),
    st.integers(min_value=-(10**400), max_value=10**400),
    st.integers(min_value=-3, max_value=2**33),
    st.floats(min_value=-2.0, max_value=3.0),
)


def as_numpy32(x: float | int) -> Any:
    """np.float32 (a large float overflows to inf, as a user's cast would) or np.int64 where it fits."""
    with np.errstate(over="ignore"):
        return np.float32(x) if isinstance(x, float) else np.int64(x) if -(2**63) <= x < 2**63 else x


VALUES = st.one_of(
    NUMBERS,
    NUMBERS.map(as_numpy32),
    NUMBERS.map(lambda x: np.float64(x) if isinstance(x, float) else x),
    st.booleans(),
    st.booleans().map(np.bool_),
    st.text(max_size=3),
    st.none(),
    st.lists(st.integers(), max_size=2),
)


def accepted(name: str, value: Any, cls: type) -> bool:
    kind, low, high, low_inclusive, high_inclusive, allow_inf, allow_none = RANGES[name]
    if value is None:
        # sb3-contrib's algorithms take batch_size=None: the whole rollout as one minibatch
        return allow_none or (name == "batch_size" and cls.family_accepts_batch_size_none)
    if isinstance(value, (bool, np.bool_)) or not isinstance(value, numbers.Real):
        return False
    if kind == "int":
        return isinstance(value, numbers.Integral) and low <= int(value) <= high
    try:
        number = float(value)
    except OverflowError:
        return False
    if math.isnan(number) or (math.isinf(number) and not allow_inf):
        return False
    return (number >= low if low_inclusive else number > low) and (number <= high if high_inclusive else number < high)


@pytest.mark.parametrize("name", sorted(RANGES))
@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(cls=st.sampled_from(ALL), value=VALUES)
def test_a_value_is_refused_before_the_env_exactly_when_out_of_range(name: str, cls: type, value: Any) -> None:
    policy = "MlpLstmPolicy" if cls.family_key == "ppo_lstm" else "MlpPolicy"
    try:
        cls(policy, "ExplodingEnv-v0", **{name: value})
    except (TypeError, ValueError) as error:
        assert not accepted(name, value, cls), f"{name}={value!r} is in range but was refused: {error}"
        assert f"`{name}`" in str(error)
    except AssertionError as error:  # the env was built: the arguments were accepted
        assert "was built before the arguments were checked" in str(error)
        assert accepted(name, value, cls), f"{name}={value!r} is out of range but was accepted"
    else:
        pytest.fail("ExplodingEnv-v0 was not built")
