"""The policy objectives of Table 1 and beyond: one small object per row, over pure loss functions.

Notation (Schulman et al. 2017): r_t(θ) = π_θ(a_t | s_t) / π_θold(a_t | s_t) is ``ratio``, Â_t is ``advantages``,
ε is ``clip_range``, β is ``kl_coef`` and d_targ is ``kl_target``. The paper *maximises* the objectives; the loss
functions return the *loss* that the optimiser minimises, i.e. the negated batch mean.

One file, one job:

- ``losses.py``: the loss terms and their gradients, the diagnostics (clip fraction, partition), the adaptive-β rule;
- ``knobs.py``: what an objective adds to its presets' constructors and to the zoo's search space;
- ``objective.py``: :class:`PolicyObjective`, what a row changes in the loop, and :func:`gradient_error`;
- ``clipping.py``, ``kl_penalty.py``: Table 1's rows; ``per_sample.py``: KLip-PPO's objectives beyond the paper.

``python -m sb3_ppo_variants.codegen`` writes the preset classes from :data:`OBJECTIVES`.
"""

from sb3_ppo_variants.objectives.clipping import Clipping, NoClipping
from sb3_ppo_variants.objectives.kl_penalty import AdaptiveKLPenalty, FixedKLPenalty
from sb3_ppo_variants.objectives.knobs import Categorical, ChoiceKnob, FloatKnob, LogUniform
from sb3_ppo_variants.objectives.losses import (
    DIAGNOSTIC_CLIP_RANGE,
    SOFT_GATES,
    Mean,
    PolicyLoss,
    PolicyLossGradient,
    adapt_kl_coef,
    clip_fraction,
    clipped_values,
    harmful_excess,
    killed,
    partition,
    per_sample_penalty_gradient,
    per_sample_penalty_loss,
    surrogate_loss,
    surrogate_loss_gradient,
    value_loss,
    value_loss_gradient,
)
from sb3_ppo_variants.objectives.objective import PolicyObjective, gradient_error
from sb3_ppo_variants.objectives.per_sample import PerSampleKLPenalty, SoftClip

#: Table 1's rows, in the paper's order of merit (clip >= adaptive KL >= fixed KL >> no clip).
TABLE1_OBJECTIVES: tuple[PolicyObjective, ...] = (Clipping(), AdaptiveKLPenalty(), FixedKLPenalty(), NoClipping())
#: Every objective with its preset classes: Table 1's rows, then those beyond the paper.
OBJECTIVES: tuple[PolicyObjective, ...] = (*TABLE1_OBJECTIVES, PerSampleKLPenalty(), SoftClip())

__all__ = [
    "DIAGNOSTIC_CLIP_RANGE",
    "OBJECTIVES",
    "SOFT_GATES",
    "TABLE1_OBJECTIVES",
    "AdaptiveKLPenalty",
    "Categorical",
    "ChoiceKnob",
    "Clipping",
    "FixedKLPenalty",
    "FloatKnob",
    "LogUniform",
    "Mean",
    "NoClipping",
    "PerSampleKLPenalty",
    "PolicyLoss",
    "PolicyLossGradient",
    "PolicyObjective",
    "SoftClip",
    "adapt_kl_coef",
    "clip_fraction",
    "clipped_values",
    "gradient_error",
    "harmful_excess",
    "killed",
    "partition",
    "per_sample_penalty_gradient",
    "per_sample_penalty_loss",
    "surrogate_loss",
    "surrogate_loss_gradient",
    "value_loss",
    "value_loss_gradient",
]
