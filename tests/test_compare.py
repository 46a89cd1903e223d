"""The quick-start head-to-head runs and prints its table."""

from __future__ import annotations

import pytest
import torch as th
from stable_baselines3 import PPO
from stable_baselines3.common.env_util import make_vec_env

from sb3_ppo_variants.compare import CARTPOLE_KWARGS, evaluate, main


def test_compare_prints_a_table(capsys: pytest.CaptureFixture[str]) -> None:
    # ppo_per_sample_kl is longer than the other keys: its row must still line up with the header
    algos = ["ppo", "ppo_clip", "ppo_fixed_kl", "ppo_per_sample_kl"]
    results = main(["--timesteps", "512", "--n-envs", "2", "--eval-episodes", "2", "--seeds", "0", "--algos", *algos])
    assert set(results) == set(algos)
    out = capsys.readouterr().out
    width = len("ppo_per_sample_kl")
    assert f"| {'algorithm':<{width}} | untrained | mean return | wall time (s) |" in out
    assert "2 eval episodes (sampled actions)" in out
    table = [line for line in out.splitlines() if line.startswith("|")]
    assert len(table) == 2 + len(algos)
    assert {len(line) for line in table} == {len(table[0])}
    bars = [[i for i, c in enumerate(line) if c == "|"] for line in table]
    assert bars == [bars[0]] * len(table)
    for algo in algos:
        ((untrained, trained, wall_time),) = results[algo]
        assert f"| {algo:<{width}} | {untrained:9.1f} | {trained:11.1f} |" in out and wall_time > 0
    # the same seed and arguments: PPOClip is stock PPO bit for bit, so the two evaluations agree exactly
    assert results["ppo_clip"][0].trained == results["ppo"][0].trained
    # every objective starts from the same policy of seed 0
    assert len({results[algo][0].untrained for algo in algos}) == 1

    # the evaluation before training leaves training alone: stock PPO, trained and evaluated without it, scores the same
    th.set_num_threads(1)
    model = PPO("MlpPolicy", make_vec_env("CartPole-v1", n_envs=2, seed=0), seed=0, device="cpu", **CARTPOLE_KWARGS)
    model.learn(512)
    assert evaluate(model, "CartPole-v1", seed=0, eval_episodes=2, deterministic=False) == results["ppo"][0].trained


def test_compare_deterministic_evaluates_greedily(capsys: pytest.CaptureFixture[str]) -> None:
    (result,) = main(
        ["--timesteps", "256", "--n-envs", "2", "--eval-episodes", "2", "--seeds", "0", "--algos", "ppo", "--deterministic"]
    )["ppo"]
    assert "2 eval episodes (greedy actions)" in capsys.readouterr().out
    model = PPO("MlpPolicy", make_vec_env("CartPole-v1", n_envs=2, seed=0), seed=0, device="cpu", **CARTPOLE_KWARGS)
    assert result.untrained == evaluate(model, "CartPole-v1", seed=0, eval_episodes=2, deterministic=True)


def test_compare_averages_three_seeds_by_default(capsys: pytest.CaptureFixture[str]) -> None:
    results = main(["--timesteps", "64", "--n-envs", "2", "--eval-episodes", "1", "--algos", "ppo"])
    assert len(results["ppo"]) == 3 and "seeds [0, 1, 2]" in capsys.readouterr().out


def test_compare_rejects_bad_arguments() -> None:
    with pytest.raises(SystemExit):
        main(["--timesteps", "0"])
    with pytest.raises(SystemExit):
        main(["--env", "NoSuchEnv-v0"])
