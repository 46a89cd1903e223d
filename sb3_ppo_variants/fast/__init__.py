"""The opt-in fast path (``fast=True`` on every variant): the same algorithm, policy objects and buffers, less work.

- Collection (:mod:`~sb3_ppo_variants.fast.collect`): per step only the actor runs to sample the action; values and
  log-probabilities of the whole rollout come from batched passes afterwards; a plain ``DummyVecEnv`` is stepped
  without its deep copies.
- Training of SB3's ``MlpPolicy`` family (:mod:`~sb3_ppo_variants.fast.analytic`): no autograd; the gradient of each
  piece of the loss is written out (:mod:`~sb3_ppo_variants.fast.heads`, :mod:`~sb3_ppo_variants.fast.mlp`, the
  ``*_gradient`` functions of :mod:`~sb3_ppo_variants.objectives` and :mod:`~sb3_ppo_variants.kl`), on flat copies of
  the parameters and Adam's state with one fused kernel per step (:mod:`~sb3_ppo_variants.fast.flat`).
- Training of other policies (:mod:`~sb3_ppo_variants.fast.evaluator`): closed-form log-probabilities, entropies and
  KL parameters on the policy's own layers with autograd; fused Adam and lean gradient clipping
  (:mod:`~sb3_ppo_variants.fast.context`).

The loop itself is the one of :class:`~sb3_ppo_variants.base.SurrogatePPO`, for every path.

Fallbacks, never silent changes of results: gSDE, policies that override how they evaluate actions and policies with
module hooks use the policy's own methods; policies that override ``forward`` or have module hooks, and rollout
buffers other than SB3's ``RolloutBuffer``/``DictRolloutBuffer``, use SB3's collection; optimizers other than
Adam/AdamW keep their own step and use autograd; frozen parameters, gradient hooks and optimizer step hooks use
autograd and ``optimizer.step``.
"""

from sb3_ppo_variants.fast.analytic import AnalyticEvaluator, analytic_reason
from sb3_ppo_variants.fast.context import clip_grad_norm, fused_adam, fused_adam_step, no_distribution_checks
from sb3_ppo_variants.fast.evaluator import LeanEvaluator, PolicyEvaluator, lean_reason, make_evaluator

__all__ = [
    "AnalyticEvaluator",
    "LeanEvaluator",
    "PolicyEvaluator",
    "analytic_reason",
    "clip_grad_norm",
    "fused_adam",
    "fused_adam_step",
    "lean_reason",
    "make_evaluator",
    "no_distribution_checks",
]
