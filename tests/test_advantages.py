"""Advantage standardisation over the minibatch (SB3, the default) or over the whole rollout once per update
(``normalize_advantage_over="rollout"``, the paper's released code), in every family and on both paths."""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest
import torch as th
from sb3_contrib.common.envs import InvalidActionEnvDiscrete

from sb3_ppo_variants import MaskablePPOClip, PPOAdaptiveKL, PPOClip, RecurrentPPOAdaptiveKL, RecurrentPPOClip
from tests.fast.test_equivalence import ATOL, OTHER_OBJECTIVES, max_difference, one_update

FAMILIES = [PPOClip, PPOAdaptiveKL, MaskablePPOClip, RecurrentPPOClip, RecurrentPPOAdaptiveKL]


def make(cls: type, **kwargs: Any) -> Any:
    if cls.family_key == "ppo_mask":
        env: Any = InvalidActionEnvDiscrete(dim=4, n_invalid_actions=1)
        policy = "MlpPolicy"
    else:
        env = "Pendulum-v1"
        policy = "MlpLstmPolicy" if cls.family_key == "ppo_lstm" else "MlpPolicy"
    return cls(policy, env, n_steps=64, batch_size=16, n_epochs=2, seed=0, device="cpu", **kwargs)


def record_advantages(model: Any) -> list[tuple[th.Tensor, th.Tensor, th.Tensor | None, np.ndarray]]:
    """Each call's (raw minibatch advantages, what the loss got, padding mask, the rollout's advantages then)."""
    calls: list[tuple[th.Tensor, th.Tensor, th.Tensor | None, np.ndarray]] = []
    original = model._advantages

    def recorded(samples: Any) -> th.Tensor:
        out = original(samples)
        mask = getattr(samples, "mask", None)
        real = None if mask is None else mask > 1e-8
        calls.append((samples.advantages.clone(), out.detach().clone(), real, model.rollout_buffer.advantages.copy()))
        return out

    model._advantages = recorded
    return calls


@pytest.mark.parametrize("cls", FAMILIES, ids=lambda cls: cls.__name__)
def test_rollout_scope_standardises_by_the_whole_rollouts_moments(cls: type) -> None:
    model = make(cls, normalize_advantage_over="rollout")
    calls = record_advantages(model)
    model.learn(128)  # two updates
    assert len(calls) >= 8
    for raw, used, real, rollout in calls:
        expected = (raw - rollout.astype(np.float64).mean()) / (rollout.astype(np.float64).std() + 1e-8)
        keep = slice(None) if real is None else real
        np.testing.assert_allclose(used[keep].numpy(), expected[keep].numpy(), rtol=1e-5, atol=1e-6)
    # over the rollout the minibatches keep their own means (per minibatch they would all be 0)
    means = [used.mean().item() if real is None else used[real].mean().item() for _, used, real, _ in calls]
    assert max(abs(m) for m in means) > 0.05


@pytest.mark.parametrize("cls", FAMILIES, ids=lambda cls: cls.__name__)
def test_minibatch_scope_is_the_default_and_standardises_each_minibatch(cls: type) -> None:
    model = make(cls)
    assert model.normalize_advantage_over == "minibatch"
    calls = record_advantages(model)
    model.learn(64)
    for _, used, real, _ in calls:
        values = used if real is None else used[real]
        assert abs(values.mean().item()) < 1e-5


def test_no_normalisation_ignores_the_scope() -> None:
    model = make(PPOClip, normalize_advantage=False, normalize_advantage_over="rollout")
    calls = record_advantages(model)
    model.learn(64)
    assert all(th.equal(raw, used) for raw, used, _, _ in calls)


def test_rollout_scope_takes_minibatches_of_one() -> None:
    # the per-minibatch std of one sample is what SB3 refuses batch_size=1 for; over the rollout there is none
    model = PPOClip(
        "MlpPolicy", "Pendulum-v1", n_steps=8, batch_size=1, n_epochs=1, seed=0, normalize_advantage_over="rollout"
    )
    model.learn(8)
    assert all(th.isfinite(p).all() for p in model.policy.parameters())


@pytest.mark.parametrize("cls", [PPOClip, *OTHER_OBJECTIVES], ids=lambda cls: cls.__name__)
def test_fast_path_matches_exact_with_rollout_scope(cls: type) -> None:
    exact = one_update(cls, "gaussian_entropy", fast=False, normalize_advantage_over="rollout")
    fast = one_update(cls, "gaussian_entropy", fast=True, normalize_advantage_over="rollout")
    assert max_difference(exact, fast) < ATOL
    minibatch = one_update(cls, "gaussian_entropy", fast=False)
    assert max_difference(exact, minibatch) > 10 * ATOL  # the scope changes the update


def test_the_scope_is_saved_and_checked_on_load(tmp_path: Any) -> None:
    model = make(PPOClip, normalize_advantage_over="rollout")
    model.save(tmp_path / "model")
    assert PPOClip.load(tmp_path / "model").normalize_advantage_over == "rollout"
    with pytest.raises(ValueError, match="`normalize_advantage_over` must be 'minibatch' or 'rollout'"):
        PPOClip.load(tmp_path / "model", normalize_advantage_over="all")
