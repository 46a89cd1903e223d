"""The environments the package registers for the sb3-contrib families."""

from __future__ import annotations

import gymnasium as gym
import numpy as np

from sb3_ppo_variants.envs import MASKED_ENV_ID, NO_VELOCITY_ENV_ID, register_envs


def test_the_registered_envs() -> None:
    register_envs()
    register_envs()  # idempotent
    cartpole, no_velocity = gym.make("CartPole-v1"), gym.make(NO_VELOCITY_ENV_ID)
    full, _ = cartpole.reset(seed=3)
    masked, _ = no_velocity.reset(seed=3)
    np.testing.assert_array_equal(masked, full * np.array([1, 0, 1, 0], dtype=np.float32))
    for _ in range(5):
        full, *_ = cartpole.step(1)
        masked, *_ = no_velocity.step(1)
        assert full[1] != 0 and masked[1] == 0 and masked[3] == 0 and masked[0] == full[0]
    env = gym.make(MASKED_ENV_ID)
    env.reset(seed=0)
    masks = np.asarray(env.unwrapped.action_masks())
    assert masks.shape == (10,) and masks.sum() == 5
