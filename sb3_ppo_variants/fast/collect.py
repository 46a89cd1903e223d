"""Rollout collection of the opt-in fast path: SB3's ``collect_rollouts`` with less work per environment step.

Per step SB3 runs the whole actor-critic, builds a distribution object, computes the value and the log-probability of
the sampled action, and copies observations and infos several times on the way through ``DummyVecEnv``. Here a step
only samples the action (the actor alone, :meth:`~sb3_ppo_variants.fast.evaluator.PolicyEvaluator.act`); the values
and log-probabilities of the whole rollout are computed afterwards in a few batched passes. The parameters do not
change during a rollout, so these are the numbers SB3 computes step by step, up to float rounding of the batched
matrix products.

A policy class that overrides a method SB3's collection calls and this one does not (:data:`BYPASSED`, e.g. SB3's
``tests/test_gae.py`` overrides ``forward`` to fix the values) is collected by SB3's own code instead
(:func:`collection_reason`): the fast path never silently ignores a user's method. The evaluator's own fallbacks
cover ``get_distribution``, ``evaluate_actions`` and ``predict_values``.

Everything else happens as in SB3, in the same order: gSDE noise resampling, action clipping or unscaling, callbacks
(``update_locals`` then ``on_step``, whose False stops training), the episode-info buffer, timeout bootstrapping
(GitHub issue #633 of SB3), and GAE. Callbacks see the same local variables except the per-step ``values`` and
``log_probs``, which do not exist yet during the rollout. A callback that changes the parameters during a rollout
(``on_step``) gets a warning: the values and log-probabilities come from the parameters at its end. A policy with
module hooks is collected by SB3's code, so that a hook sees SB3's calls, one per step.
"""

from __future__ import annotations

import warnings

import numpy as np
import torch as th
from gymnasium import spaces
from stable_baselines3.common.buffers import DictRolloutBuffer, RolloutBuffer
from stable_baselines3.common.callbacks import BaseCallback
from stable_baselines3.common.on_policy_algorithm import OnPolicyAlgorithm
from stable_baselines3.common.policies import ActorCriticPolicy
from stable_baselines3.common.utils import obs_as_tensor
from stable_baselines3.common.vec_env import DummyVecEnv, VecEnv
from stable_baselines3.common.vec_env.base_vec_env import VecEnvStepReturn
from stable_baselines3.common.vec_env.util import dict_to_obs

from sb3_ppo_variants.fast.evaluator import PolicyEvaluator, hooks_reason
from sb3_ppo_variants.observations import check_observations

#: Rows per batched pass over a rollout: bounded so that image observations do not need gigabytes at once.
CHUNK = 1024

#: The policy methods that SB3's ``collect_rollouts`` calls and this collection does not: it samples the action
#: without ``policy(obs)`` and computes values and log-probabilities after the rollout.
BYPASSED = ("forward",)


def collection_reason(policy: ActorCriticPolicy) -> str | None:
    """
    Why this collection cannot serve a policy (SB3's ``collect_rollouts`` then does), or None.

    :param policy: the algorithm's policy
    """
    for method in BYPASSED:
        if getattr(type(policy), method) is not getattr(ActorCriticPolicy, method):
            return f"{type(policy).__name__} overrides {method}, which this collection does not call"
    # SB3 calls policy(obs) once per step; a hook would see other calls here (batched passes after the rollout)
    return hooks_reason(policy)


def collect_rollouts(
    model: OnPolicyAlgorithm,
    evaluator: PolicyEvaluator,
    env: VecEnv,
    callback: BaseCallback,
    rollout_buffer: RolloutBuffer,
    n_rollout_steps: int,
) -> bool:
    """
    Fill ``rollout_buffer`` with ``n_rollout_steps`` steps per environment (SB3's ``collect_rollouts`` contract).

    :param model: the algorithm (its ``_last_obs``, ``_last_episode_starts`` and ``num_timesteps`` advance)
    :param evaluator: how to sample actions and evaluate the policy
    :param env: the training environment
    :param callback: called at every step, and at the start and end of the rollout
    :param rollout_buffer: the buffer to fill (an :func:`~sb3_ppo_variants.minibatches.is_sb3_buffer` one)
    :param n_rollout_steps: steps to collect per environment
    :return: True if the rollout is complete, False if a callback stopped training
    """
    assert model._last_obs is not None, "No previous observation was provided"
    policy = model.policy
    policy.set_training_mode(False)
    action_space = model.action_space
    n_steps = 0
    rollout_buffer.reset()
    if model.use_sde:
        policy.reset_noise(env.num_envs)

    callback.on_rollout_start()
    # the values and log-probabilities are computed after the rollout, with the parameters as they are at its end
    parameters_at_start = [p.detach().clone() for p in policy.parameters()]
    # every observation is checked before the policy acts on it (what FiniteObservations does in SB3's collection)
    check_observations(model._last_obs, model.num_timesteps)

    while n_steps < n_rollout_steps:
        if model.use_sde and model.sde_sample_freq > 0 and n_steps % model.sde_sample_freq == 0:
            policy.reset_noise(env.num_envs)

        with th.no_grad():
            obs_tensor = obs_as_tensor(model._last_obs, model.device)  # type: ignore[arg-type]
            actions = evaluator.act(obs_tensor).cpu().numpy()
        # as ActorCriticPolicy.forward does: e.g. Box actions of shape (2, 2) are sampled flat
        actions = actions.reshape((-1, *(action_space.shape or ())))

        clipped_actions = actions
        if isinstance(action_space, spaces.Box):
            if policy.squash_output:
                clipped_actions = policy.unscale_action(clipped_actions)
            else:
                clipped_actions = np.clip(actions, action_space.low, action_space.high)

        new_obs, rewards, dones, infos = step(env, clipped_actions)

        model.num_timesteps += env.num_envs
        check_observations(new_obs, model.num_timesteps)

        callback.update_locals(locals())
        if not callback.on_step():
            return False

        model._update_info_buffer(infos, dones)
        n_steps += 1

        if dones.any():
            for idx, done in enumerate(dones):
                # Timeouts are bootstrapped with the value of the last observation (SB3 GitHub issue #633)
                if (
                    done
                    and infos[idx].get("terminal_observation") is not None
                    and infos[idx].get("TimeLimit.truncated", False)
                ):
                    terminal_obs = policy.obs_to_tensor(infos[idx]["terminal_observation"])[0]
                    with th.no_grad():
                        terminal_value = evaluator.predict_values(terminal_obs)[0]
                    rewards[idx] += model.gamma * terminal_value.item()

        _store(rollout_buffer, model._last_obs, actions, rewards, model._last_episode_starts)  # type: ignore[arg-type]
        model._last_obs = new_obs  # type: ignore[assignment]
        model._last_episode_starts = dones

    _warn_if_changed(parameters_at_start, policy)
    with th.no_grad():
        _evaluate_rollout(evaluator, rollout_buffer, model.device)
        values = evaluator.predict_values(obs_as_tensor(new_obs, model.device))  # type: ignore[arg-type]

    rollout_buffer.compute_returns_and_advantage(last_values=values, dones=dones)

    callback.update_locals(locals())

    callback.on_rollout_end()

    return True


def _warn_if_changed(before: list[th.Tensor], policy: ActorCriticPolicy) -> None:
    """Warn when the parameters differ from ``before`` (e.g. a callback's ``on_step`` loaded or moved them)."""
    after = list(policy.parameters())
    if len(after) != len(before) or not all(th.equal(a, b) for a, b in zip(after, before, strict=True)):
        warnings.warn(
            "The policy's parameters changed during the rollout (e.g. in a callback's on_step). fast=True computes "
            "the rollout's values and log-probabilities after the rollout, with the parameters at its end; SB3 "
            "computes them at each step. Use fast=False to change the policy during a rollout.",
            UserWarning,
            stacklevel=2,
        )


def step(env: VecEnv, actions: np.ndarray) -> VecEnvStepReturn:
    """
    ``env.step(actions)``; for a plain ``DummyVecEnv``, without its deep copies of the observation buffer and of
    the infos (one array copy of the observations instead). The infos are the dicts the environments returned.
    """
    if type(env) is not DummyVecEnv:
        return env.step(actions)
    env.actions = actions
    for env_idx, sub_env in enumerate(env.envs):
        obs, reward, terminated, truncated, info = sub_env.step(actions[env_idx])
        env.buf_rews[env_idx] = reward
        env.buf_dones[env_idx] = terminated or truncated
        info["TimeLimit.truncated"] = truncated and not terminated
        if env.buf_dones[env_idx]:
            info["terminal_observation"] = obs
            obs, env.reset_infos[env_idx] = sub_env.reset()
        env.buf_infos[env_idx] = info
        env._save_obs(env_idx, obs)
    observations = dict_to_obs(env.observation_space, {key: value.copy() for key, value in env.buf_obs.items()})
    return observations, env.buf_rews.copy(), env.buf_dones.copy(), list(env.buf_infos)


def _store(
    buffer: RolloutBuffer,
    obs: np.ndarray | dict[str, np.ndarray],
    actions: np.ndarray,
    rewards: np.ndarray,
    episode_starts: np.ndarray,
) -> None:
    """What ``RolloutBuffer.add`` stores, less the value and log-probability (filled by :func:`_evaluate_rollout`)."""
    position = buffer.pos
    if isinstance(buffer, DictRolloutBuffer):
        assert isinstance(obs, dict)
        for key, value in obs.items():
            buffer.observations[key][position] = value.reshape((buffer.n_envs, *buffer.obs_shape[key]))
    else:
        buffer.observations[position] = np.asarray(obs).reshape((buffer.n_envs, *buffer.obs_shape))
    buffer.actions[position] = actions.reshape((buffer.n_envs, buffer.action_dim))
    buffer.rewards[position] = rewards
    buffer.episode_starts[position] = episode_starts
    buffer.pos += 1
    if buffer.pos == buffer.buffer_size:
        buffer.full = True


def _evaluate_rollout(evaluator: PolicyEvaluator, buffer: RolloutBuffer, device: th.device) -> None:
    """The values and old log-probabilities of every stored step, in batched passes (θ did not change meanwhile)."""
    n_rows = buffer.buffer_size * buffer.n_envs
    # float32 as SB3 samples them (MultiBinary actions are stored as int8)
    actions = th.as_tensor(buffer.actions.reshape(n_rows, -1), device=device).float()
    values, log_probs = [], []
    for start in range(0, n_rows, CHUNK):
        rows = slice(start, min(start + CHUNK, n_rows))
        if isinstance(buffer, DictRolloutBuffer):
            obs = {key: value.reshape(n_rows, *buffer.obs_shape[key])[rows] for key, value in buffer.observations.items()}
        else:
            obs = buffer.observations.reshape(n_rows, *buffer.obs_shape)[rows]  # type: ignore[assignment]
        value, log_prob, _, _ = evaluator.evaluate(obs_as_tensor(obs, device), actions[rows], with_distribution=False)
        values.append(value)
        log_probs.append(log_prob)
    buffer.values[:] = th.cat(values).cpu().numpy().reshape(buffer.buffer_size, buffer.n_envs)
    buffer.log_probs[:] = th.cat(log_probs).cpu().numpy().reshape(buffer.buffer_size, buffer.n_envs)
