"""Table 1's penalty rows: "Fixed KL" and "Adaptive KL" (eq. 8, and the adaptive rule of Section 4)."""

from __future__ import annotations

from typing import Any

from sb3_ppo_variants.objectives.knobs import FloatKnob, LogUniform
from sb3_ppo_variants.objectives.losses import adapt_kl_coef
from sb3_ppo_variants.objectives.objective import PolicyObjective

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
    # the rule of Section 4 moves β at every update: the constructor's kl_coef is the initial β
    trained_knobs = ("kl_coef",)

    def after_update(self, model: Any, kl: float) -> None:
        # Section 4: β changes once per policy update, from the KL of the whole rollout measured after all epochs.
        model.kl_coef = adapt_kl_coef(kl, model.kl_coef, model.kl_target, model.kl_tolerance, model.kl_coef_factor)
