"""The lean evaluator computes what SB3's policy computes, and refuses the policies it cannot serve."""

from __future__ import annotations

from typing import Any

import pytest
import torch as th
from stable_baselines3.common.env_util import make_vec_env
from stable_baselines3.common.policies import ActorCriticPolicy
from stable_baselines3.common.utils import obs_as_tensor

from sb3_ppo_variants import PPOClip
from sb3_ppo_variants.fast import LeanEvaluator, PolicyEvaluator, lean_reason, make_evaluator
from sb3_ppo_variants.kl import capture, kl_divergence
from tests.conftest import ACTION_SPACE_ENVS, dict_obs_env, image_env

ENVS: dict[str, tuple[Any, str, dict[str, Any]]] = {
    **{name: (factory, "MlpPolicy", {}) for name, factory in ACTION_SPACE_ENVS.items()},
    "pendulum": ("Pendulum-v1", "MlpPolicy", {}),
    "separate_extractors": ("Pendulum-v1", "MlpPolicy", dict(policy_kwargs=dict(share_features_extractor=False))),
    "relu": ("CartPole-v1", "MlpPolicy", dict(policy_kwargs=dict(activation_fn=th.nn.ReLU))),
    "dict_obs": (dict_obs_env, "MultiInputPolicy", {}),
    "image": (image_env, "CnnPolicy", {}),
}


def policy_and_batch(name: str) -> tuple[ActorCriticPolicy, Any, th.Tensor]:
    env_id, policy, kwargs = ENVS[name]
    model = PPOClip(policy, make_vec_env(env_id, n_envs=4, seed=0), seed=0, n_steps=16, batch_size=16, device="cpu", **kwargs)
    model.learn(64)  # trained a little, so log_std and the heads are not at their initial values
    obs = obs_as_tensor(model.env.reset(), model.device)
    with th.no_grad():
        actions = model.policy.get_distribution(obs).get_actions()
    buffered = actions.float().reshape(len(actions), -1)  # as the rollout buffer stores them
    return model.policy, obs, buffered


@pytest.mark.parametrize("name", sorted(ENVS))
def test_lean_evaluation_matches_evaluate_actions(name: str) -> None:
    policy, obs, actions = policy_and_batch(name)
    evaluator = make_evaluator(policy)
    assert isinstance(evaluator, LeanEvaluator), lean_reason(policy)
    with th.no_grad():
        values, log_prob, entropy, distribution = evaluator.evaluate(obs, actions)
        sb3_actions = actions.long().flatten() if name in ("discrete", "relu", "dict_obs", "image") else actions
        sb3_values, sb3_log_prob, sb3_entropy = policy.evaluate_actions(obs, sb3_actions)
        sb3_distribution = capture(policy.action_dist)
        th.testing.assert_close(values, sb3_values.flatten(), rtol=0, atol=1e-6)
        th.testing.assert_close(log_prob, sb3_log_prob, rtol=1e-6, atol=1e-6)
        assert entropy is not None and sb3_entropy is not None
        th.testing.assert_close(entropy.mean(), sb3_entropy.mean(), rtol=1e-6, atol=1e-6)
        # the captured parameters describe the same distribution: zero KL between them
        assert kl_divergence(sb3_distribution, distribution).abs().max().item() < 1e-6
        th.testing.assert_close(evaluator.predict_values(obs), sb3_values.flatten(), rtol=0, atol=1e-6)


@pytest.mark.parametrize("name", ["box", "pendulum", "discrete", "multidiscrete", "multibinary"])
def test_lean_sampling_draws_what_sb3_draws(name: str) -> None:
    policy, obs, _ = policy_and_batch(name)
    with th.no_grad():
        th.manual_seed(3)
        sb3 = policy.get_distribution(obs).get_actions()
        th.manual_seed(3)
        lean = make_evaluator(policy).act(obs)
    assert lean.shape == sb3.shape and lean.dtype == sb3.dtype
    th.testing.assert_close(lean, sb3, rtol=0, atol=1e-6)


def test_gsde_falls_back_to_the_policys_own_methods() -> None:
    model = PPOClip("MlpPolicy", "Pendulum-v1", use_sde=True, seed=0, device="cpu")
    reason = lean_reason(model.policy)
    assert reason is not None and "StateDependentNoise" in reason
    assert type(make_evaluator(model.policy)) is PolicyEvaluator


class CustomPolicy(ActorCriticPolicy):
    def evaluate_actions(self, obs: Any, actions: th.Tensor) -> Any:
        return super().evaluate_actions(obs, actions)


def test_a_policy_that_overrides_evaluation_falls_back() -> None:
    model = PPOClip(CustomPolicy, "CartPole-v1", seed=0, device="cpu")
    assert "overrides evaluate_actions" in (lean_reason(model.policy) or "")
    assert type(make_evaluator(model.policy)) is PolicyEvaluator
    PPOClip(CustomPolicy, "CartPole-v1", seed=0, device="cpu", fast=True, n_steps=32, batch_size=16).learn(64)
