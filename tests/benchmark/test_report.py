from __future__ import annotations

from pathlib import Path

import pytest

from sb3_ppo_variants.benchmark.report import Aggregate, normalize, ordering_verdict, run_score
from sb3_ppo_variants.benchmark.store import RunResult


def test_normalization_hand_worked() -> None:
    # env A: random -10, best run 30 -> (s + 10) / 40;  env B: random 0, best 5 -> s / 5
    scores = {"A": {"clip": [30.0, 10.0], "no_clip": [-10.0, -20.0]}, "B": {"clip": [5.0, 2.5], "no_clip": [0.0, 1.0]}}
    normalized = normalize(scores, {"A": -10.0, "B": 0.0})
    assert normalized["A"]["clip"] == pytest.approx([1.0, 0.5])
    assert normalized["A"]["no_clip"] == pytest.approx([0.0, -0.25])
    assert normalized["B"]["clip"] == pytest.approx([1.0, 0.5])
    assert normalized["B"]["no_clip"] == pytest.approx([0.0, 0.2])


def test_normalization_needs_a_run_better_than_random() -> None:
    with pytest.raises(ValueError, match="random policy"):
        normalize({"A": {"x": [1.0]}}, {"A": 2.0})


def _run(returns: list[float]) -> RunResult:
    episodes = [(i * 10, r, 10) for i, r in enumerate(returns)]
    return RunResult("k", "s", "ppo", "e", 0, 1000, 1, {}, "v", 1.0, 1.0, "t", "h", episodes)


def test_run_score_is_the_mean_of_the_last_100_episodes() -> None:
    assert run_score(_run([0.0] * 50 + [1.0] * 100)) == 1.0
    assert run_score(_run([2.0, 4.0])) == 3.0
    with pytest.raises(ValueError, match="no episode"):
        run_score(_run([]))


def test_ordering_verdict() -> None:
    def agg(setting: str, mean: float, lo: float, hi: float) -> Aggregate:
        return Aggregate(setting, 21, mean, (lo, hi), mean, (lo, hi), None)

    aggregates = [agg("clip_0.2", 0.8, 0.7, 0.9), agg("fixed_kl_3", 0.75, 0.6, 0.85), agg("no_clip", -0.3, -0.5, -0.1)]
    runs = [_run([1.0]) for _ in range(3)]
    for run, (setting, algo) in zip(
        runs, [("clip_0.2", "ppo_clip"), ("fixed_kl_3", "ppo_fixed_kl"), ("no_clip", "ppo_no_clip")], strict=True
    ):
        run.setting, run.algo = setting, algo
    lines = ordering_verdict(aggregates, runs)
    assert "**holds** but the 95% CIs overlap" in lines[0]
    assert "≫ no clipping" in lines[1] and "**holds** with non-overlapping" in lines[1]
    assert "below the random policy" in lines[2] and "**holds**" in lines[2]


def test_episodes_round_trip_through_the_store(tmp_path: Path) -> None:
    from sb3_ppo_variants.benchmark.store import ResultsStore

    run = _run([1.5, -2.25, 1e6])
    store = ResultsStore(tmp_path)
    store.add_run(run)
    (stored,) = store.runs()
    assert stored == run


def test_aggregate_ci_needs_two_seeds_and_incomplete_settings_are_named() -> None:
    from sb3_ppo_variants.benchmark.report import aggregate, incomplete_settings

    normalized = {"A": {"x": [0.5, 1.0], "y": [0.2]}, "B": {"x": [0.0, 0.5]}}
    (x,) = aggregate(normalized)  # y has no run on B: left out
    assert x.setting == "x" and x.runs == 4 and x.mean == pytest.approx(0.5)
    assert x.mean_ci is not None and x.mean_ci[0] <= 0.5 <= x.mean_ci[1]
    assert incomplete_settings(normalized) == {"y": ["B"]}
    (single,) = aggregate({"A": {"x": [0.5]}, "B": {"x": [1.0]}})
    assert single.mean_ci is None and single.iqm_ci is None  # one run per env: no bootstrap interval


def test_a_fast_row_carries_its_settings_paper_score() -> None:
    from sb3_ppo_variants.benchmark.report import aggregate

    normalized = {
        "A": {"clip_0.2_fast": [0.5, 1.0], "sb3_ppo": [0.4, 0.9]},
        "B": {"clip_0.2_fast": [0.2, 0.4], "sb3_ppo": [0.1, 0.3]},
    }
    papers = {a.setting: a.paper for a in aggregate(normalized)}
    assert papers == {"clip_0.2_fast": 0.82, "sb3_ppo": None}


def test_the_bootstrap_cis_are_reproducible_and_leave_numpys_generator_alone() -> None:
    import numpy as np

    from sb3_ppo_variants.benchmark.report import aggregate

    rng = np.random.default_rng(0)
    normalized = {env: {s: list(rng.random(3)) for s in ("x", "y")} for env in ("A", "B", "C")}
    np.random.seed(1)
    first = [(a.mean_ci, a.iqm_ci) for a in aggregate(normalized)]
    after = np.random.random()
    np.random.seed(2)  # another state of the global generator, which rliable's resampling reads
    assert [(a.mean_ci, a.iqm_ci) for a in aggregate(normalized)] == first
    np.random.seed(1)
    aggregate(normalized)
    assert np.random.random() == after  # the caller's generator is where it was
