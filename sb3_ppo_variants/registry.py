"""The one list of the package's algorithms, which the package's exports, the rl-zoo3 integration, the benchmark and
the tests all read: each preset class with its family (:mod:`sb3_ppo_variants.families`) and its objective
(:mod:`sb3_ppo_variants.objectives`).

Adding an objective means its :class:`~sb3_ppo_variants.objectives.PolicyObjective` subclass, its place in
:data:`~sb3_ppo_variants.objectives.TABLE1_OBJECTIVES` (or a list of its own), ``python -m sb3_ppo_variants.codegen``
to write its preset class per family, and its line here per family; the zoo keys, yml files, Optuna samplers,
benchmark algorithms, report families and test lists follow.
"""

from __future__ import annotations

from dataclasses import dataclass

from stable_baselines3.common.base_class import BaseAlgorithm

from sb3_ppo_variants.base import SurrogatePPO
from sb3_ppo_variants.families import MASKABLE_FAMILY, PPO_FAMILY, RECURRENT_FAMILY, Family
from sb3_ppo_variants.objectives import TABLE1_OBJECTIVES, PolicyObjective
from sb3_ppo_variants.variants import (
    MaskablePPOAdaptiveKL,
    MaskablePPOClip,
    MaskablePPOFixedKL,
    MaskablePPONoClip,
    PPOAdaptiveKL,
    PPOClip,
    PPOFixedKL,
    PPONoClip,
    RecurrentPPOAdaptiveKL,
    RecurrentPPOClip,
    RecurrentPPOFixedKL,
    RecurrentPPONoClip,
)


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


REGISTRY: tuple[Variant, ...] = (
    Variant(PPOClip, PPO_FAMILY),
    Variant(PPOAdaptiveKL, PPO_FAMILY),
    Variant(PPOFixedKL, PPO_FAMILY),
    Variant(PPONoClip, PPO_FAMILY),
    Variant(MaskablePPOClip, MASKABLE_FAMILY),
    Variant(MaskablePPOAdaptiveKL, MASKABLE_FAMILY),
    Variant(MaskablePPOFixedKL, MASKABLE_FAMILY),
    Variant(MaskablePPONoClip, MASKABLE_FAMILY),
    Variant(RecurrentPPOClip, RECURRENT_FAMILY),
    Variant(RecurrentPPOAdaptiveKL, RECURRENT_FAMILY),
    Variant(RecurrentPPOFixedKL, RECURRENT_FAMILY),
    Variant(RecurrentPPONoClip, RECURRENT_FAMILY),
)
BY_KEY: dict[str, Variant] = {variant.key: variant for variant in REGISTRY}

#: One snake_case key per algorithm: the rl-zoo3 ``--algo`` name, the yml file name and the docs' name.
VARIANTS: dict[str, type[SurrogatePPO]] = {variant.key: variant.cls for variant in REGISTRY}

#: Table 1's objectives, in the paper's order of merit (clip >= adaptive KL >= fixed KL >> no clip).
OBJECTIVES = TABLE1_OBJECTIVES
