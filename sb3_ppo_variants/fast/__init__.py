"""The opt-in fast path (``fast=True`` on every variant): the same algorithm, policy objects and buffers, less work.

- Collection (:mod:`~sb3_ppo_variants.fast.collect`): per step only the actor runs to sample the action; values and
  log-probabilities of the whole rollout come from batched passes afterwards; a plain ``DummyVecEnv`` is stepped
  without its deep copies.
- Training (:mod:`~sb3_ppo_variants.fast.evaluator`): closed-form log-probabilities, entropies and KL parameters on
  the policy's own layers; fused Adam and lean gradient clipping (:mod:`~sb3_ppo_variants.fast.context`). The loop
  itself is the one of :class:`~sb3_ppo_variants.base.SurrogatePPO`, for both paths.

Fallbacks, never silent changes of results: gSDE and policies that override how they evaluate actions use the
policy's own methods; rollout buffers other than SB3's ``RolloutBuffer``/``DictRolloutBuffer`` use SB3's collection;
optimizers other than Adam/AdamW keep their own step.
"""

from sb3_ppo_variants.fast.analytic import AnalyticEvaluator, analytic_reason
from sb3_ppo_variants.fast.context import clip_grad_norm, distribution_checks, fused_adam, fused_adam_step
from sb3_ppo_variants.fast.evaluator import LeanEvaluator, PolicyEvaluator, lean_reason, make_evaluator

__all__ = [
    "AnalyticEvaluator",
    "LeanEvaluator",
    "PolicyEvaluator",
    "analytic_reason",
    "clip_grad_norm",
    "distribution_checks",
    "fused_adam",
    "fused_adam_step",
    "lean_reason",
    "make_evaluator",
]
