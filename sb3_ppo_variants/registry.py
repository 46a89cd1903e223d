"""The one list of the package's algorithms, which the classes' users, the rl-zoo3 integration, the benchmark and the
tests all read: each public class with its zoo key, its family and its objective's facts.

Adding an objective means its :class:`~sb3_ppo_variants.objectives.PolicyObjective`, a preset class per family, and
one :class:`Objective` entry here; the zoo keys, yml files, Optuna samplers, benchmark algorithms, report families and
test lists follow from :data:`REGISTRY`.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from stable_baselines3 import PPO
from stable_baselines3.common.base_class import BaseAlgorithm

from sb3_ppo_variants.base import SurrogatePPO
from sb3_ppo_variants.variants import PPOAdaptiveKL, PPOClip, PPOFixedKL, PPONoClip


@dataclass(frozen=True)
class LogUniform:
    """An Optuna ``suggest_float(name, low, high, log=True)``."""

    low: float
    high: float


@dataclass(frozen=True)
class Categorical:
    """An Optuna ``suggest_categorical(name, choices)``."""

    choices: tuple[Any, ...]


@dataclass(frozen=True)
class Objective:
    """
    What the zoo, the benchmark and the tests need to know of a row of Table 1.

    :param key: snake_case name; a family's zoo key is ``<family>_<key>``
    :param title: Table 1's name of the row (the report's family)
    :param is_ppo: PPO's own objective (clipping): its zoo entries and search space are the zoo's PPO ones unchanged
    :param knobs: the constructor arguments the objective adds to its family's stock algorithm, with their defaults
    :param changed_defaults: the stock algorithm's arguments whose default the objective changes (Table 1's rows
        without clipping default ``clip_range`` to None)
    :param takes_clip_range: whether the class takes ``clip_range`` at all (the "no clipping or penalty" row has no
        ε to set)
    :param tuned_knobs: the objective's knobs in the generated zoo yml files (the paper's best setting), written in
        place of the zoo's PPO objective keys; ignored when ``is_ppo``
    :param paper_knobs: the objective's knobs in the ``--paper`` yml files (Table 1's best setting)
    :param search_space: Optuna's space for the objective's knobs (``-optimize``), on top of the zoo's PPO space
        without ``clip_range``; ignored when ``is_ppo``
    """

    key: str
    title: str
    is_ppo: bool = False
    knobs: dict[str, Any] = field(default_factory=dict)
    changed_defaults: dict[str, Any] = field(default_factory=dict)
    takes_clip_range: bool = True
    tuned_knobs: dict[str, Any] = field(default_factory=dict)
    paper_knobs: dict[str, Any] = field(default_factory=dict)
    search_space: dict[str, LogUniform | Categorical] = field(default_factory=dict)


CLIP = Objective("clip", "clipping", is_ppo=True, paper_knobs={"clip_range": 0.2})
ADAPTIVE_KL = Objective(
    "adaptive_kl",
    "adaptive KL",
    knobs={"kl_target": 0.01, "kl_coef": 1.0, "kl_tolerance": 1.5, "kl_coef_factor": 2.0},
    changed_defaults={"clip_range": None},
    tuned_knobs={"kl_target": 0.01, "kl_coef": 1.0},
    paper_knobs={"kl_target": 0.01, "kl_coef": 1.0},
    search_space={"kl_target": LogUniform(1e-3, 1e-1), "kl_coef": LogUniform(0.1, 10.0)},
)
FIXED_KL = Objective(
    "fixed_kl",
    "fixed KL",
    knobs={"kl_coef": 1.0},
    changed_defaults={"clip_range": None},
    tuned_knobs={"kl_coef": 3.0},
    paper_knobs={"kl_coef": 3.0},
    # the paper tried β from 0.3 to 10
    search_space={"kl_coef": LogUniform(0.03, 30.0)},
)
NO_CLIP = Objective("no_clip", "no clipping", takes_clip_range=False)

#: Table 1's rows, in the paper's order of merit (clip >= adaptive KL >= fixed KL >> no clip).
OBJECTIVES = (CLIP, ADAPTIVE_KL, FIXED_KL, NO_CLIP)


@dataclass(frozen=True)
class Variant:
    """
    A public algorithm class.

    :param cls: the class
    :param family: the zoo key of the stock algorithm it mirrors (a key of :data:`FAMILIES`)
    :param objective: its row of Table 1
    """

    cls: type[SurrogatePPO]
    family: str
    objective: Objective

    @property
    def stock(self) -> type[BaseAlgorithm]:
        """The stock algorithm whose constructor arguments, defaults and results the class mirrors."""
        return FAMILIES[self.family]

    @property
    def penalised(self) -> bool:
        """Whether the class's loss has the KL penalty (``train/kl``, ``train/kl_coef``, β saved with the model)."""
        return self.cls.objective.penalised

    @property
    def key(self) -> str:
        """The zoo key, yml file name and benchmark algorithm name: ``<family>_<objective>``."""
        return f"{self.family}_{self.objective.key}"


#: Families by zoo key: the stock algorithm each mirrors.
FAMILIES: dict[str, type[BaseAlgorithm]] = {"ppo": PPO}

REGISTRY: tuple[Variant, ...] = (
    Variant(PPOClip, "ppo", CLIP),
    Variant(PPOAdaptiveKL, "ppo", ADAPTIVE_KL),
    Variant(PPOFixedKL, "ppo", FIXED_KL),
    Variant(PPONoClip, "ppo", NO_CLIP),
)
BY_KEY: dict[str, Variant] = {variant.key: variant for variant in REGISTRY}

#: One snake_case key per algorithm: the rl-zoo3 ``--algo`` name, the yml file name and the docs' name.
VARIANTS: dict[str, type[SurrogatePPO]] = {variant.key: variant.cls for variant in REGISTRY}
