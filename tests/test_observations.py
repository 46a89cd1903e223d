"""A NaN or infinite observation stops training with one error naming the timestep, on every path and family, before
the policy acts on it: no NaN action ever reaches the environment."""

from __future__ import annotations

from typing import Any

import gymnasium as gym
import numpy as np
import pytest
from gymnasium import spaces
from stable_baselines3.common.vec_env import DummyVecEnv

from sb3_ppo_variants.observations import NonFiniteObservationError
from sb3_ppo_variants.registry import REGISTRY


class BrokenSensorEnv(gym.Env):
    """Box(3) observations that turn NaN (or inf) at step ``bad_step``; records every action it receives."""

    observation_space = spaces.Box(-1, 1, (3,), dtype=np.float32)

    def __init__(self, action_space: spaces.Space, bad_step: int, value: float):
        self.action_space = action_space
        self.bad_step, self.value = bad_step, value
        self.actions: list[Any] = []
        self._t = 0

    def reset(self, *, seed: int | None = None, options: dict | None = None) -> tuple[np.ndarray, dict]:
        super().reset(seed=seed)
        return np.zeros(3, dtype=np.float32), {}

    def step(self, action: Any) -> tuple[np.ndarray, float, bool, bool, dict]:
        self.actions.append(np.array(action, dtype=float))
        self._t += 1
        obs = np.full(3, self.value if self._t >= self.bad_step else 0.1, dtype=np.float32)
        return obs, 0.0, False, self._t % 50 == 0, {}

    def action_masks(self) -> np.ndarray:
        return np.ones(self.action_space.n, dtype=bool)


CASES = [
    pytest.param(variant.cls, fast, id=f"{variant.cls.__name__}-{'fast' if fast else 'exact'}")
    for variant in REGISTRY
    if variant.objective.key in ("clip", "adaptive_kl")
    for fast in (False, True)
]


@pytest.mark.parametrize("value", [np.nan, np.inf])
@pytest.mark.parametrize(("cls", "fast"), CASES)
def test_non_finite_observation_stops_before_the_policy_acts(cls: type, fast: bool, value: float) -> None:
    action_space = spaces.Discrete(2) if cls.family_key == "ppo_mask" else spaces.Box(-1, 1, (2,), dtype=np.float32)
    env = BrokenSensorEnv(action_space, bad_step=70, value=value)
    policy = "MlpLstmPolicy" if cls.family_key == "ppo_lstm" else "MlpPolicy"
    model = cls(policy, DummyVecEnv([lambda: env]), n_steps=32, batch_size=16, n_epochs=1, fast=fast, device="cpu", seed=0)
    with pytest.raises(NonFiniteObservationError, match=r"non-finite observation .* at timestep 70, in environment 0"):
        model.learn(200)
    assert len(env.actions) == 70  # the step that returned it was the last one
    assert np.isfinite(np.stack(env.actions)).all()


def test_the_first_observation_is_checked() -> None:
    cls = REGISTRY[0].cls
    env = BrokenSensorEnv(spaces.Box(-1, 1, (2,), dtype=np.float32), bad_step=0, value=np.nan)
    env.reset = lambda **kwargs: (np.full(3, np.nan, dtype=np.float32), {})  # type: ignore[method-assign]
    with pytest.raises(NonFiniteObservationError, match="at timestep 0"):
        cls("MlpPolicy", DummyVecEnv([lambda: env]), n_steps=32, batch_size=16, device="cpu").learn(64)
    assert env.actions == []
