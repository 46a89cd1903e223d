"""Every variant runs on every action and observation space, logs SB3's keys plus its own, and learns CartPole."""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest
import torch as th
from stable_baselines3.common.callbacks import BaseCallback
from stable_baselines3.common.env_util import make_vec_env
from stable_baselines3.common.logger import Logger
from stable_baselines3.common.on_policy_algorithm import OnPolicyAlgorithm
from stable_baselines3.common.vec_env import VecNormalize

from sb3_ppo_variants import VARIANTS, PPOAdaptiveKL
from sb3_ppo_variants.registry import OBJECTIVES, REGISTRY
from tests.conftest import ACTION_SPACE_ENVS, SB3_TRAIN_KEYS, best_mean_return, dict_obs_env, image_env, params_of

ALL = [variant.cls for variant in REGISTRY if variant.family.key == "ppo"]
KL_CLASSES = [variant.cls for variant in REGISTRY if variant.family.key == "ppo" and variant.penalised]


def test_public_api() -> None:
    import sb3_ppo_variants

    assert isinstance(sb3_ppo_variants.__version__, str)
    assert set(ALL) <= set(VARIANTS.values()) and len(ALL) == len(OBJECTIVES)
    for variant in REGISTRY:
        assert issubclass(variant.cls, OnPolicyAlgorithm)
        # the stock algorithm's policy aliases, pointing to the same policy classes
        assert variant.cls.policy_aliases == variant.stock.policy_aliases


@pytest.mark.parametrize("cls", ALL, ids=lambda c: c.__name__)
@pytest.mark.parametrize("space", sorted(ACTION_SPACE_ENVS))
def test_every_variant_on_every_action_space(cls: type, space: str, small_kwargs: dict[str, Any]) -> None:
    model = cls("MlpPolicy", make_vec_env(ACTION_SPACE_ENVS[space], n_envs=2, seed=0), **small_kwargs).learn(256)
    assert model.num_timesteps == 256
    assert all(np.isfinite(p.detach().numpy()).all() for p in model.policy.parameters())


@pytest.mark.parametrize("cls", ALL, ids=lambda c: c.__name__)
def test_dict_and_image_observations_and_gsde(cls: type, small_kwargs: dict[str, Any]) -> None:
    cases = [
        (cls("MultiInputPolicy", dict_obs_env(), **small_kwargs), 128),
        (cls("CnnPolicy", image_env(), **{**small_kwargs, "n_steps": 32, "batch_size": 16}), 64),
        (cls("MlpPolicy", "Pendulum-v1", use_sde=True, sde_sample_freq=8, **small_kwargs), 128),
        (cls("MlpPolicy", VecNormalize(make_vec_env("Pendulum-v1", n_envs=2, seed=0)), **small_kwargs), 128),
    ]
    for model, timesteps in cases:
        before = params_of(model)
        model.learn(timesteps)
        after = params_of(model)
        assert model.num_timesteps == timesteps and model._n_updates > 0
        # every update changed the policy, and left it finite
        assert any(not th.equal(before[name], after[name]) for name in before)
        assert all(th.isfinite(tensor).all() for tensor in after.values())
        if cls in KL_CLASSES:
            assert model.kl_coef > 0 and np.isfinite(model.kl_coef)


@pytest.mark.parametrize("cls", ALL, ids=lambda c: c.__name__)
def test_logged_keys(cls: type, small_kwargs: dict[str, Any]) -> None:
    model = cls("MlpPolicy", "Pendulum-v1", **small_kwargs)
    model.set_logger(Logger(None, []))  # keeps the values in name_to_value until dump, writes no file
    model.learn(64)
    model.train()  # train() again on the same rollout to read its records before a dump clears them
    logged = set(model.logger.name_to_value)
    assert logged >= SB3_TRAIN_KEYS | {"train/std"}
    assert ("train/clip_range" in logged) == (cls.objective.takes_clip_range and cls.objective.clip_range_default is not None)
    has_kl = cls in KL_CLASSES
    assert ("train/kl" in logged) == has_kl
    assert ("train/kl_coef" in logged) == has_kl
    if has_kl:
        assert model.logger.name_to_value["train/kl"] > 0
    assert 0.0 <= model.logger.name_to_value["train/clip_fraction"] <= 1.0


class CountingCallback(BaseCallback):
    def __init__(self, stop_after: int) -> None:
        super().__init__()
        self.stop_after = stop_after
        self.calls = 0

    def _on_step(self) -> bool:
        self.calls += 1
        return self.calls < self.stop_after


@pytest.mark.parametrize("cls", ALL, ids=lambda c: c.__name__)
def test_callback_can_stop_training_and_progress_bar(cls: type, small_kwargs: dict[str, Any]) -> None:
    callback = CountingCallback(stop_after=10)
    model = cls("MlpPolicy", "CartPole-v1", **small_kwargs).learn(1000, callback=callback)
    assert callback.calls == 10
    assert model.num_timesteps == 10
    cls("MlpPolicy", "CartPole-v1", **small_kwargs).learn(64, progress_bar=True)


def test_tensorboard_run_is_named_after_the_class(tmp_path: Any, small_kwargs: dict[str, Any]) -> None:
    pytest.importorskip("tensorboard")
    PPOAdaptiveKL("MlpPolicy", "CartPole-v1", tensorboard_log=str(tmp_path), **small_kwargs).learn(64)
    assert [p.name for p in tmp_path.iterdir()] == ["PPOAdaptiveKL_1"]


# A policy that only ever pushes the cart one way survives ~9-10 steps on CartPole; a uniformly random one ~22.
# 150 is out of reach of both, and of any policy that has not learned to balance.
LEARNED_RETURN = 150.0


def best_cartpole_evaluation(cls: type, seed: int = 0, learning_rate: float = 1e-3) -> float:
    """The best of six 10-episode evaluations over 15k steps, sampling actions. Sampled, because on this seed the
    untrained policy's greedy actions already balance the pole (381 to 459 over 10 episodes with learning_rate=0),
    while sampled ones score 31.7 (this measure, learning_rate=0; trained, every class of LEARNING_CLASSES reaches
    500, each first above 150 by 7.5k steps); the best of several, because no clip can learn and then collapse (seed 2,
    evaluated greedily, falls from 79 to 9). The 10 episodes run on 10 envs at once: 0.55 s per evaluation of the
    trained policy against 4.3 s on one env."""
    env = make_vec_env("CartPole-v1", n_envs=8, seed=seed)
    model = cls("MlpPolicy", env, n_steps=32, batch_size=64, n_epochs=10, learning_rate=learning_rate, seed=seed, device="cpu")
    eval_env = make_vec_env("CartPole-v1", n_envs=10, seed=123)
    return best_mean_return(model, eval_env, 15_000, evaluations=6, deterministic=False)


#: Not PPOClip, whose training is stock PPO's bit for bit (tests/test_parity.py), nor PPOPerSampleKL, whose update is
#: PPOClip's to 1e-6 (tests/objectives/test_per_sample.py): their learning is SB3's, which SB3's own tests check.
LEARNING_CLASSES = [cls for cls in ALL if cls.__name__ not in ("PPOClip", "PPOPerSampleKL")]


@pytest.mark.slow
@pytest.mark.parametrize("cls", LEARNING_CLASSES, ids=lambda c: c.__name__)
def test_learns_cartpole(cls: type) -> None:
    mean_return = best_cartpole_evaluation(cls)
    assert mean_return >= LEARNED_RETURN, f"{cls.__name__} reached only {mean_return}"
