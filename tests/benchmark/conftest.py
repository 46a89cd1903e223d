from __future__ import annotations

from pathlib import Path

import pytest

from sb3_ppo_variants.benchmark.grid import Grid, Setting

TINY_HYPERPARAMS = {"n_steps": 256, "batch_size": 64, "n_epochs": 2}


def tiny_grid(timesteps: int = 1024, seeds: tuple[int, ...] = (0, 1)) -> Grid:
    """2 settings x 1 small env x 2 seeds x a few thousand steps."""
    settings = [Setting("clip_0.2", "ppo_clip", {"clip_range": 0.2}), Setting("sb3_ppo", "ppo")]
    return Grid(settings, ["CartPole-v1"], list(seeds), timesteps, hyperparams=dict(TINY_HYPERPARAMS))


TINY_GRID_YML = """
settings:
  clip_0.2: {algo: ppo_clip, kwargs: {clip_range: 0.2}}
  sb3_ppo: {algo: ppo}
envs: [CartPole-v1]
seeds: [0, 1]
timesteps: 3000
hyperparams: {n_steps: 256, batch_size: 64, n_epochs: 2}
"""


@pytest.fixture
def grid_file(tmp_path: Path) -> Path:
    path = tmp_path / "grid.yml"
    path.write_text(TINY_GRID_YML)
    return path
