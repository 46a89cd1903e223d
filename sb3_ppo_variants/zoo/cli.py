"""``python -m sb3_ppo_variants.zoo`` / ``sb3-ppo-zoo``: rl-zoo3's command line, with the four variants registered.

    sb3-ppo-zoo train --algo ppo_adaptive_kl --env HalfCheetah-v5 --seed 1 -f logs
    sb3-ppo-zoo train --algo ppo_clip --env Hopper-v5 --paper        # the paper's Table 3 setting
    sb3-ppo-zoo train --algo ppo_clip --env Hopper-v5 --paper-code   # ... as the paper's released code ran it
    sb3-ppo-zoo enjoy --algo ppo_adaptive_kl --env HalfCheetah-v5 -f logs --no-render -n 1000
    sb3-ppo-zoo train --algo ppo_fixed_kl --env CartPole-v1 -optimize --n-trials 20 \\
        --storage sqlite:///tune.db --study-name fkl
    sb3-ppo-zoo all_plots -a ppo ppo_clip ppo_adaptive_kl -e HalfCheetah -f logs

Every rl-zoo3 script (train, enjoy, plot_train, plot_from_file, all_plots) and algorithm (ppo, a2c, trpo...) works as
with ``python -m rl_zoo3.cli``. For our algorithms ``train`` reads this package's hyperparameter files unless
``--conf-file`` is given; ``--paper`` (train only, any algorithm of Table 1 and ``ppo``) selects the paper's setting,
``--paper-code`` (train only, our algorithms) the paper's setting with the code-level settings of its released code
(observation normalisation, annealed step size and ε, advantages standardised over the rollout, vf_coef 1, no
gradient clipping; see sb3_ppo_variants.paper_code).
"""

from __future__ import annotations

import importlib
import sys

from sb3_ppo_variants.zoo import ZOO_KEYS, hyperparams_file, register

SCRIPTS = ("train", "enjoy", "plot_train", "plot_from_file", "all_plots")
#: the scripts run from their own module, as rl_zoo3.cli runs them, without importing the plotting ones
LIGHT_SCRIPTS = {"train": ("rl_zoo3.train", "train"), "enjoy": ("rl_zoo3.enjoy", "enjoy")}
#: what ``train --help`` shows before rl-zoo3's own help (our options, which rl-zoo3's parser never sees)
TRAIN_HELP = """sb3-ppo-variants options of train (taken out before rl-zoo3 parses the rest):
  --paper               the paper's Table 3 setting for every env (SB3's defaults, one env, 1M steps, the paper's
                        objective knobs): hyperparams/paper/<algo>.yml; any of our algorithms and ppo
  --paper-code          --paper with the code-level settings of the paper's released code (observation
                        normalisation, annealed step size and clip range, advantages standardised over the rollout,
                        vf_coef 1, no gradient clipping): hyperparams/paper_code/<algo>.yml; our algorithms
For our algorithms, hyperparams/<algo>.yml is used unless --conf-file is given.
"""


def _option_value(args: list[str], *names: str) -> str | None:
    """The value of the last ``--name value`` or ``--name=value`` among ``args``, or None."""
    value = None
    for i, arg in enumerate(args):
        for name in names:
            if arg == name and i + 1 < len(args):
                value = args[i + 1]
            elif arg.startswith(name + "="):
                value = arg.split("=", 1)[1]
    return value


def zoo_arguments(argv: list[str]) -> list[str]:
    """
    Our command line turned into rl-zoo3's: ``--paper`` and, for our algorithms, the packaged yml become
    ``--conf-file``. Other arguments pass through untouched.

    :param argv: the arguments after the program name, script first
    :return: the arguments for ``rl_zoo3.cli``
    """
    script, rest = argv[0], argv[1:]
    if script not in SCRIPTS:
        raise SystemExit(f"unknown script {script!r}; choose one of {', '.join(SCRIPTS)}")
    paper, paper_code = "--paper" in rest, "--paper-code" in rest
    rest = [arg for arg in rest if arg not in ("--paper", "--paper-code")]
    chosen = "--paper-code" if paper_code else "--paper"
    if (paper or paper_code) and script != "train":
        raise SystemExit(f"{chosen} only applies to train")
    if paper and paper_code:
        raise SystemExit("choose --paper or --paper-code, not both")
    if script == "train" and _option_value(rest, "-conf", "--conf-file") is None:
        algo = _option_value(rest, "--algo") or "ppo"
        if paper or paper_code or algo in ZOO_KEYS:
            try:
                rest += ["--conf-file", str(hyperparams_file(algo, paper=paper, paper_code=paper_code))]
            except ValueError as error:
                raise SystemExit(f"{chosen}: {error}") from error
    return [script, *rest]


def main(argv: list[str] | None = None) -> None:
    argv = list(sys.argv[1:] if argv is None else argv)
    if not argv or argv[0] in ("-h", "--help"):
        print(__doc__)
        return
    arguments = zoo_arguments(argv)
    if arguments[0] == "train" and {"-h", "--help"} & set(arguments[1:]):
        print(TRAIN_HELP)
    register()  # before rl-zoo3 builds its parser, whose --algo choices come from ALGOS
    if arguments[0] in LIGHT_SCRIPTS:
        # rl_zoo3.cli imports every script, and its plots import seaborn, scipy.stats and pandas: train and enjoy
        # started ~2 s sooner without them (python -X importtime), which each zoo run pays
        module_name, function_name = LIGHT_SCRIPTS[arguments[0]]
        sys.argv = [sys.argv[0], *arguments[1:]]  # as rl_zoo3.cli leaves it for the script
        getattr(importlib.import_module(module_name), function_name)()
        return
    from rl_zoo3.cli import main as zoo_main

    sys.argv = [sys.argv[0], *arguments]
    zoo_main()
