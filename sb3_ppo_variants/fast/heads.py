"""The action distributions of SB3's ``ActorCriticPolicy`` in closed form, with their gradients.

A head turns the output of the policy's ``action_net`` (and the state-independent ``log_std`` of a Gaussian) into
what the loss needs: log π(a|s), the entropy and the distribution's parameters (for the KL term, see
:mod:`sb3_ppo_variants.kl`). Its ``backward`` takes the gradients of the loss with respect to those three and returns
the gradients with respect to the ``action_net`` output and ``log_std``. SB3 builds a ``torch.distributions`` object
for every call instead; the numbers are the same up to float rounding.

One head per family: :class:`GaussianHead` (``DiagGaussianDistribution``), :class:`CategoricalHead`,
:class:`MultiCategoricalHead` and :class:`BernoulliHead`. :func:`head_for` picks it.
"""

from __future__ import annotations

import math
from typing import Any, NamedTuple

import torch as th
from stable_baselines3.common.distributions import (
    BernoulliDistribution,
    CategoricalDistribution,
    DiagGaussianDistribution,
    Distribution,
    MultiCategoricalDistribution,
)
from torch.nn import functional as F

from sb3_ppo_variants.kl import Captured, KLGradient, Params

LOG_SQRT_2PI = 0.5 * math.log(2 * math.pi)


class HeadOutput(NamedTuple):
    """What a head computes for a batch: log π(a|s) (batch,), the entropy (batch,) or, for a Gaussian, one 0-d
    tensor (its entropy does not depend on the state), the distributions' parameters (None unless asked for), and
    what :meth:`Head.backward` needs."""

    log_prob: th.Tensor
    entropy: th.Tensor
    distribution: Captured | None
    cache: Any


class Head:
    """One family of action distributions."""

    def sample(self, out: th.Tensor, log_std: th.Tensor | None) -> th.Tensor:
        """
        One action per row, drawn as the torch distribution that SB3 builds draws it (same generator calls).

        :param out: the ``action_net`` output
        :param log_std: the Gaussian's log standard deviations (None for the other families)
        """
        raise NotImplementedError

    def forward(self, out: th.Tensor, log_std: th.Tensor | None, actions: th.Tensor, with_distribution: bool) -> HeadOutput:
        """
        :param out: the ``action_net`` output, (batch, n)
        :param log_std: the Gaussian's log standard deviations (None for the other families)
        :param actions: the actions as the rollout buffer stores them, (batch, action_dim), float
        :param with_distribution: whether to return the distributions' parameters
        """
        raise NotImplementedError

    def backward(
        self,
        output: HeadOutput,
        log_prob_grad: th.Tensor,
        entropy_grad: float | None,
        distribution_grad: KLGradient | None,
    ) -> tuple[th.Tensor, th.Tensor | None]:
        """
        Gradients of the loss with respect to the ``action_net`` output and ``log_std``.

        :param output: what :meth:`forward` returned for the batch
        :param log_prob_grad: d loss / d log π(a|s), (batch,)
        :param entropy_grad: d loss / d entropy of each state (the same for all: the loss takes the entropies' mean),
            or None
        :param distribution_grad: d loss / d (the distributions' parameters), as
            :func:`~sb3_ppo_variants.kl.kl_divergence_gradient` returns it, or None
        :return: (d loss / d out, d loss / d log_std or None)
        """
        raise NotImplementedError


class GaussianHead(Head):
    """Diagonal Gaussian, mean = ``action_net`` output, std = exp(``log_std``) shared by all states."""

    def sample(self, out: th.Tensor, log_std: th.Tensor | None) -> th.Tensor:
        assert log_std is not None
        # torch.normal with SB3's mean and std: the draw Normal.sample() makes from the same generator state
        return th.normal(out, th.ones_like(out) * log_std.exp())

    def forward(self, out: th.Tensor, log_std: th.Tensor | None, actions: th.Tensor, with_distribution: bool) -> HeadOutput:
        assert log_std is not None
        std = log_std.exp()
        z = (actions - out) / std
        log_prob = (-0.5 * z.pow(2) - log_std - LOG_SQRT_2PI).sum(dim=-1)
        entropy = (0.5 + LOG_SQRT_2PI + log_std).sum()
        distribution = (Params("normal", out, th.ones_like(out) * std),) if with_distribution else None
        return HeadOutput(log_prob, entropy, distribution, (z, std))

    def backward(
        self,
        output: HeadOutput,
        log_prob_grad: th.Tensor,
        entropy_grad: float | None,
        distribution_grad: KLGradient | None,
    ) -> tuple[th.Tensor, th.Tensor | None]:
        z, std = output.cache
        # d log π / d mean = z / std and d log π / d log_std = z² - 1, per action dimension
        weighted = log_prob_grad.unsqueeze(1) * z
        out_grad = weighted / std
        log_std_grad = (weighted * z).sum(dim=0) - log_prob_grad.sum()
        if entropy_grad is not None:  # d entropy / d log_std = 1 per dimension
            log_std_grad = log_std_grad + entropy_grad
        if distribution_grad is not None:
            mean_grad, log_scale_grad = distribution_grad[0]
            assert log_scale_grad is not None
            out_grad = out_grad + mean_grad
            log_std_grad = log_std_grad + log_scale_grad.sum(dim=0)
        return out_grad, log_std_grad


class CategoricalHead(Head):
    """Categorical over ``action_net``'s logits."""

    def sample(self, out: th.Tensor, log_std: th.Tensor | None) -> th.Tensor:
        # torch's Categorical.sample: multinomial with replacement, one draw per row
        return th.multinomial(th.softmax(out, dim=-1), 1, True).squeeze(-1)

    def forward(self, out: th.Tensor, log_std: th.Tensor | None, actions: th.Tensor, with_distribution: bool) -> HeadOutput:
        return self._forward(out, actions.long().reshape(-1))

    def _forward(self, logits: th.Tensor, actions: th.Tensor) -> HeadOutput:
        log_probs = F.log_softmax(logits, dim=-1)
        actions = actions.unsqueeze(-1)
        log_prob = log_probs.gather(-1, actions).squeeze(-1)
        probs = log_probs.exp()
        entropy = -(probs * log_probs).sum(dim=-1)
        # torch's Categorical keeps the normalised log-probabilities as its logits
        return HeadOutput(log_prob, entropy, (Params("categorical", log_probs),), (log_probs, probs, actions))

    def backward(
        self,
        output: HeadOutput,
        log_prob_grad: th.Tensor,
        entropy_grad: float | None,
        distribution_grad: KLGradient | None,
    ) -> tuple[th.Tensor, th.Tensor | None]:
        log_probs, probs, actions = output.cache
        # d log π(a) / d logits = onehot(a) - π
        out_grad = probs * -log_prob_grad.unsqueeze(1)
        out_grad.scatter_add_(1, actions, log_prob_grad.unsqueeze(1))
        if entropy_grad is not None:  # d H / d logits_k = -π_k (log π_k + H)
            out_grad = out_grad - (entropy_grad * probs) * (log_probs + output.entropy.unsqueeze(1))
        if distribution_grad is not None:
            out_grad = out_grad + distribution_grad[0][0]
        return out_grad, None


class MultiCategoricalHead(CategoricalHead):
    """Independent categoricals over consecutive slices of the logits (MultiDiscrete)."""

    def __init__(self, action_dims: list[int]):
        self.action_dims = action_dims

    def sample(self, out: th.Tensor, log_std: th.Tensor | None) -> th.Tensor:
        parts = out.split(self.action_dims, dim=-1)
        return th.stack([super(MultiCategoricalHead, self).sample(part, None) for part in parts], dim=1)

    def forward(self, out: th.Tensor, log_std: th.Tensor | None, actions: th.Tensor, with_distribution: bool) -> HeadOutput:
        parts = [
            self._forward(logits, a)
            for logits, a in zip(out.split(self.action_dims, dim=-1), actions.long().unbind(dim=1), strict=True)
        ]
        log_prob = th.stack([p.log_prob for p in parts], dim=1).sum(dim=1)
        entropy = th.stack([p.entropy for p in parts], dim=1).sum(dim=1)
        distribution = tuple(p.distribution[0] for p in parts if p.distribution is not None)
        return HeadOutput(log_prob, entropy, distribution, parts)

    def backward(
        self,
        output: HeadOutput,
        log_prob_grad: th.Tensor,
        entropy_grad: float | None,
        distribution_grad: KLGradient | None,
    ) -> tuple[th.Tensor, th.Tensor | None]:
        # log π and the entropy are sums over the sub-spaces: each gets the same gradient
        grads = [
            super(MultiCategoricalHead, self).backward(
                part, log_prob_grad, entropy_grad, None if distribution_grad is None else (distribution_grad[i],)
            )[0]
            for i, part in enumerate(output.cache)
        ]
        return th.cat(grads, dim=1), None


class BernoulliHead(Head):
    """Independent Bernoullis over ``action_net``'s logits (MultiBinary)."""

    def sample(self, out: th.Tensor, log_std: th.Tensor | None) -> th.Tensor:
        return th.bernoulli(th.sigmoid(out))

    def forward(self, out: th.Tensor, log_std: th.Tensor | None, actions: th.Tensor, with_distribution: bool) -> HeadOutput:
        log_prob = -F.binary_cross_entropy_with_logits(out, actions, reduction="none").sum(dim=-1)
        probs = th.sigmoid(out)
        entropy = F.binary_cross_entropy_with_logits(out, probs, reduction="none").sum(dim=-1)
        return HeadOutput(log_prob, entropy, (Params("bernoulli", out),), (out, actions, probs))

    def backward(
        self,
        output: HeadOutput,
        log_prob_grad: th.Tensor,
        entropy_grad: float | None,
        distribution_grad: KLGradient | None,
    ) -> tuple[th.Tensor, th.Tensor | None]:
        logits, actions, probs = output.cache
        # d log π(a) / d logit = a - sigmoid(logit)
        out_grad = log_prob_grad.unsqueeze(1) * (actions - probs)
        if entropy_grad is not None:  # d H / d logit = -logit · p (1 - p)
            out_grad = out_grad - entropy_grad * logits * probs * (1 - probs)
        if distribution_grad is not None:
            out_grad = out_grad + distribution_grad[0][0]
        return out_grad, None


def head_for(distribution: Distribution) -> Head | None:
    """
    The head for an SB3 distribution, or None for those without one here (gSDE).

    :param distribution: the policy's ``action_dist``
    """
    if type(distribution) is DiagGaussianDistribution:
        return GaussianHead()
    if type(distribution) is CategoricalDistribution:
        return CategoricalHead()
    if type(distribution) is MultiCategoricalDistribution:
        return MultiCategoricalHead(list(distribution.action_dims))
    if type(distribution) is BernoulliDistribution:
        return BernoulliHead()
    return None
