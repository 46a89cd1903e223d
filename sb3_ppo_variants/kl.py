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
        kl = th.distributions.kl_divergence(p, q)
        # (batch, *action_dims) -> (batch,): the sum over independent action dimensions (pitfall 2).
        per_space.append(kl.reshape(kl.shape[0], -1).sum(dim=1) if kl.dim() > 1 else kl)
    return per_space[0] if len(per_space) == 1 else th.stack(per_space, dim=1).sum(dim=1)
