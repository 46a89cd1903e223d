"""rl-zoo3 integration: the four variants as zoo algorithms, with their hyperparameter files and Optuna samplers.

rl-zoo3 has no plugin hook: :func:`register` adds our algorithms to the zoo's own tables (``ALGOS``,
``HYPERPARAMS_SAMPLER``, ``HYPERPARAMS_CONVERTER``) in place, and must run before the zoo builds its argument parser
(rl-zoo3's documented pattern for SBX). ``python -m sb3_ppo_variants.zoo`` and ``sb3-ppo-zoo`` do that, then hand
over to the zoo's own command line.
"""

from __future__ import annotations

from pathlib import Path

from sb3_ppo_variants.envs import MASKED_ENV_ID, register_envs
from sb3_ppo_variants.registry import VARIANTS

#: Zoo keys of our algorithms; every stock zoo algorithm (``ppo``, ``a2c``, ``trpo``...) keeps working beside them.
ZOO_KEYS = tuple(VARIANTS)
__all__ = ["MASKED_ENV_ID", "ZOO_KEYS", "hyperparams_file", "register"]


def _hyperparams_dir() -> Path:
    package = Path(__file__).resolve().parents[1]
    installed = package / "hyperparams"  # a wheel ships the top-level hyperparams/ folder inside the package
    return installed if installed.is_dir() else package.parent / "hyperparams"  # a source checkout (editable)


def hyperparams_file(algo: str, paper: bool = False, paper_code: bool = False) -> Path:
    """
    The packaged rl-zoo3 yml of a zoo key: tuned (the zoo's ``ppo.yml`` settings, the variant's own knobs changed),
    ``paper`` (Table 3 settings, which are SB3's defaults, and one env, for every environment) or ``paper_code``
    (``paper`` with the code-level settings of the paper's released code, :mod:`sb3_ppo_variants.paper_code`).

    :param algo: one of :data:`ZOO_KEYS`, or ``ppo`` with ``paper=True``
    :param paper: the paper's configuration instead of the zoo's tuned one
    :param paper_code: the paper's configuration as its released code ran it
    :return: the path of the yml file
    """
    if paper and paper_code:
        raise ValueError("choose paper or paper_code, not both")
    kind = "paper" if paper else "paper_code" if paper_code else "tuned"
    path = _hyperparams_dir() / ("" if kind == "tuned" else kind) / f"{algo}.yml"
    if not path.is_file():
        if kind == "paper_code" and algo == "ppo":
            raise ValueError(
                "no paper_code hyperparameter file for 'ppo' (stable_baselines3.PPO has no whole-rollout "
                "advantage standardisation): use ppo_clip, which is PPO's objective"
            )
        raise ValueError(f"no {kind} hyperparameter file for {algo!r}")
    return path


def register() -> None:
    """Add every registered class to rl-zoo3's algorithm, sampler and converter tables, the masked env to gymnasium's,
    and make the zoo's continue-training keep our objectives' trained knobs (:mod:`sb3_ppo_variants.zoo.pretrained`).
    Idempotent."""
    try:
        from rl_zoo3 import hyperparams_opt, utils
        from rl_zoo3.exp_manager import ExperimentManager
    except ImportError as error:
        raise ImportError('the rl-zoo3 integration needs rl-zoo3: pip install "sb3-ppo-variants[zoo]"') from error
    from sb3_ppo_variants.zoo.pretrained import keep_trained_knobs_when_continuing
    from sb3_ppo_variants.zoo.samplers import CONVERTERS, SAMPLERS

    register_envs()
    utils.ALGOS.update(VARIANTS)
    # continuing a saved agent's training (train -i) keeps an adaptive β where training left it
    keep_trained_knobs_when_continuing(ExperimentManager, utils.ALGOS)
    hyperparams_opt.HYPERPARAMS_SAMPLER.update(SAMPLERS)
    hyperparams_opt.HYPERPARAMS_CONVERTER.update(CONVERTERS)
