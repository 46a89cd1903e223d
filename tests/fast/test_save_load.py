"""A model trained fast saves, loads and continues in either mode; the exact mode after it is SB3 PPO bit for bit."""

from __future__ import annotations

from pathlib import Path

from stable_baselines3 import PPO
from stable_baselines3.common.env_util import make_vec_env

from sb3_ppo_variants import PPOAdaptiveKL, PPOClip
from tests.conftest import assert_same_params

SMALL = dict(n_steps=64, batch_size=32, n_epochs=2, seed=0, device="cpu")


def test_fast_model_continues_exactly_as_sb3_ppo_after_loading(tmp_path: Path) -> None:
    path = tmp_path / "fast"
    PPOClip("MlpPolicy", "Pendulum-v1", fast=True, **SMALL).learn(128).save(path)

    assert PPOClip.load(path).fast is True

    exact = PPOClip.load(path, env=make_vec_env("Pendulum-v1", seed=1), fast=False)
    sb3 = PPO.load(path, env=make_vec_env("Pendulum-v1", seed=1))
    assert exact.fast is False
    # nothing of the fast path stays behind in the optimizer that SB3 would not have
    assert all(group["fused"] is None and group["foreach"] is None for group in exact.policy.optimizer.param_groups)
    for model in (exact, sb3):  # the global generators, seeded right before each run
        model.set_random_seed(1)
        model.learn(128, reset_num_timesteps=False)
    assert_same_params(exact, sb3)


def test_exact_model_continues_fast(tmp_path: Path) -> None:
    path = tmp_path / "exact"
    PPOAdaptiveKL("MlpPolicy", "CartPole-v1", **SMALL).learn(128).save(path)
    model = PPOAdaptiveKL.load(path, env=make_vec_env("CartPole-v1", seed=1), fast=True)
    kl_coef = model.kl_coef
    model.learn(128, reset_num_timesteps=False)
    assert model.fast and model.num_timesteps == 256
    assert model.kl_coef != kl_coef  # β kept adapting from where it was saved
