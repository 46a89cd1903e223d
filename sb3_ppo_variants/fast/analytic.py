"""The fast path's training step without autograd, for SB3's ``MlpPolicy`` family.

The loss of a minibatch is a short composition: an MLP, a distribution head, the surrogate, the KL penalty, the
value loss and the entropy bonus. Each piece here has its gradient written out (:mod:`~sb3_ppo_variants.objectives`,
:func:`~sb3_ppo_variants.kl.kl_divergence_gradient`, :mod:`~sb3_ppo_variants.fast.heads`,
:mod:`~sb3_ppo_variants.fast.mlp`), and the training loop chains them: the forward pass records no graph, the
backward pass is a few dozen operations on flat tensors (:mod:`~sb3_ppo_variants.fast.flat`). Every gradient is
tested against autograd.

:class:`AnalyticEvaluator` serves the policies that :func:`analytic_reason` accepts: an ``ActorCriticPolicy`` with a
``FlattenExtractor``, SB3's ``MlpExtractor`` made of linear layers with tanh or ReLU, a Gaussian (without gSDE),
categorical, multi-categorical or Bernoulli action distribution, and an Adam or AdamW optimizer. Other policies use
:class:`~sb3_ppo_variants.fast.evaluator.LeanEvaluator` and autograd.
"""

from __future__ import annotations

import torch as th
from stable_baselines3.common.policies import ActorCriticPolicy
from stable_baselines3.common.type_aliases import PyTorchObs

from sb3_ppo_variants.fast.evaluator import Evaluation, flattened_observations, flattens_observations, lean_reason
from sb3_ppo_variants.fast.flat import FlatParameters, flat_adam_reason
from sb3_ppo_variants.fast.heads import HeadOutput, head_for
from sb3_ppo_variants.fast.mlp import Mlp, mlp_reason
from sb3_ppo_variants.kl import KLGradient


def analytic_reason(policy: ActorCriticPolicy) -> str | None:
    """
    Why :class:`AnalyticEvaluator` cannot train a policy (the fast path then uses autograd), or None.

    :param policy: the policy, with its optimizer
    """
    reason = lean_reason(policy)
    if reason is not None:
        return reason
    if head_for(policy.action_dist) is None:
        return f"no closed-form gradient for {type(policy.action_dist).__name__}"
    if not flattens_observations(policy):
        return "a features extractor other than FlattenExtractor"
    for net in (
        [*policy.mlp_extractor.policy_net, policy.action_net],
        [*policy.mlp_extractor.value_net, policy.value_net],
    ):
        reason = mlp_reason(net)
        if reason is not None:
            return reason
    parameters = list(policy.parameters())
    known = {
        *policy.mlp_extractor.parameters(),
        *policy.action_net.parameters(),
        *policy.value_net.parameters(),
        *([policy.log_std] if isinstance(getattr(policy, "log_std", None), th.nn.Parameter) else []),
    }
    if set(parameters) != known:
        return "the policy has parameters outside its MLPs, heads and log_std"
    return flat_adam_reason(parameters, policy.optimizer)


class AnalyticEvaluator:
    """
    One update's evaluation and gradients of an :func:`analytic_reason` policy, on flat copies of its parameters.

    Create it after the update's learning rate is set; call :meth:`end_update` when the update ends, which writes
    the parameters and the optimizer state back into the policy.

    :param policy: the policy
    """

    def __init__(self, policy: ActorCriticPolicy):
        self.policy = policy
        self.flat = FlatParameters(list(policy.parameters()), policy.optimizer)
        self._actor = Mlp([*policy.mlp_extractor.policy_net, policy.action_net], self.flat)
        self._critic = Mlp([*policy.mlp_extractor.value_net, policy.value_net], self.flat)
        head = head_for(policy.action_dist)
        assert head is not None
        self._head = head
        log_std = getattr(policy, "log_std", None)
        self._log_std: th.Tensor | None = None
        self._log_std_grad: th.Tensor | None = None
        if isinstance(log_std, th.nn.Parameter):
            self._log_std, self._log_std_grad = self.flat.view(log_std)
        self._forward: tuple[th.Tensor, list[th.Tensor], th.Tensor, list[th.Tensor], HeadOutput] | None = None

    def evaluate(self, obs: PyTorchObs, actions: th.Tensor, with_distribution: bool = True) -> Evaluation:
        """
        Values, log π(a|s), entropy and π(·|s), as ``policy.evaluate_actions`` computes them, without a graph; the
        intermediate results are kept for :meth:`backward`.

        :param obs: a batch of observations (tensors)
        :param actions: the actions taken in them, as the rollout buffer stores them
        :param with_distribution: whether to return π(·|s) (the KL term needs it)
        """
        features = flattened_observations(self.policy, obs)
        out, actor_inputs = self._actor.forward(features)
        values, critic_inputs = self._critic.forward(features)
        head = self._head.forward(out, self._log_std, actions, with_distribution)
        self._forward = (out, actor_inputs, values, critic_inputs, head)
        return values.flatten(), head.log_prob, head.entropy, head.distribution

    def backward(
        self,
        log_prob_grad: th.Tensor,
        entropy_grad: float | None,
        distribution_grad: KLGradient | None,
        values_grad: th.Tensor,
    ) -> None:
        """
        The gradient of the loss with respect to every parameter, from its gradients with respect to what
        :meth:`evaluate` returned for the last minibatch, into ``self.flat.grad``.

        :param log_prob_grad: d loss / d log π(a|s), (batch,)
        :param entropy_grad: d loss / d entropy of each state (or of the 0-d entropy of a Gaussian), or None
        :param distribution_grad: d loss / d π(·|s)'s parameters, or None
        :param values_grad: d loss / d V(s), (batch,)
        """
        assert self._forward is not None, "evaluate() comes first"
        out, actor_inputs, values, critic_inputs, head = self._forward
        out_grad, log_std_grad = self._head.backward(head, log_prob_grad, entropy_grad, distribution_grad)
        if self._log_std_grad is not None:
            assert log_std_grad is not None
            self._log_std_grad.copy_(log_std_grad)
        self._actor.backward(out_grad, out, actor_inputs)
        self._critic.backward(values_grad.unsqueeze(1), values, critic_inputs)

    def clip_grad_norm(self, max_norm: float) -> th.Tensor:
        """:meth:`FlatParameters.clip_grad_norm`"""
        return self.flat.clip_grad_norm(max_norm)

    def step(self) -> None:
        """:meth:`FlatParameters.step`"""
        self.flat.step()

    def end_update(self) -> None:
        """Write the parameters and the optimizer state back into the policy."""
        self.flat.write_back()
