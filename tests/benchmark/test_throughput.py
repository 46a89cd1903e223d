"""The throughput benchmark runs interleaved and writes its figures."""

from __future__ import annotations

import json
from pathlib import Path

from sb3_ppo_variants.benchmark.throughput import main


def test_throughput_smoke(tmp_path: Path) -> None:
    out = tmp_path / "throughput.json"
    results = main(["--env", "CartPole-v1", "--timesteps", "256", "--repeats", "2", "--algos", "ppo_clip", "--out", str(out)])
    (config,) = results
    assert set(config["algos"]) == {"ppo", "ppo_clip", "ppo_clip+fast"}  # stock PPO is always the reference
    assert config["algos"]["ppo"]["wall_time_ratio_vs_ppo"] == 1.0
    row = config["algos"]["ppo_clip"]
    assert len(row["seconds"]) == 2 and row["steps_per_second"] > 0 and 0 < row["fraction_of_env_only"] < 1
    saved = json.loads(out.read_text())
    assert saved["results"] == results and "throughput" in saved["meta"]["command"]


def test_throughput_fast_mode_only(tmp_path: Path) -> None:
    args = ["--env", "CartPole-v1", "--timesteps", "256", "--repeats", "1", "--algos", "ppo_no_clip", "--modes", "fast"]
    (config,) = main(args)
    assert list(config["algos"]) == ["ppo", "ppo_no_clip+fast"]
