"""Table 1's rows without a penalty: "Clipping" (L^CLIP, eq. 7) and "No clipping or penalty" (L^CPI, eq. 6)."""

from __future__ import annotations

from typing import Any

from sb3_ppo_variants.objectives.objective import PolicyObjective


class Clipping(PolicyObjective):
    """Table 1's "Clipping" rows: L^CLIP (eq. 7), PPO's own objective."""

    key = "clip"
    class_suffix = "Clip"
    title = "clipping"
    description = (
        'the clipped surrogate objective L^CLIP (eq. 7; Table 1, "Clipping").\n\n'
        "With the same arguments and seed it is bit-for-bit identical to the stock algorithm (a test guards it)."
    )
    clip_range_doc = (
        "ε of eq. 7 (paper: 0.1, 0.2, 0.3; best 0.2), or a schedule of the progress remaining (from 1 to 0). Must be > 0; "
        "``float('inf')`` clips nothing, which is the no-clip row."
    )
    is_ppo = True
    zoo_clip_range = True
    paper_knobs = {"clip_range": 0.2}

    def check_clip_range(self, owner: str, clip_range: Any) -> None:
        refuse_no_clip_range(owner, self.class_suffix, clip_range)


def refuse_no_clip_range(owner: str, class_suffix: str, clip_range: Any) -> None:
    """An objective built on ε refuses None (the no-clip row is :class:`NoClipping`)."""
    if clip_range is None:
        no_clip = owner.removesuffix(class_suffix) + NoClipping.class_suffix
        raise ValueError(f"`clip_range` of {owner} must be a number > 0 or a schedule; for no clipping use {no_clip}")


class NoClipping(PolicyObjective):
    """Table 1's "No clipping or penalty" row: L^CPI (eq. 6)."""

    key = "no_clip"
    class_suffix = "NoClip"
    title = "no clipping"
    description = (
        'the plain importance-sampled surrogate L^CPI = r_t(θ)·Â_t (eq. 6; Table 1, "No clipping or penalty"): '
        "nothing keeps the policy close to the one that collected the data. The paper's baseline, which scored -0.39 "
        "(worse than a random policy on HalfCheetah).\n\n"
        "``train/clip_fraction`` is still logged, as a diagnostic: the fraction of ratios outside [0.8, 1.2], i.e. what "
        "PPO-Clip with ε = 0.2 would have clipped."
    )
    takes_clip_range = False
    clip_range_default = None
