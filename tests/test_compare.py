"""The quick-start head-to-head runs and prints its table."""

from __future__ import annotations

import pytest

from sb3_ppo_variants.compare import main


def test_compare_prints_a_table(capsys: pytest.CaptureFixture[str]) -> None:
    results = main(["--timesteps", "512", "--n-envs", "2", "--eval-episodes", "2", "--algos", "ppo", "ppo_fixed_kl"])
    assert set(results) == {"ppo", "ppo_fixed_kl"}
    out = capsys.readouterr().out
    assert "| algorithm        | mean return | wall time (s) |" in out
    assert "| ppo_fixed_kl     |" in out
    for rows in results.values():
        ((mean_return, wall_time),) = rows
        assert mean_return > 0 and wall_time > 0


def test_compare_rejects_bad_arguments() -> None:
    with pytest.raises(SystemExit):
        main(["--timesteps", "0"])
    with pytest.raises(SystemExit):
        main(["--env", "NoSuchEnv-v0"])
