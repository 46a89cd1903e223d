"""Each distribution head computes what SB3's distribution computes, and its backward pass is autograd's."""

from __future__ import annotations

import pytest
import torch as th
from stable_baselines3.common.distributions import (
    BernoulliDistribution,
    CategoricalDistribution,
    DiagGaussianDistribution,
    Distribution,
    MultiCategoricalDistribution,
)

from sb3_ppo_variants.fast.heads import Head, head_for
from sb3_ppo_variants.kl import Params, kl_divergence, kl_divergence_gradient

BATCH = 9

#: name -> (SB3 distribution, width of the action_net output, whether it has log_std)
FAMILIES: dict[str, tuple[Distribution, int, bool]] = {
    "gaussian": (DiagGaussianDistribution(3), 3, True),
    "categorical": (CategoricalDistribution(4), 4, False),
    "multicategorical": (MultiCategoricalDistribution([2, 3, 4]), 9, False),
    "bernoulli": (BernoulliDistribution(3), 3, False),
}


def sb3_distribution(name: str, out: th.Tensor, log_std: th.Tensor | None) -> Distribution:
    distribution = FAMILIES[name][0]
    if isinstance(distribution, DiagGaussianDistribution):
        assert log_std is not None
        return distribution.proba_distribution(out, log_std)
    return distribution.proba_distribution(out)  # type: ignore[call-arg]


def batch(name: str, generator: th.Generator) -> tuple[th.Tensor, th.Tensor | None, th.Tensor]:
    """action_net output, log_std and actions as the rollout buffer stores them (float, (batch, action_dim))."""
    _, width, gaussian = FAMILIES[name]
    out = th.randn(BATCH, width, generator=generator)
    log_std = 0.3 * th.randn(width, generator=generator) if gaussian else None
    with th.no_grad():
        actions = sb3_distribution(name, out, log_std).sample()
    return out, log_std, actions.float().reshape(BATCH, -1)


def sb3_actions(name: str, actions: th.Tensor) -> th.Tensor:
    return actions.long().flatten() if name == "categorical" else actions


@pytest.mark.parametrize("name", sorted(FAMILIES))
def test_forward_is_sb3s_distribution(name: str) -> None:
    head = head_for(FAMILIES[name][0])
    assert isinstance(head, Head)
    out, log_std, actions = batch(name, th.Generator().manual_seed(0))
    output = head.forward(out, log_std, actions, with_distribution=True)
    sb3 = sb3_distribution(name, out, log_std)
    th.testing.assert_close(output.log_prob, sb3.log_prob(sb3_actions(name, actions)), rtol=1e-6, atol=1e-6)
    entropy = sb3.entropy()
    assert entropy is not None
    th.testing.assert_close(output.entropy.mean(), entropy.mean(), rtol=1e-6, atol=1e-6)
    assert output.distribution is not None


@pytest.mark.parametrize("name", sorted(FAMILIES))
@pytest.mark.parametrize("with_entropy", [False, True])
@pytest.mark.parametrize("with_kl", [False, True])
def test_backward_is_autograds(name: str, with_entropy: bool, with_kl: bool) -> None:
    """L = Σ g·log π + e·Σ H + s·Σ KL[old ‖ π]: the head's gradients with respect to out and log_std."""
    head = head_for(FAMILIES[name][0])
    assert head is not None
    generator = th.Generator().manual_seed(1)
    out, log_std, actions = batch(name, generator)
    old_out, old_log_std, _ = batch(name, generator)
    old = head.forward(old_out, old_log_std, actions, with_distribution=True).distribution
    assert old is not None
    log_prob_grad = th.randn(BATCH, generator=generator)
    entropy_grad, kl_scale = 0.7, 0.3

    out.requires_grad_(True)
    if log_std is not None:
        log_std.requires_grad_(True)
    output = head.forward(out, log_std, actions, with_distribution=True)
    assert output.distribution is not None
    loss = (log_prob_grad * output.log_prob).sum()
    if with_entropy:
        loss = loss + entropy_grad * output.entropy.sum()
    if with_kl:
        loss = loss + kl_scale * kl_divergence(old, output.distribution).sum()
    loss.backward()

    with th.no_grad():
        output = head.forward(out, log_std, actions, with_distribution=True)
        assert output.distribution is not None
        distribution_grad = kl_divergence_gradient(old, output.distribution, kl_scale) if with_kl else None
        out_grad, log_std_grad = head.backward(
            output, log_prob_grad, entropy_grad if with_entropy else None, distribution_grad
        )
    assert out.grad is not None
    th.testing.assert_close(out_grad, out.grad, rtol=1e-5, atol=1e-6)
    if log_std is None:
        assert log_std_grad is None
    else:
        assert log_std.grad is not None and log_std_grad is not None
        th.testing.assert_close(log_std_grad, log_std.grad, rtol=1e-5, atol=1e-6)


def test_gaussian_parameters_are_those_of_sb3s_normal() -> None:
    out, log_std, actions = batch("gaussian", th.Generator().manual_seed(2))
    head = head_for(FAMILIES["gaussian"][0])
    assert head is not None
    (params,) = head.forward(out, log_std, actions, with_distribution=True).distribution or ()
    assert params.family == "normal" and params.b is not None
    normal = sb3_distribution("gaussian", out, log_std).distribution
    assert isinstance(normal, th.distributions.Normal)
    th.testing.assert_close(params.b, normal.scale)
    assert kl_divergence((Params("normal", normal.loc, normal.scale),), (params,)).abs().max().item() < 1e-6
