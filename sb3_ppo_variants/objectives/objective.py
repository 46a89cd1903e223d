"""The objective seam: :class:`PolicyObjective`, what a row of Table 1 changes in the loop, and
:func:`gradient_error`, the check of an objective's closed-form gradient against autograd of its loss.

An objective (TorchRL's PPOLoss -> ClipPPOLoss / KLPENPPOLoss hierarchy) is the policy term of the loss, that term's
gradient with respect to log π_θ(a_t | s_t) and to the per-state KL (written next to it, for the closed-form fast
path; a test parametrised over the registry checks every registered objective's gradient against autograd of its
loss), and what happens after an update. It also says what a preset class of it takes (its knobs, with their checks
and docs, and whether it takes ε), and how the zoo configures and tunes it. Objectives hold no state: the knobs and β
live on the algorithm, which saves and loads them with SB3's own mechanism.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, ClassVar

import torch as th

from sb3_ppo_variants.objectives.knobs import Categorical, ChoiceKnob, FloatKnob, LogUniform
from sb3_ppo_variants.objectives.losses import (
    Mean,
    PolicyLoss,
    PolicyLossGradient,
    surrogate_loss,
    surrogate_loss_gradient,
)

CLIP_RANGE_DOC = (
    "ε of the clipped surrogate (eq. 7), or a schedule of the progress remaining (from 1 to 0); None for the unclipped "
    "surrogate (eq. 6). ``float('inf')`` clips nothing and equals None."
)


class PolicyObjective:
    """
    The surrogate of Table 1's "Clipping" and "No clipping or penalty" rows: L^CLIP (eq. 7) when the update's ε is a
    number, L^CPI (eq. 6) when it is None; no penalty. Subclasses add the KL penalty of eq. 8 (:attr:`penalised`,
    :meth:`kl_coef`) and what happens to β after an update (:meth:`after_update`), or replace the loss altogether
    (:meth:`loss` with its :meth:`gradient`).
    """

    #: snake_case name: a family's zoo key is ``<family>_<key>``
    key: ClassVar[str] = "surrogate"
    #: the preset classes' name suffix (``PPO`` + ``AdaptiveKL``)
    class_suffix: ClassVar[str] = ""
    #: Table 1's name of the row (the report's family)
    title: ClassVar[str] = "surrogate"
    #: the presets' description, after "<family> with" (reST; the first sentence ends their summary line)
    description: ClassVar[str] = ""
    #: the constructor arguments the objective adds to its family's stock algorithm
    knobs: ClassVar[dict[str, FloatKnob | ChoiceKnob]] = {}
    #: whether the presets take ``clip_range`` (the "no clipping or penalty" row has no ε to set)
    takes_clip_range: ClassVar[bool] = True
    #: the presets' default ε (the stock algorithm's 0.2 for clipping; None, no clipping, for the other rows)
    clip_range_default: ClassVar[float | None] = 0.2
    #: the presets' ``:param clip_range:`` text
    clip_range_doc: ClassVar[str] = CLIP_RANGE_DOC
    #: PPO's own objective (clipping): its zoo entries and search space are the zoo's PPO ones unchanged
    is_ppo: ClassVar[bool] = False
    #: whether its zoo entries keep the zoo's tuned ``clip_range`` and its search space the zoo's ε choices (an
    #: objective that uses ε as PPO-Clip does); PPO's own objective does
    zoo_clip_range: ClassVar[bool] = False
    #: the knobs in the generated zoo yml files (the paper's best setting), in place of the zoo's PPO objective keys
    tuned_knobs: ClassVar[dict[str, Any]] = {}
    #: the knobs in the ``--paper`` yml files (Table 1's best setting)
    paper_knobs: ClassVar[dict[str, Any]] = {}
    #: Optuna's space for the knobs (``-optimize``), on top of the zoo's PPO space without ``clip_range``
    search_space: ClassVar[dict[str, LogUniform | Categorical]] = {}
    #: whether the loss has a KL[π_old ‖ π_θ] term: the loop then evaluates π_old over the rollout, the KL per
    #: minibatch, and d = the rollout's KL after each update (``train/kl``)
    penalised: ClassVar[bool] = False
    #: the knobs whose constructor value is only where training starts: training changes them (an adaptive β) and
    #: save/load keeps the changed value, so continuing a saved model's training must not set them again
    trained_knobs: ClassVar[tuple[str, ...]] = ()

    def set_knobs(self, model: Any, **knobs: Any) -> None:
        """
        Check the objective's constructor arguments and set them on the algorithm (before SB3 builds anything).

        :param model: the algorithm being constructed
        :param knobs: one value per :attr:`knobs` name
        """
        for name, value in knobs.items():
            setattr(model, name, self.knobs[name].check(name, value))

    def check_clip_range(self, owner: str, clip_range: Any) -> None:
        """
        Refuse an ε the objective cannot use (the loop checks the range of any ε it gets).

        :param owner: the class's name, for the message
        :param clip_range: the ε passed to the constructor
        """

    def loss_settings(self, model: Any) -> dict[str, Any]:
        """
        The knobs the objective's :meth:`loss` and :meth:`gradient` read, taken from the algorithm once per update
        (none for Table 1's rows, whose β is :meth:`kl_coef`).

        :param model: the algorithm
        """
        return {}

    def kl_coef(self, model: Any) -> float | None:
        """
        β of the penalty for the coming update, or None for no penalty.

        :param model: the algorithm, which holds the objective's knobs and state
        """
        return None

    def after_update(self, model: Any, kl: float) -> None:
        """
        Called once per update, after all its epochs, with d = Ê_t[KL[π_old(· | s_t), π_θ(· | s_t)]] over the whole
        rollout (only for a :attr:`penalised` objective).

        :param model: the algorithm
        :param kl: d, with the updated parameters
        """

    def loss(
        self,
        ratio: th.Tensor,
        advantages: th.Tensor,
        clip_range: float | None,
        kl_coef: float | None,
        kl: th.Tensor | None,
        mean: Mean = th.mean,
        settings: Mapping[str, Any] | None = None,
    ) -> PolicyLoss:
        """
        The policy term of a minibatch's loss.

        :param ratio: r_t(θ), (batch,)
        :param advantages: Â_t, (batch,), normalised if that is wanted
        :param clip_range: ε of this update, or None for no clipping
        :param kl_coef: β of this update (:meth:`kl_coef`), or None
        :param kl: KL[π_old(· | s_t) ‖ π_θ(· | s_t)] per sample, (batch,), when ``kl_coef`` is not None
        :param mean: the family's average over the minibatch (its :meth:`gradient` is that of ``th.mean``, the only
            average of the families with a closed-form path)
        :param settings: :meth:`loss_settings` of the algorithm
        """
        surrogate = surrogate_loss(ratio, advantages, clip_range, mean)
        if kl_coef is None:
            return PolicyLoss(surrogate, surrogate)
        assert kl is not None
        # L^KLPEN (eq. 8): the loss is its negation, so the penalty is added
        return PolicyLoss(surrogate, surrogate + kl_coef * mean(kl))

    def has_closed_form_gradient(self) -> bool:
        """
        Whether :meth:`gradient` is the gradient of this objective's :meth:`loss`: it is defined by the class that
        defines :meth:`loss`, or below it. A subclass that changes the loss and not the gradient has none, and
        ``fast=True`` then differentiates its loss with autograd instead of using a stale closed form.
        """
        cls = type(self)
        loss_owner = next(c for c in cls.__mro__ if "loss" in vars(c))
        gradient_owner = next(c for c in cls.__mro__ if "gradient" in vars(c))
        return issubclass(gradient_owner, loss_owner)

    def gradient(
        self,
        ratio: th.Tensor,
        advantages: th.Tensor,
        clip_range: float | None,
        kl_coef: float | None,
        settings: Mapping[str, Any] | None = None,
    ) -> PolicyLossGradient:
        """The gradient of :meth:`loss`'s total, with the same arguments (the KL's value does not enter it)."""
        log_prob = surrogate_loss_gradient(ratio, advantages, clip_range)
        return PolicyLossGradient(log_prob, None if kl_coef is None else kl_coef / ratio.shape[0])


def gradient_error(
    objective: PolicyObjective,
    clip_range: float | None = 0.2,
    kl_coef: float | None = None,
    settings: Mapping[str, Any] | None = None,
    samples: int = 257,
    seed: int = 0,
) -> float:
    """
    The largest difference between an objective's closed-form :meth:`~PolicyObjective.gradient` and autograd's
    gradient of its :meth:`~PolicyObjective.loss`, with respect to log π_θ(a_t | s_t) and to the per-sample KL, in float64
    on random ratios spread over [0.5, 1.6] (inside and outside any ε band) and random advantages. A registered or a
    user's objective whose closed form is right gives ~1e-16.

    :param objective: the objective
    :param clip_range: ε (None: no clipping)
    :param kl_coef: β of a penalised objective (None: no penalty)
    :param settings: its :meth:`~PolicyObjective.loss_settings`
    :return: the largest absolute difference
    """
    generator = th.Generator().manual_seed(seed)
    log_ratio = th.empty(samples, dtype=th.float64).uniform_(-0.7, 0.47, generator=generator).requires_grad_()
    advantages = th.randn(samples, generator=generator, dtype=th.float64)
    kl = th.rand(samples, generator=generator, dtype=th.float64).requires_grad_()
    ratio = th.exp(log_ratio)
    loss = objective.loss(ratio, advantages, clip_range, kl_coef, kl if kl_coef is not None else None, th.mean, settings)
    d_log_prob, d_kl = th.autograd.grad(loss.total, [log_ratio, kl], allow_unused=True)
    gradient = objective.gradient(ratio.detach(), advantages, clip_range, kl_coef, settings)
    error = (gradient.log_prob - d_log_prob).abs().max().item()
    if d_kl is not None or gradient.kl is not None:
        expected = th.zeros_like(kl) if d_kl is None else d_kl
        error = max(error, (th.full_like(kl, gradient.kl or 0.0) - expected).abs().max().item())
    return error
