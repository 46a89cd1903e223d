"""The policy objectives of Table 1: their loss terms and gradients as pure functions, and one small object per row.

Notation (Schulman et al. 2017): r_t(θ) = π_θ(a_t|s_t) / π_θold(a_t|s_t) is ``ratio``, Â_t is ``advantages``,
ε is ``clip_range``, β is ``kl_coef`` and d_targ is ``kl_target``. The paper *maximises* the objectives; these
functions return the *loss* that the optimiser minimises, i.e. the negated batch mean.

An objective (:class:`PolicyObjective` and its subclasses, TorchRL's PPOLoss -> ClipPPOLoss / KLPENPPOLoss hierarchy)
is what a row of Table 1 changes in the loop: the policy term of the loss, that term's gradient with respect to
log π_θ(a_t|s_t) and to the per-state KL (written next to it, for the closed-form fast path; a test parametrised over
the registry checks every registered objective's gradient against autograd of its loss), and what happens after an
update. Objectives hold no state: the knobs and β live on the algorithm, which saves and loads them with SB3's own
mechanism.
"""

from __future__ import annotations

from typing import Any, ClassVar, NamedTuple

import torch as th
from torch.nn import functional as F

#: The ε at which ``train/clip_fraction`` is measured when a variant does not clip (the paper's best ε, SB3's default):
#: it then says how often the update moved a ratio further than PPO-Clip would have allowed.
DIAGNOSTIC_CLIP_RANGE = 0.2


def surrogate_loss(ratio: th.Tensor, advantages: th.Tensor, clip_range: float | None) -> th.Tensor:
    """
    Negated minibatch mean of the policy surrogate: L^CLIP (eq. 7) or, with ``clip_range=None``, L^CPI (eq. 6).

    The operations and their order are those of ``stable_baselines3.PPO.train`` so that :class:`PPOClip` stays
    bit-for-bit identical to it. ``clip_range=inf`` clamps nothing and gives exactly the unclipped loss.

    :param ratio: r_t(θ), shape (batch,)
    :param advantages: Â_t, shape (batch,), already normalised if that is wanted
    :param clip_range: ε, or None for no clipping
    :return: the scalar loss -Ê_t[L_t(θ)]
    """
    policy_loss_1 = advantages * ratio
    if clip_range is None:
        return -policy_loss_1.mean()
    policy_loss_2 = advantages * th.clamp(ratio, 1 - clip_range, 1 + clip_range)
    return -th.min(policy_loss_1, policy_loss_2).mean()


def surrogate_loss_gradient(ratio: th.Tensor, advantages: th.Tensor, clip_range: float | None) -> th.Tensor:
    """
    The gradient of :func:`surrogate_loss` with respect to log π_θ(a_t|s_t), per sample, where
    r_t(θ) = exp(log π_θ(a_t|s_t) - log π_θold(a_t|s_t)).

    It is what autograd gives through ``th.min`` and ``th.clamp``: the unclipped term r_t·Â_t carries the gradient
    where it is the smaller (or equal) one; where the clipped term is strictly smaller, r_t lies outside [1 - ε, 1 + ε]
    and the clamp passes no gradient (the flat part of eq. 7).

    :param ratio: r_t(θ), shape (batch,)
    :param advantages: Â_t, shape (batch,), as :func:`surrogate_loss` got them
    :param clip_range: ε, or None for no clipping
    :return: d loss / d log π_θ(a_t|s_t), shape (batch,)
    """
    scale = -1.0 / ratio.shape[0]
    policy_loss_1 = advantages * ratio  # d(r·Â)/d log π = r·Â
    if clip_range is None:
        return policy_loss_1 * scale
    policy_loss_2 = advantages * th.clamp(ratio, 1 - clip_range, 1 + clip_range)
    return th.where(policy_loss_1 <= policy_loss_2, policy_loss_1, 0.0) * scale


def value_loss(values: th.Tensor, old_values: th.Tensor, returns: th.Tensor, clip_range_vf: float | None) -> th.Tensor:
    """
    SB3 PPO's value loss: the mean squared error to the TD(λ) returns, with the change of each value clipped to
    ``clip_range_vf`` when it is set (OpenAI baselines' trick, not in the paper; it depends on the reward scale).

    :param values: V_θ(s_t), shape (batch,)
    :param old_values: the values at collection time, shape (batch,)
    :param returns: the returns, shape (batch,)
    :param clip_range_vf: the largest change of a value, or None for no clipping
    :return: the scalar loss
    """
    if clip_range_vf is None:
        values_pred = values
    else:
        values_pred = old_values + th.clamp(values - old_values, -clip_range_vf, clip_range_vf)
    return F.mse_loss(returns, values_pred)


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


def clip_fraction(ratio: th.Tensor, clip_range: float) -> th.Tensor:
    """
    Fraction of samples whose ratio lies outside [1 - ε, 1 + ε] (SB3's ``train/clip_fraction``).

    :param ratio: r_t(θ)
    :param clip_range: ε
    :return: the fraction, a 0-d tensor (read it with ``.item()``; the loop reads all of an update's at once)
    """
    with th.no_grad():
        return th.mean((th.abs(ratio - 1) > clip_range).float())


def adapt_kl_coef(kl: float, kl_coef: float, kl_target: float, tolerance: float = 1.5, factor: float = 2.0) -> float:
    """
    The adaptive-β rule of Section 4, applied once per policy update to the KL measured after all its epochs.

    - d < d_targ / tolerance: β ← β / factor (the update was too timid: penalise less)
    - d > d_targ * tolerance: β ← β * factor (the update went too far: penalise more)
    - otherwise β is unchanged.

    The paper uses tolerance 1.5 and factor 2 and says the algorithm is not very sensitive to them; it gives no
    bounds on β, and neither do we.

    :param kl: d = Ê_t[KL[π_old(·|s_t), π_θ(·|s_t)]] over the whole rollout, after the update
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


class PolicyLossGradient(NamedTuple):
    """The gradient of :attr:`PolicyLoss.total` with respect to what it is computed from."""

    #: d total / d log π_θ(a_t|s_t), per sample
    log_prob: th.Tensor
    #: d total / d KL[π_old(·|s_t) ‖ π_θ(·|s_t)], the same for every sample (β / batch size); None without a penalty
    kl: float | None


class PolicyObjective:
    """
    The surrogate of Table 1's "Clipping" and "No clipping or penalty" rows: L^CLIP (eq. 7) when the update's ε is a
    number, L^CPI (eq. 6) when it is None; no penalty. Subclasses add the KL penalty of eq. 8 (:attr:`penalised`,
    :meth:`kl_coef`) and what happens to β after an update (:meth:`after_update`), or replace the loss altogether
    (:meth:`loss` with its :meth:`gradient`).
    """

    #: whether the loss has a KL[π_old ‖ π_θ] term: the loop then evaluates π_old over the rollout, the KL per
    #: minibatch, and d = the rollout's KL after each update (``train/kl``)
    penalised: ClassVar[bool] = False

    def kl_coef(self, model: Any) -> float | None:
        """
        β of the penalty for the coming update, or None for no penalty.

        :param model: the algorithm, which holds the objective's knobs and state
        """
        return None

    def after_update(self, model: Any, kl: float) -> None:
        """
        Called once per update, after all its epochs, with d = Ê_t[KL[π_old(·|s_t), π_θ(·|s_t)]] over the whole
        rollout (only for a :attr:`penalised` objective).

        :param model: the algorithm
        :param kl: d, with the updated parameters
        """

    def loss(
        self, ratio: th.Tensor, advantages: th.Tensor, clip_range: float | None, kl_coef: float | None, kl: th.Tensor | None
    ) -> PolicyLoss:
        """
        The policy term of a minibatch's loss.

        :param ratio: r_t(θ), (batch,)
        :param advantages: Â_t, (batch,), normalised if that is wanted
        :param clip_range: ε of this update, or None for no clipping
        :param kl_coef: β of this update (:meth:`kl_coef`), or None
        :param kl: KL[π_old(·|s_t) ‖ π_θ(·|s_t)] per sample, (batch,), when ``kl_coef`` is not None
        """
        surrogate = surrogate_loss(ratio, advantages, clip_range)
        if kl_coef is None:
            return PolicyLoss(surrogate, surrogate)
        assert kl is not None
        # L^KLPEN (eq. 8): the loss is its negation, so the penalty is added
        return PolicyLoss(surrogate, surrogate + kl_coef * kl.mean())

    def gradient(
        self, ratio: th.Tensor, advantages: th.Tensor, clip_range: float | None, kl_coef: float | None
    ) -> PolicyLossGradient:
        """The gradient of :meth:`loss`'s total, with the same arguments (the KL's value does not enter it)."""
        log_prob = surrogate_loss_gradient(ratio, advantages, clip_range)
        return PolicyLossGradient(log_prob, None if kl_coef is None else kl_coef / ratio.shape[0])


class FixedKLPenalty(PolicyObjective):
    """
    Table 1's "Fixed KL" rows: the surrogate minus β·KL[π_old, π_θ] (eq. 8), β the algorithm's constant ``kl_coef``.
    """

    penalised = True

    def kl_coef(self, model: Any) -> float:
        return float(model.kl_coef)


class AdaptiveKLPenalty(FixedKLPenalty):
    """
    Table 1's "Adaptive KL" rows: the penalty of eq. 8 with β adapted once per update (Section 4) from d, the KL of
    the whole rollout after all epochs, towards the algorithm's ``kl_target`` (:func:`adapt_kl_coef`).
    """

    def after_update(self, model: Any, kl: float) -> None:
        # Section 4: β changes once per policy update, from the KL of the whole rollout measured after all epochs.
        model.kl_coef = adapt_kl_coef(kl, model.kl_coef, model.kl_target, model.kl_tolerance, model.kl_coef_factor)
