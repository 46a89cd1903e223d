"""PPOClip is bit-for-bit stable_baselines3.PPO; the unclipped and zero-penalty corners of the other variants are
bit-for-bit PPONoClip.

Each case trains two models from the same seed and arguments for a few updates and compares every tensor of the
policies with torch.equal.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import Any

import gymnasium as gym
import pytest
from stable_baselines3 import PPO
from stable_baselines3.common.env_util import make_vec_env
from stable_baselines3.common.vec_env import VecNormalize

from sb3_ppo_variants import PPOAdaptiveKL, PPOClip, PPOFixedKL, PPONoClip
from tests.conftest import ACTION_SPACE_ENVS, assert_params_differ, assert_same_params, dict_obs_env, image_env

BUDGET = dict(n_steps=64, batch_size=32, n_epochs=3, device="cpu")
TIMESTEPS = 3 * 64


def _env(kind: str) -> Callable[[], gym.Env]:
    return ACTION_SPACE_ENVS[kind]


# name -> (env factory, n_envs, policy, extra kwargs)
CASES: dict[str, tuple[Callable[[], gym.Env] | str, int, str, dict[str, Any]]] = {
    "box": (_env("box"), 1, "MlpPolicy", {}),
    "discrete": ("CartPole-v1", 1, "MlpPolicy", {}),
    "multidiscrete": (_env("multidiscrete"), 1, "MlpPolicy", {}),
    "multibinary": (_env("multibinary"), 1, "MlpPolicy", {}),
    "gsde": ("Pendulum-v1", 1, "MlpPolicy", dict(use_sde=True, sde_sample_freq=4)),
    "clip_range_vf": ("Pendulum-v1", 1, "MlpPolicy", dict(clip_range_vf=0.1)),
    "target_kl": ("CartPole-v1", 1, "MlpPolicy", dict(target_kl=1e-4, learning_rate=3e-3)),
    "schedules": ("Pendulum-v1", 1, "MlpPolicy", dict(learning_rate=lambda p: 1e-3 * p, clip_range=lambda p: 0.3 * p)),
    "no_adv_norm_ent_coef": ("CartPole-v1", 1, "MlpPolicy", dict(normalize_advantage=False, ent_coef=0.01)),
    "several_envs": ("Pendulum-v1", 4, "MlpPolicy", dict(n_steps=16)),
    "dict_obs": (dict_obs_env, 1, "MultiInputPolicy", {}),
    "image": (image_env, 1, "CnnPolicy", dict(n_steps=32, batch_size=16, n_epochs=2)),
    "separate_nets": ("Pendulum-v1", 1, "MlpPolicy", dict(policy_kwargs=dict(net_arch=dict(pi=[32], vf=[16])))),
}


def _train(cls: type, case: str, seed: int = 0, **overrides: Any) -> Any:
    env_id, n_envs, policy, extra = CASES[case]
    env = make_vec_env(env_id, n_envs=n_envs, seed=seed)
    kwargs = {**BUDGET, **extra, **overrides}
    return cls(policy, env, seed=seed, **kwargs).learn(TIMESTEPS)


@pytest.mark.parametrize("case", sorted(CASES))
def test_ppo_clip_is_bit_identical_to_sb3_ppo(case: str) -> None:
    assert_same_params(_train(PPO, case), _train(PPOClip, case))


def test_parity_check_can_fail() -> None:
    """The comparison above is not vacuous: another seed, or another objective, changes the parameters."""
    assert_params_differ(_train(PPO, "box", seed=0), _train(PPOClip, "box", seed=1))
    assert_params_differ(_train(PPO, "box", learning_rate=3e-3), _train(PPONoClip, "box", learning_rate=3e-3))


def test_parity_with_vec_normalize() -> None:
    def train(cls: type) -> Any:
        env = VecNormalize(make_vec_env("Pendulum-v1", n_envs=2, seed=0))
        return cls("MlpPolicy", env, seed=0, **BUDGET).learn(TIMESTEPS)

    sb3, ours = train(PPO), train(PPOClip)
    assert_same_params(sb3, ours)
    assert (sb3.get_vec_normalize_env().obs_rms.mean == ours.get_vec_normalize_env().obs_rms.mean).all()


@pytest.mark.parametrize("case", ["box", "discrete", "multidiscrete", "multibinary", "gsde"])
def test_unclipped_corners_equal_no_clip(case: str) -> None:
    no_clip = _train(PPONoClip, case)
    assert_same_params(no_clip, _train(PPOClip, case, clip_range=math.inf))
    assert_same_params(no_clip, _train(PPOFixedKL, case, kl_coef=0.0))
    # beta = 0 stays 0 under the adaptive rule (it only multiplies and divides)
    adaptive = _train(PPOAdaptiveKL, case, kl_coef=0.0)
    assert adaptive.kl_coef == 0.0
    assert_same_params(no_clip, adaptive)


def test_zero_penalty_with_clipping_equals_ppo_clip() -> None:
    assert_same_params(_train(PPOClip, "box"), _train(PPOFixedKL, "box", kl_coef=0.0, clip_range=0.2))


def test_nonzero_penalty_changes_the_update() -> None:
    assert_params_differ(_train(PPONoClip, "box"), _train(PPOFixedKL, "box", kl_coef=1.0))
