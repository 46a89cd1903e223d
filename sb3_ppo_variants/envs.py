"""Environments this package registers with gymnasium, for the families whose stock algorithm needs a special env.

:data:`MASKED_ENV_ID` is sb3-contrib's masked identity env (``Discrete(10)``, 5 of the 10 actions invalid at each
step, reward 1 for the action equal to the observation, 100 steps an episode): the MaskablePPO family's zoo entries and
benchmark preset use it. :func:`register_envs` registers it; the zoo's command line and the benchmark's workers call
it, and so can you before ``gym.make``.
"""

from __future__ import annotations

import gymnasium as gym

MASKED_ENV_ID = "InvalidActionEnvDiscrete-v0"


def register_envs() -> None:
    """Register :data:`MASKED_ENV_ID` with gymnasium (idempotent)."""
    if MASKED_ENV_ID not in gym.registry:
        gym.register(
            MASKED_ENV_ID,
            entry_point="sb3_contrib.common.envs:InvalidActionEnvDiscrete",
            kwargs={"dim": 10, "n_invalid_actions": 5},
        )
