"""Every variant saves and loads with its parameters, predictions and beta, and training continues after load."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import pytest
import torch as th
from stable_baselines3.common.env_util import make_vec_env
from stable_baselines3.common.logger import Logger

from sb3_ppo_variants import PPOAdaptiveKL, PPOClip, PPOFixedKL
from sb3_ppo_variants.registry import REGISTRY
from tests.conftest import assert_same_params

ALL = [variant.cls for variant in REGISTRY if variant.family.key == "ppo"]


@pytest.mark.parametrize("cls", ALL, ids=lambda c: c.__name__)
def test_save_load_roundtrip_and_continue(cls: type, tmp_path: Path, small_kwargs: dict[str, Any]) -> None:
    variant_kwargs: dict[str, Any] = {}
    if cls is PPOAdaptiveKL:
        variant_kwargs = dict(kl_target=0.002, kl_coef=0.7, kl_tolerance=1.2, kl_coef_factor=3.0, clip_range=0.3)
    elif cls is PPOFixedKL:
        variant_kwargs = dict(kl_coef=2.5)
    elif cls is PPOClip:
        variant_kwargs = dict(clip_range=0.15)
    model = cls("MlpPolicy", "Pendulum-v1", learning_rate=1e-3, **small_kwargs, **variant_kwargs).learn(256)
    if cls is PPOAdaptiveKL:
        assert model.kl_coef != 0.7  # the rule moved beta: the saved value is not the constructor's
    obs = np.stack([model.observation_space.sample() for _ in range(10)])
    actions, _ = model.predict(obs, deterministic=True)
    model.save(tmp_path / "model")

    loaded = cls.load(tmp_path / "model", env=make_vec_env("Pendulum-v1", seed=1), device="cpu")
    assert type(loaded) is cls
    assert_same_params(model, loaded)
    np.testing.assert_array_equal(loaded.predict(obs, deterministic=True)[0], actions)
    for name in ("kl_coef", "kl_target", "kl_tolerance", "kl_coef_factor"):
        assert getattr(loaded, name, None) == getattr(model, name, None)
    if model.clip_range is None:
        assert loaded.clip_range is None
    else:
        assert loaded.clip_range(1.0) == model.clip_range(1.0)

    loaded.set_logger(Logger(None, []))
    loaded.learn(64, reset_num_timesteps=False)  # one update
    if cls in (PPOAdaptiveKL, PPOFixedKL):
        # the update after load used the restored beta, not the constructor's default
        assert loaded.logger.name_to_value["train/kl_coef"] == model.kl_coef != 1.0
    loaded.learn(192, reset_num_timesteps=False)
    assert loaded.num_timesteps == 512
    assert all(th.isfinite(p).all() for p in loaded.policy.parameters())


def test_loaded_adaptive_model_continues_exactly_like_the_original(tmp_path: Path, small_kwargs: dict[str, Any]) -> None:
    """Saving in the middle of training loses nothing the adaptive rule needs: beta comes
    back, so the next update after load equals the next update without the save."""
    model = PPOAdaptiveKL("MlpPolicy", "CartPole-v1", learning_rate=1e-3, **small_kwargs).learn(128)
    model.save(tmp_path / "model")
    loaded = PPOAdaptiveKL.load(tmp_path / "model", device="cpu")
    loaded.set_logger(Logger(None, []))
    # replay the same rollout through both
    loaded.rollout_buffer = model.rollout_buffer
    loaded._current_progress_remaining = model._current_progress_remaining
    state = np.random.get_state()
    model.train()
    np.random.set_state(state)
    loaded.train()
    assert_same_params(model, loaded)
    assert loaded.kl_coef == model.kl_coef
