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


@pytest.fixture(autouse=True)
def fewer_bootstrap_resamples(monkeypatch: pytest.MonkeyPatch) -> None:
    """Reports in tests resample 1,000 times instead of the published 20,000: the tests check what the CIs are made of
    and that they are reproducible, not their third digit, and 20,000 resamples per report cost most of these tests'
    time (about 20 s per report on a 2-core machine)."""
    from sb3_ppo_variants.benchmark import report

    monkeypatch.setattr(report, "BOOTSTRAP_REPS", 1_000)


@pytest.fixture
def grid_file(tmp_path: Path) -> Path:
    path = tmp_path / "grid.yml"
    path.write_text(TINY_GRID_YML)
    return path
