"""The fast path's closed-form training step: which policies it serves, its gradient against autograd through SB3's
own policy, and the state it leaves in the policy and the optimizer."""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest
import torch as th
from stable_baselines3.common.env_util import make_vec_env
from stable_baselines3.common.utils import obs_as_tensor

from sb3_ppo_variants import PPOAdaptiveKL, PPOClip
from sb3_ppo_variants.fast import AnalyticEvaluator, analytic_reason
from sb3_ppo_variants.kl import capture, kl_divergence, kl_divergence_gradient
from sb3_ppo_variants.objectives import surrogate_loss, surrogate_loss_gradient, value_loss, value_loss_gradient
from tests.conftest import ACTION_SPACE_ENVS, dict_obs_env, image_env
from tests.test_parity import BUDGET

SERVED: dict[str, tuple[Any, dict[str, Any]]] = {
    **{name: (factory, {}) for name, factory in ACTION_SPACE_ENVS.items()},
    "pendulum": ("Pendulum-v1", {}),
    "relu": ("CartPole-v1", dict(policy_kwargs=dict(activation_fn=th.nn.ReLU))),
    "separate_nets": ("Pendulum-v1", dict(policy_kwargs=dict(net_arch=dict(pi=[32], vf=[16, 8])))),
    "no_hidden_layers": ("Pendulum-v1", dict(policy_kwargs=dict(net_arch=[]))),
    "separate_extractors": ("Pendulum-v1", dict(policy_kwargs=dict(share_features_extractor=False))),
    "adamw": ("Pendulum-v1", dict(policy_kwargs=dict(optimizer_class=th.optim.AdamW))),
}


def trained(env: Any, policy: str = "MlpPolicy", **kwargs: Any) -> PPOClip:
    model = PPOClip(policy, make_vec_env(env, n_envs=2, seed=0), seed=0, **{**BUDGET, **kwargs})
    return model.learn(128)  # log_std and the heads away from their initial values, Adam state built


@pytest.mark.parametrize("name", sorted(SERVED))
def test_served_policies(name: str) -> None:
    env, kwargs = SERVED[name]
    assert analytic_reason(trained(env, **kwargs).policy) is None


@pytest.mark.parametrize(
    ("env", "policy", "kwargs", "reason"),
    [
        ("Pendulum-v1", "MlpPolicy", dict(use_sde=True), "StateDependentNoise"),
        (image_env, "CnnPolicy", {}, "features extractor"),
        (dict_obs_env, "MultiInputPolicy", {}, "features extractor"),
        ("CartPole-v1", "MlpPolicy", dict(policy_kwargs=dict(activation_fn=th.nn.ELU)), "ELU"),
        ("CartPole-v1", "MlpPolicy", dict(policy_kwargs=dict(optimizer_class=th.optim.RMSprop)), "RMSprop"),
        ("CartPole-v1", "MlpPolicy", dict(policy_kwargs=dict(optimizer_kwargs=dict(amsgrad=True))), "amsgrad"),
    ],
)
def test_other_policies_use_autograd(
    env: Any, policy: str, kwargs: dict[str, Any], reason: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    model = PPOClip(policy, make_vec_env(env, n_envs=1, seed=0), seed=0, fast=True, **{**BUDGET, **kwargs})
    assert reason in (analytic_reason(model.policy) or "")
    calls = count_backward_calls(monkeypatch)
    model.learn(64)  # and the fast path still trains it
    assert calls == []


def count_backward_calls(monkeypatch: pytest.MonkeyPatch) -> list[int]:
    calls: list[int] = []
    original = AnalyticEvaluator.backward

    def spy(self: AnalyticEvaluator, *args: Any) -> None:
        calls.append(1)
        original(self, *args)

    monkeypatch.setattr(AnalyticEvaluator, "backward", spy)
    return calls


def test_the_fast_loop_uses_it_for_mlp_policies(monkeypatch: pytest.MonkeyPatch) -> None:
    model = PPOClip("MlpPolicy", "Pendulum-v1", seed=0, fast=True, **BUDGET)
    calls = count_backward_calls(monkeypatch)
    model.learn(64)
    assert len(calls) == BUDGET["n_epochs"] * BUDGET["n_steps"] // BUDGET["batch_size"]


@pytest.mark.parametrize("name", sorted(SERVED))
@pytest.mark.parametrize(
    "loss",
    [
        dict(clip_range=0.2, kl_coef=None, ent_coef=0.0, clip_range_vf=None),
        dict(clip_range=None, kl_coef=3.0, ent_coef=0.01, clip_range_vf=0.05),
        dict(clip_range=0.1, kl_coef=0.5, ent_coef=0.0, clip_range_vf=None),
    ],
    ids=["clip", "kl_entropy_vf_clip", "clip_and_kl"],
)
def test_gradient_is_autograds_through_sb3s_policy(name: str, loss: dict[str, Any]) -> None:
    """The loss the loop builds, differentiated by autograd through ``policy.evaluate_actions`` and by hand."""
    env, kwargs = SERVED[name]
    model = trained(env, **kwargs)
    policy, buffer = model.policy, model.rollout_buffer
    rows = np.arange(48)
    data = buffer._get_samples(rows)
    with th.no_grad():
        # π_old: the distributions of a slightly different policy, so that the KL and the ratios are not trivial
        old = capture(policy.get_distribution(data.observations))
        old = tuple(p._replace(a=p.a + 0.1 * th.randn_like(p.a)) for p in old)
        # (a categorical keeps normalised log-probabilities)
        old = tuple(p._replace(a=th.log_softmax(p.a, -1)) if p.family == "categorical" else p for p in old)
    old_log_prob = data.old_log_prob + 0.2 * th.randn_like(data.old_log_prob)
    advantages = data.advantages
    vf_coef = 0.5

    def terms(values: th.Tensor, log_prob: th.Tensor) -> tuple[th.Tensor, th.Tensor]:
        ratio = th.exp(log_prob - old_log_prob)
        return ratio, value_loss(values, data.old_values, data.returns, loss["clip_range_vf"])

    # autograd, through SB3's own evaluation
    policy.optimizer.zero_grad()
    actions = data.actions.long().flatten() if name in ("discrete", "relu") else data.actions
    values, log_prob, entropy = policy.evaluate_actions(data.observations, actions)
    ratio, v_loss = terms(values.flatten(), log_prob)
    total = surrogate_loss(ratio, advantages, loss["clip_range"]) + vf_coef * v_loss
    if loss["kl_coef"] is not None:
        total = total + loss["kl_coef"] * kl_divergence(old, capture(policy.action_dist)).mean()
    assert entropy is not None
    total = total - loss["ent_coef"] * entropy.mean()
    total.backward()
    expected = th.cat([p.grad.reshape(-1) for p in policy.parameters() if p.grad is not None])

    # by hand
    analytic = AnalyticEvaluator(policy)
    values, log_prob, entropy, new = analytic.evaluate(data.observations, data.actions, True)
    ratio, _ = terms(values, log_prob)
    assert entropy is not None and new is not None
    analytic.backward(
        surrogate_loss_gradient(ratio, advantages, loss["clip_range"]),
        -loss["ent_coef"] / entropy.numel() if loss["ent_coef"] else None,
        None if loss["kl_coef"] is None else kl_divergence_gradient(old, new, loss["kl_coef"] / len(rows)),
        vf_coef * value_loss_gradient(values, data.old_values, data.returns, loss["clip_range_vf"]),
    )
    assert expected.shape == analytic.flat.grad.shape
    # float32 rounding: on these batches, both gradients are within ~1e-5 of a float64 computation (the log_std
    # gradient sums 48 terms of order 10); a wrong term is off by orders of magnitude more
    th.testing.assert_close(analytic.flat.grad, expected, rtol=1e-4, atol=2e-5)


def test_an_interrupted_update_is_undone_in_the_policy_and_optimizer() -> None:
    """A non-finite gradient norm stops training mid-update: the flat copies are written back (in torch's format) and
    the update is then undone, so the policy and Adam's state are those before the update, and training goes on."""
    model = PPOAdaptiveKL("MlpPolicy", "Pendulum-v1", seed=0, fast=True, **BUDGET)
    model.learn(64)
    before = [p.detach().clone() for p in model.policy.parameters()]
    steps_before = float(model.policy.optimizer.state[model.policy.log_std]["step"])
    original = model._check_finite

    def fail_on_the_third(what: str, value: float, epoch: int, minibatch: int) -> None:
        if epoch * 2 + minibatch == 2:
            original(what, float("nan"), epoch, minibatch)

    model._check_finite = fail_on_the_third  # type: ignore[method-assign]
    with pytest.raises(FloatingPointError, match=r"gradient norm is nan .* back to their finite values before this update"):
        model.learn(64, reset_num_timesteps=False)
    after = list(model.policy.parameters())
    assert all(th.equal(a, b) for a, b in zip(before, after, strict=True))
    states = [model.policy.optimizer.state[p] for p in after]
    assert {float(state["step"]) for state in states} == {steps_before}
    assert all(state["exp_avg"].shape == p.shape for state, p in zip(states, after, strict=True))
    model._check_finite = original  # type: ignore[method-assign]
    model.learn(64, reset_num_timesteps=False)
    assert {float(model.policy.optimizer.state[p]["step"]) for p in after} == {2 * steps_before}  # one whole update more


def test_continues_from_a_saved_model_on_either_path(tmp_path: Any) -> None:
    """Fast-trained, saved, loaded fast and exact: both continue from the same parameters and Adam state."""
    model = PPOClip("MlpPolicy", "Pendulum-v1", seed=0, fast=True, **BUDGET).learn(128)
    model.save(tmp_path / "model")
    continued = {}
    for fast in (False, True):
        loaded = PPOClip.load(tmp_path / "model", env=make_vec_env("Pendulum-v1", n_envs=1, seed=1), fast=fast)
        assert float(loaded.policy.optimizer.state[loaded.policy.log_std]["step"]) == 2 * 6
        loaded.set_random_seed(1)
        continued[fast] = loaded.learn(64, reset_num_timesteps=False)
    for a, b in zip(continued[False].policy.parameters(), continued[True].policy.parameters(), strict=True):
        th.testing.assert_close(a, b, rtol=0, atol=1e-6)
    obs = obs_as_tensor(continued[True].env.reset(), "cpu")
    assert th.isfinite(continued[True].policy.predict_values(obs)).all()
