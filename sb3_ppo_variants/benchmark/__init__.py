"""Benchmarks: the paper's Table 1 grid against stock SB3 PPO (``grid``, ``runner``, ``report``), the software each run
ran on (``software``), throughput against stock SB3 PPO (``throughput``) and the fast-vs-exact comparison
(``equivalence``)."""

from stable_baselines3.common.base_class import BaseAlgorithm

from sb3_ppo_variants.families import FAMILIES
from sb3_ppo_variants.registry import REGISTRY, VARIANTS

#: The stock algorithms, by zoo key (``ppo``: stable_baselines3.PPO, ``ppo_mask``: sb3_contrib.MaskablePPO): the
#: reference rows. They have no fast path.
STOCK: dict[str, type[BaseAlgorithm]] = {family.key: family.stock for family in FAMILIES}
#: Every algorithm a benchmark can run, by zoo key: the stock algorithms, then every registered class.
ALGORITHMS: dict[str, type[BaseAlgorithm]] = {**STOCK, **VARIANTS}
#: Stock SB3 PPO and the PPO family's classes: what the quick start and the throughput benchmark compare on any env
#: (the sb3-contrib families need masked envs or LSTM policies).
PPO_FAMILY_ALGORITHMS: list[str] = ["ppo", *(v.key for v in REGISTRY if v.family.key == "ppo")]
