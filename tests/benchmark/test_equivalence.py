"""The fast-vs-exact comparison: statistics on synthetic runs whose answer is known, and the files it writes."""

from __future__ import annotations

import zlib
from pathlib import Path

import numpy as np
import pytest

from sb3_ppo_variants.benchmark.equivalence import compare, curve_mean, equivalence, holm, main
from sb3_ppo_variants.benchmark.store import ResultsStore, RunResult


def synthetic_run(setting: str, env: str, seed: int, level: float) -> RunResult:
    """200 episodes over 10k steps whose returns rise linearly to ``level`` plus seeded noise."""
    rng = np.random.default_rng([zlib.crc32(f"{setting}|{env}".encode()), seed])
    episodes = [(50 * (i + 1), level * (i + 1) / 200 + float(rng.normal(0, 1)), 50) for i in range(200)]
    return RunResult(
        f"{setting}|{env}|{seed}", setting, "ppo_clip", env, seed, 10_000, 1, {}, "v", 1.0, 1.0, "t", "h", episodes
    )


def test_holm_hand_worked() -> None:
    # sorted p: 0.01 (x3 = 0.03), 0.02 (x2 = 0.04), 0.04 (x1 = 0.04, kept monotone)
    assert holm([0.04, 0.01, 0.02]) == pytest.approx([0.04, 0.03, 0.04])
    assert holm([0.6, 0.5]) == pytest.approx([1.0, 1.0])


def test_compare_sees_a_shift_and_not_noise() -> None:
    a = [10.0, 11.0, 9.0, 10.5, 9.5]
    shifted = compare(a, [x + 5 for x in a])
    assert shifted["difference"] == pytest.approx(5.0) and shifted["p"] < 1e-4
    assert shifted["difference_ci"][0] <= 5.0 <= shifted["difference_ci"][1]
    same = compare(a, [10.2, 10.8, 9.1, 10.4, 9.6])
    assert same["p"] > 0.5 and same["difference_ci"][0] < 0 < same["difference_ci"][1]
    with pytest.raises(ValueError, match="at least 2 runs"):
        compare([1.0], [1.0, 2.0])


def test_compare_runs_without_spread() -> None:
    # every run at a task's cap: no t statistic, the difference known exactly
    capped = compare([1000.0, 1000.0], [1000.0, 1000.0, 1000.0])
    assert capped["t"] is None and capped["p"] == 1.0 and capped["difference_ci"] == [0.0, 0.0]
    apart = compare([1.0, 1.0], [3.0, 3.0])
    assert apart["difference"] == 2.0 and apart["p"] == 0.0 and apart["difference_ci"] == [2.0, 2.0]
    one_spread = compare([1000.0, 1000.0], [1000.0, 990.0])
    assert one_spread["t"] is not None and 0 < one_spread["p"] <= 1


def test_curve_mean_is_the_area_per_timestep() -> None:
    run = synthetic_run("x", "e", 0, level=100.0)
    # a linear rise to 100 has mean ~50 over the run
    assert curve_mean(run) == pytest.approx(51, abs=2)


def test_equivalence_report(tmp_path: Path) -> None:
    store = ResultsStore(tmp_path)
    for seed in range(4):
        store.add_run(synthetic_run("exact", "EnvA", seed, 100.0))
        store.add_run(synthetic_run("fast", "EnvA", seed, 100.0))
        store.add_run(synthetic_run("slow", "EnvA", seed, 50.0))
    same = main([str(tmp_path), "--a", "exact", "--b", "fast"])
    assert same["significant"] == 0 and len(same["tests"]) == 2
    report = (tmp_path / "equivalence.md").read_text()
    assert "No significant difference" in report and "| EnvA |" in report
    # synthetic runs record no software: the report says so instead of claiming they are comparable bit for bit
    assert "## Software" in report and "None of these runs recorded its software" in report
    assert (tmp_path / "equivalence.png").stat().st_size > 0 and (tmp_path / "equivalence.json").exists()
    assert equivalence(tmp_path, "exact", "slow")["significant"] == 2
    with pytest.raises(ValueError, match="no environment"):
        equivalence(tmp_path, "exact", "missing")
    # a grid in progress: an environment with one run of a setting so far is left out, and named
    store.add_run(synthetic_run("exact", "EnvB", 0, 100.0))
    store.add_run(synthetic_run("fast", "EnvB", 0, 100.0))
    store.add_run(synthetic_run("fast", "EnvB", 1, 100.0))
    partial = equivalence(tmp_path, "exact", "fast")
    assert {row["env"] for row in partial["tests"]} == {"EnvA"} and partial["left_out"] == {"EnvB": {"runs": [1, 2]}}
    assert (
        "Left out, with fewer than 2 runs of exact or fast so far: EnvB (1 and 2 runs)."
        in (tmp_path / "equivalence.md").read_text()
    )
    only_b = tmp_path / "only_b"
    ResultsStore(only_b).add_run(synthetic_run("exact", "EnvB", 0, 100.0))
    ResultsStore(only_b).add_run(synthetic_run("fast", "EnvB", 0, 100.0))
    with pytest.raises(ValueError, match=r"no environment has at least 2 runs of each of 'exact' and 'fast' \(runs per "
                       r"environment: EnvB 1 and 1\)"):  # fmt: skip
        equivalence(only_b, "exact", "fast")


def test_a_setting_compared_with_its_runs_in_another_folder_on_other_software(tmp_path: Path) -> None:
    published, new_release = tmp_path / "published", tmp_path / "new_release"
    old, new = ResultsStore(published), ResultsStore(new_release)
    for seed in range(3):
        run = synthetic_run("clip_0.2_fast", "EnvA", seed, 100.0)
        run.software = {"torch": "2.13.0", "numpy": "2.4.6"}
        old.add_run(run)
        run = synthetic_run("clip_0.2_fast", "EnvA", seed + 10, 100.0)
        run.software = {"torch": "2.14.0", "numpy": "2.4.6"}
        new.add_run(run)
    result = main([str(published), "--a", "clip_0.2_fast", "--b", "clip_0.2_fast", "--other", str(new_release)])
    assert result["b"] == "clip_0.2_fast@new_release" and result["tests"][0]["n"] == [3, 3]
    assert not (published / "equivalence.md").exists()  # the published folder keeps its own report
    report = (new_release / "equivalence.md").read_text()
    assert "# clip_0.2_fast@new_release against clip_0.2_fast" in report
    assert "**Mixed software**: these runs come from 2 groups" in report
