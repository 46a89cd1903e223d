"""The four surrogate objectives of Schulman et al. (2017), Table 1, over SB3 PPO, MaskablePPO and RecurrentPPO."""

from sb3_ppo_variants.base import SurrogatePPO
from sb3_ppo_variants.maskable import MaskableSurrogatePPO
from sb3_ppo_variants.recurrent import RecurrentSurrogatePPO
from sb3_ppo_variants.registry import VARIANTS
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
from sb3_ppo_variants.version import __version__

__all__ = [
    "VARIANTS",
    "MaskablePPOAdaptiveKL",
    "MaskablePPOClip",
    "MaskablePPOFixedKL",
    "MaskablePPONoClip",
    "MaskableSurrogatePPO",
    "PPOAdaptiveKL",
    "PPOClip",
    "PPOFixedKL",
    "PPONoClip",
    "RecurrentPPOAdaptiveKL",
    "RecurrentPPOClip",
    "RecurrentPPOFixedKL",
    "RecurrentPPONoClip",
    "RecurrentSurrogatePPO",
    "SurrogatePPO",
    "__version__",
]
