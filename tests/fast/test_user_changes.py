"""What users do to a policy before or between ``learn`` calls, and the fast path must respect as SB3 does: frozen
parameters, a replaced layer, module hooks (a logit temperature, ``torch.nn.utils.prune``), gradient hooks, optimizer
hooks, and callbacks that change the policy or read the collection's locals.

Each case trains the same model with ``fast=False`` (SB3's numerics, bit for bit) and ``fast=True`` from the same seed
and compares. The fast path either serves the change itself or falls back to the policy's own methods; either way the
parameters agree within float rounding (ATOL: a few updates of float32 rounding differences stay below 1e-6, while
ignoring the change moves parameters by ~1e-4 per Adam step, and the defects these tests guard against gave 1e-3).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
import torch as th
import torch.nn.utils.prune as prune
from stable_baselines3.common.base_class import BaseAlgorithm
from stable_baselines3.common.callbacks import BaseCallback
from stable_baselines3.common.env_util import make_vec_env

from sb3_ppo_variants import PPOClip
from sb3_ppo_variants.fast import analytic_reason, lean_reason
from sb3_ppo_variants.fast.collect import collection_reason
from tests.conftest import ACTION_SPACE_ENVS, image_env, params_of

ATOL = 1e-5
KWARGS: dict[str, Any] = dict(n_steps=16, batch_size=8, n_epochs=2, seed=0, device="cpu")
ENVS: dict[str, tuple[Callable[[], Any], str]] = {
    "box": (ACTION_SPACE_ENVS["box"], "MlpPolicy"),
    "discrete": (ACTION_SPACE_ENVS["discrete"], "MlpPolicy"),
    "image": (image_env, "CnnPolicy"),
}


def trained(env: str, fast: bool, prepare: Callable[[BaseAlgorithm], object], timesteps: int = 64) -> PPOClip:
    factory, policy = ENVS[env]
    model = PPOClip(policy, make_vec_env(factory, n_envs=2, seed=0), fast=fast, **KWARGS)
    prepare(model)
    model.learn(timesteps)
    return model


def largest_difference(a: BaseAlgorithm, b: BaseAlgorithm) -> float:
    first, second = params_of(a), params_of(b)
    assert first.keys() == second.keys()
    return max(float((first[name] - second[name]).abs().max()) for name in first)


def assert_fast_matches_exact(env: str, prepare: Callable[[BaseAlgorithm], object], timesteps: int = 64) -> PPOClip:
    exact, fast = (trained(env, fast, prepare, timesteps) for fast in (False, True))
    assert largest_difference(exact, fast) < ATOL
    return fast


@pytest.mark.parametrize("env", ["box", "discrete"])
def test_frozen_parameters_stay_frozen(env: str) -> None:
    frozen: dict[str, th.Tensor] = {}

    def freeze(model: BaseAlgorithm) -> None:
        parameters = [model.policy.mlp_extractor.policy_net[0].weight]
        if env == "box":
            parameters.append(model.policy.log_std)
        for parameter in parameters:
            parameter.requires_grad_(False)
        frozen.update({str(i): parameter.detach().clone() for i, parameter in enumerate(parameters)})

    fast = assert_fast_matches_exact(env, freeze)
    assert "frozen" in (analytic_reason(fast.policy) or "")
    now = [fast.policy.mlp_extractor.policy_net[0].weight, *([fast.policy.log_std] if env == "box" else [])]
    assert all(th.equal(frozen[str(i)], parameter) for i, parameter in enumerate(now))


@pytest.mark.parametrize("env", ["discrete", "image"])
def test_a_replaced_layer_is_used_and_trained(env: str) -> None:
    models = {}
    for fast in (False, True):
        model = trained(env, fast, lambda model: None, timesteps=32)
        th.manual_seed(123)
        model.policy.value_net = th.nn.Linear(model.policy.value_net.in_features, 1)
        model.policy.optimizer = th.optim.Adam(model.policy.parameters(), lr=3e-4, eps=1e-5)
        new_head = model.policy.value_net.weight.detach().clone()
        model.learn(32, reset_num_timesteps=False)
        assert not th.equal(new_head, model.policy.value_net.weight)
        models[fast] = model
    assert largest_difference(models[False], models[True]) < ATOL


def logit_temperature(model: BaseAlgorithm) -> None:
    model.policy.action_net.register_forward_hook(lambda module, inputs, output: output * 10.0)


def test_a_forward_hook_changes_what_the_fast_path_computes() -> None:
    fast = assert_fast_matches_exact("discrete", logit_temperature)
    for reason in (lean_reason(fast.policy), analytic_reason(fast.policy), collection_reason(fast.policy)):
        assert reason is not None and "action_net (Linear) has forward or backward hooks" in reason


@pytest.mark.parametrize("env", ["discrete", "image"])
def test_pruned_layers_train(env: str) -> None:
    # prune recomputes weight = weight_orig * weight_mask in a forward pre-hook; only weight_orig is a parameter
    assert_fast_matches_exact(env, lambda model: prune.l1_unstructured(model.policy.action_net, "weight", amount=0.5))


def test_a_gradient_hook_on_a_parameter_runs() -> None:
    before: list[th.Tensor] = []

    def zero_gradient(model: BaseAlgorithm) -> None:
        weight = model.policy.value_net.weight
        before.append(weight.detach().clone())
        weight.register_hook(th.zeros_like)

    fast = assert_fast_matches_exact("box", zero_gradient)
    assert "gradient hooks" in (analytic_reason(fast.policy) or "")
    # Adam with a zero gradient and zero moments leaves the parameter where it was
    assert th.equal(before[-1], fast.policy.value_net.weight)


def test_optimizer_step_hooks_run_once_per_gradient_step() -> None:
    steps = {False: 0, True: 0}
    for fast in (False, True):

        def count(model: BaseAlgorithm, fast: bool = fast) -> None:
            model.policy.optimizer.register_step_post_hook(lambda *args: steps.__setitem__(fast, steps[fast] + 1))

        trained("box", fast, count)
    # 64 steps: 2 rollouts of 16 steps in 2 envs, 2 epochs of 4 minibatches each
    assert steps[False] == steps[True] == 16


class ChangesThePolicy(BaseCallback):
    """Moves a weight at one step of the first rollout, as a callback that loads weights or perturbs them might."""

    def _on_step(self) -> bool:
        if self.num_timesteps == 8:
            with th.no_grad():
                self.model.policy.value_net.bias.add_(1.0)
        return True


def test_a_callback_that_changes_the_policy_mid_rollout_is_warned_about() -> None:
    model = PPOClip("MlpPolicy", make_vec_env(ACTION_SPACE_ENVS["box"], n_envs=2, seed=0), fast=True, **KWARGS)
    with pytest.warns(UserWarning, match="changed during the rollout"):
        model.learn(32, callback=ChangesThePolicy())


class RecordsLocals(BaseCallback):
    def __init__(self) -> None:
        super().__init__()
        self.seen: list[set[str]] = []
        self.models: list[object] = []

    def _on_step(self) -> bool:
        self.seen.append(set(self.locals))
        self.models.append(self.locals["self"])
        return True


def test_callbacks_see_sb3s_collection_locals() -> None:
    # "self" (the model) comes from learn()'s locals, which SB3 hands the callback first and update_locals keeps
    seen = {}
    for fast in (False, True):
        callback = RecordsLocals()
        model = trained("box", fast, lambda model: None, timesteps=16)
        model.learn(16, callback=callback)
        assert all(recorded is model for recorded in callback.models)
        seen[fast] = callback.seen[-1]
    # all of SB3's but the per-step values and log-probabilities, which the fast path computes after the rollout
    assert seen[False] - seen[True] <= {"values", "log_probs", "idx", "done", "terminal_obs", "terminal_value"}
    assert {"self", "env", "callback", "rollout_buffer", "n_steps", "actions", "new_obs", "rewards", "dones", "infos"} <= (
        seen[True]
    )


def test_global_module_hooks_are_seen() -> None:
    model = PPOClip("MlpPolicy", make_vec_env(ACTION_SPACE_ENVS["discrete"], n_envs=2, seed=0), fast=True, **KWARGS)
    assert lean_reason(model.policy) is None and collection_reason(model.policy) is None
    handle = th.nn.modules.module.register_module_forward_hook(lambda module, inputs, output: None)
    try:
        for reason in (lean_reason(model.policy), analytic_reason(model.policy), collection_reason(model.policy)):
            assert reason is not None and "global module hooks" in reason
    finally:
        handle.remove()
    assert analytic_reason(model.policy) is None
