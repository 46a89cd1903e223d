from __future__ import annotations

import dataclasses
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from sb3_ppo_variants.benchmark.report import Aggregate, normalize, ordering_verdict, read_scores_csv, run_score
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


def test_the_papers_best_setting_and_halfcheetah_claims() -> None:
    def agg(setting: str, mean: float, lo: float, hi: float, paper: float | None) -> Aggregate:
        return Aggregate(setting, 21, mean, (lo, hi), mean, (lo, hi), paper)

    algos = {"clip_0.2_fast": "ppo_clip", "fixed_kl_1_fast": "ppo_fixed_kl", "no_clip_fast": "ppo_no_clip", "sb3_ppo": "ppo"}
    runs = []
    for setting, algo in algos.items():
        run = _run([1.0])
        run.setting, run.algo = setting, algo
        runs.append(run)
    no_clip = agg("no_clip_fast", -0.1, -0.3, 0.1, -0.39)
    # stock PPO (no paper score) is not one of Table 1's settings: clip 0.2 is the best of those
    first = [
        agg("sb3_ppo", 0.9, 0.8, 1.0, None),
        agg("clip_0.2_fast", 0.8, 0.7, 0.9, 0.82),
        agg("fixed_kl_1_fast", 0.5, 0.4, 0.6, 0.71),
    ]
    raw = {"HalfCheetah-v5": {"no_clip_fast": [-700.0, -100.0, -500.0], "clip_0.2_fast": [1500.0]}, "Hopper-v5": {}}
    lines = ordering_verdict([*first, no_clip], runs, raw, {"HalfCheetah-v5": -286.5, "Hopper-v5": 18.0})
    assert lines[0] == (
        "- clipping with ε = 0.2 is the best setting (the paper's 0.82): clip_0.2_fast 0.80, next fixed_kl_1_fast 0.50: "
        "**holds** with non-overlapping 95% CIs."
    )
    assert lines[-1] == (
        "- no clipping scores below the random policy on HalfCheetah-v5: **holds** (no_clip_fast -433.3 against the "
        "random policy's -286.5; below it in 2 of 3 seeds)."
    )
    reversed_ = [agg("fixed_kl_1_fast", 0.85, 0.75, 0.95, 0.71), agg("clip_0.2_fast", 0.8, 0.7, 0.9, 0.82), no_clip]
    line = ordering_verdict(reversed_, runs)[0]
    assert "best fixed_kl_1_fast 0.85: **does not hold** (reversed, but the 95% CIs overlap)." in line
    # without the raw scores, or without a HalfCheetah task, there is no HalfCheetah claim
    assert not any("HalfCheetah" in line for line in ordering_verdict(reversed_, runs))


def test_the_aggregate_covers_the_envs_every_setting_has_while_a_grid_is_in_progress() -> None:
    from sb3_ppo_variants.benchmark.report import envs_for_aggregate

    # the grid reached C with one setting of three: keeping A and B keeps 6 runs, dropping x and y keeps 3
    in_progress = {"A": {"x": [0.5], "y": [0.4], "z": [0.1]}, "B": {"x": [0.9], "y": [0.2], "z": [0.3]}, "C": {"z": [0.7]}}
    covered, left_out = envs_for_aggregate(in_progress)
    assert sorted(covered) == ["A", "B"] and left_out == ["C"]
    # one odd setting on one env only: dropping it (9 runs) beats keeping A alone (4 runs)
    odd = {env: {"x": [0.5], "y": [0.4], "z": [0.1]} for env in "ABC"}
    odd["A"]["w"] = [1.0]
    assert envs_for_aggregate(odd) == (odd, [])
    complete = {env: {"x": [0.5]} for env in "AB"}
    assert envs_for_aggregate(complete) == (complete, [])


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


def test_the_bootstrap_warns_of_nothing() -> None:
    import warnings

    from sb3_ppo_variants.benchmark.report import aggregate

    # arch deprecates the random_state that rliable hands on to it (FutureWarning): the report passes none
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        (x,) = aggregate({"A": {"x": [0.5, 1.0]}, "B": {"x": [0.0, 0.5]}})
    assert x.mean_ci is not None


def _store_with(folder: Path, rows: dict[tuple[str, str], float], timesteps: int = 120_000) -> None:
    """A store with two seeds of each (setting, algo) at the given return level on two MuJoCo tasks."""
    from sb3_ppo_variants.benchmark.store import ResultsStore

    store = ResultsStore(folder)
    for env, random in (("HalfCheetah-v5", -300.0), ("Hopper-v5", 20.0)):
        store.set_random_score(env, random, 1.0, 100, seed=0)
        for (setting, algo), level in rows.items():
            for seed in (0, 1):
                episodes = [(i * 1000, level + seed, 1000) for i in range(1, 120)]
                key = f"{setting}|{env}|{seed}"
                store.add_run(RunResult(key, setting, algo, env, seed, timesteps, 1, {}, "v", 1.0, 1.0, "t", "h", episodes))


def test_comparators_stay_out_of_table_1s_normalisation_and_get_figure_3(tmp_path: Path) -> None:
    import json

    from sb3_ppo_variants.benchmark.report import make_report

    rows = {("clip_0.2_fast", "ppo_clip"): 1000.0, ("sb3_ppo", "ppo"): 900.0, ("sb3_trpo", "trpo"): 5000.0}
    _store_with(tmp_path, rows)
    make_report(tmp_path)
    aggregate = {a["setting"]: a for a in json.loads((tmp_path / "aggregate.json").read_text())["aggregate"]}
    assert set(aggregate) == {"clip_0.2_fast", "sb3_ppo"}  # TRPO's 5000 is not Table 1's best run
    assert aggregate["clip_0.2_fast"]["mean"] == pytest.approx((1.0 + (1000 - (-300)) / (1001 - (-300))) / 2, rel=0.01)
    report = (tmp_path / "report.md").read_text()
    assert report.startswith("# Table 1 benchmark report\n") and "## Does the paper's ordering hold?" in report
    figure3 = report[report.index("## Figure 3") :]
    assert "| paper, PPO-Clip (Figure 3) | ~1800 | ~2300 |" in figure3 and "| sb3_trpo | 5000.5 ± 0.7 (2)" in figure3
    assert "SB3's defaults on HalfCheetah-v5, Hopper-v5" not in figure3 and "the zoo's Hopper-v4" in figure3
    assert (tmp_path / "figure3_curves.png").is_file()
    scores = {(row["setting"], row["env"], row["seed"]): row for row in read_scores_csv(tmp_path)}
    assert len(scores) == 12 and read_scores_csv(tmp_path / "nowhere") == []
    assert scores["sb3_trpo", "Hopper-v5", "0"]["normalized_score"] == ""
    assert scores["clip_0.2_fast", "Hopper-v5", "1"]["normalized_score"] == "1.0000"


def test_reaches_paper_reads_the_interval_against_the_value_read_off_figure_3() -> None:
    from sb3_ppo_variants.benchmark.figure3 import paper_value, reaches_paper

    assert paper_value("Walker2d-v5") == "~3000-3460" and paper_value("Reacher-v5") == "~-7" and paper_value("Ant-v5") == ""
    # Walker2d's reading is a range: an interval that overlaps it is consistent, one above its top exceeds it
    assert "**consistent with it (the interval covers it)**" in reaches_paper("Walker2d-v5", [3400.0, 3500.0, 3600.0])
    assert "**exceeds it**" in reaches_paper("Walker2d-v5", [3600.0, 3610.0, 3620.0])
    assert "**falls short of it**" in reaches_paper("Reacher-v5", [-9.0, -9.1, -9.2])
    assert reaches_paper("Hopper-v5", [2400.0]).endswith("too few runs for a confidence interval.")
    assert reaches_paper("Ant-v5", [1.0, 2.0]) == "the paper has no value for this task."


def test_paper_code_rows_are_compared_with_the_baseline_folder(tmp_path: Path) -> None:
    from sb3_ppo_variants.benchmark.report import make_report

    _store_with(tmp_path / "defaults", {("clip_0.2_fast", "ppo_clip"): 1000.0})
    _store_with(tmp_path / "paper_code", {("clip_0.2_paper_code_fast", "ppo_clip"): 1500.0})
    make_report(tmp_path / "paper_code", baseline=tmp_path / "defaults")
    report = (tmp_path / "paper_code" / "report.md").read_text()
    section = report[report.index("## The paper's code-level settings") :]
    assert "| task | paper, PPO-Clip (Figure 3) | clip_0.2_paper_code_fast | SB3 defaults |" in section
    # the two seeds score 1 apart: mean ± 12.71 (t, 1 dof) * 0.707 / sqrt(2)
    assert "| HalfCheetah-v5 | ~1800 | 1500.5 ± 0.7 (2) [1494.1, 1506.9] | 1000.5 ± 0.7 (2) [994.1, 1006.9] |" in section
    assert (
        "- HalfCheetah-v5, `clip_0.2_paper_code_fast`: 1500.5 ± 0.7 (2), 95% CI [1494.1, 1506.9] vs the paper's ~1800: "
        "**falls short of it**." in section
    )
    written = {f.name: f.stat().st_mtime_ns for f in (tmp_path / "paper_code").iterdir() if f.is_file()}
    with pytest.raises(ValueError, match="no results store"):
        make_report(tmp_path / "paper_code", baseline=tmp_path / "nowhere")
    assert not (tmp_path / "nowhere").exists()
    # a baseline of another budget is refused before any file of the report is rewritten
    _store_with(tmp_path / "other_budget", {("clip_0.2_fast", "ppo_clip"): 1000.0}, timesteps=2000)
    with pytest.raises(ValueError, match="no run of"):
        make_report(tmp_path / "paper_code", baseline=tmp_path / "other_budget")
    assert {f.name: f.stat().st_mtime_ns for f in (tmp_path / "paper_code").iterdir() if f.is_file()} == written


def test_an_unbeaten_env_and_other_budgets_are_named_and_files_are_readable(tmp_path: Path) -> None:
    import os
    import stat

    from sb3_ppo_variants.benchmark.report import make_report
    from sb3_ppo_variants.benchmark.store import ResultsStore

    _store_with(tmp_path, {("clip_0.2_fast", "ppo_clip"): 1000.0})
    store = ResultsStore(tmp_path)
    store.set_random_score("Hopper-v5", 5000.0, 1.0, 100, seed=0)  # no run beats it
    short = [(i * 100, 1.0, 100) for i in range(1, 20)]
    store.add_run(RunResult("short", "clip_0.2_fast", "ppo_clip", "Hopper-v5", 0, 2000, 1, {}, "v", 1.0, 1.0, "t", "h", short))
    old = os.umask(0o022)
    try:
        make_report(tmp_path)
    finally:
        os.umask(old)
    report = (tmp_path / "report.md").read_text()
    assert "Hopper-v5: no run beats the random policy (5e+03)" in report
    assert "1 runs of other budgets (2,000 timesteps) are not in this report" in report
    assert "| clip_0.2_fast | 1000.5 ± 0.7 (2) | 1000.5 ± 0.7 (2) |" in report  # raw scores of both envs
    for name in ("report.md", "scores.csv", "aggregate.json", "learning_curves.png", "aggregate.png"):
        assert stat.S_IMODE((tmp_path / name).stat().st_mode) == 0o644, name


def test_klip_section_sets_their_table_beside_ours_in_their_metric(tmp_path: Path) -> None:
    from sb3_ppo_variants.benchmark.klip import klip_section, last_tenth_return
    from sb3_ppo_variants.benchmark.report import make_report
    from sb3_ppo_variants.benchmark.store import ResultsStore

    store = ResultsStore(tmp_path)
    store.set_random_score("Ant-v5", -100.0, 1.0, 100, seed=0)
    levels = {("klip_clip_0.2_fast", "ppo_clip"): 2000.0, ("klip_fixed_kl_1_fast", "ppo_fixed_kl"): 100.0}
    for (setting, algo), level in levels.items():
        for seed in (0, 1):
            # returns climb; only the episodes ending after 90% of the 10,000 steps count
            episodes = [(t, level * t / 10_000 + seed, 100) for t in range(100, 10_001, 100)]
            run = RunResult(
                f"{setting}|{seed}", setting, algo, "Ant-v5", seed, 10_000, 1, {}, "v", 1.0, 1.0, "t", "h", episodes
            )
            store.add_run(run)
    # a run whose last episode ended before 90% of its steps has no score in their metric: left out, and named
    early = [(t, 5000.0, 100) for t in range(100, 9_001, 100)]
    late = RunResult("late", "klip_clip_0.2_fast", "ppo_clip", "Ant-v5", 2, 10_000, 1, {}, "v", 1, 1, "t", "h", early)
    store.add_run(late)
    assert last_tenth_return(store.runs()[0]) == pytest.approx(2000.0 * np.mean(np.arange(9100, 10_001, 100)) / 10_000)
    assert last_tenth_return(late) is None
    make_report(tmp_path)
    report = (tmp_path / "report.md").read_text()
    # no Table 1 row: neither the paper's title nor its ordering verdicts
    assert report.startswith("# Benchmark report\n") and "ordering hold" not in report and "11 settings" not in report
    section = report.split("## KLip-PPO's comparison")[1]
    assert "theirs: mean ± std over 5 seeds on the -v4 tasks, ours: Ant-v5. Rows: `klip_clip_0.2_fast`" in section
    assert "Left out: 1 runs that finished no episode in their last 10% of timesteps" in section
    assert "a budget of a few episodes): klip_clip_0.2_fast Ant-v5 seed 2." in section
    # two seeds 1 apart: mean ± 12.71 (t, 1 dof) * 0.707 / sqrt(2)
    assert "| Ant-v5 | clip | 1910 ± 1 (2) | [1904, 1917] | 2193 ± 361 |" in section
    assert "| Ant-v5 | fixed_kl | 96 ± 1 (2) | [90, 102] | 16 ± 16 |" in section
    assert "- Ant-v5: fixed_kl 96 vs clip 1910 (2 and 2 runs): **holds**" in section
    assert "The 95% CIs settle it: fixed_kl [90, 102], half of clip [952, 958]." in section
    assert "- Humanoid: no runs." in section
    # the -v5 task's differences from their -v4 one are named for the tasks with runs
    assert "The tasks differ from theirs: Ant-v5 observes the contact forces (105 numbers; -v4 by default 27)" in section
    assert "Humanoid-v5 drops" not in section
    v4 = [dataclasses.replace(run, env="Ant-v4") for run in store.runs()]
    assert "The tasks differ from theirs" not in "\n".join(klip_section(v4))  # their task: nothing to name
    # two versions of a task in one folder are two rows each, never pooled
    both = "\n".join(klip_section([*store.runs(), v4[0]]))  # Ant-v4: clipping, seed 0
    assert "| Ant-v4 | clip | 1910 (1) |" in both and "| Ant-v5 | clip | 1910 ± 1 (2) |" in both
    assert "- Ant-v4: no scalar-β runs yet." in both and "- Ant-v5: fixed_kl 96 vs clip 1910 (2 and 2 runs)" in both
    # a grid in progress: clipping's runs stored, the scalar-β ones not yet
    clip_only = [run for run in store.runs() if run.setting == "klip_clip_0.2_fast"]
    assert "- Ant-v5: no scalar-β runs yet." in klip_section(clip_only)
    beta_only = [run for run in store.runs() if run.setting != "klip_clip_0.2_fast"]
    assert "- Ant-v5: no PPO-Clip runs yet." in klip_section(beta_only)


def test_klip_verdict_says_when_the_intervals_do_not_settle_it() -> None:
    from sb3_ppo_variants.benchmark.klip import _verdict

    # below half of clip's mean, but the scalar-β seeds spread over half of clip's interval
    unsettled = _verdict("adaptive_kl", [100.0, 900.0, 500.0], [1000.0, 1100.0, 1200.0])
    assert "**holds**" in unsettled and "The 95% CIs do not settle it" in unsettled
    # above half, with tight seeds on both sides: settled the other way
    settled = _verdict("fixed_kl", [900.0, 910.0, 920.0], [1000.0, 1010.0, 1020.0])
    assert "**does not hold**" in settled and "The 95% CIs settle it" in settled
    assert _verdict("fixed_kl", [100.0], [1000.0]).endswith("Too few runs for confidence intervals.")


def test_klip_partition_table_averages_each_runs_updates_then_the_seeds() -> None:
    from sb3_ppo_variants.benchmark.klip import partition_table

    def run(setting: str, seed: int, env: str = "Ant-v5") -> RunResult:
        return RunResult(f"{setting}|{env}|{seed}", setting, "a", env, seed, 1000, 1, {}, "v", 1.0, 1.0, "t", "h", [])

    def updates(in_band: list[float], killed: float, approx_kl: list[float], **beta: list[float]) -> dict[str, np.ndarray]:
        passed = [1.0 - value - killed for value in in_band]
        keys = {"train/frac_in_band": in_band, "train/frac_killed": [killed] * 3, "train/frac_passed": passed}
        keys |= {"train/approx_kl": approx_kl, **{f"train/{name}": values for name, values in beta.items()}}
        return {"timestep": np.array([1.0, 2.0, 3.0]), **{key: np.array(values) for key, values in keys.items()}}

    runs = [
        run("klip_fixed_kl_1_fast", 0),
        run("klip_clip_0.2_fast", 0),
        run("klip_clip_0.2_fast", 1),
        run("klip_per_sample_kl_fast", 0, "Humanoid-v5"),
        run("sb3_ppo", 0),  # not a klip setting: no row
        run("klip_adaptive_kl_0.02_fast", 0),  # recorded no partition (older code): no row
    ]
    recorded = {
        # a scalar β's KL: one update thousands of times the others, which the median ignores
        runs[0].key: updates([0.2, 0.3, 0.4], 0.5, [0.1, 0.2, 5000.0], kl_coef=[1.0, 1.0, 1.0]),
        runs[1].key: updates([0.6, 0.7, 0.8], 0.1, [0.01, 0.02, 0.03]),
        runs[2].key: updates([0.8, 0.8, 0.8], 0.2, [0.03, 0.04, 0.05]),
        runs[3].key: updates([0.5, 0.5, 0.5], 0.4, [0.1, 0.1, 0.1], kl_coef_killed=[1.0, 2.0, 3.0]),
        runs[4].key: updates([0.5, 0.5, 0.5], 0.4, [0.1, 0.1, 0.1]),
        runs[5].key: {"timestep": np.array([1.0]), "train/approx_kl": np.array([0.1]), "train/kl_coef": np.array([2.0])},
    }
    table = partition_table(runs, recorded)
    rows = [line for line in table if line.startswith("| ") and not line.startswith("| task")]
    # tasks in order, objectives in the preset's order; clip over 2 seeds: in band (0.7 + 0.8) / 2, approx KL the
    # seeds' medians (0.02, 0.04) averaged
    assert rows == [
        "| Ant-v5 | clip | 0.750 | 0.150 | 0.100 |  | 0.03 | 2 |",
        "| Ant-v5 | fixed_kl | 0.300 | 0.500 | 0.200 | 1.00 | 0.2 | 1 |",
        "| Humanoid-v5 | per_sample_kl | 0.500 | 0.400 | 0.100 | 2.00 | 0.1 | 1 |",
    ]
    assert partition_table(runs[4:], recorded) == []
    # a run of older code without β or the approximate KL: the cells average the runs that have them
    older = run("klip_fixed_kl_1_fast", 1)
    recorded[older.key] = updates([0.5, 0.5, 0.5], 0.5, [1.0, 1.0, 1.0])
    del recorded[older.key]["train/approx_kl"]
    (fixed,) = [line for line in partition_table([runs[0], older], recorded) if "fixed_kl" in line]
    assert fixed == "| Ant-v5 | fixed_kl | 0.400 | 0.500 | 0.100 | 1.00 | 0.2 | 2 |"


def test_the_comparators_hyperparameter_note_names_only_what_applies() -> None:
    from sb3_ppo_variants.benchmark.figure3 import hyperparameter_note

    def runs(*envs: str) -> list[RunResult]:
        return [
            RunResult(f"sb3_trpo|{env}|0", "sb3_trpo", "trpo", env, 0, 1000, 1, {}, "v", 1.0, 1.0, "t", "h", [])
            for env in envs
        ]

    (tuned,) = hyperparameter_note(runs("Hopper-v5"))
    assert tuned == "- `sb3_contrib.TRPO`: rl-zoo3 2.9.2's tuned hyperparameters on Hopper-v5 (the zoo's Hopper-v4)."
    (default,) = hyperparameter_note(runs("CartPole-v1"))
    assert default == "- `sb3_contrib.TRPO`: SB3's defaults on CartPole-v1 (the zoo has no entry for them)."
    (both,) = hyperparameter_note(runs("Hopper-v5", "CartPole-v1"))
    assert "tuned hyperparameters on Hopper-v5 (the zoo's Hopper-v4); SB3's defaults on CartPole-v1" in both
    assert hyperparameter_note([]) == []


def test_every_setting_of_table_1_gets_its_own_colour_and_a_family_one_hue() -> None:
    from sb3_ppo_variants.benchmark.grid import TABLE1_SETTINGS
    from sb3_ppo_variants.benchmark.report import setting_colors

    settings = {s.name: s.algo for s in TABLE1_SETTINGS}
    runs = [RunResult(f"{s}|0", s, a, "Hopper-v5", 0, 1000, 1, {}, "v", 1.0, 1.0, "t", "h", []) for s, a in settings.items()]
    colors = setting_colors(runs)
    # 11 colours: stock PPO is drawn black
    assert set(colors) == set(settings) - {"sb3_ppo"} and len(set(colors.values())) == 11

    def brightness(setting: str) -> float:
        return sum(colors[setting][:3])

    # a family's shades darken with its knob, numbers ordered by value (not as text: 10 after 3)
    assert brightness("fixed_kl_0.3") > brightness("fixed_kl_1") > brightness("fixed_kl_3") > brightness("fixed_kl_10")
    assert brightness("clip_0.1") > brightness("clip_0.2") > brightness("clip_0.3")
    # one hue per algorithm: the blue channel leads in every adaptive-KL shade, the red one in every clip shade
    assert all(colors[s][2] == max(colors[s][:3]) for s in ("adaptive_kl_0.003", "adaptive_kl_0.01", "adaptive_kl_0.03"))
    assert all(colors[s][0] == max(colors[s][:3]) for s in ("clip_0.1", "clip_0.2", "clip_0.3"))


@pytest.mark.filterwarnings("ignore::DeprecationWarning")
def test_the_klip_task_differences_are_gymnasiums() -> None:
    import gymnasium as gym

    from sb3_ppo_variants.benchmark.klip import V5_CHANGES

    def inspect(env_id: str) -> tuple[int, Any]:
        """The size of the task's observation and its unwrapped env (closed: only its settings are read)."""
        env = gym.make(env_id)
        env.close()
        return env.observation_space.shape[0], env.unwrapped

    (ant_v4_size, ant_v4), (ant_v5_size, _) = inspect("Ant-v4"), inspect("Ant-v5")
    assert f"105 numbers; -v4 by default {ant_v4_size}" in V5_CHANGES["Ant"] and ant_v5_size == 105
    assert ant_v4._use_contact_forces is False  # so -v4's default charges no contact cost
    (v4, humanoid_v4), (v5, humanoid_v5) = inspect("Humanoid-v4"), inspect("Humanoid-v5")
    assert f"drops {v4 - v5} always-zero numbers of -v4's observation ({v5} of {v4})" in V5_CHANGES["Humanoid"]
    assert "weight 5e-7" in V5_CHANGES["Humanoid"] and humanoid_v5._contact_cost_weight == 5e-7
    assert not hasattr(humanoid_v4, "_contact_cost_weight")  # -v4: no contact cost
