"""The policy-surrogate terms and the adaptive-β rule on hand-made numbers (no environment)."""

from __future__ import annotations

import math
from typing import Any

import pytest
import torch as th

from sb3_ppo_variants.objectives import (
    adapt_kl_coef,
    clip_fraction,
    surrogate_loss,
    surrogate_loss_gradient,
    value_loss,
    value_loss_gradient,
)

RATIO = th.tensor([0.5, 0.9, 1.0, 1.1, 1.5])
ADV = th.tensor([1.0, -1.0, 2.0, -2.0, 1.0])


def test_unclipped_surrogate_is_negated_mean_of_ratio_times_advantage() -> None:
    expected = -(0.5 * 1.0 + 0.9 * -1.0 + 1.0 * 2.0 + 1.1 * -2.0 + 1.5 * 1.0) / 5
    assert surrogate_loss(RATIO, ADV, None).item() == pytest.approx(expected)


def test_clipped_surrogate_by_hand() -> None:
    # eps = 0.2: min(r*A, clip(r, 0.8, 1.2)*A) per sample
    per_sample = [
        min(0.5 * 1.0, 0.8 * 1.0),  # 0.5: ratio below the band, positive advantage: unclipped term is smaller
        min(0.9 * -1.0, 0.9 * -1.0),  # inside the band
        2.0,
        min(1.1 * -2.0, 1.1 * -2.0),
        min(1.5 * 1.0, 1.2 * 1.0),  # clipped to 1.2
    ]
    assert surrogate_loss(RATIO, ADV, 0.2).item() == pytest.approx(-sum(per_sample) / 5)


def test_infinite_clip_range_is_exactly_unclipped() -> None:
    ratio = th.rand(1000) * 3
    adv = th.randn(1000)
    assert th.equal(surrogate_loss(ratio, adv, math.inf), surrogate_loss(ratio, adv, None))


def test_clipped_gradient_is_zero_outside_the_trust_region() -> None:
    ratio = th.tensor([1.5, 0.5], requires_grad=True)
    adv = th.tensor([1.0, -1.0])
    surrogate_loss(ratio, adv, 0.2).backward()
    assert ratio.grad is not None
    assert th.equal(ratio.grad, th.zeros(2))


def test_clip_fraction() -> None:
    assert clip_fraction(RATIO, 0.2).item() == pytest.approx(2 / 5)
    assert clip_fraction(RATIO, 0.05).item() == pytest.approx(4 / 5)


@pytest.mark.parametrize(
    ("kl", "kl_coef", "expected"),
    [
        (0.01, 1.0, 1.0),  # on target
        (0.0149, 1.0, 1.0),  # just inside the upper edge (0.015)
        (0.0151, 1.0, 2.0),  # just above it: double
        (0.0067, 1.0, 1.0),  # just inside the lower edge (0.00667)
        (0.0066, 1.0, 0.5),  # just below it: halve
        (0.0, 3.0, 1.5),  # no movement at all: halve
        (1.0, 3.0, 6.0),  # far too much: double (once per update, not more)
        (0.015, 1.0, 1.0),  # the edges themselves keep beta
    ],
)
def test_adaptive_rule_table(kl: float, kl_coef: float, expected: float) -> None:
    assert adapt_kl_coef(kl, kl_coef, kl_target=0.01) == pytest.approx(expected)


def test_adaptive_rule_custom_tolerance_and_factor() -> None:
    assert adapt_kl_coef(0.025, 1.0, kl_target=0.01, tolerance=3.0, factor=10.0) == 1.0
    assert adapt_kl_coef(0.031, 1.0, kl_target=0.01, tolerance=3.0, factor=10.0) == 10.0
    assert adapt_kl_coef(0.003, 1.0, kl_target=0.01, tolerance=3.0, factor=10.0) == pytest.approx(0.1)


def _autograd_log_prob_gradient(advantages: th.Tensor, log_ratio: th.Tensor, clip_range: float | None) -> th.Tensor:
    log_prob = log_ratio.clone().requires_grad_(True)
    surrogate_loss(th.exp(log_prob), advantages, clip_range).backward()
    assert log_prob.grad is not None
    return log_prob.grad


@pytest.mark.parametrize("clip_range", [None, 0.2, 0.05, math.inf])
def test_surrogate_gradient_is_autograds(clip_range: float | None) -> None:
    generator = th.Generator().manual_seed(0)
    advantages = th.randn(256, generator=generator)
    # ratios on both sides of the band, inside it, and exactly at 1 (the first minibatch of an update)
    log_ratio = th.cat([0.3 * th.randn(255, generator=generator), th.zeros(1)])
    expected = _autograd_log_prob_gradient(advantages, log_ratio, clip_range)
    gradient = surrogate_loss_gradient(th.exp(log_ratio), advantages, clip_range)
    th.testing.assert_close(gradient, expected, rtol=1e-6, atol=1e-9)
    if clip_range == 0.05:  # the flat parts of eq. 7 are there: some samples pass no gradient
        assert (gradient == 0).sum() > 10


def test_surrogate_gradient_by_hand() -> None:
    # eps = 0.2: d/d log r of -mean(min(rA, clip(r)A)) is -rA/n where the unclipped term is the min, else 0
    expected = -th.tensor([0.5 * 1.0, 0.9 * -1.0, 2.0, 1.1 * -2.0, 0.0]) / 5
    th.testing.assert_close(surrogate_loss_gradient(RATIO, ADV, 0.2), expected)


@pytest.mark.parametrize("clip_range_vf", [None, 0.1, math.inf])
def test_value_loss_and_its_gradient(clip_range_vf: float | None) -> None:
    generator = th.Generator().manual_seed(1)
    old_values, returns = th.randn(64, generator=generator), th.randn(64, generator=generator)
    values = (old_values + 0.2 * th.randn(64, generator=generator)).requires_grad_(True)
    loss = value_loss(values, old_values, returns, clip_range_vf)
    if clip_range_vf is None:  # SB3's line: F.mse_loss(returns, values)
        assert th.equal(loss, th.nn.functional.mse_loss(returns, values))
    loss.backward()
    gradient = value_loss_gradient(values.detach(), old_values, returns, clip_range_vf)
    assert values.grad is not None
    th.testing.assert_close(gradient, values.grad, rtol=1e-6, atol=1e-9)
    if clip_range_vf == 0.1:
        assert (gradient == 0).sum() > 5  # clipped changes pass no gradient


def test_an_objective_that_changes_only_its_loss_trains_with_autograd_on_the_fast_path() -> None:
    from sb3_ppo_variants import SurrogatePPO
    from sb3_ppo_variants.objectives import Clipping, PolicyLoss, gradient_error

    class Doubled(Clipping):
        def loss(self, *args: Any, **kwargs: Any) -> PolicyLoss:
            policy = super().loss(*args, **kwargs)
            return PolicyLoss(2 * policy.surrogate, 2 * policy.total)

    class PPODoubled(SurrogatePPO):
        objective = Doubled()

    assert Clipping().has_closed_form_gradient() and not Doubled().has_closed_form_gradient()
    assert gradient_error(Doubled()) > 1e-3  # the inherited closed form is not its loss's gradient
    kwargs = dict(n_steps=64, batch_size=32, n_epochs=2, seed=0, device="cpu")
    exact = PPODoubled("MlpPolicy", "Pendulum-v1", **kwargs).learn(64)
    fast = PPODoubled("MlpPolicy", "Pendulum-v1", fast=True, **kwargs).learn(64)
    assert (
        max((a - b).abs().max().item() for a, b in zip(exact.policy.parameters(), fast.policy.parameters(), strict=True))
        < 1e-6
    )
