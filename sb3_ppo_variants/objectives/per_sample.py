"""Beyond the paper (KLip-PPO, ../shared/klip-notes.md): clipping as a per-sample KL penalty, and soft clipping."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import torch as th

from sb3_ppo_variants.objectives.clipping import refuse_no_clip_range
from sb3_ppo_variants.objectives.knobs import Categorical, ChoiceKnob, FloatKnob, LogUniform
from sb3_ppo_variants.objectives.losses import (
    SOFT_GATES,
    Mean,
    PolicyLoss,
    PolicyLossGradient,
    harmful_excess,
    killed,
    per_sample_penalty_gradient,
    per_sample_penalty_loss,
)
from sb3_ppo_variants.objectives.objective import PolicyObjective


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
        refuse_no_clip_range(owner, self.class_suffix, clip_range)

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
