"""The throughput benchmark runs interleaved and writes its figures."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from sb3_ppo_variants.benchmark.throughput import main


def test_throughput_smoke(tmp_path: Path) -> None:
    out = tmp_path / "throughput.json"
    # the exact path only: each timing is a full rollout and update of SB3's defaults (n_steps 2048), whatever
    # --timesteps says, and the fast path's label is the next test's
    args = ["--env", "CartPole-v1", "--timesteps", "256", "--repeats", "2", "--algos", "ppo_clip", "--modes", "exact"]
    results = main([*args, "--out", str(out)])
    (config,) = results
    assert set(config["algos"]) == {"ppo", "ppo_clip"}  # stock PPO is always the reference
    assert config["algos"]["ppo"]["wall_time_ratio_vs_ppo"] == 1.0
    row = config["algos"]["ppo_clip"]
    assert len(row["seconds"]) == 2 and row["steps_per_second"] > 0 and 0 < row["fraction_of_env_only"] < 1
    saved = json.loads(out.read_text())
    assert saved["results"] == results and "throughput" in saved["meta"]["command"]


def test_throughput_fast_mode_only(tmp_path: Path) -> None:
    args = ["--env", "CartPole-v1", "--timesteps", "256", "--repeats", "1", "--algos", "ppo_no_clip", "--modes", "fast"]
    (config,) = main(args)
    assert list(config["algos"]) == ["ppo", "ppo_no_clip+fast"]


def test_the_readme_table_of_a_stored_file(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    config = {
        "env": "CartPole-v1",
        "n_envs": 1,
        "algos": {
            "ppo": {"seconds": [2.0, 4.0, 3.0], "steps_per_second": 100.0, "fraction_of_env_only": 0.1},
            "ppo_clip+fast": {"seconds": [1.0, 1.0, 1.5], "steps_per_second": 250.0, "fraction_of_env_only": 0.25},
        },
    }
    path = tmp_path / "throughput.json"
    path.write_text(json.dumps({"meta": {}, "results": [config]}))
    main(["--table", str(path)])
    out = capsys.readouterr().out
    # per-repeat speed-ups 2, 4 and 2: median 2, range 2-4
    assert "| CartPole-v1 | 1 | `PPOClip` `fast=True` | 250 | **2.00×** | 2.00–4.00 | 25.0% |" in out  # noqa: RUF001
    assert "| CartPole-v1 | 1 | SB3 `PPO` | 100 | 1.00× |  | 10.0% |" in out  # noqa: RUF001
