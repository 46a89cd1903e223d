"""The algorithm families: the stock algorithms whose loop the objectives run in, each as the loop class that takes
its constructor arguments. A preset class is a family's loop class with one objective
(:mod:`sb3_ppo_variants.objectives`); ``python -m sb3_ppo_variants.codegen`` writes them."""

from __future__ import annotations

from dataclasses import dataclass

from sb3_contrib import MaskablePPO, RecurrentPPO
from stable_baselines3 import PPO
from stable_baselines3.common.base_class import BaseAlgorithm

from sb3_ppo_variants.base import SurrogatePPO
from sb3_ppo_variants.maskable import MaskableSurrogatePPO
from sb3_ppo_variants.recurrent import RecurrentSurrogatePPO


@dataclass(frozen=True)
class Family:
    """
    An algorithm family.

    :param key: the stock algorithm's zoo key; a preset's zoo key is ``<key>_<objective key>``
    :param prefix: the presets' class-name prefix (``PPO`` + ``AdaptiveKL``)
    :param base: the loop class, whose constructor takes the stock algorithm's arguments (and ``fast``)
    :param stock: the stock algorithm the presets mirror (arguments, defaults and, with clipping, results)
    :param imports: the import lines that the names in ``base``'s constructor annotations need
    """

    key: str
    prefix: str
    base: type[SurrogatePPO]
    stock: type[BaseAlgorithm]
    imports: tuple[str, ...]


PPO_FAMILY = Family(
    "ppo",
    "PPO",
    SurrogatePPO,
    PPO,
    (
        "import torch as th",
        "from stable_baselines3.common.buffers import RolloutBuffer",
        "from stable_baselines3.common.policies import ActorCriticPolicy",
        "from stable_baselines3.common.type_aliases import GymEnv, Schedule",
    ),
)

MASKABLE_FAMILY = Family(
    "ppo_mask",
    "MaskablePPO",
    MaskableSurrogatePPO,
    MaskablePPO,
    (
        "import torch as th",
        "from sb3_contrib.common.maskable.policies import MaskableActorCriticPolicy",
        "from stable_baselines3.common.buffers import RolloutBuffer",
        "from stable_baselines3.common.type_aliases import GymEnv, Schedule",
    ),
)

RECURRENT_FAMILY = Family(
    "ppo_lstm",
    "RecurrentPPO",
    RecurrentSurrogatePPO,
    RecurrentPPO,
    (
        "import torch as th",
        "from sb3_contrib.common.recurrent.policies import RecurrentActorCriticPolicy",
        "from stable_baselines3.common.type_aliases import GymEnv, Schedule",
    ),
)

#: Every family, in the order the generated file and the registry list them.
FAMILIES: tuple[Family, ...] = (PPO_FAMILY, MASKABLE_FAMILY, RECURRENT_FAMILY)
# the loop classes save their family's key with a model (load checks it)
assert all(family.base.family_key == family.key for family in FAMILIES)
