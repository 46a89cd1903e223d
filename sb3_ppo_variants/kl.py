"""Analytic KL[π_old(· | s) ‖ π_new(· | s)] per state, for every SB3 action distribution.

The paper's penalty (eq. 8) and its adaptive rule (Section 4) use the KL from the *old* policy to the new one, between
whole action distributions, analytically. Three mistakes are easy to make with SB3's helpers (public implementations
have made each), and this module avoids them:

1. direction: :func:`kl_divergence` takes (old, new) and returns KL(old ‖ new);
2. action dimensions: for DiagGaussian, gSDE and Bernoulli there is one KL per action dimension; the KL of the joint
   (factorised) distribution is their sum, so we sum everything but the batch dimension;
3. aliasing: an SB3 ``Distribution`` is a mutable wrapper that the policy reuses on every call, so holding it across
   two forward passes silently compares a distribution with itself. :func:`capture` copies out the parameter tensors
   it holds right now, which later calls do not touch.

A captured distribution is a tuple of :class:`Params`, one per independent sub-space, and can be indexed by state
(:func:`select`), so that π_old can be evaluated once for a whole rollout and sliced per minibatch.
"""

from __future__ import annotations

from typing import NamedTuple

import torch as th
from stable_baselines3.common.distributions import Distribution, MultiCategoricalDistribution
from torch.nn import functional as F


class Params(NamedTuple):
    """The parameters of one factorised action distribution, batch first.

    ``family`` is ``normal`` (``a`` = mean, ``b`` = std; DiagGaussian and gSDE), ``categorical`` (``a`` = normalised
    log-probabilities) or ``bernoulli`` (``a`` = logits); ``b`` is unused for the last two.
    """

    family: str
    a: th.Tensor
    b: th.Tensor | None = None


#: One :class:`Params` per independent sub-space (several for MultiDiscrete, otherwise one).
Captured = tuple[Params, ...]


def params_of(distribution: th.distributions.Distribution) -> Params:
    """
    The parameters of a torch distribution as SB3's policies build them.

    :param distribution: a Normal, Categorical or Bernoulli
    :return: its parameters
    """
    if isinstance(distribution, th.distributions.Normal):
        return Params("normal", distribution.loc, distribution.scale)
    if isinstance(distribution, th.distributions.Categorical):
        return Params("categorical", distribution.logits)
    if isinstance(distribution, th.distributions.Bernoulli):
        return Params("bernoulli", distribution.logits)
    raise TypeError(f"no analytic KL for {type(distribution).__name__}: SB3's policies build Normal, Categorical, Bernoulli")


def capture(distribution: Distribution) -> Captured:
    """
    Take the parameters an SB3 ``Distribution`` holds right now, so a later forward pass of the same policy (which
    overwrites ``distribution.distribution``) cannot change them.

    :param distribution: an SB3 distribution on which ``proba_distribution`` has just been called
    :return: the parameters, one :class:`Params` per independent sub-space
    """
    if isinstance(distribution, MultiCategoricalDistribution):
        return tuple(params_of(d) for d in distribution.distribution)
    # sb3-contrib's masked MultiDiscrete and MultiBinary distributions: a list of masked categoricals, whose logits of
    # invalid actions are -1e8 (zero probability), so those actions add exactly 0 to the KL
    parts = getattr(distribution, "distributions", None)
    if isinstance(parts, list) and parts:
        return tuple(params_of(d) for d in parts)
    if distribution.distribution is None:
        raise ValueError(f"{type(distribution).__name__} holds no distribution yet: call the policy on observations first")
    return (params_of(distribution.distribution),)  # type: ignore[arg-type]


def select(captured: Captured, indices: th.Tensor) -> Captured:
    """
    The distributions of the states at ``indices``.

    :param captured: distributions of a batch of states
    :param indices: positions in that batch
    :return: the selected distributions
    """
    return tuple(Params(p.family, p.a[indices], None if p.b is None else p.b[indices]) for p in captured)


def concatenate(chunks: list[Captured]) -> Captured:
    """
    Distributions of consecutive batches of states joined into one batch.

    :param chunks: the batches, in order
    :return: one batch
    """
    return tuple(
        Params(
            parts[0].family,
            th.cat([p.a for p in parts]),
            None if parts[0].b is None else th.cat([p.b for p in parts if p.b is not None]),
        )
        for parts in zip(*chunks, strict=True)
    )


def kl_divergence(old: Captured, new: Captured) -> th.Tensor:
    """
    Per-state KL[old ‖ new] of two captured action distributions over the same action space.

    Independent sub-spaces (the categoricals of a MultiDiscrete space) and independent action dimensions (the Normals
    of a diagonal Gaussian or gSDE, the Bernoullis of a MultiBinary space) add up, because the KL of a product of
    independent distributions is the sum of their KLs. For gSDE with ``squash_output`` the tanh is a bijection, which
    leaves the KL unchanged, so the KL of the underlying Gaussians is exact.

    :param old: :func:`capture` of π_old(· | s), the distribution the samples were collected with
    :param new: :func:`capture` of π_θ(· | s), the distribution being optimised
    :return: a tensor of shape (batch,) with KL[old(·|s_i) ‖ new(·|s_i)]
    """
    if not old or len(old) != len(new):
        raise ValueError(f"cannot compare distributions over {len(old)} and {len(new)} sub-spaces")
    per_space = []
    for p, q in zip(old, new, strict=True):
        kl = _elementwise_kl(p, q)
        # (batch, *action_dims) -> (batch,): the KL of a factorised distribution is the sum of its factors' KLs (2. above).
        per_space.append(kl.reshape(kl.shape[0], -1).sum(dim=1) if kl.dim() > 1 else kl)
    return per_space[0] if len(per_space) == 1 else th.stack(per_space, dim=1).sum(dim=1)


#: d KL / d (the new distribution's parameters), one pair per sub-space: (d / d a, d / d log b or None), where ``a``
#: is the mean of a normal and the logits of the other families.
KLGradient = tuple[tuple[th.Tensor, th.Tensor | None], ...]


def kl_divergence_gradient(old: Captured, new: Captured, scale: float) -> KLGradient:
    """
    ``scale`` times the gradient of each state's KL[old ‖ new] (:func:`kl_divergence`) with respect to the new
    distribution's parameters: the mean and the log standard deviation of a normal, the (unnormalised) logits of a
    categorical or a Bernoulli. With ``scale = β / batch`` it is the gradient of eq. 8's penalty β·Ê_t[KL].

    :param old: π_old(· | s), no gradient flows to it
    :param new: π_θ(· | s)
    :param scale: multiplies every gradient
    :return: per sub-space, (d / d mean or logits, d / d log std or None), each shaped like the parameter
    """
    grads: list[tuple[th.Tensor, th.Tensor | None]] = []
    for p, q in zip(old, new, strict=True):
        if p.family == "normal":
            assert p.b is not None and q.b is not None
            # KL = log(s / s_old) + (s_old² + (m - m_old)²) / (2 s²) - 1/2 per dimension, m = mean, s = std
            inv_var = scale / q.b.pow(2)
            difference = q.a - p.a
            grads.append((difference * inv_var, scale - (p.b.pow(2) + difference.pow(2)) * inv_var))
        elif p.family == "categorical":
            # Σ_k π_old,k (log π_old,k - log softmax(logits)_k): d / d logits = π_new - π_old
            grads.append(((q.a.exp() - p.a.exp()) * scale, None))
        else:
            grads.append(((th.sigmoid(q.a) - th.sigmoid(p.a)) * scale, None))
    return tuple(grads)


def _elementwise_kl(p: Params, q: Params) -> th.Tensor:
    """
    KL[p ‖ q] for the families SB3's policies produce, in closed form.

    torch's registered Categorical and Bernoulli KLs patch the cases p = 0 and q = 0 with boolean-mask assignments,
    which cost more than the rest of the penalty on small CPU batches (and in the backward pass). With finite
    logits, as a policy network produces, written in log-space these cases need no patching: p = 0 contributes 0 and
    q -> 0 gives a large, finite KL.
    """
    if p.family != q.family:
        raise ValueError(f"cannot compare a {p.family} with a {q.family} distribution")
    if p.family == "normal":
        assert p.b is not None and q.b is not None  # a normal always has its std
        var_ratio = (p.b / q.b).pow(2)
        mean_term = ((p.a - q.a) / q.b).pow(2)
        return 0.5 * (var_ratio + mean_term - 1 - var_ratio.log())
    if p.family == "categorical":
        return (p.a.exp() * (p.a - q.a)).sum(dim=-1)
    # bernoulli: log p(1) = -softplus(-logit), log p(0) = -softplus(logit)
    log_ratio_one = F.softplus(-q.a) - F.softplus(-p.a)
    log_ratio_zero = F.softplus(q.a) - F.softplus(p.a)
    prob_one = th.sigmoid(p.a)
    return prob_one * log_ratio_one + (1 - prob_one) * log_ratio_zero
