"""Environments this package registers with gymnasium, for the families whose stock algorithm needs a special env.

- :data:`MASKED_ENV_ID` is sb3-contrib's masked identity env (``Discrete(10)``, 5 of the 10 actions invalid at each
  step, reward 1 for the action equal to the observation, 100 steps an episode): the MaskablePPO family's zoo entries
  and benchmark preset use it.
- :data:`NO_VELOCITY_ENV_ID` is CartPole-v1 with its two velocities zeroed in every observation (a partially observed
  task: a policy needs memory), as rl-zoo3 registers it under the same id; the RecurrentPPO family's benchmark preset
  uses it.

:func:`register_envs` registers them (each only where the id is free, so rl-zoo3's own registration stands); the
zoo's command line and the benchmark's workers call it, and so can you before ``gym.make``.
"""

from __future__ import annotations

from typing import Any

import gymnasium as gym
import numpy as np

MASKED_ENV_ID = "InvalidActionEnvDiscrete-v0"
NO_VELOCITY_ENV_ID = "CartPoleNoVel-v1"


class NoVelocity(gym.ObservationWrapper):
    """CartPole's observation (position, velocity, angle, angular velocity) with both velocities set to 0."""

    def __init__(self, env: gym.Env) -> None:
        super().__init__(env)
        self.mask = np.array([1.0, 0.0, 1.0, 0.0], dtype=np.float32)

    def observation(self, observation: Any) -> Any:
        return observation * self.mask


def _no_velocity_cartpole(**kwargs: Any) -> gym.Env:
    return NoVelocity(gym.make("CartPole-v1", **kwargs))


def register_envs() -> None:
    """Register :data:`MASKED_ENV_ID` and :data:`NO_VELOCITY_ENV_ID` with gymnasium where they are free."""
    if MASKED_ENV_ID not in gym.registry:
        gym.register(
            MASKED_ENV_ID,
            entry_point="sb3_contrib.common.envs:InvalidActionEnvDiscrete",
            kwargs={"dim": 10, "n_invalid_actions": 5},
        )
    if NO_VELOCITY_ENV_ID not in gym.registry:
        gym.register(NO_VELOCITY_ENV_ID, entry_point=_no_velocity_cartpole)
