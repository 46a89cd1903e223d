"""The four surrogate objectives of Schulman et al. (2017), Table 1, and two beyond it (clipping as a per-sample KL
penalty, soft clipping), over SB3 PPO, MaskablePPO and RecurrentPPO."""

from sb3_ppo_variants.base import SurrogatePPO
from sb3_ppo_variants.maskable import MaskableSurrogatePPO
from sb3_ppo_variants.recurrent import RecurrentSurrogatePPO
from sb3_ppo_variants.registry import VARIANTS
from sb3_ppo_variants.variants import (
    MaskablePPOAdaptiveKL,
    MaskablePPOClip,
    MaskablePPOFixedKL,
    MaskablePPONoClip,
    MaskablePPOPerSampleKL,
    MaskablePPOSoftClip,
    PPOAdaptiveKL,
    PPOClip,
    PPOFixedKL,
    PPONoClip,
    PPOPerSampleKL,
    PPOSoftClip,
    RecurrentPPOAdaptiveKL,
    RecurrentPPOClip,
    RecurrentPPOFixedKL,
    RecurrentPPONoClip,
    RecurrentPPOPerSampleKL,
    RecurrentPPOSoftClip,
)
from sb3_ppo_variants.version import __version__

__all__ = [
    "VARIANTS",
    "MaskablePPOAdaptiveKL",
    "MaskablePPOClip",
    "MaskablePPOFixedKL",
    "MaskablePPONoClip",
    "MaskablePPOPerSampleKL",
    "MaskablePPOSoftClip",
    "MaskableSurrogatePPO",
    "PPOAdaptiveKL",
    "PPOClip",
    "PPOFixedKL",
    "PPONoClip",
    "PPOPerSampleKL",
    "PPOSoftClip",
    "RecurrentPPOAdaptiveKL",
    "RecurrentPPOClip",
    "RecurrentPPOFixedKL",
    "RecurrentPPONoClip",
    "RecurrentPPOPerSampleKL",
    "RecurrentPPOSoftClip",
    "RecurrentSurrogatePPO",
    "SurrogatePPO",
    "__version__",
]
