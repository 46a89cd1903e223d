"""Is the fast path the same algorithm? Two settings of one results store, compared environment by environment.

    python -m sb3_ppo_variants.benchmark.equivalence results/fast_vs_exact --a clip_0.2 --b clip_0.2_fast
    python -m sb3_ppo_variants.benchmark.equivalence results/table1_1m --a clip_0.2_fast --b clip_0.2_fast \
        --other results/new_release        # the same setting run on other software, in another folder

Per environment and setting, two numbers per run: the report's score (mean return of the last 100 training episodes)
and the learning-curve mean (the mean of the run's binned training-return curve over the whole budget, so that a
difference in learning speed counts too). For each, Welch's t-test (scipy; unequal variances) on b against a, and a
95% bootstrap confidence interval (scipy, BCa) of the difference of means b - a. The p-values are Holm-corrected over
all the tests of the comparison. An environment with fewer than 2 runs of either setting (a grid in progress) is left
out and named. Writes ``equivalence.md``, ``equivalence.json`` and ``equivalence.png`` (both
settings' learning curves) into the folder.

With a handful of seeds such tests only see large differences; the confidence intervals say how large a difference
the data cannot exclude, and are reported next to the seed-to-seed spread.
"""

from __future__ import annotations

import argparse
import sys
from dataclasses import replace
from pathlib import Path
from typing import Any

import numpy as np
from scipy import stats

from sb3_ppo_variants.benchmark.io import atomic_write_json, atomic_write_text
from sb3_ppo_variants.benchmark.provenance import software_section
from sb3_ppo_variants.benchmark.report import binned_curve, learning_curves, run_score
from sb3_ppo_variants.benchmark.store import ResultsStore, RunResult
from sb3_ppo_variants.pipes import run_command_line

ALPHA = 0.05
CURVE_BINS = 50
STATISTICS = {"score": "final score (last 100 episodes)", "curve": "learning-curve mean"}


def curve_mean(run: RunResult, bins: int = CURVE_BINS) -> float:
    """The mean of the run's binned training-return curve: the area under the learning curve per timestep."""
    return float(np.mean(binned_curve(run, bins)[1]))


def compare(a: list[float], b: list[float], seed: int = 0) -> dict[str, Any]:
    """
    Welch's t-test and a bootstrap CI of mean(b) - mean(a).

    :param a: one number per run of the first setting
    :param b: one number per run of the second setting
    :param seed: seed of the bootstrap
    :return: means, standard deviations, the difference, its 95% CI, the t statistic (None when neither setting's
        runs differ from each other) and the p-value
    """
    if len(a) < 2 or len(b) < 2:
        raise ValueError(f"need at least 2 runs of each setting, got {len(a)} and {len(b)}")
    if np.ptp(a) == 0 and np.ptp(b) == 0:
        # No spread in either (e.g. every run reaches InvertedPendulum's cap of 1000): t and the bootstrap are
        # undefined, and the difference is known exactly. It is no difference (p = 1) or a certain one (p = 0).
        difference = float(b[0] - a[0])
        return {
            "n": [len(a), len(b)],
            "mean": [float(a[0]), float(b[0])],
            "std": [0.0, 0.0],
            "difference": difference,
            "difference_ci": [difference, difference],
            "t": None,
            "p": 1.0 if difference == 0 else 0.0,
        }
    t = stats.ttest_ind(b, a, equal_var=False)
    ci = stats.bootstrap(
        (np.asarray(b), np.asarray(a)),
        lambda x, y, axis=-1: np.mean(x, axis=axis) - np.mean(y, axis=axis),
        n_resamples=10_000,
        confidence_level=0.95,
        method="BCa",
        random_state=np.random.default_rng(seed),
    ).confidence_interval
    return {
        "n": [len(a), len(b)],
        "mean": [float(np.mean(a)), float(np.mean(b))],
        "std": [float(np.std(a, ddof=1)), float(np.std(b, ddof=1))],
        "difference": float(np.mean(b) - np.mean(a)),
        "difference_ci": [float(ci.low), float(ci.high)],
        "t": float(t.statistic),
        "p": float(t.pvalue),
    }


def holm(p_values: list[float]) -> list[float]:
    """Holm-Bonferroni adjusted p-values, in the input order."""
    order = np.argsort(p_values)
    adjusted = np.empty(len(p_values))
    running = 0.0
    for rank, i in enumerate(order):
        running = max(running, min(1.0, (len(p_values) - rank) * p_values[i]))
        adjusted[i] = running
    return adjusted.tolist()


def equivalence(
    folder: str | Path, a: str, b: str, command: str | None = None, other: str | Path | None = None
) -> dict[str, Any]:
    """
    Compare settings ``a`` and ``b`` of a benchmark folder and write the report files.

    :param folder: a benchmark ``--out`` folder
    :param a: the reference setting (e.g. the exact path)
    :param b: the setting under test (e.g. the fast path)
    :param command: the commands that produced the runs, quoted in the report
    :param other: take ``b``'s runs from this benchmark folder instead (e.g. the same grid run on a new SB3, torch or
        MuJoCo release); they are labelled ``<b>@<other folder's name>``, and the report is written into ``other``
    :return: the comparison, as written to ``equivalence.json``
    """
    folder = Path(folder)
    store = ResultsStore(folder)
    if other is None:
        runs = [r for r in store.runs() if r.setting in (a, b)]
    else:
        label = f"{b}@{Path(other).resolve().name}"
        theirs = [replace(r, setting=label) for r in ResultsStore(other).runs() if r.setting == b]
        runs = [r for r in store.runs() if r.setting == a] + theirs
        b = label
    both = sorted({r.env for r in runs if r.setting == a} & {r.env for r in runs if r.setting == b})
    if not both:
        raise ValueError(f"{folder} has no environment with runs of both {a!r} and {b!r}")
    counts = {env: [sum(r.env == env and r.setting == s for r in runs) for s in (a, b)] for env in both}
    # a grid in progress: the environments with fewer than 2 runs of a setting have no spread to test yet
    envs = [env for env in both if min(counts[env]) >= 2]
    too_few = {env: counts[env] for env in both if env not in envs}
    if not envs:
        raise ValueError(
            f"{folder}: no environment has at least 2 runs of each of {a!r} and {b!r} (runs per environment: "
            + ", ".join(f"{env} {n_a} and {n_b}" for env, (n_a, n_b) in counts.items())
            + ")"
        )
    rows = []
    for env in envs:
        for statistic, measure in (("score", run_score), ("curve", curve_mean)):
            values = {
                s: [measure(r) for r in sorted(runs, key=lambda r: r.seed) if r.env == env and r.setting == s] for s in (a, b)
            }
            rows.append({"env": env, "statistic": statistic, **compare(values[a], values[b])})
    for row, adjusted in zip(rows, holm([row["p"] for row in rows]), strict=True):
        row["p_holm"] = adjusted
    significant = [row for row in rows if row["p_holm"] < ALPHA]
    result = {
        "a": a,
        "b": b,
        "alpha": ALPHA,
        "tests": rows,
        "significant": len(significant),
        "command": command,
        "left_out": {env: {"runs": n} for env, n in too_few.items()},
    }
    # A comparison with another folder's runs is written there: the published folder keeps its own report.
    out = folder if other is None else Path(other)
    learning_curves([r for r in runs if r.env in envs], out / "equivalence.png")
    atomic_write_json(out / "equivalence.json", result)
    compared = [r for r in runs if r.env in envs]
    atomic_write_text(
        out / "equivalence.md",
        _markdown(result, runs) + "\n".join(software_section(compared, store.pin() if other is None else None)) + "\n",
    )
    return result


def _markdown(result: dict[str, Any], runs: list[RunResult]) -> str:
    a, b = result["a"], result["b"]
    budgets = sorted({r.timesteps for r in runs})
    lines = [
        f"# {b} against {a}",
        "",
        f"Runs of {', '.join(f'{t:,}' for t in budgets)} timesteps. Per environment: mean ± std over seeds, the "
        f"difference of means ({b} - {a}) with its 95% BCa bootstrap CI, Welch's t-test, and its p-value Holm-corrected "
        f"over the {len(result['tests'])} tests.",
        "",
    ]
    if result["command"]:
        lines += ["```", result["command"], "```", ""]
    if result["left_out"]:
        left_out = ", ".join(f"{env} ({v['runs'][0]} and {v['runs'][1]} runs)" for env, v in result["left_out"].items())
        lines += [f"Left out, with fewer than 2 runs of {a} or {b} so far: {left_out}.", ""]
    lines += [
        f"| env | statistic | n | {a} | {b} | difference [95% CI] | t | p | p (Holm) |",
        "|---|---|---|---|---|---|---|---|---|",
    ]
    for row in result["tests"]:
        (ma, mb), (sa, sb) = row["mean"], row["std"]
        low, high = row["difference_ci"]
        lines.append(
            f"| {row['env']} | {STATISTICS[row['statistic']]} | {row['n'][0]} / {row['n'][1]} | {ma:.1f} ± {sa:.1f} | "
            f"{mb:.1f} ± {sb:.1f} | {row['difference']:+.1f} [{low:+.1f}, {high:+.1f}] | "
            f"{'n/a (no spread)' if row['t'] is None else format(row['t'], '.2f')} | "
            f"{row['p']:.3f} | {row['p_holm']:.3f} |"
        )
    verdict = (
        f"No significant difference at alpha = {result['alpha']} (Holm-corrected) in any of the {len(result['tests'])} tests."
        if not result["significant"]
        else f"{result['significant']} of the {len(result['tests'])} tests differ significantly at alpha = {result['alpha']}."
    )
    lines += ["", f"**{verdict}**", "", "![learning curves](equivalence.png)", ""]
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> dict[str, Any]:
    argv = sys.argv[1:] if argv is None else argv
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("folder", help="a benchmark --out folder holding runs of both settings")
    parser.add_argument("--a", required=True, help="the reference setting, e.g. clip_0.2")
    parser.add_argument("--b", required=True, help="the setting under test, e.g. clip_0.2_fast")
    parser.add_argument("--command", help="the run commands to quote in the report")
    parser.add_argument(
        "--other", help="take --b's runs from this benchmark folder (e.g. the same grid on a new SB3/torch/MuJoCo release)"
    )
    args = parser.parse_args(argv)
    try:
        result = equivalence(args.folder, args.a, args.b, args.command, args.other)
    except ValueError as error:
        parser.error(str(error))
    print(f"wrote {args.folder}/equivalence.md: {result['significant']} of {len(result['tests'])} tests significant")
    return result


if __name__ == "__main__":
    run_command_line(main)
