"""Optuna samplers for rl-zoo3's ``-optimize``: the zoo's PPO search space, with each variant's own knobs.

The shared knobs (n_steps, batch_size, gamma, gae_lambda, learning_rate, ent_coef, n_epochs, max_grad_norm, network)
come from rl-zoo3's own ``sample_ppo_params``, so a variant is tuned over exactly the space stock PPO is. Only the
objective's knobs differ: ``clip_range`` for PPOClip (the zoo's choices), ``kl_target`` and ``kl_coef`` on a log
scale for the KL variants, nothing for PPONoClip.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import optuna
from rl_zoo3.hyperparams_opt import convert_onpolicy_params, sample_ppo_params


class _TrialWithout:
    """An Optuna trial through which the zoo's PPO sampler cannot suggest the named parameters: they are not recorded
    in the study, so ``load_trial`` never hands them to a variant that does not take them."""

    def __init__(self, trial: optuna.Trial, skipped: set[str]):
        self._trial = trial
        self._skipped = skipped

    def suggest_categorical(self, name: str, choices: Any) -> Any:
        return choices[0] if name in self._skipped else self._trial.suggest_categorical(name, choices)

    def __getattr__(self, name: str) -> Any:
        return getattr(self._trial, name)


def _shared_ppo_params(trial: optuna.Trial, n_actions: int, n_envs: int, additional_args: dict) -> dict[str, Any]:
    """The zoo's PPO sample without ``clip_range``, converted (gamma, gae_lambda, policy_kwargs...)."""
    params = sample_ppo_params(_TrialWithout(trial, {"clip_range"}), n_actions, n_envs, additional_args)  # type: ignore[arg-type]
    params.pop("clip_range")
    return params


def sample_ppo_adaptive_kl_params(trial: optuna.Trial, n_actions: int, n_envs: int, additional_args: dict) -> dict[str, Any]:
    """PPO's space + d_targ in [1e-3, 1e-1] and the initial β in [0.1, 10], both log-uniform."""
    params = _shared_ppo_params(trial, n_actions, n_envs, additional_args)
    params["kl_target"] = trial.suggest_float("kl_target", 1e-3, 1e-1, log=True)
    params["kl_coef"] = trial.suggest_float("kl_coef", 0.1, 10.0, log=True)
    return params


def sample_ppo_fixed_kl_params(trial: optuna.Trial, n_actions: int, n_envs: int, additional_args: dict) -> dict[str, Any]:
    """PPO's space + β in [0.03, 30], log-uniform (the paper tried 0.3 to 10)."""
    params = _shared_ppo_params(trial, n_actions, n_envs, additional_args)
    params["kl_coef"] = trial.suggest_float("kl_coef", 0.03, 30.0, log=True)
    return params


def sample_ppo_no_clip_params(trial: optuna.Trial, n_actions: int, n_envs: int, additional_args: dict) -> dict[str, Any]:
    """PPO's space without clip_range: the objective has no knob."""
    return _shared_ppo_params(trial, n_actions, n_envs, additional_args)


#: zoo key -> sampler; PPOClip is PPO, so it uses the zoo's PPO sampler unchanged.
SAMPLERS: dict[str, Callable[..., dict[str, Any]]] = {
    "ppo_clip": sample_ppo_params,
    "ppo_adaptive_kl": sample_ppo_adaptive_kl_params,
    "ppo_fixed_kl": sample_ppo_fixed_kl_params,
    "ppo_no_clip": sample_ppo_no_clip_params,
}

#: zoo key -> converter of a stored trial's raw params (the variants' own knobs are stored as they are used).
CONVERTERS: dict[str, Callable[[dict[str, Any]], dict[str, Any]]] = dict.fromkeys(SAMPLERS, convert_onpolicy_params)
