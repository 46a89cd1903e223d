"""Benchmark grids: settings x environments x seeds, the paper's Table 1 preset, and user grids from yml files."""

from __future__ import annotations

import difflib
import hashlib
import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import gymnasium as gym
import yaml
from stable_baselines3.common.vec_env import VecNormalize

from sb3_ppo_variants.base import SurrogatePPO
from sb3_ppo_variants.benchmark import ALGORITHMS
from sb3_ppo_variants.benchmark.comparators import env_overrides
from sb3_ppo_variants.envs import MASKED_ENV_ID, NO_VELOCITY_ENV_ID, register_envs
from sb3_ppo_variants.paper_code import OBSERVATION_NORMALIZATION, paper_code_kwargs
from sb3_ppo_variants.registry import VARIANTS
from sb3_ppo_variants.saved import check_loaded_arguments, constructor_defaults
from sb3_ppo_variants.schedules import from_strings


@dataclass(frozen=True)
class Setting:
    """
    One row of a results table: an algorithm with its own hyperparameters.

    :param name: the row's name; also the folder name of its Monitor logs (rl-zoo3's ``--algo`` for plotting)
    :param algo: a key of :data:`~sb3_ppo_variants.benchmark.ALGORITHMS`
    :param kwargs: constructor arguments on top of the grid's shared ``hyperparams``
    :param paper_score: the paper's Table 1 average normalized score for this setting, if it has one
    :param normalize: wrap the training env in SB3's ``VecNormalize`` with these arguments (e.g. ``{"norm_reward":
        False, "clip_obs": 5.0}``); None: no wrapper. Episode returns are recorded before it, so scores stay raw.
    :param env_overrides: per environment id, what differs there: ``kwargs`` (on top of the setting's), ``normalize``
        and ``n_envs`` (instead of the setting's and the grid's); e.g. a comparator's tuned hyperparameters per task
    """

    name: str
    algo: str
    kwargs: dict[str, Any] = field(default_factory=dict, hash=False)
    paper_score: float | None = None
    normalize: dict[str, Any] | None = field(default=None, hash=False)
    env_overrides: dict[str, dict[str, Any]] = field(default_factory=dict, hash=False)

    def __post_init__(self) -> None:
        if self.algo not in ALGORITHMS:
            raise ValueError(f"setting {self.name!r}: unknown algo {self.algo!r}; choose one of {sorted(ALGORITHMS)}")
        if not self.name or self.name != self.name.lower() or any(c in self.name for c in "/\\ |"):
            raise ValueError(f"setting name {self.name!r} must be non-empty lowercase, without spaces, slashes or '|'")
        for env, overrides in self.env_overrides.items():
            unknown = set(overrides) - {"kwargs", "normalize", "n_envs"}
            if unknown:
                raise ValueError(
                    f"setting {self.name!r}: env_overrides[{env!r}] may set kwargs, normalize and n_envs, "
                    f"not {sorted(unknown)}"
                )

    def run_arguments(
        self, env: str, hyperparams: dict[str, Any], n_envs: int
    ) -> tuple[dict[str, Any], dict[str, Any] | None, int]:
        """(constructor arguments, ``VecNormalize`` arguments, number of envs) of this setting's run on ``env``."""
        overrides = self.env_overrides.get(env, {})
        kwargs = {**hyperparams, **self.kwargs, **overrides.get("kwargs", {})}
        return kwargs, overrides.get("normalize", self.normalize), int(overrides.get("n_envs", n_envs))


#: Table 1 of Schulman et al. (2017), plus stock SB3 PPO (clip 0.2) as a reference row.
TABLE1_SETTINGS = [
    Setting("no_clip", "ppo_no_clip", {}, -0.39),
    Setting("clip_0.1", "ppo_clip", {"clip_range": 0.1}, 0.76),
    Setting("clip_0.2", "ppo_clip", {"clip_range": 0.2}, 0.82),
    Setting("clip_0.3", "ppo_clip", {"clip_range": 0.3}, 0.70),
    Setting("adaptive_kl_0.003", "ppo_adaptive_kl", {"kl_target": 0.003}, 0.68),
    Setting("adaptive_kl_0.01", "ppo_adaptive_kl", {"kl_target": 0.01}, 0.74),
    Setting("adaptive_kl_0.03", "ppo_adaptive_kl", {"kl_target": 0.03}, 0.71),
    Setting("fixed_kl_0.3", "ppo_fixed_kl", {"kl_coef": 0.3}, 0.62),
    Setting("fixed_kl_1", "ppo_fixed_kl", {"kl_coef": 1.0}, 0.71),
    Setting("fixed_kl_3", "ppo_fixed_kl", {"kl_coef": 3.0}, 0.72),
    Setting("fixed_kl_10", "ppo_fixed_kl", {"kl_coef": 10.0}, 0.69),
    Setting("sb3_ppo", "ppo", {}, None),
]
#: The sb3-contrib families against their stock algorithms (the ``contrib`` preset).
CONTRIB_SETTINGS = [
    Setting("mask_no_clip", "ppo_mask_no_clip", {}),
    Setting("mask_clip_0.2", "ppo_mask_clip", {"clip_range": 0.2}),
    Setting("mask_adaptive_kl_0.01", "ppo_mask_adaptive_kl", {"kl_target": 0.01}),
    Setting("mask_fixed_kl_3", "ppo_mask_fixed_kl", {"kl_coef": 3.0}),
    Setting("sb3_ppo_mask", "ppo_mask", {}),
]
#: The RecurrentPPO family against stock RecurrentPPO (the ``contrib_lstm`` preset).
CONTRIB_LSTM_SETTINGS = [
    Setting("lstm_no_clip", "ppo_lstm_no_clip", {}),
    Setting("lstm_clip_0.2", "ppo_lstm_clip", {"clip_range": 0.2}),
    Setting("lstm_adaptive_kl_0.01", "ppo_lstm_adaptive_kl", {"kl_target": 0.01}),
    Setting("lstm_fixed_kl_3", "ppo_lstm_fixed_kl", {"kl_coef": 3.0}),
    Setting("sb3_ppo_lstm", "ppo_lstm", {}),
]

#: The seven MuJoCo tasks of Table 1, in today's gymnasium versions.
TABLE1_ENVS = [
    "HalfCheetah-v5",
    "Hopper-v5",
    "InvertedDoublePendulum-v5",
    "InvertedPendulum-v5",
    "Reacher-v5",
    "Swimmer-v5",
    "Walker2d-v5",
]

#: Figure 3's comparators on the Table 1 tasks, at rl-zoo3's tuned hyperparameters where the zoo has the task
#: (:mod:`~sb3_ppo_variants.benchmark.comparators`), SB3's defaults elsewhere (the ``figure3`` preset).
FIGURE3_SETTINGS = [
    Setting("sb3_trpo", "trpo", env_overrides=env_overrides("trpo", TABLE1_ENVS)),
    Setting("sb3_a2c", "a2c", env_overrides=env_overrides("a2c", TABLE1_ENVS)),
]
#: KLip-PPO's configuration (../shared/klip-notes.md): SB3's defaults plus a linear learning-rate schedule, value
#: clipping 0.2 and ``VecNormalize`` of observations and rewards.
KLIP_HYPERPARAMS: dict[str, Any] = {"learning_rate": "lin_0.0003", "clip_range_vf": 0.2}
KLIP_NORMALIZE: dict[str, Any] = {"norm_obs": True, "norm_reward": True}


def _klip(name: str, algo: str, knobs: dict[str, Any]) -> Setting:
    return Setting(name, algo, {**KLIP_HYPERPARAMS, **knobs}, normalize=dict(KLIP_NORMALIZE))


#: KLip-PPO's comparison, in its configuration: PPO-Clip, clipping as a per-sample KL penalty, soft clipping and the
#: scalar-β penalties at its authors' knobs (the ``klip`` preset).
KLIP_SETTINGS = [
    _klip("klip_clip_0.2", "ppo_clip", {"clip_range": 0.2}),
    _klip("klip_per_sample_kl", "ppo_per_sample_kl", {"clip_range": 0.2}),
    _klip("klip_soft_clip_linear_0.05", "ppo_soft_clip", {"clip_range": 0.2, "soft_clip": "linear", "softness": 0.05}),
    _klip("klip_fixed_kl_1", "ppo_fixed_kl", {"kl_coef": 1.0}),
    _klip("klip_adaptive_kl_0.02", "ppo_adaptive_kl", {"kl_target": 0.02}),
]
#: Its tasks, the two where a scalar β is said to fail first.
KLIP_ENVS = ["Ant-v5", "Humanoid-v5", "HalfCheetah-v5", "Hopper-v5", "Walker2d-v5"]
SETTINGS_BY_NAME = {
    s.name: s for s in TABLE1_SETTINGS + FIGURE3_SETTINGS + KLIP_SETTINGS + CONTRIB_SETTINGS + CONTRIB_LSTM_SETTINGS
}


@dataclass(frozen=True)
class RunSpec:
    """One training run of a grid; ``key`` identifies it in the results store."""

    setting: str
    algo: str
    kwargs: dict[str, Any] = field(hash=False)
    env: str
    seed: int
    timesteps: int
    n_envs: int
    #: ``VecNormalize``'s arguments, or None for no wrapper (:attr:`Setting.normalize`)
    normalize: dict[str, Any] | None = field(default=None, hash=False)

    @property
    def config_hash(self) -> str:
        """A short hash of everything that changes the run's numbers besides env, seed and budget (a run without a
        wrapper hashes as before wrappers existed, so stored grids keep their keys)."""
        config: dict[str, Any] = {"algo": self.algo, "kwargs": self.kwargs, "n_envs": self.n_envs}
        if self.normalize is not None:
            config["normalize"] = self.normalize
        return hashlib.sha256(json.dumps(config, sort_keys=True).encode()).hexdigest()[:10]

    @property
    def key(self) -> str:
        return f"{self.setting}|{self.env}|{self.seed}|{self.timesteps}|{self.config_hash}"


def check_env_id(env_id: str) -> None:
    """
    Refuse an environment id that gymnasium does not know (this package's own envs registered first), before any run
    starts: a typo would otherwise fail each of its runs when its turn came, possibly hours into a grid. An id of
    the form ``module:EnvId`` names a module to import first, which only ``gym.make`` does; it is left to the run.

    :raises ValueError: naming the id, with gymnasium's own message (its suggestions included)
    """
    if ":" in env_id:
        return
    register_envs()
    try:
        gym.spec(env_id)
    except gym.error.Error as error:
        raise ValueError(f"unknown environment {env_id!r}: {error}") from None


def check_run_arguments(name: str, algo: str, kwargs: dict[str, Any], normalize: dict[str, Any] | None) -> None:
    """
    Refuse a setting's run arguments that its algorithm would refuse, before any run starts (a typo in a grid would
    otherwise fail each of the setting's runs when its turn came): every constructor argument must be one the
    algorithm takes, and for this package's classes its value must pass the constructor's checks of the optimisation's
    arguments and the objective's knobs (those that need no environment); ``VecNormalize``'s arguments must be its.

    :param name: the setting's name, for the message
    :param algo: its algorithm's key
    :param kwargs: its constructor arguments on one environment (:meth:`Setting.run_arguments`)
    :param normalize: its ``VecNormalize`` arguments, or None
    :raises ValueError: or TypeError, naming the setting and the argument
    """
    cls = ALGORITHMS[algo]
    for taker, given in ((cls, kwargs), (VecNormalize, normalize or {})):
        accepted = set(constructor_defaults(taker))
        unknown = sorted(set(given) - accepted)
        if unknown:
            close = {arg: difflib.get_close_matches(arg, accepted, n=1) for arg in unknown}
            hints = "".join(f" ({arg!r}: did you mean {close[arg][0]!r}?)" for arg in unknown if close[arg])
            raise TypeError(f"setting {name!r}: {taker.__name__} takes no argument {', '.join(map(repr, unknown))}{hints}")
    if issubclass(cls, SurrogatePPO):
        try:
            check_loaded_arguments(cls, from_strings(kwargs))
        except (TypeError, ValueError) as error:
            raise type(error)(f"setting {name!r}: {error}") from None


@dataclass
class Grid:
    """
    Settings x environments x seeds, each run for ``timesteps`` with ``n_envs`` parallel envs.

    :param hyperparams: constructor arguments shared by every setting (a setting's own ``kwargs`` win)
    """

    settings: list[Setting]
    envs: list[str]
    seeds: list[int]
    timesteps: int
    n_envs: int = 1
    hyperparams: dict[str, Any] = field(default_factory=dict)

    def __post_init__(self) -> None:
        if not self.settings or not self.envs or not self.seeds:
            raise ValueError("a grid needs at least one setting, one env and one seed")
        if self.timesteps < 1 or self.n_envs < 1:
            raise ValueError(f"timesteps and n_envs must be >= 1, got {self.timesteps} and {self.n_envs}")
        names = [s.name for s in self.settings]
        if len(set(names)) != len(names):
            raise ValueError(f"setting names must be unique, got {names}")
        for env in self.envs:
            check_env_id(env)
        for setting in self.settings:
            for env in self.envs:
                kwargs, normalize, _ = setting.run_arguments(env, self.hyperparams, self.n_envs)
                check_run_arguments(setting.name, setting.algo, kwargs, normalize)

    def runs(self) -> list[RunSpec]:
        """Every run, seed-major so that a partial grid covers all settings and envs early."""
        return [
            RunSpec(s.name, s.algo, kwargs, env, seed, self.timesteps, n_envs, normalize)
            for seed in self.seeds
            for env in self.envs
            for s in self.settings
            for kwargs, normalize, n_envs in [s.run_arguments(env, self.hyperparams, self.n_envs)]
        ]


def preset(name: str) -> Grid:
    """
    A named grid.

    - ``table1``: the paper's 11 settings plus stock SB3 PPO, on its 7 MuJoCo tasks, 3 seeds, 1M steps, the paper's
      hyperparameters (Table 3 = SB3's defaults), one env.
    - ``figure3``: Figure 3's comparators TRPO and A2C (``sb3_trpo``, ``sb3_a2c``) on the same tasks, seeds and budget,
      at rl-zoo3's tuned hyperparameters where the zoo has the task, SB3's defaults elsewhere (run it into the
      ``table1`` folder: the report shows them beside Table 1's rows, outside its normalisation).
    - ``klip``: KLip-PPO's comparison (clip 0.2, clipping as a per-sample KL penalty, soft clipping linear 0.05,
      fixed KL β 1, adaptive KL d_targ 0.02) on Ant, Humanoid, HalfCheetah, Hopper and Walker2d (-v5), 3 seeds, 1M
      steps, in their configuration: SB3's defaults with ``VecNormalize`` of observations and rewards, the learning
      rate annealed linearly to 0 and ``clip_range_vf=0.2``. ``--envs Ant-v5 Humanoid-v5`` runs the two tasks of their
      claim first.
    - ``quick``: a smoke run: no clip, clip 0.2, adaptive KL 0.01, fixed KL 3 and stock PPO on CartPole-v1 and
      Pendulum-v1, 2 seeds, 20k steps.
    - ``contrib``: the MaskablePPO family's four objectives and stock MaskablePPO on sb3-contrib's masked identity
      env (:data:`~sb3_ppo_variants.envs.MASKED_ENV_ID`), 3 seeds, 20k steps.
    - ``contrib_lstm``: the RecurrentPPO family's four objectives and stock RecurrentPPO on CartPole without
      velocities (:data:`~sb3_ppo_variants.envs.NO_VELOCITY_ENV_ID`), 3 seeds, 100k steps, the zoo's RecurrentPPO
      hyperparameters for it (without its observation normalisation).

    :param name: one of :data:`PRESETS`
    :return: the grid
    """
    if name == "table1":
        return Grid(TABLE1_SETTINGS, TABLE1_ENVS, [0, 1, 2], 1_000_000)
    if name == "figure3":
        return Grid(FIGURE3_SETTINGS, TABLE1_ENVS, [0, 1, 2], 1_000_000)
    if name == "klip":
        return Grid(KLIP_SETTINGS, KLIP_ENVS, [0, 1, 2], 1_000_000)
    if name == "quick":
        quick = ["no_clip", "clip_0.2", "adaptive_kl_0.01", "fixed_kl_3", "sb3_ppo"]
        return Grid([SETTINGS_BY_NAME[s] for s in quick], ["CartPole-v1", "Pendulum-v1"], [0, 1], 20_000)
    if name == "contrib":
        hyperparams = {"n_steps": 256, "batch_size": 64, "n_epochs": 4, "learning_rate": 1e-3}
        return Grid(CONTRIB_SETTINGS, [MASKED_ENV_ID], [0, 1, 2], 20_000, hyperparams=hyperparams)
    if name == "contrib_lstm":
        lstm_hyperparams: dict[str, Any] = {
            "n_steps": 32,
            "batch_size": 256,
            "n_epochs": 20,
            "learning_rate": 1e-3,
            "gae_lambda": 0.8,
            "gamma": 0.98,
            "policy_kwargs": {"ortho_init": False, "lstm_hidden_size": 64, "net_arch": {"pi": [64], "vf": [64]}},
        }
        return Grid(CONTRIB_LSTM_SETTINGS, [NO_VELOCITY_ENV_ID], [0, 1, 2], 100_000, n_envs=8, hyperparams=lstm_hyperparams)
    raise ValueError(f"unknown preset {name!r}; choose one of {PRESETS}")


PRESETS = ("table1", "figure3", "klip", "quick", "contrib", "contrib_lstm")


def load_grid(path: str | Path) -> Grid:
    """
    A grid from a yml file::

        settings:                      # a list of Table 1 names, or a mapping name -> {algo, kwargs}
          my_clip: {algo: ppo_clip, kwargs: {clip_range: 0.25}}
          my_kl: {algo: ppo_adaptive_kl, normalize: {norm_reward: false, clip_obs: 5.0}}   # VecNormalize
          my_a2c: {algo: a2c, env_overrides: {Hopper-v5: {kwargs: {gamma: 0.999}, n_envs: 4}}}   # per env
          adaptive_kl_0.01: {}          # a Table 1 setting by its name
          clip_0.2: {paper_code: true}  # with the paper's code-level settings (sb3_ppo_variants.paper_code)
        envs: [CartPole-v1]
        seeds: [0, 1, 2]
        timesteps: 50000
        n_envs: 1                       # optional
        hyperparams: {n_steps: 1024}    # optional, shared by every setting

    :param path: the yml file
    :return: the grid
    """
    data = yaml.safe_load(Path(path).read_text())
    if not isinstance(data, dict):
        raise ValueError(f"{path}: expected a mapping with settings, envs, seeds and timesteps")
    missing = {"settings", "envs", "seeds", "timesteps"} - set(data)
    if missing:
        raise ValueError(f"{path}: missing {sorted(missing)}")
    raw = data["settings"]
    settings = []
    items = [(name, None) for name in raw] if isinstance(raw, list) else list(raw.items())
    for name, spec in items:
        paper_code = bool(spec and spec.get("paper_code"))
        if spec and set(spec) == {"paper_code"}:
            spec = None
        if not spec:
            if name not in SETTINGS_BY_NAME:
                raise ValueError(f"{path}: setting {name!r} is not a Table 1 setting; give its algo and kwargs")
            settings.append(SETTINGS_BY_NAME[name])
        else:
            normalize = spec.get("normalize")
            settings.append(
                Setting(
                    name,
                    spec["algo"],
                    dict(spec.get("kwargs") or {}),
                    spec.get("paper_score"),
                    None if normalize is None else dict(normalize),
                    dict(spec.get("env_overrides") or {}),
                )
            )
        if paper_code:
            settings[-1] = paper_code_setting(settings[-1], dict(data.get("hyperparams") or {}))
    return Grid(
        settings,
        list(data["envs"]),
        [int(s) for s in data["seeds"]],
        int(data["timesteps"]),
        int(data.get("n_envs", 1)),
        dict(data.get("hyperparams") or {}),
    )


#: The suffix of a setting's row on the opt-in fast path.
FAST_SUFFIX = "_fast"


def fast_setting(setting: Setting) -> Setting:
    """
    The same setting on the opt-in fast path, under its own name.

    :param setting: a setting of one of the four variants
    :return: ``<name>_fast`` with ``fast=True``
    """
    if setting.kwargs.get("fast"):
        return setting
    return Setting(
        setting.name + FAST_SUFFIX, setting.algo, {**setting.kwargs, "fast": True}, setting.paper_score, setting.normalize
    )


#: The suffix of a setting's row with the paper code's settings.
PAPER_CODE_SUFFIX = "_paper_code"


def paper_code_setting(setting: Setting, hyperparams: dict[str, Any] | None = None) -> Setting:
    """
    The same setting with the code-level settings of the paper's released code (:mod:`sb3_ppo_variants.paper_code`),
    under its own name.

    :param setting: a setting of one of our classes
    :param hyperparams: the grid's shared arguments, which the setting's own win over (the annealed learning rate
        starts from theirs)
    :return: ``<name>_paper_code``: the constructor arguments changed, observations normalised by ``VecNormalize``
    :raises ValueError: a setting of a stock algorithm or a comparator, or one that already normalises observations
    """
    if setting.name.endswith(PAPER_CODE_SUFFIX):
        return setting
    if setting.algo not in VARIANTS:
        raise ValueError(
            f"setting {setting.name!r}: --paper-code needs one of this package's classes ({setting.algo!r} is not: it "
            "cannot standardise advantages over the rollout); clip_0.2 is stock PPO's objective"
        )
    if setting.normalize is not None:
        raise ValueError(f"setting {setting.name!r} has its own VecNormalize arguments; --paper-code sets them")
    kwargs = paper_code_kwargs(ALGORITHMS[setting.algo], {**(hyperparams or {}), **setting.kwargs})
    return Setting(
        setting.name + PAPER_CODE_SUFFIX, setting.algo, kwargs, setting.paper_score, dict(OBSERVATION_NORMALIZATION)
    )


def known_setting(name: str) -> Setting | None:
    """A preset's setting by its name, its fast-path (``<name>_fast``) and paper-code (``<name>_paper_code``,
    ``<name>_paper_code_fast``) rows included, or None."""
    base = name.removesuffix(FAST_SUFFIX).removesuffix(PAPER_CODE_SUFFIX)
    return SETTINGS_BY_NAME.get(name) or SETTINGS_BY_NAME.get(base)


def select(
    grid: Grid,
    settings: list[str] | None = None,
    envs: list[str] | None = None,
    seeds: list[int] | None = None,
    timesteps: int | None = None,
    fast: bool = False,
    paper_code: bool = False,
) -> Grid:
    """
    Narrow a grid (or change its budget) from command-line options.

    :param fast: run the settings on the opt-in fast path instead: each variant's setting becomes ``<name>_fast``
        with ``fast=True`` (its own row and Monitor folder, never mixed with exact runs); a stock algorithm has no
        fast path and stays as it is, the exact reference row
    :param paper_code: the settings with the paper code's settings instead (:func:`paper_code_setting`), before
        ``fast``: ``<name>_paper_code`` (``<name>_paper_code_fast``); stock algorithms are refused
    :return: a new grid
    """
    chosen = grid.settings
    if settings:
        known = {s.name: s for s in grid.settings} | SETTINGS_BY_NAME
        unknown = [name for name in settings if name not in known]
        if unknown:
            raise ValueError(f"unknown settings {unknown}; choose from {sorted(known)}")
        chosen = [known[name] for name in settings]
    if paper_code:
        chosen = [paper_code_setting(s, grid.hyperparams) for s in chosen]
    if fast:
        if all(s.algo not in VARIANTS for s in chosen):
            raise ValueError("--fast needs at least one setting of a variant (stock PPO has no fast path)")
        chosen = [fast_setting(s) if s.algo in VARIANTS else s for s in chosen]
    return Grid(
        chosen,
        envs or grid.envs,
        grid.seeds if seeds is None else seeds,
        grid.timesteps if timesteps is None else timesteps,
        grid.n_envs,
        grid.hyperparams,
    )
