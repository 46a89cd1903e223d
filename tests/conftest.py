"""Shared helpers: small environments for every action and observation space, and parameter comparison."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import gymnasium as gym
import numpy as np
import pytest
import torch as th
from gymnasium import spaces
from stable_baselines3.common.base_class import BaseAlgorithm
from stable_baselines3.common.envs import (
    IdentityEnv,
    IdentityEnvBox,
    IdentityEnvMultiBinary,
    IdentityEnvMultiDiscrete,
    SimpleMultiObsEnv,
)

# Small MLPs run fastest on one thread, and two pytest-xdist workers on two cores must not oversubscribe them.
th.set_num_threads(1)


class MatrixActionEnv(gym.Env):
    """Box actions of shape (2, 2), as SB3's ``tests/test_spaces.py`` has them: the reward is minus the distance of
    the action to the observation, seen as a 2x2 matrix."""

    observation_space = spaces.Box(-1, 1, (4,), dtype=np.float32)
    action_space = spaces.Box(-1, 1, (2, 2), dtype=np.float32)

    def reset(self, *, seed: int | None = None, options: dict | None = None) -> tuple[np.ndarray, dict]:
        super().reset(seed=seed)
        self._t = 0
        self._obs = self.np_random.uniform(-1, 1, size=4).astype(np.float32)
        return self._obs, {}

    def step(self, action: np.ndarray) -> tuple[np.ndarray, float, bool, bool, dict]:
        assert action.shape == (2, 2), f"the env got an action of shape {action.shape}"
        reward = -float(np.abs(action - self._obs.reshape(2, 2)).sum())
        self._t += 1
        self._obs = self.np_random.uniform(-1, 1, size=4).astype(np.float32)
        return self._obs, reward, False, self._t >= 20, {}


#: One small environment per action space the algorithms support.
ACTION_SPACE_ENVS: dict[str, Callable[[], gym.Env]] = {
    "box": lambda: IdentityEnvBox(ep_length=20),
    "box_2x2": MatrixActionEnv,
    "discrete": lambda: IdentityEnv(dim=3, ep_length=20),
    "multidiscrete": lambda: IdentityEnvMultiDiscrete(dim=3, ep_length=20),
    "multibinary": lambda: IdentityEnvMultiBinary(dim=3, ep_length=20),
}


def dict_obs_env() -> gym.Env:
    return SimpleMultiObsEnv(random_start=True)


class SeededImageEnv(gym.Env):
    """Random 36x36 greyscale frames drawn from the env's seeded generator (SB3's FakeImageEnv samples its observation
    space, which ``seed`` does not reach, so two runs with one seed differ)."""

    observation_space = spaces.Box(0, 255, (36, 36, 1), dtype=np.uint8)
    action_space = spaces.Discrete(3)

    def _frame(self) -> np.ndarray:
        return self.np_random.integers(0, 256, size=(36, 36, 1), dtype=np.uint8)

    def reset(self, *, seed: int | None = None, options: dict | None = None) -> tuple[np.ndarray, dict]:
        super().reset(seed=seed)
        self._t = 0
        return self._frame(), {}

    def step(self, action: int) -> tuple[np.ndarray, float, bool, bool, dict]:
        self._t += 1
        reward = float(action == self._t % 3)
        return self._frame(), reward, False, self._t >= 20, {}


def image_env() -> gym.Env:
    return SeededImageEnv()


def params_of(model: BaseAlgorithm) -> dict[str, th.Tensor]:
    return {name: tensor.detach().clone() for name, tensor in model.policy.state_dict().items()}


def assert_same_params(a: BaseAlgorithm, b: BaseAlgorithm) -> None:
    """Every tensor of the two policies is bit-for-bit equal (torch.equal)."""
    pa, pb = params_of(a), params_of(b)
    assert pa.keys() == pb.keys()
    different = [name for name in pa if not th.equal(pa[name], pb[name])]
    assert not different, f"tensors differ: {different}"


def assert_params_differ(a: BaseAlgorithm, b: BaseAlgorithm) -> None:
    pa, pb = params_of(a), params_of(b)
    assert any(not th.equal(pa[name], pb[name]) for name in pa), "the two policies are identical"


@pytest.fixture
def small_kwargs() -> dict[str, Any]:
    """A budget that makes several updates in well under a second."""
    return dict(n_steps=64, batch_size=32, n_epochs=2, seed=0, device="cpu")


#: The train/ keys SB3 PPO (and MaskablePPO, RecurrentPPO) log after every update.
SB3_TRAIN_KEYS = {
    "train/entropy_loss",
    "train/policy_gradient_loss",
    "train/value_loss",
    "train/approx_kl",
    "train/clip_fraction",
    "train/loss",
    "train/explained_variance",
    "train/n_updates",
    "train/learning_rate",
}


def logged_keys(model: BaseAlgorithm, timesteps: int) -> set[str]:
    """The keys an update of ``model`` records (train() again on the last rollout, before a dump clears them)."""
    from stable_baselines3.common.logger import Logger

    model.set_logger(Logger(None, []))
    model.learn(timesteps)
    model.train()
    return set(model.logger.name_to_value)


def best_mean_return(
    model: BaseAlgorithm, eval_env: Any, timesteps: int, evaluations: int, deterministic: bool = True
) -> float:
    """Train ``model`` for ``timesteps`` and return the best of ``evaluations`` evenly spaced 10-episode evaluations.

    The best, as sb3-contrib's own learning tests take an ``EvalCallback``'s best: a return read once after a fixed budget
    swings with the seed and the CPU's float rounding. A ``VecNormalize`` eval env gets the training env's statistics
    before each evaluation.
    """
    from stable_baselines3.common.callbacks import EvalCallback

    eval_freq = timesteps // evaluations // model.n_envs
    callback = EvalCallback(eval_env, n_eval_episodes=10, eval_freq=eval_freq, deterministic=deterministic, verbose=0)
    model.learn(timesteps, callback=callback)
    return float(callback.best_mean_reward)
