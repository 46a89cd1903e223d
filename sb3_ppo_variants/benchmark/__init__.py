"""Benchmarks: the paper's Table 1 grid against stock SB3 PPO (``grid``, ``runner``, ``report``), Figure 3's
comparators TRPO and A2C (``comparators``), the software each run ran on (``software``), throughput against stock
SB3 PPO (``throughput``) and the fast-vs-exact comparison (``equivalence``)."""

from sb3_contrib import TRPO
from stable_baselines3 import A2C
from stable_baselines3.common.base_class import BaseAlgorithm

from sb3_ppo_variants.families import FAMILIES
from sb3_ppo_variants.registry import REGISTRY, VARIANTS

#: The stock algorithms, by zoo key (``ppo``: stable_baselines3.PPO, ``ppo_mask``: sb3_contrib.MaskablePPO): the
#: reference rows. They have no fast path.
STOCK: dict[str, type[BaseAlgorithm]] = {family.key: family.stock for family in FAMILIES}
#: Figure 3's comparators, by zoo key: reference rows beside the Table 1 grid (see ``comparators``), no fast path.
COMPARATORS: dict[str, type[BaseAlgorithm]] = {"trpo": TRPO, "a2c": A2C}
#: Every algorithm a benchmark can run, by zoo key: the stock algorithms, the comparators, every registered class.
ALGORITHMS: dict[str, type[BaseAlgorithm]] = {**STOCK, **COMPARATORS, **VARIANTS}
#: Stock SB3 PPO and the PPO family's classes: what the quick start and the throughput benchmark compare on any env
#: (the sb3-contrib families need masked envs or LSTM policies).
PPO_FAMILY_ALGORITHMS: list[str] = ["ppo", *(v.key for v in REGISTRY if v.family.key == "ppo")]
