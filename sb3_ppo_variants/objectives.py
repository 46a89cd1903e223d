"""The policy objectives of Table 1: their loss terms and gradients as pure functions, and one small object per row.

Notation (Schulman et al. 2017): r_t(θ) = π_θ(a_t | s_t) / π_θold(a_t | s_t) is ``ratio``, Â_t is ``advantages``,
ε is ``clip_range``, β is ``kl_coef`` and d_targ is ``kl_target``. The paper *maximises* the objectives; these
functions return the *loss* that the optimiser minimises, i.e. the negated batch mean.

An objective (:class:`PolicyObjective` and its subclasses, TorchRL's PPOLoss -> ClipPPOLoss / KLPENPPOLoss hierarchy)
is what a row of Table 1 changes in the loop: the policy term of the loss, that term's gradient with respect to
log π_θ(a_t | s_t) and to the per-state KL (written next to it, for the closed-form fast path; a test parametrised over
the registry checks every registered objective's gradient against autograd of its loss), and what happens after an
update. It also says what a preset class of it takes (its knobs, with their checks and docs, and whether it takes ε),
and how the zoo configures and tunes it. Objectives hold no state: the knobs and β live on the algorithm, which saves
and loads them with SB3's own mechanism. ``python -m sb3_ppo_variants.codegen`` writes the preset classes from them.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any, ClassVar, NamedTuple

import torch as th
from torch.nn import functional as F

from sb3_ppo_variants.validation import check_choice, check_float

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

    :param sample_kl_coef: β_t of a per-sample penalty, or None
    :return: a (4,) tensor, on the samples' device (the loop reads an update's once, at its end)
    """
    with th.no_grad():
        outside = th.abs(ratio - 1) > clip_range
        cut = killed(ratio, advantages, clip_range)
        passed = outside & ~cut & (advantages != 0)
        weighted = th.zeros_like(ratio) if sample_kl_coef is None else sample_kl_coef.abs() * cut
        return th.stack([mean((~outside).float()), mean(cut.float()), mean(passed.float()), mean(weighted)])


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


@dataclass(frozen=True)
class FloatKnob:
    """
    A constructor argument of an objective: a finite float, checked at construction.

    :param default: its default (the paper's value)
    :param low: the smallest accepted value
    :param low_inclusive: whether ``low`` itself is accepted
    :param doc: its ``:param`` text
    """

    default: float
    low: float
    low_inclusive: bool
    doc: str

    #: the preset constructors' annotation of the argument
    annotation: ClassVar[str] = "float"

    def check(self, name: str, value: Any) -> float:
        """``value`` as a float, or ``TypeError``/``ValueError`` naming ``name`` and the accepted range."""
        return check_float(name, value, low=self.low, low_inclusive=self.low_inclusive)


@dataclass(frozen=True)
class ChoiceKnob:
    """
    A constructor argument of an objective that is one of a few strings, checked at construction.

    :param default: its default
    :param choices: the accepted strings
    :param doc: its ``:param`` text
    """

    default: str
    choices: tuple[str, ...]
    doc: str
    annotation: ClassVar[str] = "str"

    def check(self, name: str, value: Any) -> str:
        """``value``, or ``TypeError``/``ValueError`` naming ``name`` and the accepted strings."""
        return check_choice(name, value, self.choices)


@dataclass(frozen=True)
class LogUniform:
    """An Optuna ``suggest_float(name, low, high, log=True)``."""

    low: float
    high: float


@dataclass(frozen=True)
class Categorical:
    """An Optuna ``suggest_categorical(name, choices)``."""

    choices: tuple[Any, ...]


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


class Clipping(PolicyObjective):
    """Table 1's "Clipping" rows: L^CLIP (eq. 7), PPO's own objective."""

    key = "clip"
    class_suffix = "Clip"
    title = "clipping"
    description = (
        'the clipped surrogate objective L^CLIP (eq. 7; Table 1, "Clipping").\n\n'
        "With the same arguments and seed it is bit-for-bit identical to the stock algorithm (a test guards it)."
    )
    clip_range_doc = (
        "ε of eq. 7 (paper: 0.1, 0.2, 0.3; best 0.2), or a schedule of the progress remaining (from 1 to 0). Must be > 0; "
        "``float('inf')`` clips nothing, which is the no-clip row."
    )
    is_ppo = True
    zoo_clip_range = True
    paper_knobs = {"clip_range": 0.2}

    def check_clip_range(self, owner: str, clip_range: Any) -> None:
        _refuse_no_clip_range(owner, self.class_suffix, clip_range)


def _refuse_no_clip_range(owner: str, class_suffix: str, clip_range: Any) -> None:
    """An objective built on ε refuses None (the no-clip row is :class:`NoClipping`)."""
    if clip_range is None:
        no_clip = owner.removesuffix(class_suffix) + NoClipping.class_suffix
        raise ValueError(f"`clip_range` of {owner} must be a number > 0 or a schedule; for no clipping use {no_clip}")


class NoClipping(PolicyObjective):
    """Table 1's "No clipping or penalty" row: L^CPI (eq. 6)."""

    key = "no_clip"
    class_suffix = "NoClip"
    title = "no clipping"
    description = (
        'the plain importance-sampled surrogate L^CPI = r_t(θ)·Â_t (eq. 6; Table 1, "No clipping or penalty"): '
        "nothing keeps the policy close to the one that collected the data. The paper's baseline, which scored -0.39 "
        "(worse than a random policy on HalfCheetah).\n\n"
        "``train/clip_fraction`` is still logged, as a diagnostic: the fraction of ratios outside [0.8, 1.2], i.e. what "
        "PPO-Clip with ε = 0.2 would have clipped."
    )
    takes_clip_range = False
    clip_range_default = None


KL_CLIP_RANGE_DOC = (
    'optionally also clip the surrogate with this ε, the penalty then acting "in addition to" clipping (Section 4; '
    "RLlib's default). None (default): no clipping, as in the paper's Table 1."
)


class FixedKLPenalty(PolicyObjective):
    """
    Table 1's "Fixed KL" rows: the surrogate minus β·KL[π_old, π_θ] (eq. 8), β the algorithm's constant ``kl_coef``.
    """

    key = "fixed_kl"
    class_suffix = "FixedKL"
    title = "fixed KL"
    description = (
        "a KL penalty of constant coefficient: ``L^KLPEN = r_t(θ)·Â_t - β·KL[π_old(· | s_t), π_θ(· | s_t)]`` (eq. 8; Table 1, "
        '"Fixed KL"). The KL is analytic, from the old policy to the new one, summed over action dimensions and '
        "averaged over the minibatch's states.\n\n"
        "Logs ``train/kl`` (the KL of the whole rollout after the update) and ``train/kl_coef`` (β)."
    )
    knobs = {
        "kl_coef": FloatKnob(
            1.0,
            0.0,
            True,
            "β, the penalty coefficient (paper: 0.3, 1, 3, 10; best 3). Must be finite and >= 0; 0 gives the no-clip "
            "objective. Its scale is relative to the advantages', which SB3 normalises per minibatch by default.",
        )
    }
    clip_range_default = None
    clip_range_doc = KL_CLIP_RANGE_DOC
    tuned_knobs = {"kl_coef": 3.0}
    paper_knobs = {"kl_coef": 3.0}
    # the paper tried β from 0.3 to 10
    search_space = {"kl_coef": LogUniform(0.03, 30.0)}
    penalised = True

    def kl_coef(self, model: Any) -> float:
        return float(model.kl_coef)


class AdaptiveKLPenalty(FixedKLPenalty):
    """
    Table 1's "Adaptive KL" rows: the penalty of eq. 8 with β adapted once per update (Section 4) from d, the KL of
    the whole rollout after all epochs, towards the algorithm's ``kl_target`` (:func:`adapt_kl_coef`).
    """

    key = "adaptive_kl"
    class_suffix = "AdaptiveKL"
    title = "adaptive KL"
    description = (
        'an adaptive KL penalty (eq. 8 and the rule of Section 4; Table 1, "Adaptive KL").\n\n'
        "The loss is ``L^KLPEN = r_t(θ)·Â_t - β·KL[π_old(· | s_t), π_θ(· | s_t)]``, the KL analytic, from the old policy "
        "to the new one. After the ``n_epochs`` epochs of each update, d = mean KL over **the whole rollout** is measured "
        "with the updated parameters, and β changes once for the next update: β ← β·kl_coef_factor if "
        "d > kl_target·kl_tolerance, β ← β/kl_coef_factor if d < kl_target/kl_tolerance. ``model.kl_coef`` always "
        "holds the current β; it is saved and restored with the model, so training continues where it stopped.\n\n"
        "``kl_target`` (the paper's d_targ) is not SB3's ``target_kl``: d_targ steers β and never stops an update, while "
        "``target_kl`` stops the epochs early when a minibatch's approximate KL exceeds 1.5·target_kl. Both can be "
        "used.\n\n"
        "Logs ``train/kl`` (d) and ``train/kl_coef`` (β used in this update)."
    )
    knobs = {
        "kl_target": FloatKnob(
            0.01,
            0.0,
            False,
            "d_targ, the KL per update that β is steered towards (paper: 0.003, 0.01, 0.03; best 0.01). Must be finite "
            "and > 0.",
        ),
        "kl_coef": FloatKnob(
            1.0, 0.0, True, "the initial β (paper: 1). Must be finite and >= 0 (with 0, β stays 0: the rule only multiplies)."
        ),
        "kl_tolerance": FloatKnob(
            1.5,
            1.0,
            False,
            "β changes only when d leaves [kl_target / kl_tolerance, kl_target * kl_tolerance] (paper: 1.5). Must be "
            "finite and > 1.",
        ),
        "kl_coef_factor": FloatKnob(2.0, 1.0, False, "β is multiplied or divided by this (paper: 2). Must be finite and > 1."),
    }
    tuned_knobs = {"kl_target": 0.01, "kl_coef": 1.0}
    paper_knobs = {"kl_target": 0.01, "kl_coef": 1.0}
    search_space = {"kl_target": LogUniform(1e-3, 1e-1), "kl_coef": LogUniform(0.1, 10.0)}

    def after_update(self, model: Any, kl: float) -> None:
        # Section 4: β changes once per policy update, from the KL of the whole rollout measured after all epochs.
        model.kl_coef = adapt_kl_coef(kl, model.kl_coef, model.kl_target, model.kl_tolerance, model.kl_coef_factor)


class PerSampleKLPenalty(PolicyObjective):
    """
    Clipping as a per-sample KL penalty (KLip-PPO, ../shared/klip-notes.md): the unclipped surrogate plus
    β_t·(-log r_t), β_t = -r_t Â_t on the samples eq. 7 cuts off (:func:`killed`) and 0 elsewhere, detached. Its
    gradient is L^CLIP's, sample by sample.
    """

    key = "per_sample_kl"
    class_suffix = "PerSampleKL"
    title = "per-sample KL"
    description = (
        "PPO-Clip written as a KL penalty with a coefficient per sample (KLip-PPO, Colletti and Holzinger 2026): the "
        "unclipped surrogate r_t(θ)·Â_t minus β_t·(-log r_t(θ)), the penalty on the sampled log-ratio, with "
        "β_t = -r_t(θ)·Â_t (a constant for the gradient) on the samples that eq. 7's min cuts off (r_t > 1 + ε with "
        "Â_t > 0, r_t < 1 - ε with Â_t < 0) and 0 elsewhere. Its gradient equals PPO-Clip's exactly, so it trains as "
        "PPO-Clip does up to float rounding; it is the reference point of the soft variants "
        "(:class:`PPOSoftClip`).\n\n"
        "``train/policy_gradient_loss`` is the unclipped surrogate (the penalty is not in it); ``train/kl_coef_killed`` "
        "is the mean ``abs(β_t)`` over the killed samples."
    )
    clip_range_doc = (
        "ε: the band outside which a sample's coefficient β_t is set (as PPO-Clip's ε, default 0.2), or a schedule of "
        "the progress remaining (from 1 to 0). Must be > 0."
    )
    zoo_clip_range = True
    paper_knobs = {"clip_range": 0.2}

    def check_clip_range(self, owner: str, clip_range: Any) -> None:
        _refuse_no_clip_range(owner, self.class_suffix, clip_range)

    def sample_kl_coef(
        self, ratio: th.Tensor, advantages: th.Tensor, clip_range: float, settings: Mapping[str, Any] | None
    ) -> th.Tensor:
        """β_t, detached: -r_t Â_t on the killed samples, 0 elsewhere."""
        with th.no_grad():
            return -(ratio * advantages) * killed(ratio, advantages, clip_range)

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
        assert clip_range is not None  # the constructor refuses None, and a schedule returns numbers
        return per_sample_penalty_loss(ratio, advantages, self.sample_kl_coef(ratio, advantages, clip_range, settings), mean)

    def gradient(
        self,
        ratio: th.Tensor,
        advantages: th.Tensor,
        clip_range: float | None,
        kl_coef: float | None,
        settings: Mapping[str, Any] | None = None,
    ) -> PolicyLossGradient:
        assert clip_range is not None
        coef = self.sample_kl_coef(ratio, advantages, clip_range, settings)
        return PolicyLossGradient(per_sample_penalty_gradient(ratio, advantages, coef), None)


class SoftClip(PerSampleKLPenalty):
    """
    Soft clipping (KLip-PPO): the per-sample penalty with β_t = -r_t Â_t · g_t, the step of :class:`PerSampleKLPenalty`
    replaced by a gate g_t in [0, 1] of the excess h_t (:func:`harmful_excess`) with a softness s: ``linear``
    clamp(h_t / s, 0, 1) or ``sigmoid`` sigmoid(h_t / s) (:data:`SOFT_GATES`). As s -> 0 both become PPO-Clip.
    """

    key = "soft_clip"
    class_suffix = "SoftClip"
    title = "soft clipping"
    description = (
        "soft clipping (KLip-PPO, Colletti and Holzinger 2026): the unclipped surrogate r_t(θ)·Â_t minus "
        "β_t·(-log r_t(θ)) with β_t = -r_t(θ)·Â_t·g_t, a constant for the gradient, where the gate g_t in [0, 1] "
        "grows with how far r_t lies past the band's edge on the side Â_t pushes towards, h_t (r_t - (1 + ε) for "
        "Â_t > 0, (1 - ε) - r_t for Â_t < 0): ``linear`` g_t = clamp(h_t / softness, 0, 1) (0 inside the band) or "
        "``sigmoid`` g_t = sigmoid(h_t / softness) (nonzero inside the band too). As ``softness`` -> 0 it is PPO-Clip "
        "(:class:`PPOPerSampleKL`).\n\n"
        "``train/policy_gradient_loss`` is the unclipped surrogate; ``train/kl_coef_killed`` is the mean ``abs(β_t)`` over "
        "the samples PPO-Clip would cut off."
    )
    knobs = {
        "soft_clip": ChoiceKnob("linear", tuple(SOFT_GATES), 'the gate\'s shape: ``"linear"`` (default) or ``"sigmoid"``.'),
        "softness": FloatKnob(
            0.05,
            0.0,
            False,
            "s, the width of the gate in ratio units (default 0.05, KLip-PPO's). Must be finite and > 0; the smaller, "
            "the closer to PPO-Clip.",
        ),
    }
    tuned_knobs = {"soft_clip": "linear", "softness": 0.05}
    paper_knobs = {"clip_range": 0.2, "soft_clip": "linear", "softness": 0.05}
    search_space = {"soft_clip": Categorical(tuple(SOFT_GATES)), "softness": LogUniform(0.005, 0.2)}

    def loss_settings(self, model: Any) -> dict[str, Any]:
        return {"soft_clip": model.soft_clip, "softness": model.softness}

    def sample_kl_coef(
        self, ratio: th.Tensor, advantages: th.Tensor, clip_range: float, settings: Mapping[str, Any] | None
    ) -> th.Tensor:
        assert settings is not None
        with th.no_grad():
            gate = SOFT_GATES[settings["soft_clip"]](harmful_excess(ratio, advantages, clip_range), settings["softness"])
            return -(ratio * advantages) * gate


#: Table 1's rows, in the paper's order of merit (clip >= adaptive KL >= fixed KL >> no clip).
TABLE1_OBJECTIVES: tuple[PolicyObjective, ...] = (Clipping(), AdaptiveKLPenalty(), FixedKLPenalty(), NoClipping())
#: Every objective with its preset classes: Table 1's rows, then those beyond the paper.
OBJECTIVES: tuple[PolicyObjective, ...] = (*TABLE1_OBJECTIVES, PerSampleKLPenalty(), SoftClip())
