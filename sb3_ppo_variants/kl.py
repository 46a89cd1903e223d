"""Analytic KL[π_old(·|s) ‖ π_new(·|s)] per state, for every SB3 action distribution.

The paper's penalty (eq. 8) and its adaptive rule (Section 4) use the KL from the *old* policy to the new one, between
whole action distributions, analytically. Three mistakes are easy to make with SB3's helpers, and this module avoids
each (../shared/paper-notes.md, pitfalls 1-3):

1. direction: ``torch.distributions.kl_divergence(p, q)`` is KL(p ‖ q); we always pass (old, new);
2. action dimensions: for DiagGaussian, gSDE and Bernoulli, torch returns one KL per action dimension; the KL of the
   joint (factorised) distribution is their sum, so we sum everything but the batch dimension;
3. aliasing: an SB3 ``Distribution`` is a mutable wrapper that the policy reuses on every call, so holding it across
   two forward passes silently compares a distribution with itself. :func:`capture` takes the underlying torch
   distributions, which are new objects on every call and are not touched by later ones.
"""

from __future__ import annotations

import torch as th
from stable_baselines3.common.distributions import Distribution, MultiCategoricalDistribution
from torch.nn import functional as F

#: The torch distributions behind one SB3 ``Distribution``: one per sub-space (MultiDiscrete), otherwise exactly one.
Captured = tuple[th.distributions.Distribution, ...]


def capture(distribution: Distribution) -> Captured:
    """
    Take the torch distribution(s) an SB3 ``Distribution`` holds right now, so a later forward pass of the same
    policy (which overwrites ``distribution.distribution``) cannot change them.

    :param distribution: an SB3 distribution on which ``proba_distribution`` has just been called
    :return: the torch distributions, one per independent sub-space
    """
    if isinstance(distribution, MultiCategoricalDistribution):
        return tuple(distribution.distribution)
    if distribution.distribution is None:
        raise ValueError(f"{type(distribution).__name__} holds no distribution yet: call the policy on observations first")
    return (distribution.distribution,)  # type: ignore[return-value]


def kl_divergence(old: Captured, new: Captured) -> th.Tensor:
    """
    Per-state KL[old ‖ new] of two captured action distributions over the same action space.

    Independent sub-spaces (the categoricals of a MultiDiscrete space) and independent action dimensions (the Normals
    of a diagonal Gaussian or gSDE, the Bernoullis of a MultiBinary space) add up, because the KL of a product of
    independent distributions is the sum of their KLs. For gSDE with ``squash_output`` the tanh is a bijection, which
    leaves the KL unchanged, so the KL of the underlying Gaussians is exact.

    :param old: :func:`capture` of π_old(·|s), the distribution the samples were collected with
    :param new: :func:`capture` of π_θ(·|s), the distribution being optimised
    :return: a tensor of shape (batch,) with KL[old(·|s_i) ‖ new(·|s_i)]
    """
    if not old or len(old) != len(new):
        raise ValueError(f"cannot compare distributions over {len(old)} and {len(new)} sub-spaces")
    per_space = []
    for p, q in zip(old, new, strict=True):
        kl = _elementwise_kl(p, q)
        # (batch, *action_dims) -> (batch,): the sum over independent action dimensions (pitfall 2).
        per_space.append(kl.reshape(kl.shape[0], -1).sum(dim=1) if kl.dim() > 1 else kl)
    return per_space[0] if len(per_space) == 1 else th.stack(per_space, dim=1).sum(dim=1)


def _elementwise_kl(p: th.distributions.Distribution, q: th.distributions.Distribution) -> th.Tensor:
    """
    KL[p ‖ q] for the families SB3's policies produce, in closed form.

    torch's registered Categorical and Bernoulli KLs patch the cases p = 0 and q = 0 with boolean-mask assignments,
    which cost more than the rest of the penalty on small CPU batches (and in the backward pass). With finite
    logits, as a policy network produces, written in log-space these cases need no patching: p = 0 contributes 0 and
    q -> 0 gives a large, finite KL. Other families fall back to torch.
    """
    if type(p) is not type(q):
        raise ValueError(f"cannot compare a {type(p).__name__} with a {type(q).__name__}")
    if isinstance(p, th.distributions.Normal):
        assert isinstance(q, th.distributions.Normal)
        var_ratio = (p.scale / q.scale).pow(2)
        mean_term = ((p.loc - q.loc) / q.scale).pow(2)
        return 0.5 * (var_ratio + mean_term - 1 - var_ratio.log())
    if isinstance(p, th.distributions.Categorical):
        assert isinstance(q, th.distributions.Categorical)
        # .logits are normalised log-probabilities
        return (p.probs * (p.logits - q.logits)).sum(dim=-1)
    if isinstance(p, th.distributions.Bernoulli):
        assert isinstance(q, th.distributions.Bernoulli)
        # log p(1) = -softplus(-logit), log p(0) = -softplus(logit)
        log_ratio_one = F.softplus(-q.logits) - F.softplus(-p.logits)
        log_ratio_zero = F.softplus(q.logits) - F.softplus(p.logits)
        return p.probs * log_ratio_one + (1 - p.probs) * log_ratio_zero
    return th.distributions.kl_divergence(p, q)
