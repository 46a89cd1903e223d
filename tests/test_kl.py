"""The KL helper against closed forms written independently of torch.distributions, on every SB3 distribution."""

from __future__ import annotations

import math

import numpy as np
import pytest
import torch as th
from gymnasium import spaces
from stable_baselines3.common.distributions import (
    BernoulliDistribution,
    CategoricalDistribution,
    DiagGaussianDistribution,
    MultiCategoricalDistribution,
)
from stable_baselines3.common.policies import ActorCriticPolicy

from sb3_ppo_variants.kl import Params, capture, concatenate, kl_divergence, kl_divergence_gradient, params_of, select

th.manual_seed(0)
BATCH = 7


def gaussian_kl(m1: th.Tensor, s1: th.Tensor, m2: th.Tensor, s2: th.Tensor) -> th.Tensor:
    """KL[N(m1, s1²) ‖ N(m2, s2²)] of diagonal Gaussians, summed over dimensions."""
    return (th.log(s2 / s1) + (s1**2 + (m1 - m2) ** 2) / (2 * s2**2) - 0.5).sum(dim=-1)


def categorical_kl(p: th.Tensor, q: th.Tensor) -> th.Tensor:
    return (p * (th.log(p) - th.log(q))).sum(dim=-1)


def bernoulli_kl(p: th.Tensor, q: th.Tensor) -> th.Tensor:
    return (p * th.log(p / q) + (1 - p) * th.log((1 - p) / (1 - q))).sum(dim=-1)


def test_diag_gaussian_matches_closed_form_and_sums_dimensions() -> None:
    dim = 3
    m1, m2 = th.randn(BATCH, dim), th.randn(BATCH, dim)
    ls1, ls2 = th.randn(dim) * 0.3, th.randn(dim) * 0.3
    old = capture(DiagGaussianDistribution(dim).proba_distribution(m1, ls1))
    new = capture(DiagGaussianDistribution(dim).proba_distribution(m2, ls2))
    expected = gaussian_kl(m1, th.exp(ls1).expand_as(m1), m2, th.exp(ls2).expand_as(m2))
    got = kl_divergence(old, new)
    assert got.shape == (BATCH,)
    th.testing.assert_close(got, expected)


def test_direction_is_old_to_new() -> None:
    m = th.zeros(BATCH, 1)
    old = capture(DiagGaussianDistribution(1).proba_distribution(m, th.tensor([0.0])))
    new = capture(DiagGaussianDistribution(1).proba_distribution(m, th.tensor([1.0])))
    forward = gaussian_kl(m, th.ones_like(m), m, th.full_like(m, math.e))
    backward = gaussian_kl(m, th.full_like(m, math.e), m, th.ones_like(m))
    assert not th.allclose(forward, backward)  # the test can tell the two directions apart
    th.testing.assert_close(kl_divergence(old, new), forward)


def test_categorical_matches_closed_form() -> None:
    l1, l2 = th.randn(BATCH, 4), th.randn(BATCH, 4)
    old = capture(CategoricalDistribution(4).proba_distribution(l1))
    new = capture(CategoricalDistribution(4).proba_distribution(l2))
    th.testing.assert_close(kl_divergence(old, new), categorical_kl(th.softmax(l1, -1), th.softmax(l2, -1)))


def test_multicategorical_sums_sub_spaces() -> None:
    dims = [2, 3, 4]
    l1, l2 = th.randn(BATCH, sum(dims)), th.randn(BATCH, sum(dims))
    old = capture(MultiCategoricalDistribution(dims).proba_distribution(l1))
    new = capture(MultiCategoricalDistribution(dims).proba_distribution(l2))
    expected = sum(
        categorical_kl(th.softmax(a, -1), th.softmax(b, -1))
        for a, b in zip(th.split(l1, dims, dim=1), th.split(l2, dims, dim=1), strict=True)
    )
    th.testing.assert_close(kl_divergence(old, new), expected)


def test_bernoulli_sums_dimensions() -> None:
    l1, l2 = th.randn(BATCH, 5), th.randn(BATCH, 5)
    old = capture(BernoulliDistribution(5).proba_distribution(l1))
    new = capture(BernoulliDistribution(5).proba_distribution(l2))
    th.testing.assert_close(kl_divergence(old, new), bernoulli_kl(th.sigmoid(l1), th.sigmoid(l2)))


@pytest.mark.parametrize("squash_output", [False, True])
def test_gsde_matches_gaussian_closed_form(squash_output: bool) -> None:
    """gSDE's action distribution is a diagonal Gaussian whose std depends on the state; the tanh of squash_output
    is a bijection, which leaves the KL unchanged."""
    box = spaces.Box(-1, 1, (2,), dtype=np.float32)
    obs_space = spaces.Box(-1, 1, (4,), dtype=np.float32)
    kwargs = dict(use_sde=True, squash_output=squash_output, log_std_init=-0.5)
    policies = [ActorCriticPolicy(obs_space, box, lambda _: 1e-3, **kwargs) for _ in range(2)]  # type: ignore[arg-type]
    obs = th.randn(BATCH, 4)
    with th.no_grad():
        old_d, new_d = (capture(p.get_distribution(obs)) for p in policies)
    (old,), (new,) = old_d, new_d
    assert old.family == new.family == "normal" and old.b is not None and new.b is not None
    expected = gaussian_kl(old.a, old.b, new.a, new.b)
    assert (expected > 0).all()
    th.testing.assert_close(kl_divergence(old_d, new_d), expected)


def test_capture_survives_the_next_forward_pass_of_the_same_policy() -> None:
    """The SB3 Distribution object is reused by the policy (pitfall 3); the captured parameter tensors are not."""
    obs_space = spaces.Box(-1, 1, (4,), dtype=np.float32)
    policy = ActorCriticPolicy(obs_space, spaces.Discrete(3), lambda _: 1e-3)
    obs = th.randn(BATCH, 4)
    with th.no_grad():
        sb3_old = policy.get_distribution(obs)
        old = capture(sb3_old)
        for p in policy.parameters():
            p.add_(0.5)
        sb3_new = policy.get_distribution(obs)
        new = capture(sb3_new)
    assert sb3_old is sb3_new  # the trap: the same wrapper object, now holding the new distribution
    assert (kl_divergence(old, new) > 0).all()
    assert th.equal(kl_divergence(capture(sb3_old), new), th.zeros(BATCH))


def test_mismatched_distributions_are_rejected() -> None:
    one = capture(CategoricalDistribution(2).proba_distribution(th.zeros(BATCH, 2)))
    two = capture(MultiCategoricalDistribution([2, 2]).proba_distribution(th.zeros(BATCH, 4)))
    with pytest.raises(ValueError, match="sub-spaces"):
        kl_divergence(one, two)


@pytest.mark.parametrize("scale", [1.0, 30.0])
def test_closed_forms_agree_with_torch_including_near_zero_probabilities(scale: float) -> None:
    """Our mask-free closed forms equal torch's registered KLs, also where a probability is close to 0 or 1; where a
    probability underflows to 0 in float32, torch says inf while the finite logits give a large finite KL."""
    l1, l2 = th.randn(BATCH, 4) * scale, th.randn(BATCH, 4) * scale
    for family in (th.distributions.Categorical, th.distributions.Bernoulli):
        p, q = family(logits=l1), family(logits=l2)
        ours = kl_divergence((params_of(p),), (params_of(q),))
        reference = th.distributions.kl_divergence(p, q)
        reference = reference.sum(-1) if reference.dim() > 1 else reference
        assert th.isfinite(ours).all()
        finite = th.isfinite(reference)
        assert finite.any()
        th.testing.assert_close(ours[finite], reference[finite], rtol=1e-4, atol=1e-4)


def test_select_and_concatenate_keep_each_state_with_its_distribution() -> None:
    dims = [2, 3]
    logits = th.randn(BATCH, sum(dims))
    whole = capture(MultiCategoricalDistribution(dims).proba_distribution(logits))
    gaussian = capture(DiagGaussianDistribution(2).proba_distribution(th.randn(BATCH, 2), th.zeros(2)))
    indices = th.tensor([5, 0, 3])
    for captured in (whole, gaussian):
        parts = concatenate([select(captured, th.arange(0, 4)), select(captured, th.arange(4, BATCH))])
        assert th.equal(kl_divergence(parts, captured), th.zeros(BATCH))
        assert all(th.equal(p.a, q.a[indices]) for p, q in zip(select(captured, indices), captured, strict=True))
    with pytest.raises(TypeError, match="no analytic KL"):
        params_of(th.distributions.Beta(th.ones(2), th.ones(2)))


def _new_parameters(family: str, generator: th.Generator) -> tuple[th.Tensor, th.Tensor | None]:
    if family == "normal":
        return th.randn(BATCH, 3, generator=generator), 0.5 * th.randn(3, generator=generator)
    return th.randn(BATCH, 4, generator=generator), None


def _params(family: str, a: th.Tensor, log_b: th.Tensor | None) -> Params:
    if family == "normal":
        assert log_b is not None
        return Params("normal", a, th.ones_like(a) * log_b.exp())
    if family == "categorical":
        return Params("categorical", th.log_softmax(a, dim=-1))
    return Params("bernoulli", a)


@pytest.mark.parametrize("family", ["normal", "categorical", "bernoulli"])
def test_kl_gradient_is_autograds(family: str) -> None:
    generator = th.Generator().manual_seed(2)
    old = (_params(family, *_new_parameters(family, generator)),)
    a, log_b = _new_parameters(family, generator)
    a.requires_grad_(True)
    if log_b is not None:
        log_b.requires_grad_(True)
    scale = 3.0 / BATCH
    (kl_divergence(old, (_params(family, a, log_b),)).mean() * 3.0).backward()
    ((a_grad, log_b_grad),) = kl_divergence_gradient(
        old, (_params(family, a.detach(), None if log_b is None else log_b.detach()),), scale
    )
    assert a.grad is not None
    th.testing.assert_close(a_grad, a.grad, rtol=1e-5, atol=1e-7)
    if log_b is None:
        assert log_b_grad is None
    else:  # the std is shared by all states: its gradient is the sum of the per-state ones
        assert log_b_grad is not None and log_b.grad is not None
        th.testing.assert_close(log_b_grad.sum(dim=0), log_b.grad, rtol=1e-5, atol=1e-7)


def test_kl_gradient_vanishes_at_the_old_distribution() -> None:
    generator = th.Generator().manual_seed(3)
    for family in ("normal", "categorical", "bernoulli"):
        params = (_params(family, *_new_parameters(family, generator)),)
        for grad in kl_divergence_gradient(params, params, 1.0)[0]:
            if grad is not None:
                assert grad.abs().max().item() < 1e-6
