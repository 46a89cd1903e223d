"""The policy objectives' loss terms and their gradients, as pure functions of tensors (no model, no state).

Notation (Schulman et al. 2017): r_t(θ) = π_θ(a_t | s_t) / π_θold(a_t | s_t) is ``ratio``, Â_t is ``advantages``,
ε is ``clip_range``, β is ``kl_coef`` and d_targ is ``kl_target``. The paper *maximises* the objectives; these
functions return the *loss* that the optimiser minimises, i.e. the negated batch mean. Each gradient sits next to its
loss, and a test checks it against autograd.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import NamedTuple

import torch as th
from torch.nn import functional as F

#: The ε at which ``train/clip_fraction`` is measured when a variant does not clip (the paper's best ε, SB3's default):
#: it then says how often the update moved a ratio further than PPO-Clip would have allowed.
DIAGNOSTIC_CLIP_RANGE = 0.2


#: How a minibatch's per-sample terms are averaged: ``th.mean`` (SB3 PPO, MaskablePPO), or a mean over the real steps
#: of padded sequences (RecurrentPPO). The family chooses it.
Mean = Callable[[th.Tensor], th.Tensor]


def surrogate_loss(ratio: th.Tensor, advantages: th.Tensor, clip_range: float | None, mean: Mean = th.mean) -> th.Tensor:
    """
    Negated minibatch mean of the policy surrogate: L^CLIP (eq. 7) or, with ``clip_range=None``, L^CPI (eq. 6).

    The operations and their order are those of ``stable_baselines3.PPO.train`` so that :class:`PPOClip` stays
    bit-for-bit identical to it. ``clip_range=inf`` clamps nothing and gives exactly the unclipped loss.

    :param ratio: r_t(θ), shape (batch,)
    :param advantages: Â_t, shape (batch,), already normalised if that is wanted
    :param clip_range: ε, or None for no clipping
    :param mean: the family's average over the minibatch (:data:`Mean`)
    :return: the scalar loss -Ê_t[L_t(θ)]
    """
    policy_loss_1 = advantages * ratio
    if clip_range is None:
        return -mean(policy_loss_1)
    policy_loss_2 = advantages * th.clamp(ratio, 1 - clip_range, 1 + clip_range)
    return -mean(th.min(policy_loss_1, policy_loss_2))


def surrogate_loss_gradient(ratio: th.Tensor, advantages: th.Tensor, clip_range: float | None) -> th.Tensor:
    """
    The gradient of :func:`surrogate_loss` with respect to log π_θ(a_t | s_t), per sample, where
    r_t(θ) = exp(log π_θ(a_t | s_t) - log π_θold(a_t | s_t)).

    It is what autograd gives through ``th.min`` and ``th.clamp``: the unclipped term r_t·Â_t carries the gradient
    where it is the smaller (or equal) one; where the clipped term is strictly smaller, r_t lies outside [1 - ε, 1 + ε]
    and the clamp passes no gradient (the flat part of eq. 7).

    :param ratio: r_t(θ), shape (batch,)
    :param advantages: Â_t, shape (batch,), as :func:`surrogate_loss` got them
    :param clip_range: ε, or None for no clipping
    :return: d loss / d log π_θ(a_t | s_t), shape (batch,)
    """
    scale = -1.0 / ratio.shape[0]
    policy_loss_1 = advantages * ratio  # d(r·Â)/d log π = r·Â
    if clip_range is None:
        return policy_loss_1 * scale
    policy_loss_2 = advantages * th.clamp(ratio, 1 - clip_range, 1 + clip_range)
    return th.where(policy_loss_1 <= policy_loss_2, policy_loss_1, 0.0) * scale


def clipped_values(values: th.Tensor, old_values: th.Tensor, clip_range_vf: float | None) -> th.Tensor:
    """
    The values the value loss compares with the returns: V_θ(s_t), each change from the collection-time value clipped
    to ``clip_range_vf`` when it is set (OpenAI baselines' trick, not in the paper; it depends on the reward scale).

    :param values: V_θ(s_t), shape (batch,)
    :param old_values: the values at collection time, shape (batch,)
    :param clip_range_vf: the largest change of a value, or None for no clipping
    """
    if clip_range_vf is None:
        return values
    return old_values + th.clamp(values - old_values, -clip_range_vf, clip_range_vf)


def value_loss(values: th.Tensor, old_values: th.Tensor, returns: th.Tensor, clip_range_vf: float | None) -> th.Tensor:
    """
    SB3 PPO's value loss: the mean squared error of :func:`clipped_values` to the TD(λ) returns.

    :param values: V_θ(s_t), shape (batch,)
    :param old_values: the values at collection time, shape (batch,)
    :param returns: the returns, shape (batch,)
    :param clip_range_vf: the largest change of a value, or None for no clipping
    :return: the scalar loss
    """
    return F.mse_loss(returns, clipped_values(values, old_values, clip_range_vf))


def value_loss_gradient(
    values: th.Tensor, old_values: th.Tensor, returns: th.Tensor, clip_range_vf: float | None
) -> th.Tensor:
    """
    The gradient of :func:`value_loss` with respect to ``values`` (zero where the clipped change is at its bound and
    beyond, as ``th.clamp`` passes no gradient there).

    :return: d loss / d V_θ(s_t), shape (batch,)
    """
    scale = 2.0 / values.shape[0]
    if clip_range_vf is None:
        return (values - returns) * scale
    change = values - old_values
    values_pred = old_values + th.clamp(change, -clip_range_vf, clip_range_vf)
    return th.where(change.abs() <= clip_range_vf, values_pred - returns, 0.0) * scale


def clip_fraction(ratio: th.Tensor, clip_range: float, mean: Mean = th.mean) -> th.Tensor:
    """
    Fraction of samples whose ratio lies outside [1 - ε, 1 + ε] (SB3's ``train/clip_fraction``).

    :param ratio: r_t(θ)
    :param clip_range: ε
    :return: the fraction, a 0-d tensor (read it with ``.item()``; the loop reads all of an update's at once)
    """
    with th.no_grad():
        return mean((th.abs(ratio - 1) > clip_range).float())


def killed(ratio: th.Tensor, advantages: th.Tensor, clip_range: float) -> th.Tensor:
    """
    The samples whose gradient L^CLIP cuts off (KLip-PPO's "killed"): outside [1 - ε, 1 + ε] on the side the advantage
    pushes towards (r_t > 1 + ε with Â_t > 0, r_t < 1 - ε with Â_t < 0), where eq. 7's min takes the clipped, constant
    term. Decided as :func:`surrogate_loss` decides it (the clipped term strictly smaller), so that ties at the band's
    edge, where autograd passes the gradient, count as not killed.

    :return: a boolean mask, (batch,)
    """
    with th.no_grad():
        return advantages * th.clamp(ratio, 1 - clip_range, 1 + clip_range) < advantages * ratio


def harmful_excess(ratio: th.Tensor, advantages: th.Tensor, clip_range: float) -> th.Tensor:
    """
    h_t: how far r_t lies past the band's edge on the side the advantage pushes towards, in ratio units: r_t - (1 + ε)
    for Â_t > 0, (1 - ε) - r_t for Â_t < 0 (negative inside the band); -inf for Â_t = 0, which no side harms.
    """
    with th.no_grad():
        upper = ratio - (1 + clip_range)
        lower = (1 - clip_range) - ratio
        return th.where(advantages > 0, upper, th.where(advantages < 0, lower, th.full_like(ratio, -math.inf)))


#: The gates of soft clipping, as functions of (h_t, softness): 0 inside the band for ``linear``, a step at s -> 0.
SOFT_GATES: dict[str, Callable[[th.Tensor, float], th.Tensor]] = {
    "linear": lambda excess, softness: th.clamp(excess / softness, 0.0, 1.0),
    "sigmoid": lambda excess, softness: th.sigmoid(excess / softness),
}


def partition(
    ratio: th.Tensor, advantages: th.Tensor, clip_range: float, mean: Mean = th.mean, sample_kl_coef: th.Tensor | None = None
) -> th.Tensor:
    """
    Where a minibatch's samples lie with respect to ε (KLip-PPO's partition), for the update's diagnostics: the
    fractions in band (abs(r_t - 1) <= ε), killed (:func:`killed`) and passed (outside the band on the other side, Â_t
    != 0), and the mean of abs(β_t)·[killed] (0 without per-sample coefficients). Samples outside the band with Â_t = 0
    are in none of the three.

    The tensors may also hold several minibatches of one size, one per row, with a ``mean`` over the last dimension:
    the loop computes an update's partitions so, in one go.

    :param sample_kl_coef: β_t of a per-sample penalty, or None
    :return: a (4,) tensor (one (4,) row per minibatch for stacked minibatches), on the samples' device
    """
    with th.no_grad():
        outside = th.abs(ratio - 1) > clip_range
        cut = killed(ratio, advantages, clip_range)
        passed = outside & ~cut & (advantages != 0)
        weighted = th.zeros_like(ratio) if sample_kl_coef is None else sample_kl_coef.abs() * cut
        return th.stack([mean((~outside).float()), mean(cut.float()), mean(passed.float()), mean(weighted)], dim=-1)


def per_sample_penalty_loss(
    ratio: th.Tensor, advantages: th.Tensor, sample_kl_coef: th.Tensor, mean: Mean = th.mean
) -> PolicyLoss:
    """
    The unclipped surrogate plus a penalty on the *sampled* log-ratio with a per-sample coefficient:
    -Ê_t[r_t Â_t] + Ê_t[β_t · (-log r_t)], β_t a constant for autograd (../shared/klip-notes.md). With β_t =
    -r_t Â_t on the killed samples and 0 elsewhere, the penalty's gradient cancels the surrogate's exactly where
    eq. 7 passes none: the gradient is L^CLIP's.

    :param sample_kl_coef: β_t, detached, (batch,)
    """
    surrogate = -mean(advantages * ratio)
    return PolicyLoss(surrogate, surrogate + mean(sample_kl_coef * -th.log(ratio)), sample_kl_coef)


def per_sample_penalty_gradient(ratio: th.Tensor, advantages: th.Tensor, sample_kl_coef: th.Tensor) -> th.Tensor:
    """The gradient of :func:`per_sample_penalty_loss` with respect to log π_θ(a_t | s_t): -(r_t Â_t + β_t) / batch."""
    return (advantages * ratio + sample_kl_coef) * (-1.0 / ratio.shape[0])


def adapt_kl_coef(kl: float, kl_coef: float, kl_target: float, tolerance: float = 1.5, factor: float = 2.0) -> float:
    """
    The adaptive-β rule of Section 4, applied once per policy update to the KL measured after all its epochs.

    - d < d_targ / tolerance: β ← β / factor (the update was too timid: penalise less)
    - d > d_targ * tolerance: β ← β * factor (the update went too far: penalise more)
    - otherwise β is unchanged.

    The paper uses tolerance 1.5 and factor 2 and says the algorithm is not very sensitive to them; it gives no
    bounds on β, and neither do we.

    :param kl: d = Ê_t[KL[π_old(· | s_t), π_θ(· | s_t)]] over the whole rollout, after the update
    :param kl_coef: β used for the update that produced ``kl``
    :param kl_target: d_targ
    :param tolerance: the band around d_targ inside which β stays the same (> 1)
    :param factor: how much β is multiplied or divided by (> 1)
    :return: β for the next policy update
    """
    if kl < kl_target / tolerance:
        return kl_coef / factor
    if kl > kl_target * tolerance:
        return kl_coef * factor
    return kl_coef


class PolicyLoss(NamedTuple):
    """The policy term of one minibatch's loss."""

    #: -Ê_t[L_t(θ)] of eq. 6 or 7, without any penalty (SB3's ``train/policy_gradient_loss``)
    surrogate: th.Tensor
    #: what the optimiser minimises: the surrogate plus the penalty, if any
    total: th.Tensor
    #: β_t of a per-sample penalty (detached), for the diagnostics; None for the other objectives
    sample_kl_coef: th.Tensor | None = None


class PolicyLossGradient(NamedTuple):
    """The gradient of :attr:`PolicyLoss.total` with respect to what it is computed from."""

    #: d total / d log π_θ(a_t | s_t), per sample
    log_prob: th.Tensor
    #: d total / d KL[π_old(· | s_t) ‖ π_θ(· | s_t)], the same for every sample (β / batch size); None without a penalty
    kl: float | None
