"""The upstream-suite runner: which tests it selects, how it names them across classes, exclusions, the verdict.

A small fake "upstream" sdist (a pyproject.toml and a tests/ folder written here) stands in for SB3's, so these tests
run real pytest processes through the plugin in seconds; CI runs the real suites with ``python -m
sb3_ppo_variants.upstream``.
"""

from __future__ import annotations

import json
import re
import textwrap
from pathlib import Path

import pytest

from sb3_ppo_variants.upstream import cli, exclusions
from sb3_ppo_variants.upstream.cli import (
    RunResult,
    _summarise,
    compare,
    main,
    select_runs,
    stale_exclusions,
    unpassed_tests,
)
from sb3_ppo_variants.upstream.exclusions import EXCLUSIONS, Exclusion, exclusion_for
from sb3_ppo_variants.upstream.targets import UPSTREAM_FAMILIES, UpstreamRun

FAKE_TESTS = """
import pytest
from stable_baselines3 import A2C, PPO


@pytest.mark.parametrize("model_class", [A2C, PPO])
def test_parametrised(model_class):
    assert model_class.__name__ in ("A2C", "PPO", "PPOClip", "PPONoClip")


def test_names_the_class():
    assert PPO.__name__ in ("PPO", "PPONoClip")


def test_fast_default():
    # the run's class: fast=True is the default of the fast runs
    model = PPO("MlpPolicy", "CartPole-v1", n_steps=64, batch_size=32, device="cpu")
    assert getattr(model, "fast", False) == (PPO.__module__ == "sb3_ppo_variants.upstream.plugin")


def test_unrelated():
    assert A2C is not None


def test_fails_for_every_class():
    assert PPO.__name__ == "no class has this name"


@pytest.mark.expensive
def test_long():
    assert PPO is not None
"""


FAKE_RESTATED = """
from stable_baselines3 import PPO


def test_discrete():
    assert PPO is not None
"""


@pytest.fixture(scope="module")
def fake_source(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("fake-sb3")
    (root / "tests").mkdir()
    (root / "tests" / "test_fake.py").write_text(textwrap.dedent(FAKE_TESTS))
    (root / "pyproject.toml").write_text('[tool.pytest.ini_options]\nmarkers = ["expensive: long"]\n')
    return root


def test_the_command_end_to_end(fake_source: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """The tests that use the class run, under the stock class's ids (the others and upstream's long ones do not);
    the fast runs default to ``fast=True``; the variants run first, then the stock class on what they did not pass,
    which decides whether that is a regression (test_names_the_class: the stock class passes it) or not (a test
    every class fails). ``--pairwise`` puts PPOClip on the exact path and PPONoClip on the fast one."""
    monkeypatch.chdir(tmp_path)  # and a relative log folder (CI passes --out .upstream-logs) still gets the outcomes
    # fake restated tests under the real ones' names (the real ones are SB3's, and learn): test_discrete stands in for
    # a test excluded from PPONoClip, not from PPOClip, which runs upstream's own instead
    restated = tmp_path / "sb3_ppo_variants" / "upstream" / "restated"
    restated.mkdir(parents=True)
    (restated / cli.RESTATED_FILES["stable-baselines3"]).write_text(FAKE_RESTATED)
    monkeypatch.setattr(cli, "RESTATED", restated)
    args = ["--families", "ppo", "--variants", "ppo_clip", "ppo_no_clip", "--pairwise", "--jobs", "2"]
    status = main([*args, "--source-sb3", str(fake_source), "--out", "logs", "--json", "summary.json"])
    clip = json.loads(Path("logs/PPOClip.json").read_text())
    assert clip["outcomes"] == {
        "tests/test_fake.py::test_parametrised[PPO]": "passed",
        "tests/test_fake.py::test_names_the_class": "failed",
        "tests/test_fake.py::test_fast_default": "passed",
        "tests/test_fake.py::test_fails_for_every_class": "failed",
        "restated/test_sb3.py::test_discrete": exclusions.ORIGINAL_RAN,
    }
    assert "PPOClip" in clip["reasons"]["tests/test_fake.py::test_names_the_class"]
    fast = json.loads(Path("logs/PPONoClip_fast_True.json").read_text())["outcomes"]
    assert fast["tests/test_fake.py::test_fast_default"] == fast["tests/test_fake.py::test_names_the_class"] == "passed"
    assert fast["restated/test_sb3.py::test_discrete"] == "passed"

    data = json.loads(Path("summary.json").read_text())["families"]["ppo"]
    assert data["stock"]["run"] == [
        "tests/test_fake.py::test_fails_for_every_class",
        "tests/test_fake.py::test_names_the_class",
    ]
    assert data["stock"]["passed"] == 1 and set(data["stock"]["not passed here"]) == {data["stock"]["run"][0]}
    regressions = {variant["variant"]: variant["regressions"] for variant in data["variants"]}
    assert list(regressions["PPOClip"]) == ["tests/test_fake.py::test_names_the_class"]
    assert regressions["PPONoClip fast=True"] == {}
    assert status == 1


def test_a_stock_run_that_misses_a_test_to_judge_or_a_variant_that_ran_nothing_fails(
    capsys: pytest.CaptureFixture[str],
) -> None:
    judged = RunResult(UpstreamRun("ppo", only=("t.py::b",)), {"t.py::b": "failed"})
    variant = RunResult(UpstreamRun("ppo", "ppo_no_clip"), {"t.py::a": "passed", "t.py::b": "failed"})
    assert unpassed_tests([variant], "ppo") == ("t.py::b",) and unpassed_tests([variant], "ppo_mask") == ()
    # (the exit statuses below also judge stale exclusions, so each run's lines are read instead)
    _summarise([judged, variant], {}, None)
    assert "did not run" not in capsys.readouterr().out
    _summarise([RunResult(UpstreamRun("ppo", only=("t.py::b",))), variant], {}, None)
    assert "PPO (stock): did not run 1 of the tests to judge, e.g. t.py::b" in capsys.readouterr().out
    crashed = RunResult(UpstreamRun("ppo", "ppo_no_clip"), returncode=2)
    _summarise([RunResult(UpstreamRun("ppo", only=())), crashed], {}, None)
    assert "PPONoClip: pytest failed to run (exit 2)" in capsys.readouterr().out


def test_pairwise_runs_every_pair_in_about_half_the_runs() -> None:
    families = list(UPSTREAM_FAMILIES)
    full = select_runs(families, None, [False, True])
    pairwise = select_runs(families, None, [False, True], pairwise=True)
    variants = [run for run in full if run.variant_key is not None]
    assert len(full) == len(families) + len(variants)
    assert [run for run in pairwise if run.variant_key is None] == [UpstreamRun(family) for family in families]
    chosen = [run for run in pairwise if run.variant_key is not None]
    assert len(chosen) * 2 == len(variants)  # each variant once, on one of its two paths
    assert {(run.family_key, run.variant_key) for run in chosen} == {(run.family_key, run.variant_key) for run in variants}
    pairs = {
        "objective-path": {(run.objective_key, run.fast) for run in variants},
        "family-path": {(run.family_key, run.fast) for run in variants},
        "objective-family": {(run.objective_key, run.family_key) for run in variants},
    }
    assert {(run.objective_key, run.fast) for run in chosen} == pairs["objective-path"]
    assert {(run.family_key, run.fast) for run in chosen} == pairs["family-path"]
    assert {(run.objective_key, run.family_key) for run in chosen} == pairs["objective-family"]
    # one path asked for: pairwise has nothing to alternate
    assert select_runs(["ppo"], None, [True], pairwise=True) == select_runs(["ppo"], None, [True])
    assert [run.label for run in select_runs(["ppo"], ["ppo_clip"], [False, True])] == [
        "PPO (stock)",
        "PPOClip",
        "PPOClip fast=True",
    ]


def test_exclusions_apply_to_their_classes_only(monkeypatch: pytest.MonkeyPatch) -> None:
    exclusion = Exclusion("tests/test_fake.py::test_names_the_class", ("ppo",), ("clip",), "the fake test names PPO")
    assert exclusion_for("tests/test_fake.py::test_names_the_class", UpstreamRun("ppo", "ppo_clip")) is None
    monkeypatch.setattr(exclusions, "EXCLUSIONS", (exclusion,))
    assert exclusion_for("tests/test_fake.py::test_names_the_class", UpstreamRun("ppo", "ppo_clip")) is exclusion
    assert exclusion_for("tests/test_fake.py::test_names_the_class", UpstreamRun("ppo", "ppo_no_clip")) is None
    assert exclusion_for("tests/test_fake.py::test_names_the_class", UpstreamRun("ppo", None)) is None
    pattern = Exclusion("tests/t.py::test_x[*-PPO]", ("ppo",), ("clip",), "why")
    assert pattern.matches("tests/t.py::test_x[a-b-PPO]") and not pattern.matches("tests/t.py::test_x[PPO]-")


def test_a_restated_test_runs_where_it_stands_in_for_an_excluded_one() -> None:
    discrete = "restated/test_sb3.py::test_discrete[env0]"  # upstream's test_discrete[env2-PPO] is excluded for:
    assert exclusions.runs_restated(discrete, UpstreamRun("ppo", "ppo_no_clip"))
    assert exclusions.runs_restated(discrete, UpstreamRun("ppo", "ppo_soft_clip", fast=True))
    assert not exclusions.runs_restated(discrete, UpstreamRun("ppo", "ppo_clip"))
    assert not exclusions.runs_restated(discrete, UpstreamRun("ppo", "ppo_adaptive_kl", fast=True))
    assert exclusions.runs_restated(discrete, UpstreamRun("ppo"))  # the stock class runs every restated test
    assert exclusions.runs_restated("restated/test_sb3.py::test_ppo_warnings", UpstreamRun("ppo", "ppo_clip"))
    identity = "restated/test_contrib.py::test_identity"
    assert exclusions.runs_restated(identity, UpstreamRun("ppo_mask", "ppo_mask_no_clip"))
    assert not exclusions.runs_restated(identity, UpstreamRun("ppo_mask", "ppo_mask_clip"))
    # skipped there, it is neither run, nor a regression, nor one for the stock class to judge
    stock = RunResult(UpstreamRun("ppo"), {discrete: "passed"})
    clip = RunResult(UpstreamRun("ppo", "ppo_clip"), {discrete: exclusions.ORIGINAL_RAN, "a": "passed"})
    comparison = compare(stock, clip)
    assert comparison.regressions == {} and (comparison.run, comparison.passed) == (1, 1)
    assert unpassed_tests([clip], "ppo") == ()


def test_a_stock_run_starts_once_its_family_is_done_ahead_of_the_waiting_runs() -> None:
    variants = ["ppo_clip", "ppo_no_clip", "ppo_mask_clip", "ppo_mask_no_clip"]
    runs = select_runs(["ppo", "ppo_mask"], variants, [False])
    started: list[UpstreamRun] = []

    def execute_one(run: UpstreamRun) -> RunResult:
        started.append(run)
        return RunResult(run, {"t.py::a": "failed" if run.variant_key == "ppo_clip" else "passed"})

    results = cli.run_all(runs, execute_one, jobs=1)
    stock = UpstreamRun("ppo", only=("t.py::a",))
    assert started == [runs[1], runs[2], stock, runs[4], runs[5]]
    # in the order of the runs; MaskablePPO's variants passed everything: no stock run, an empty result
    assert [result.run for result in results] == [stock, *runs[1:3], UpstreamRun("ppo_mask", only=()), *runs[4:]]
    assert results[3].outcomes == {}
    everything = cli.run_all(runs, execute_one, jobs=2, all_stock=True)
    assert [result.run for result in everything] == runs


def test_compare_counts_only_what_stock_passes() -> None:
    stock = RunResult(UpstreamRun("ppo"), {"a": "passed", "b": "failed", "c": "passed", "d": "passed"})
    variant = RunResult(UpstreamRun("ppo", "ppo_clip"), {"a": "passed", "b": "failed", "c": "excluded", "d": "error"})
    comparison = compare(stock, variant)
    assert comparison.regressions == {"d": "error"}
    assert comparison.excluded == ["c"]
    assert (comparison.run, comparison.passed) == (3, 1)
    missing = compare(stock, RunResult(UpstreamRun("ppo", "ppo_clip"), {"a": "passed", "c": "passed"}))
    assert missing.regressions == {"d": "not run"}


@pytest.mark.parametrize(
    ("family", "variants"),
    [("ppo_lstm", ["ppo_lstm_clip", "ppo_lstm_per_sample_kl"]), ("ppo", ["ppo_clip"])],
    ids=["long labels", "short labels"],
)
def test_summary_columns_line_up_for_the_longest_label(
    family: str, variants: list[str], capsys: pytest.CaptureFixture[str]
) -> None:
    outcomes = {"a": "passed"}
    runs = [UpstreamRun(family), *(UpstreamRun(family, variant, fast=True) for variant in variants)]
    results = [RunResult(run, outcomes) for run in runs]
    _summarise(results, {}, None)  # (its exit status also judges stale exclusions, which this selection has)
    rows = capsys.readouterr().out.strip().splitlines()
    header, *lines = rows[: 1 + len(results)]
    assert [line.split()[0] for line in lines] == [run.label.split()[0] for run in runs]
    # the counts of every row, the stock class's included, end where the header's "run" and "passed" end
    ends = [match.end() for match in re.finditer(r"\S+", header)][1:3]
    for line in lines:
        assert [match.end() for match in re.finditer(r"\b1\b", line)][:2] == ends


def test_stale_exclusions_are_found() -> None:
    used = EXCLUSIONS[0]  # test_ppo_warnings, every objective of the PPO family
    results = [RunResult(UpstreamRun("ppo", "ppo_clip"), {used.test: "excluded"})]
    # only the exclusions that apply to a run that ran are judged: the others name other objectives
    assert stale_exclusions(results) == []
    no_clip = [RunResult(UpstreamRun("ppo", "ppo_no_clip"), {used.test: "excluded"})]
    expected = [e for e in EXCLUSIONS if "ppo" in e.families and "no_clip" in e.objectives and e is not used]
    assert stale_exclusions(no_clip) == expected and expected
    # a family that did not run has no stale exclusions; one that ran without excluding anything has
    assert stale_exclusions([RunResult(UpstreamRun("ppo_mask", "ppo_mask_no_clip"), {})]) == [
        e for e in EXCLUSIONS if "ppo_mask" in e.families
    ]


def test_every_exclusion_is_explained_and_restated_where_it_says() -> None:
    restated = Path(exclusions.__file__).parent / "restated"
    for exclusion in EXCLUSIONS:
        assert exclusion.reason and set(exclusion.families) <= set(UPSTREAM_FAMILIES)
        assert set(exclusion.objectives) <= set(exclusions.ALL_OBJECTIVES)
        if exclusion.restated:
            file, _, name = exclusion.restated.removeprefix("restated/").partition("::")
            assert f"def {name}(" in (restated / file).read_text(), exclusion.restated
