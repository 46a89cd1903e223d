"""The one list of the package's algorithms, which the package's exports, the rl-zoo3 integration, the benchmark and
the tests all read: each preset class with its family (:mod:`sb3_ppo_variants.families`) and its objective
(:mod:`sb3_ppo_variants.objectives`).

Adding an objective means its :class:`~sb3_ppo_variants.objectives.PolicyObjective` subclass and its place in
:data:`~sb3_ppo_variants.objectives.OBJECTIVES`, then ``python -m sb3_ppo_variants.codegen`` (its preset class
per family) and ``python -m sb3_ppo_variants.zoo.hyperparams`` (its yml files), and its classes among the package's
exports; the registry, zoo keys, Optuna samplers, benchmark algorithms and test lists follow.
"""

from __future__ import annotations

from dataclasses import dataclass

from stable_baselines3.common.base_class import BaseAlgorithm

from sb3_ppo_variants import variants
from sb3_ppo_variants.base import SurrogatePPO
from sb3_ppo_variants.families import FAMILIES, Family
from sb3_ppo_variants.objectives import OBJECTIVES, TABLE1_OBJECTIVES, PolicyObjective


@dataclass(frozen=True)
class Variant:
    """
    A public algorithm class.

    :param cls: the class
    :param family: the family whose loop it runs and whose stock algorithm it mirrors
    """

    cls: type[SurrogatePPO]
    family: Family

    @property
    def objective(self) -> PolicyObjective:
        """Its row of Table 1."""
        return self.cls.objective

    @property
    def key(self) -> str:
        """The zoo key, yml file name and benchmark algorithm name: ``<family>_<objective>``."""
        return f"{self.family.key}_{self.objective.key}"

    @property
    def stock(self) -> type[BaseAlgorithm]:
        """The stock algorithm whose constructor arguments, defaults and (with clipping) results the class mirrors."""
        return self.family.stock

    @property
    def penalised(self) -> bool:
        """Whether the class's loss has the KL penalty (``train/kl``, ``train/kl_coef``, β saved with the model)."""
        return self.objective.penalised


#: Every family with every objective (Table 1's, then those beyond the paper): the preset classes that ``codegen``
#: wrote, family by family.
REGISTRY: tuple[Variant, ...] = tuple(
    Variant(getattr(variants, family.prefix + objective.class_suffix), family)
    for family in FAMILIES
    for objective in OBJECTIVES
)
BY_KEY: dict[str, Variant] = {variant.key: variant for variant in REGISTRY}

#: One snake_case key per algorithm: the rl-zoo3 ``--algo`` name, the yml file name and the docs' name.
VARIANTS: dict[str, type[SurrogatePPO]] = {variant.key: variant.cls for variant in REGISTRY}

#: Table 1's objectives, in the paper's order of merit (clip >= adaptive KL >= fixed KL >> no clip).
TABLE1 = TABLE1_OBJECTIVES
__all__ = ["BY_KEY", "OBJECTIVES", "REGISTRY", "TABLE1", "VARIANTS", "Variant"]
