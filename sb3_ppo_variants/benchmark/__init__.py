"""Benchmarks: the paper's Table 1 grid against stock SB3 PPO (``grid``, ``runner``, ``report``), the software each run
ran on (``software``), throughput against stock SB3 PPO (``throughput``) and the fast-vs-exact comparison
(``equivalence``)."""

from stable_baselines3 import PPO

from sb3_ppo_variants.base import SurrogatePPO
from sb3_ppo_variants.registry import VARIANTS

#: Every algorithm a benchmark can run, by zoo key: stock SB3 PPO as the reference, then the four variants.
ALGORITHMS: dict[str, type[PPO] | type[SurrogatePPO]] = {"ppo": PPO, **VARIANTS}
