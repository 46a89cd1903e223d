"""Optuna samplers for rl-zoo3's ``-optimize``: the zoo's PPO search space, with each variant's own knobs.

The shared knobs (n_steps, batch_size, gamma, gae_lambda, learning_rate, ent_coef, n_epochs, max_grad_norm, network)
come from rl-zoo3's own ``sample_ppo_params``, so a variant is tuned over exactly the space stock PPO is. Only the
objective's knobs differ, as the registry's ``search_space`` says: ``clip_range`` for PPOClip (the zoo's choices),
``kl_target`` and ``kl_coef`` on a log scale for the KL variants, nothing for PPONoClip, ε (the zoo's choices) and
the gate for the per-sample and soft-clipping objectives.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import optuna
from rl_zoo3.hyperparams_opt import convert_onpolicy_params, sample_ppo_params

from sb3_ppo_variants.objectives import LogUniform, PolicyObjective
from sb3_ppo_variants.registry import REGISTRY


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


def _shared_ppo_params(
    trial: optuna.Trial, n_actions: int, n_envs: int, additional_args: dict, keep_clip_range: bool = False
) -> dict[str, Any]:
    """The zoo's PPO sample, converted (gamma, gae_lambda, policy_kwargs...), without ``clip_range`` unless kept."""
    if keep_clip_range:
        return sample_ppo_params(trial, n_actions, n_envs, additional_args)
    params = sample_ppo_params(_TrialWithout(trial, {"clip_range"}), n_actions, n_envs, additional_args)  # type: ignore[arg-type]
    params.pop("clip_range")
    return params


def objective_sampler(objective: PolicyObjective) -> Callable[..., dict[str, Any]]:
    """
    The sampler of an objective: the zoo's PPO space without ``clip_range`` (with it for an objective that uses ε as
    PPO-Clip does, ``zoo_clip_range``), plus the objective's own
    :attr:`~sb3_ppo_variants.objectives.PolicyObjective.search_space`; for PPO's own objective (clipping), the zoo's PPO
    sampler unchanged.
    """
    if objective.is_ppo:
        return sample_ppo_params

    def sample(trial: optuna.Trial, n_actions: int, n_envs: int, additional_args: dict) -> dict[str, Any]:
        params = _shared_ppo_params(trial, n_actions, n_envs, additional_args, objective.zoo_clip_range)
        for name, space in objective.search_space.items():
            if isinstance(space, LogUniform):
                params[name] = trial.suggest_float(name, space.low, space.high, log=True)
            else:
                params[name] = trial.suggest_categorical(name, list(space.choices))
        return params

    sample.__name__ = sample.__qualname__ = f"sample_{objective.key}_params"
    shared = "The zoo's PPO space" + ("" if objective.zoo_clip_range else " without clip_range")
    sample.__doc__ = f"{shared}, plus {sorted(objective.search_space) or 'nothing'}."
    return sample


#: zoo key -> sampler, for every registered variant.
SAMPLERS: dict[str, Callable[..., dict[str, Any]]] = {v.key: objective_sampler(v.objective) for v in REGISTRY}

#: zoo key -> converter of a stored trial's raw params (the variants' own knobs are stored as they are used).
CONVERTERS: dict[str, Callable[[dict[str, Any]], dict[str, Any]]] = dict.fromkeys(SAMPLERS, convert_onpolicy_params)
