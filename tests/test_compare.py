"""The quick-start head-to-head runs and prints its table."""

from __future__ import annotations

import pytest

from sb3_ppo_variants.compare import main


def test_compare_prints_a_table(capsys: pytest.CaptureFixture[str]) -> None:
    # ppo_per_sample_kl is longer than the other keys: its row must still line up with the header
    algos = ["ppo", "ppo_clip", "ppo_fixed_kl", "ppo_per_sample_kl"]
    results = main(["--timesteps", "512", "--n-envs", "2", "--eval-episodes", "2", "--algos", *algos])
    assert set(results) == set(algos)
    out = capsys.readouterr().out
    width = len("ppo_per_sample_kl")
    assert f"| {'algorithm':<{width}} | mean return | wall time (s) |" in out
    table = [line for line in out.splitlines() if line.startswith("|")]
    assert len(table) == 2 + len(algos)
    assert {len(line) for line in table} == {len(table[0])}
    bars = [[i for i, c in enumerate(line) if c == "|"] for line in table]
    assert bars == [bars[0]] * len(table)
    for algo in algos:
        ((mean_return, wall_time),) = results[algo]
        assert f"| {algo:<{width}} | {mean_return:11.1f} |" in out and wall_time > 0
    # the same seed and arguments: PPOClip is stock PPO bit for bit, so the two evaluations agree exactly
    assert results["ppo_clip"][0][0] == results["ppo"][0][0]


def test_compare_rejects_bad_arguments() -> None:
    with pytest.raises(SystemExit):
        main(["--timesteps", "0"])
    with pytest.raises(SystemExit):
        main(["--env", "NoSuchEnv-v0"])
