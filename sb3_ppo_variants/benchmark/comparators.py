"""Figure 3's comparators: TRPO (``sb3_contrib.TRPO``) and A2C (``stable_baselines3.A2C``) as reference rows of the
Table 1 grid, each at rl-zoo3's tuned hyperparameters for the task where the zoo has them, SB3's defaults elsewhere
(the paper compared every algorithm at tuned settings).

The zoo's entries are copied here as the zoo writes them (:data:`ZOO_ENTRIES`, rl-zoo3 :data:`ZOO_VERSION`, whose
MuJoCo entries are for the -v4 tasks; the -v5 tasks of the grid take them) so that a grid's runs do not change with
the installed zoo; a test checks the copy against the installed zoo's yml files. :func:`zoo_entry_overrides` turns
an entry into a run's constructor arguments, ``VecNormalize`` arguments and number of envs, as rl-zoo3's
``ExperimentManager`` does.
"""

from __future__ import annotations

from typing import Any

from gymnasium.envs.registration import parse_env_id

#: the rl-zoo3 release whose trpo.yml and a2c.yml :data:`ZOO_ENTRIES` copies
ZOO_VERSION = "2.9.2"

_TRPO_MUJOCO: dict[str, Any] = {
    "normalize": True,
    "n_envs": 2,
    "n_timesteps": 1e6,
    "policy": "MlpPolicy",
    "batch_size": 128,
    "n_steps": 1024,
    "gamma": 0.99,
    "gae_lambda": 0.95,
    "sub_sampling_factor": 1,
    "cg_max_steps": 25,
    "cg_damping": 0.1,
    "n_critic_updates": 20,
    "learning_rate": 1e-3,
}
_A2C_MUJOCO: dict[str, Any] = {"normalize": True, "n_timesteps": 1e6, "policy": "MlpPolicy"}

#: zoo algo -> zoo env id -> entry, as in rl-zoo3's yml (anchors resolved); the MuJoCo tasks the zoo lists
ZOO_ENTRIES: dict[str, dict[str, dict[str, Any]]] = {
    "trpo": {
        "HalfCheetah-v4": {**_TRPO_MUJOCO, "target_kl": 0.04},
        "Hopper-v4": dict(_TRPO_MUJOCO),
        "Walker2d-v4": dict(_TRPO_MUJOCO),
        "Swimmer-v4": {**_TRPO_MUJOCO, "gamma": 0.9999},
    },
    "a2c": {
        "HalfCheetah-v4": dict(_A2C_MUJOCO),
        "Hopper-v4": dict(_A2C_MUJOCO),
        "Walker2d-v4": dict(_A2C_MUJOCO),
        "Swimmer-v4": {**_A2C_MUJOCO, "gamma": 0.9999},
    },
}

#: the entry keys that say how to run rather than how to construct: dropped (the grid sets the budget and policy)
_NOT_ARGUMENTS = ("n_timesteps", "policy", "normalize", "n_envs")


def zoo_entry(algo: str, env: str) -> tuple[str, dict[str, Any]] | None:
    """
    The zoo's entry for a task: its own, else the entry of the zoo's newest version of the same task.

    :param algo: ``trpo`` or ``a2c``
    :param env: a gymnasium id (``Hopper-v5``)
    :return: (the zoo's env id, its entry), or None where the zoo has no entry for the task
    """
    entries = ZOO_ENTRIES[algo]
    if env in entries:
        return env, entries[env]
    namespace, task, _ = parse_env_id(env)
    versions = []
    for key in entries:
        key_namespace, key_task, version = parse_env_id(key)
        if (key_namespace, key_task) == (namespace, task) and version is not None:
            versions.append((version, key))
    if not versions:
        return None
    newest = max(versions)[1]
    return newest, entries[newest]


def zoo_entry_overrides(entry: dict[str, Any]) -> dict[str, Any]:
    """
    A zoo entry as a run's overrides: ``kwargs`` (constructor arguments), ``normalize`` (``VecNormalize``'s
    arguments, with the algorithm's gamma as rl-zoo3 passes it) and ``n_envs``, each only where the entry sets it.
    """
    overrides: dict[str, Any] = {"kwargs": {k: v for k, v in entry.items() if k not in _NOT_ARGUMENTS}}
    normalize = entry.get("normalize", False)
    if isinstance(normalize, str):
        # rl-zoo3 evaluates such a string as Python; a copied entry holds it as the dict it stands for
        raise ValueError(f"write the zoo's normalize string {normalize!r} as a dict of VecNormalize's arguments")
    if normalize:
        arguments: dict[str, Any] = {} if normalize is True else dict(normalize)
        if "gamma" in entry:
            arguments["gamma"] = entry["gamma"]
        overrides["normalize"] = arguments
    if "n_envs" in entry:
        overrides["n_envs"] = int(entry["n_envs"])
    return overrides


def env_overrides(algo: str, envs: list[str]) -> dict[str, dict[str, Any]]:
    """Per task of ``envs``, the overrides of the zoo's entry for it (tasks without one are left out: defaults)."""
    out = {}
    for env in envs:
        found = zoo_entry(algo, env)
        if found is not None:
            out[env] = zoo_entry_overrides(found[1])
    return out
