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

from collections.abc import Callable, Iterable
from functools import partial

import torch as th
from stable_baselines3.common.distributions import CategoricalDistribution
from stable_baselines3.common.policies import ActorCriticPolicy
from stable_baselines3.common.preprocessing import preprocess_obs
from stable_baselines3.common.torch_layers import FlattenExtractor, MlpExtractor
from stable_baselines3.common.type_aliases import PyTorchObs
from torch import nn
from torch.nn import functional as F
from torch.nn.modules import module as module_hooks

from sb3_ppo_variants.fast.heads import head_for
from sb3_ppo_variants.kl import Captured, capture

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
    Closed-form log-probabilities and entropies (:mod:`~sb3_ppo_variants.fast.heads`) on the policy's own layers,
    for the distributions of SB3's ``ActorCriticPolicy`` without gSDE. Use :func:`make_evaluator`, which checks that
    the policy qualifies.

    :param policy: the algorithm's policy
    """

    def __init__(self, policy: ActorCriticPolicy):
        super().__init__(policy)
        assert isinstance(policy.mlp_extractor, MlpExtractor)
        self._actor = _functional([*policy.mlp_extractor.policy_net, policy.action_net])
        self._critic = _functional([*policy.mlp_extractor.value_net, policy.value_net])
        # Module attribute lookups cost ~0.3 µs each; the tensors are updated in place, so holding them is safe.
        self._log_std: th.Tensor | None = getattr(policy, "log_std", None)
        self._flatten_only = flattens_observations(policy)
        head = head_for(policy.action_dist)
        assert head is not None
        self._head = head

    def _features(self, obs: PyTorchObs) -> tuple[th.Tensor, th.Tensor]:
        if self._flatten_only:
            flat = flattened_observations(self.policy, obs)
            return flat, flat
        features = self.policy.extract_features(obs)
        if self.policy.share_features_extractor:
            assert isinstance(features, th.Tensor)
            return features, features
        pi_features, vf_features = features
        return pi_features, vf_features

    def act(self, obs: PyTorchObs) -> th.Tensor:
        pi_features, _ = self._features(obs)
        return self._head.sample(self._actor(pi_features), self._log_std)

    def evaluate(self, obs: PyTorchObs, actions: th.Tensor, with_distribution: bool = True) -> Evaluation:
        pi_features, vf_features = self._features(obs)
        values = self._critic(vf_features).flatten()
        head = self._head.forward(self._actor(pi_features), self._log_std, actions, with_distribution)
        return values, head.log_prob, head.entropy, head.distribution

    def predict_values(self, obs: PyTorchObs) -> th.Tensor:
        _, vf_features = self._features(obs)
        return self._critic(vf_features).flatten()


def flattens_observations(policy: ActorCriticPolicy) -> bool:
    """
    Whether every features extractor of the policy is a ``FlattenExtractor`` (SB3's default for ``MlpPolicy``).

    :param policy: the policy
    """
    return all(
        type(extractor) is FlattenExtractor
        for extractor in (policy.features_extractor, policy.pi_features_extractor, policy.vf_features_extractor)
    )


def flattened_observations(policy: ActorCriticPolicy, obs: PyTorchObs) -> th.Tensor:
    """
    What a ``FlattenExtractor`` makes of the observations (it has no parameters: one tensor serves actor and critic).

    :param policy: a policy that :func:`flattens_observations`
    :param obs: a batch of observations (tensors)
    """
    preprocessed = preprocess_obs(obs, policy.observation_space, policy.normalize_images)
    assert isinstance(preprocessed, th.Tensor)  # a FlattenExtractor cannot take a Dict observation space
    return preprocessed.flatten(1)


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
    if head_for(policy.action_dist) is None:
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
    return hooks_reason(policy)


def hooks_reason(policy: nn.Module) -> str | None:
    """
    Why the fast path cannot run a policy's layers directly (``F.linear`` on their weights, or closed-form
    gradients), or None: module hooks would not fire. Forward (pre-)hooks change what a layer computes (e.g.
    ``torch.nn.utils.prune`` recomputes ``weight`` in one, ``weight_norm`` and ``spectral_norm`` too), backward hooks
    what it passes back; SB3's own calls of the modules run them all.

    :param policy: the policy
    :return: the first module with hooks, or None
    """
    global_hooks = [getattr(module_hooks, name, None) for name in _GLOBAL_MODULE_HOOKS]
    if any(global_hooks):
        return "global module hooks are registered (torch.nn.modules.module.register_module_*_hook)"
    for name, module in policy.named_modules():
        if any(getattr(module, hooks, None) for hooks in _MODULE_HOOKS):
            return f"{name or 'the policy'} ({type(module).__name__}) has forward or backward hooks"
    return None


#: the hook dictionaries of an ``nn.Module`` (empty unless hooks are registered)
_MODULE_HOOKS = ("_forward_hooks", "_forward_pre_hooks", "_backward_hooks", "_backward_pre_hooks")
#: and those of every module (torch.nn.modules.module.register_module_forward_hook and kin)
_GLOBAL_MODULE_HOOKS = (
    "_global_forward_hooks",
    "_global_forward_pre_hooks",
    "_global_backward_hooks",
    "_global_backward_pre_hooks",
)


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


def _buffer_actions_for(policy: ActorCriticPolicy, actions: th.Tensor) -> th.Tensor:
    """Discrete actions come out of the buffer as floats of shape (batch, 1); SB3 PPO passes them as long (batch,)."""
    if isinstance(policy.action_dist, CategoricalDistribution):
        return actions.long().flatten()
    return actions
