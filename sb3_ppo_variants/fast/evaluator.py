"""How the opt-in fast path evaluates an SB3 actor-critic policy: the same modules and parameters, fewer torch ops.

SB3 builds a ``torch.distributions`` object on every call (``proba_distribution``), which checks its arguments and
computes log-probabilities and entropies through generic code. For the four distribution families of SB3's
``ActorCriticPolicy`` (diagonal Gaussian, categorical, multi-categorical, Bernoulli) :class:`LeanEvaluator` writes the
log-probability and entropy in closed form on the policy's own layers (``F.linear`` on the same weights gives the same
numbers as calling the ``nn.Linear``), and returns the parameters that :func:`~sb3_ppo_variants.kl.kl_divergence`
needs, so the KL penalty costs no extra forward pass.

Anything else (gSDE, a policy class that overrides how it evaluates actions, a custom ``mlp_extractor``) is served by
:class:`PolicyEvaluator`, which calls the policy's own methods: same results as the exact path, less speed-up.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterable
from functools import partial

import torch as th
from stable_baselines3.common.distributions import (
    BernoulliDistribution,
    CategoricalDistribution,
    DiagGaussianDistribution,
    MultiCategoricalDistribution,
)
from stable_baselines3.common.policies import ActorCriticPolicy
from stable_baselines3.common.preprocessing import preprocess_obs
from stable_baselines3.common.torch_layers import FlattenExtractor, MlpExtractor
from stable_baselines3.common.type_aliases import PyTorchObs
from torch import nn
from torch.nn import functional as F

from sb3_ppo_variants.kl import Captured, Params, capture

LOG_SQRT_2PI = 0.5 * math.log(2 * math.pi)

#: (values, log-probabilities of the actions, entropy or None, the action distributions' parameters)
Evaluation = tuple[th.Tensor, th.Tensor, th.Tensor | None, Captured | None]


class PolicyEvaluator:
    """
    Evaluates the policy through its own SB3 methods (``evaluate_actions``, ``get_distribution``, ``predict_values``).

    :param policy: the algorithm's policy
    """

    def __init__(self, policy: ActorCriticPolicy):
        self.policy = policy

    def act(self, obs: PyTorchObs) -> th.Tensor:
        """
        Sample actions, as ``policy(obs)`` does, without computing values or log-probabilities.

        :param obs: a batch of observations (tensors)
        :return: the sampled actions
        """
        return self.policy.get_distribution(obs).get_actions()

    def evaluate(self, obs: PyTorchObs, actions: th.Tensor, with_distribution: bool = True) -> Evaluation:
        """
        Values, log π(a|s), entropy and π(·|s), as ``policy.evaluate_actions`` computes them.

        :param obs: a batch of observations (tensors)
        :param actions: the actions taken in them, as the rollout buffer stores them
        :param with_distribution: whether to return π(·|s) (the KL term needs it)
        :return: flattened values, log-probabilities, entropy (None where SB3 has no closed form), the distributions
            (None unless ``with_distribution``)
        """
        values, log_prob, entropy = self.policy.evaluate_actions(obs, _buffer_actions_for(self.policy, actions))
        return values.flatten(), log_prob, entropy, capture(self.policy.action_dist) if with_distribution else None

    def predict_values(self, obs: PyTorchObs) -> th.Tensor:
        """
        :param obs: a batch of observations (tensors)
        :return: the flattened value estimates
        """
        return self.policy.predict_values(obs).flatten()


class LeanEvaluator(PolicyEvaluator):
    """
    Closed-form log-probabilities and entropies on the policy's own layers, for the distributions of SB3's
    ``ActorCriticPolicy`` without gSDE. Use :func:`make_evaluator`, which checks that the policy qualifies.

    :param policy: the algorithm's policy
    """

    def __init__(self, policy: ActorCriticPolicy):
        super().__init__(policy)
        assert isinstance(policy.mlp_extractor, MlpExtractor)
        self._actor = _functional(policy.mlp_extractor.policy_net)
        self._critic = _functional(policy.mlp_extractor.value_net)
        assert isinstance(policy.action_net, nn.Linear) and isinstance(policy.value_net, nn.Linear)
        # Module attribute lookups cost ~0.3 µs each; the tensors are updated in place, so holding them is safe.
        self._action_net = _functional([policy.action_net])
        self._value_net = _functional([policy.value_net])
        self._log_std: th.Tensor | None = getattr(policy, "log_std", None)
        self._flatten_only = all(
            type(extractor) is FlattenExtractor
            for extractor in (policy.features_extractor, policy.pi_features_extractor, policy.vf_features_extractor)
        )
        distribution = policy.action_dist
        if isinstance(distribution, MultiCategoricalDistribution):
            self._splits: list[int] | None = list(distribution.action_dims)
        else:
            self._splits = None

    def _features(self, obs: PyTorchObs) -> tuple[th.Tensor, th.Tensor]:
        if self._flatten_only:
            # FlattenExtractor is nn.Flatten(): the same tensor for actor and critic
            preprocessed = preprocess_obs(obs, self.policy.observation_space, self.policy.normalize_images)
            assert isinstance(preprocessed, th.Tensor)  # a FlattenExtractor cannot take a Dict observation space
            flat = preprocessed.flatten(1)
            return flat, flat
        features = self.policy.extract_features(obs)
        if self.policy.share_features_extractor:
            assert isinstance(features, th.Tensor)
            return features, features
        pi_features, vf_features = features
        return pi_features, vf_features

    def act(self, obs: PyTorchObs) -> th.Tensor:
        pi_features, _ = self._features(obs)
        out = self._action_net(self._actor(pi_features))
        distribution = self.policy.action_dist
        if isinstance(distribution, DiagGaussianDistribution):
            # torch.normal with SB3's mean and std: the draw Normal.sample() makes from the same generator state
            assert self._log_std is not None
            std = self._log_std.exp()
            return th.normal(out, (th.ones_like(out) * std))
        if isinstance(distribution, BernoulliDistribution):
            return th.bernoulli(th.sigmoid(out))
        if self._splits is None:
            return _sample_categorical(out)
        return th.stack([_sample_categorical(logits) for logits in out.split(self._splits, dim=-1)], dim=1)

    def evaluate(self, obs: PyTorchObs, actions: th.Tensor, with_distribution: bool = True) -> Evaluation:
        pi_features, vf_features = self._features(obs)
        out = self._action_net(self._actor(pi_features))
        values = self._value_net(self._critic(vf_features)).flatten()
        distribution = self.policy.action_dist
        if isinstance(distribution, DiagGaussianDistribution):
            log_std = self._log_std
            assert log_std is not None
            std = log_std.exp()
            z = (actions - out) / std
            log_prob = (-0.5 * z.pow(2) - log_std - LOG_SQRT_2PI).sum(dim=-1)
            # The entropy of a Gaussian does not depend on the state: one scalar, whose mean is SB3's mean entropy.
            entropy = (0.5 + LOG_SQRT_2PI + log_std).sum()
            params = (Params("normal", out, th.ones_like(out) * std),) if with_distribution else None
            return values, log_prob, entropy, params
        if isinstance(distribution, BernoulliDistribution):
            log_prob = -F.binary_cross_entropy_with_logits(out, actions, reduction="none").sum(dim=-1)
            entropy = F.binary_cross_entropy_with_logits(out, th.sigmoid(out), reduction="none").sum(dim=-1)
            return values, log_prob, entropy, (Params("bernoulli", out),)
        if self._splits is None:
            return (values, *_categorical(out, actions.long().reshape(-1)))
        parts = [
            _categorical(logits, a)
            for logits, a in zip(out.split(self._splits, dim=-1), actions.long().unbind(dim=1), strict=True)
        ]
        log_prob = th.stack([p[0] for p in parts], dim=1).sum(dim=1)
        entropy = th.stack([p[1] for p in parts], dim=1).sum(dim=1)
        return values, log_prob, entropy, tuple(p[2][0] for p in parts)

    def predict_values(self, obs: PyTorchObs) -> th.Tensor:
        _, vf_features = self._features(obs)
        return self._value_net(self._critic(vf_features)).flatten()


def make_evaluator(policy: ActorCriticPolicy) -> PolicyEvaluator:
    """
    The fastest evaluator that gives the policy's own distribution: :class:`LeanEvaluator` when :func:`lean_reason`
    finds nothing against it, else :class:`PolicyEvaluator`.

    :param policy: the algorithm's policy
    :return: an evaluator bound to it
    """
    return PolicyEvaluator(policy) if lean_reason(policy) else LeanEvaluator(policy)


def lean_reason(policy: ActorCriticPolicy) -> str | None:
    """
    Why :class:`LeanEvaluator` cannot serve a policy (it then falls back to the policy's own methods), or None.

    :param policy: the policy
    :return: the reason, or None when the lean evaluator applies
    """
    supported = (DiagGaussianDistribution, CategoricalDistribution, MultiCategoricalDistribution, BernoulliDistribution)
    if type(policy.action_dist) not in supported:
        return f"{type(policy.action_dist).__name__} (e.g. gSDE) has no closed form here"
    for method in (
        "evaluate_actions",
        "get_distribution",
        "predict_values",
        "_get_action_dist_from_latent",
        "extract_features",
    ):
        if getattr(type(policy), method) is not getattr(ActorCriticPolicy, method):
            return f"{type(policy).__name__} overrides {method}"
    if type(policy.mlp_extractor) is not MlpExtractor:
        return f"the mlp_extractor is a {type(policy.mlp_extractor).__name__}, not SB3's MlpExtractor"
    if not isinstance(policy.action_net, nn.Linear) or not isinstance(policy.value_net, nn.Linear):
        return "action_net or value_net is not an nn.Linear"
    return None


def _functional(net: Iterable[nn.Module]) -> Callable[[th.Tensor], th.Tensor]:
    """
    The layers of ``net`` (e.g. an ``nn.Sequential``) as one plain function: the same layers and parameters without
    ``nn.Module.__call__`` around each.
    """
    steps: list[Callable[[th.Tensor], th.Tensor]] = []
    for layer in net:
        if type(layer) is nn.Linear:
            # the same F.linear on the same tensors as layer(x), without nn.Module.__call__ and attribute lookups
            steps.append(partial(F.linear, weight=layer.weight, bias=layer.bias))
        elif type(layer) is nn.Tanh:
            steps.append(th.tanh)
        elif type(layer) is nn.ReLU:
            steps.append(F.relu)
        else:
            steps.append(layer)

    def forward(x: th.Tensor) -> th.Tensor:
        for step in steps:
            x = step(x)
        return x

    return forward


def _sample_categorical(logits: th.Tensor) -> th.Tensor:
    """One draw per row, as torch's ``Categorical.sample`` makes it (multinomial with replacement)."""
    return th.multinomial(th.softmax(logits, dim=-1), 1, True).squeeze(-1)


def _categorical(logits: th.Tensor, actions: th.Tensor) -> tuple[th.Tensor, th.Tensor, Captured]:
    """log π(a|s), entropy and normalised log-probabilities (what torch's Categorical keeps) of one categorical."""
    log_probs = F.log_softmax(logits, dim=-1)
    log_prob = log_probs.gather(-1, actions.unsqueeze(-1)).squeeze(-1)
    entropy = -(log_probs.exp() * log_probs).sum(dim=-1)
    return log_prob, entropy, (Params("categorical", log_probs),)


def _buffer_actions_for(policy: ActorCriticPolicy, actions: th.Tensor) -> th.Tensor:
    """Discrete actions come out of the buffer as floats of shape (batch, 1); SB3 PPO passes them as long (batch,)."""
    if isinstance(policy.action_dist, CategoricalDistribution):
        return actions.long().flatten()
    return actions
