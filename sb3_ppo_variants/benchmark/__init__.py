"""Benchmarks: throughput against stock SB3 PPO (``throughput``) and, later, the paper's Table 1."""

from stable_baselines3 import PPO

from sb3_ppo_variants.base import SurrogatePPO
from sb3_ppo_variants.variants import VARIANTS

#: Every algorithm a benchmark can run, by zoo key: stock SB3 PPO as the reference, then the four variants.
ALGORITHMS: dict[str, type[PPO] | type[SurrogatePPO]] = {"ppo": PPO, **VARIANTS}
