"""The fast collection keeps SB3's collection contract: buffer contents, callbacks, timeouts, fallbacks."""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest
import torch as th
from gymnasium import spaces
from stable_baselines3.common.buffers import RolloutBuffer
from stable_baselines3.common.callbacks import BaseCallback
from stable_baselines3.common.env_util import make_vec_env
from stable_baselines3.common.policies import ActorCriticPolicy

from sb3_ppo_variants import PPOClip
from sb3_ppo_variants.fast.collect import collection_reason
from sb3_ppo_variants.minibatches import is_sb3_buffer
from tests.conftest import ACTION_SPACE_ENVS, dict_obs_env

SMALL = dict(n_steps=64, batch_size=32, n_epochs=2, device="cpu")


def first_rollout(fast: bool, env_id: Any = "Pendulum-v1", n_envs: int = 2, **kwargs: Any) -> RolloutBuffer:
    np.random.seed(0)
    policy = "MultiInputPolicy" if env_id is dict_obs_env else "MlpPolicy"
    env = make_vec_env(env_id, n_envs=n_envs, seed=0)
    model = PPOClip(policy, env, seed=0, fast=fast, **{**SMALL, **kwargs})
    model._setup_learn(10_000)
    callback = model._init_callback(None)
    assert model.collect_rollouts(model.env, callback, model.rollout_buffer, model.n_steps)
    return model.rollout_buffer


ENVS: dict[str, Any] = {"pendulum": "Pendulum-v1", "cartpole": "CartPole-v1", **ACTION_SPACE_ENVS, "dict_obs": dict_obs_env}


@pytest.mark.parametrize("name", sorted(ENVS))
def test_first_rollout_matches_sb3_collection(name: str) -> None:
    """Same seed, same parameters: the same actions and trajectories; values and log-probabilities up to rounding."""
    env_id = ENVS[name]
    exact, fast = first_rollout(False, env_id), first_rollout(True, env_id)
    observations = (exact.observations, fast.observations)
    if isinstance(exact.observations, dict):
        for key in exact.observations:
            np.testing.assert_array_equal(exact.observations[key], fast.observations[key])
    else:
        np.testing.assert_array_equal(*observations)
    for name in ("actions", "episode_starts"):
        np.testing.assert_array_equal(getattr(exact, name), getattr(fast, name))
    for name in ("rewards", "values", "log_probs", "advantages", "returns"):
        np.testing.assert_allclose(getattr(fast, name), getattr(exact, name), rtol=1e-5, atol=1e-5, err_msg=name)


def test_timeouts_are_bootstrapped() -> None:
    """Pendulum truncates at 200 steps; the value of the terminal observation is added to that step's reward."""
    exact, fast = first_rollout(False, n_envs=1, n_steps=256), first_rollout(True, n_envs=1, n_steps=256)
    np.testing.assert_allclose(fast.rewards, exact.rewards, rtol=1e-5, atol=1e-5)
    # gamma = 0 leaves the raw rewards; step 199 ends the first episode by truncation: r + gamma V(s_200) differs there only
    raw = first_rollout(True, n_envs=1, n_steps=256, gamma=0.0)
    assert abs(fast.rewards[199, 0] - raw.rewards[199, 0]) > 1e-3  # the bootstrap term is there
    np.testing.assert_allclose(fast.rewards[:199, 0], raw.rewards[:199, 0])


class Recorder(BaseCallback):
    def __init__(self, stop_after: int | None = None) -> None:
        super().__init__()
        self.stop_after = stop_after
        self.steps = 0
        self.events: list[str] = []
        self.seen: set[str] = set()

    def _on_rollout_start(self) -> None:
        self.events.append("start")

    def _on_rollout_end(self) -> None:
        self.events.append("end")

    def _on_step(self) -> bool:
        self.steps += 1
        self.seen |= set(self.locals)
        return self.stop_after is None or self.steps < self.stop_after


def test_callbacks_see_sb3_locals_and_can_stop_training() -> None:
    recorder = Recorder()
    PPOClip("MlpPolicy", "CartPole-v1", fast=True, seed=0, **SMALL).learn(128, callback=recorder)
    assert recorder.steps == 128
    assert recorder.events == ["start", "end", "start", "end"]
    assert {"new_obs", "rewards", "dones", "infos", "actions", "clipped_actions", "n_steps", "obs_tensor"} <= recorder.seen

    stopper = Recorder(stop_after=10)
    model = PPOClip("MlpPolicy", "CartPole-v1", fast=True, seed=0, **SMALL).learn(1000, callback=stopper)
    assert stopper.steps == 10 and model.num_timesteps == 10


def test_episode_infos_reach_the_logger() -> None:
    model = PPOClip("MlpPolicy", "CartPole-v1", fast=True, seed=0, **SMALL).learn(512)
    assert len(model.ep_info_buffer) > 5
    assert all({"r", "l", "t"} <= set(info) for info in model.ep_info_buffer)


class ReversedBuffer(RolloutBuffer):
    """A user's buffer: the fast collection does not know how to fill it, so SB3's collection does."""


def test_unknown_buffer_falls_back_to_sb3_collection() -> None:
    exact = PPOClip("MlpPolicy", "CartPole-v1", seed=0, rollout_buffer_class=ReversedBuffer, **SMALL).learn(64)
    fast = PPOClip("MlpPolicy", "CartPole-v1", seed=0, fast=True, rollout_buffer_class=ReversedBuffer, **SMALL).learn(64)
    assert not is_sb3_buffer(fast.rollout_buffer)
    # SB3's collection computes values per step exactly as the exact path does
    np.testing.assert_array_equal(exact.rollout_buffer.values, fast.rollout_buffer.values)


class ConstantValuePolicy(ActorCriticPolicy):
    """SB3's tests/test_gae.py's policy: ``forward`` overridden to return values of 1."""

    def forward(self, obs: Any, deterministic: bool = False) -> tuple[th.Tensor, th.Tensor, th.Tensor]:
        actions, values, log_prob = super().forward(obs, deterministic)
        return actions, th.ones_like(values), log_prob


def test_policy_overriding_forward_is_collected_by_sb3() -> None:
    """The fast collection does not call ``forward``: a policy that overrides it gets SB3's collection, so its values
    are the ones it returns (1), as on the exact path."""
    assert collection_reason(ConstantValuePolicy(spaces.Box(-1, 1, (3,)), spaces.Discrete(2), lambda _: 1e-3)) is not None
    assert collection_reason(ActorCriticPolicy(spaces.Box(-1, 1, (3,)), spaces.Discrete(2), lambda _: 1e-3)) is None
    exact = PPOClip(ConstantValuePolicy, "CartPole-v1", seed=0, **SMALL).learn(64)
    fast = PPOClip(ConstantValuePolicy, "CartPole-v1", seed=0, fast=True, **SMALL).learn(64)
    np.testing.assert_array_equal(fast.rollout_buffer.values, np.ones_like(fast.rollout_buffer.values))
    np.testing.assert_array_equal(exact.rollout_buffer.values, fast.rollout_buffer.values)
    np.testing.assert_array_equal(exact.rollout_buffer.advantages, fast.rollout_buffer.advantages)
