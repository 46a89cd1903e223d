"""The Table 1 report: per-env scores, the paper's normalized aggregate with bootstrap CIs and IQM, plots, Markdown.

Scoring follows the paper (Section 6.1): a run's score is the mean return of its last 100 training episodes; per
environment, scores are shifted and scaled so that a uniformly random policy scores 0 and the best run (over all
settings and seeds in the report) scores 1; a setting's number is the mean of its runs' normalized scores. The 95%
confidence intervals are rliable's stratified bootstrap over runs within each environment; IQM is rliable's
interquartile mean.
"""

from __future__ import annotations

import csv
import io
import itertools
import re
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from sb3_ppo_variants.benchmark import COMPARATORS
from sb3_ppo_variants.benchmark.cells import mean_std_cell
from sb3_ppo_variants.benchmark.figure3 import figure3_runs, figure3_section, paper_code_section
from sb3_ppo_variants.benchmark.grid import known_setting
from sb3_ppo_variants.benchmark.io import atomic_save_figure, atomic_write_json, atomic_write_text
from sb3_ppo_variants.benchmark.klip import PARTITION_HEADING, klip_section, partition_plot, partition_table
from sb3_ppo_variants.benchmark.provenance import group_of, software_groups, software_section
from sb3_ppo_variants.benchmark.store import ResultsStore, RunResult
from sb3_ppo_variants.benchmark.worker import random_policy_returns
from sb3_ppo_variants.objectives import NoClipping
from sb3_ppo_variants.registry import REGISTRY, TABLE1

#: The reference row: stock stable_baselines3.PPO, which PPOClip (clip_0.2) reproduces bit for bit.
REFERENCE = "sb3_ppo"
#: (stock setting, its Clip class's setting, what they are): pairs that must produce identical episodes.
PARITY_PAIRS = (
    ("sb3_ppo", "clip_0.2", "stable_baselines3.PPO", "PPOClip"),
    ("sb3_ppo_mask", "mask_clip_0.2", "sb3_contrib.MaskablePPO", "MaskablePPOClip"),
    ("sb3_ppo_lstm", "lstm_clip_0.2", "sb3_contrib.RecurrentPPO", "RecurrentPPOClip"),
)
LAST_EPISODES = 100
RANDOM_EPISODES = 100
BOOTSTRAP_REPS = 20_000
#: the report's sections that ``scripts/results_blocks.py`` carries into the README and the benchmark guide
AGGREGATE_HEADING = "## Average normalized score (the paper's Table 1 metric)"
ORDERING_HEADING = "## Does the paper's ordering hold?"
#: Table 1's families, in the paper's order of merit (clip >= adaptive KL >= fixed KL >> no clip).
#: algo -> Table 1's row name, for the PPO family, from the registry (whose objectives are in that order).
FAMILIES = {v.key: o.title for o in TABLE1 for v in REGISTRY if v.family.key == "ppo" and v.objective.key == o.key}
#: the algo of the "no clipping or penalty" row, which the paper says scores below the random policy
NO_CLIP_ALGO = f"ppo_{NoClipping.key}"


def run_score(run: RunResult, last: int = LAST_EPISODES) -> float:
    """Mean return of the run's last ``last`` training episodes (all of them if it had fewer)."""
    if not run.episodes:
        raise ValueError(f"run {run.key} finished no episode: raise its timesteps")
    return float(np.mean([r for _, r, _ in run.episodes[-last:]]))


def normalize(scores: dict[str, dict[str, list[float]]], random: dict[str, float]) -> dict[str, dict[str, list[float]]]:
    """
    The paper's normalization: per env, (score - random) / (best - random), best over every setting and seed.

    :param scores: env -> setting -> one raw score per seed
    :param random: env -> the random policy's mean return
    :return: env -> setting -> normalized scores, in the same order
    """
    normalized: dict[str, dict[str, list[float]]] = {}
    for env, by_setting in scores.items():
        best = max(max(values) for values in by_setting.values())
        span = best - random[env]
        if span <= 0:
            raise ValueError(f"{env}: no run beats the random policy ({random[env]:.3g}), so no normalization exists")
        normalized[env] = {s: [(v - random[env]) / span for v in values] for s, values in by_setting.items()}
    return normalized


@dataclass
class Aggregate:
    """A setting's aggregate over its runs; the CIs are None when it has a single seed per env (no bootstrap)."""

    setting: str
    runs: int
    mean: float
    mean_ci: tuple[float, float] | None
    iqm: float
    iqm_ci: tuple[float, float] | None
    paper: float | None


def aggregate(normalized: dict[str, dict[str, list[float]]], seed: int = 0) -> list[Aggregate]:
    """
    Mean and IQM of each setting's normalized scores over all its runs, with 95% stratified-bootstrap CIs (rliable).
    Settings missing an env are left out; each env contributes as many runs as the setting has seeds on every env.
    """
    from rliable import library as rly
    from rliable import metrics

    envs = sorted(normalized)
    settings = sorted({s for by_setting in normalized.values() for s in by_setting})
    matrices = {}
    for setting in settings:
        if not all(setting in normalized[env] for env in envs):
            continue
        n = min(len(normalized[env][setting]) for env in envs)
        matrices[setting] = np.array([normalized[env][setting][:n] for env in envs]).T  # (runs, tasks)

    def both(x: np.ndarray) -> np.ndarray:
        return np.array([metrics.aggregate_mean(x), metrics.aggregate_iqm(x)])

    # rliable's StratifiedBootstrap draws its resamples from numpy's global generator (np.random.choice), not from
    # the random_state it hands on to arch (which deprecates it, with a FutureWarning, and draws nothing from it for
    # a percentile interval): seed the global generator for the call, and give it back as it was.
    saved = np.random.get_state()
    np.random.seed(seed)
    try:
        points, intervals = rly.get_interval_estimates(matrices, both, reps=BOOTSTRAP_REPS)
    finally:
        np.random.set_state(saved)
    result = []
    for setting, matrix in matrices.items():
        known = known_setting(setting)  # a fast row has its exact setting's paper score
        # Resampling one run per env always gives the same sample: report no interval rather than a zero-width one.
        has_ci = matrix.shape[0] > 1
        result.append(
            Aggregate(
                setting=setting,
                runs=matrix.size,
                mean=float(points[setting][0]),
                mean_ci=(float(intervals[setting][0, 0]), float(intervals[setting][1, 0])) if has_ci else None,
                iqm=float(points[setting][1]),
                iqm_ci=(float(intervals[setting][0, 1]), float(intervals[setting][1, 1])) if has_ci else None,
                paper=None if known is None else known.paper_score,
            )
        )
    return sorted(result, key=lambda a: -a.mean)


def envs_for_aggregate(normalized: dict[str, dict[str, list[float]]]) -> tuple[dict[str, dict[str, list[float]]], list[str]]:
    """
    The environments the average normalised score covers, and those it leaves out. :func:`aggregate` leaves out a
    setting that misses an environment; in a grid in progress, whose settings reach an environment one after another,
    that would drop most settings until the environment is done. So where keeping only the environments that every
    setting has run on keeps at least as many runs, those are kept instead (and the others named).

    :param normalized: env -> setting -> normalised scores
    :return: the normalised scores of the kept environments, and the environments left out
    """
    envs = sorted(normalized)
    settings = {s for by_setting in normalized.values() for s in by_setting}
    common = [env for env in envs if settings <= set(normalized[env])]
    complete = [s for s in settings if all(s in normalized[env] for env in envs)]

    def runs(kept_envs: list[str], kept_settings: Iterable[str]) -> int:
        return sum(len(normalized[env].get(s, [])) for env in kept_envs for s in kept_settings)

    if common and common != envs and runs(common, settings) >= runs(envs, complete):
        return {env: normalized[env] for env in common}, [env for env in envs if env not in common]
    return normalized, []


def incomplete_settings(normalized: dict[str, dict[str, list[float]]]) -> dict[str, list[str]]:
    """Settings left out of the aggregate, with the envs they have no run on."""
    envs = sorted(normalized)
    settings = sorted({s for by_setting in normalized.values() for s in by_setting})
    missing = {s: [env for env in envs if s not in normalized[env]] for s in settings}
    return {s: m for s, m in missing.items() if m}


def identical_runs(runs: list[RunResult], a: str, b: str) -> tuple[int, int]:
    """How many (env, seed) pairs settings ``a`` and ``b`` both ran, and in how many their episodes are identical."""
    by_key = {(r.setting, r.env, r.seed): r.episodes for r in runs}
    pairs = [(env, seed) for (s, env, seed) in by_key if s == a and (b, env, seed) in by_key]
    same = sum(by_key[(a, env, seed)] == by_key[(b, env, seed)] for env, seed in pairs)
    return len(pairs), same


#: the paper's best setting (Table 1: clipping with ε = 0.2, 0.82) and the task where no clipping does worse than a
#: random policy (its text, Section 6.1)
PAPER_BEST_SETTING = "clip_0.2"
NO_CLIP_BELOW_RANDOM_TASK = "HalfCheetah"


def _strength(hi: Aggregate, lo: Aggregate, holds: bool) -> str:
    """How firmly ``hi.mean >= lo.mean`` (or its reverse, when not ``holds``) stands, from the two CIs."""
    if hi.mean_ci is None or lo.mean_ci is None:
        return "(one seed per environment: no confidence interval, so no claim of significance)"
    if (hi.mean_ci[0] > lo.mean_ci[1]) if holds else (lo.mean_ci[0] > hi.mean_ci[1]):
        return "with non-overlapping 95% CIs"
    return "but the 95% CIs overlap"


def _verdict(holds: bool, strength: str) -> str:
    return f"**holds** {strength}." if holds else f"**does not hold** (reversed, {strength.strip('()')})."


def ordering_verdict(
    aggregates: list[Aggregate],
    runs: list[RunResult],
    raw: dict[str, dict[str, list[float]]] | None = None,
    random: dict[str, float] | None = None,
) -> list[str]:
    """
    Whether the paper's claims hold: clipping with ε = 0.2 is the best setting; clip >= adaptive KL >= fixed KL >> no
    clip (each family by its best setting); no clip < 0 on average; and no clip below the random policy on HalfCheetah.

    :param aggregates: the normalised scores' aggregates, best first
    :param runs: the report's runs (for each setting's algorithm)
    :param raw: per env and setting, the runs' raw scores (for the HalfCheetah claim)
    :param random: per env, the random policy's score
    """
    algo_of = {r.setting: r.algo for r in runs}
    lines = []
    table1 = [agg for agg in aggregates if agg.paper is not None]  # Table 1's settings (and their fast rows)
    named = [agg for agg in table1 if (known := known_setting(agg.setting)) and known.name == PAPER_BEST_SETTING]
    if named and len(table1) > 1:
        clip = named[0]
        holds = table1[0] is clip
        other = table1[1] if holds else table1[0]
        lines.append(
            f"- clipping with ε = 0.2 is the best setting (the paper's 0.82): {clip.setting} {clip.mean:.2f}, "
            f"{'next' if holds else 'best'} {other.setting} {other.mean:.2f}: "
            + _verdict(holds, _strength(clip, other, True) if holds else _strength(other, clip, True))
        )
    best: dict[str, Aggregate] = {}
    for agg in aggregates:  # sorted by mean, so the first of a family is its best setting
        family = algo_of.get(agg.setting)
        if family in FAMILIES and family not in best:
            best[family] = agg
    order = [f for f in FAMILIES if f in best]
    for upper, lower in itertools.pairwise(order):
        hi, lo = best[upper], best[lower]
        holds = hi.mean >= lo.mean
        relation = "≫" if lower == NO_CLIP_ALGO else "≥"
        lines.append(
            f"- {FAMILIES[upper]} ({hi.setting}, {hi.mean:.2f}) {relation} {FAMILIES[lower]} ({lo.setting}, {lo.mean:.2f}): "
            + _verdict(holds, _strength(hi, lo, holds))
        )
    if NO_CLIP_ALGO in best:
        nc = best[NO_CLIP_ALGO]
        verdict = "**holds**" if nc.mean < 0 else "**does not hold**"
        lines.append(f"- no clipping scores below the random policy (< 0): {verdict} ({nc.mean:.2f}, CI {_ci(nc.mean_ci)}).")
    task = next((env for env in sorted(raw or {}) if env.startswith(NO_CLIP_BELOW_RANDOM_TASK)), None)
    if raw is not None and random is not None and task is not None:
        for setting, scores in sorted(raw[task].items()):
            if algo_of.get(setting) != NO_CLIP_ALGO or not scores:
                continue
            mean = sum(scores) / len(scores)
            below = sum(score < random[task] for score in scores)
            lines.append(
                f"- no clipping scores below the random policy on {task}: "
                f"{'**holds**' if mean < random[task] else '**does not hold**'} ({setting} {mean:.1f} against the "
                f"random policy's {random[task]:.1f}; below it in {below} of {len(scores)} seeds)."
            )
    return lines or ["- not enough Table 1 families in these results to compare."]


def _ci(ci: tuple[float, float] | None) -> str:
    return "n/a (1 seed)" if ci is None else f"[{ci[0]:.2f}, {ci[1]:.2f}]"


def learning_curves(runs: list[RunResult], path: Path, bins: int = 50) -> None:
    """One panel per env, one line per setting: mean over seeds of the binned training returns, band = min-max."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    envs = sorted({r.env for r in runs})
    settings = sorted({r.setting for r in runs})
    cols = min(4, len(envs))
    rows = (len(envs) + cols - 1) // cols
    fig, axes = plt.subplots(rows, cols, figsize=(4.5 * cols, 3.4 * rows), squeeze=False)
    colors = setting_colors(runs)
    # Stock PPO last, dashed and thin: it is bit-identical to clip_0.2 and would otherwise hide it.
    settings = sorted(settings, key=lambda s: s == REFERENCE)
    for ax, env in zip(axes.flat, envs, strict=False):
        for setting in settings:
            curves = [binned_curve(r, bins) for r in runs if r.env == env and r.setting == setting and r.episodes]
            if not curves:
                continue
            x = curves[0][0]
            ys = np.array([c[1] for c in curves])
            if setting == REFERENCE:
                ax.plot(x, ys.mean(axis=0), label=setting, color="black", ls="--", lw=0.9)
            else:
                ax.plot(x, ys.mean(axis=0), label=setting, color=colors[setting], lw=1.4)
                ax.fill_between(x, ys.min(axis=0), ys.max(axis=0), color=colors[setting], alpha=0.15)
        ax.set_title(env)
        ax.set_xlabel("timesteps")
        ax.set_ylabel("training episode return")
        ax.ticklabel_format(axis="x", style="sci", scilimits=(0, 0))
    for ax in list(axes.flat)[len(envs) :]:
        ax.axis("off")
    handles, labels = axes.flat[0].get_legend_handles_labels()
    fig.legend(handles, labels, loc="lower center", ncol=min(6, len(labels)), fontsize=8)
    fig.tight_layout(rect=(0, 0.06, 1, 1))
    atomic_save_figure(fig, path, dpi=110)
    plt.close(fig)


#: one colour map per algorithm in a plot, a shade of it per setting: the Table 1 grid has 11 settings besides stock
#: PPO, more than a 10-colour cycle tells apart
HUES = ("Blues", "Oranges", "Greens", "Purples", "Reds", "YlOrBr", "PuRd", "Greys")


def _natural(text: str) -> list[Any]:
    """A sort key that orders numbers by value: fixed_kl_0.3, fixed_kl_1, fixed_kl_3, fixed_kl_10."""
    return [float(part) if i % 2 else part for i, part in enumerate(re.split(r"(\d+(?:\.\d+)?)", text))]


def setting_colors(runs: list[RunResult]) -> dict[str, tuple[float, float, float, float]]:
    """
    The colour of each setting in a plot but stock PPO's (drawn black): the settings of one algorithm share a hue,
    darker for a larger knob (clip 0.1 to 0.3, β 0.3 to 10), so that every setting is told apart and each family
    reads as one.
    """
    import matplotlib

    by_algo: dict[str, list[str]] = defaultdict(list)
    for setting, algo in sorted({(r.setting, r.algo) for r in runs if r.setting != REFERENCE}, key=lambda p: _natural(p[0])):
        by_algo[algo].append(setting)
    colors = {}
    for k, (_, settings) in enumerate(sorted(by_algo.items())):
        shades = matplotlib.colormaps[HUES[k % len(HUES)]]
        for j, setting in enumerate(settings):
            colors[setting] = shades(0.75 if len(settings) == 1 else 0.45 + 0.5 * j / (len(settings) - 1))
    return colors


def binned_curve(run: RunResult, bins: int) -> tuple[np.ndarray, np.ndarray]:
    """Mean return of the episodes ending in each of ``bins`` equal slices of the budget (carried forward if none)."""
    edges = np.linspace(0, run.timesteps, bins + 1)
    t = np.array([e[0] for e in run.episodes])
    r = np.array([e[1] for e in run.episodes])
    values = np.empty(bins)
    last = r[0]
    for i in range(bins):
        mask = (t > edges[i]) & (t <= edges[i + 1])
        last = r[mask].mean() if mask.any() else last
        values[i] = last
    return edges[1:], values


def aggregate_bars(aggregates: list[Aggregate], path: Path) -> None:
    """Mean normalized score per setting with its 95% CI, and the paper's Table 1 value where it has one."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(max(5.0, 0.8 * len(aggregates) + 2), 4))
    x = np.arange(len(aggregates))
    means = [a.mean for a in aggregates]
    errors = np.array(
        [[0.0, 0.0] if a.mean_ci is None else [a.mean - a.mean_ci[0], a.mean_ci[1] - a.mean] for a in aggregates]
    ).T
    ax.bar(x, means, yerr=errors, capsize=4, color="tab:blue", alpha=0.8, label="measured (95% CI)")
    paper = [(i, a.paper) for i, a in enumerate(aggregates) if a.paper is not None]
    if paper:
        ax.scatter([i for i, _ in paper], [p for _, p in paper], color="black", marker="D", zorder=3, label="paper Table 1")
    ax.axhline(0, color="grey", lw=0.8)
    ax.set_xticks(x, [a.setting for a in aggregates], rotation=35, ha="right")
    ax.set_ylabel("average normalized score")
    ax.legend(fontsize=8)
    fig.tight_layout()
    atomic_save_figure(fig, path, dpi=110)
    plt.close(fig)


def random_scores(store: ResultsStore, envs: list[str], episodes: int = RANDOM_EPISODES) -> dict[str, float]:
    """The random policy's mean return per env, measured once and cached in the store."""
    scores = {}
    for env in envs:
        cached = store.random_score(env)
        if cached is None or cached[2] < episodes:
            returns = random_policy_returns(env, episodes)
            store.set_random_score(env, float(np.mean(returns)), float(np.std(returns)), episodes, seed=0)
            cached = store.random_score(env)
        assert cached is not None
        scores[env] = cached[0]
    return scores


def raw_scores(runs: list[RunResult]) -> dict[str, dict[str, list[float]]]:
    """env -> setting -> each run's score (:func:`run_score`), in seed order."""
    raw: dict[str, dict[str, list[float]]] = defaultdict(lambda: defaultdict(list))
    for run in sorted(runs, key=lambda r: r.seed):
        raw[run.env][run.setting].append(run_score(run))
    return raw


def runs_of_budget(store: ResultsStore, timesteps: int | None, all_runs: list[RunResult] | None = None) -> list[RunResult]:
    """
    The store's runs of ``timesteps`` (default: its largest budget).

    :param all_runs: the store's runs, when the caller has read them already (reading unpacks every run's episodes)
    """
    all_runs = store.runs() if all_runs is None else all_runs
    if not all_runs:
        raise ValueError(f"{store.path.parent} holds no finished run yet: run the benchmark first")
    budget = max(r.timesteps for r in all_runs) if timesteps is None else timesteps
    runs = [r for r in all_runs if r.timesteps == budget]
    if not runs:
        budgets = sorted({r.timesteps for r in all_runs})
        raise ValueError(f"no run of {budget} timesteps in {store.path.parent}; budgets there: {budgets}")
    return runs


def make_report(
    folder: str | Path, timesteps: int | None = None, command: str | None = None, baseline: str | Path | None = None
) -> dict[str, Any]:
    """
    Write ``report.md``, ``scores.csv``, ``aggregate.json``, ``learning_curves.png`` and ``aggregate.png`` into
    ``folder`` from its results store (and ``figure3_curves.png`` when it holds Figure 3's comparators, which stay
    out of the Table 1 normalisation).

    :param folder: the benchmark folder
    :param timesteps: report the runs of this budget (default: the largest budget in the store)
    :param command: the command that produced the results, quoted in the report
    :param baseline: another benchmark folder with the same settings at SB3's defaults: the paper-code rows of
        ``folder`` are compared with them per task
    :return: the aggregate, as written to ``aggregate.json``
    """
    folder = Path(folder)
    store = ResultsStore(folder)
    all_runs = store.runs()
    runs = runs_of_budget(store, timesteps, all_runs)
    budget = runs[0].timesteps
    envs = sorted({r.env for r in runs})
    random = random_scores(store, envs)

    raw = raw_scores(runs)
    # the baseline is read before anything is written, so that a wrong one leaves the folder's report as it was
    baseline_raw: dict[str, dict[str, list[float]]] = {}
    if baseline is not None:
        if not (Path(baseline) / ResultsStore.FILENAME).is_file():
            raise ValueError(f"--baseline {baseline}: no results store ({ResultsStore.FILENAME}) there")
        baseline_raw = raw_scores(runs_of_budget(ResultsStore(baseline), budget))
    # Table 1's normalisation and aggregate are over its own settings: the comparators are reference rows
    table_settings = {r.setting for r in runs if r.algo not in COMPARATORS}
    table_raw = {env: {s: v for s, v in by.items() if s in table_settings} for env, by in raw.items()}
    # an env where no run beats the random policy has no normalisation: it is left out of it, its raw scores shown
    unbeaten = sorted(env for env, by in table_raw.items() if by and max(max(v) for v in by.values()) <= random[env])
    normalized = normalize({env: by for env, by in table_raw.items() if by and env not in unbeaten}, random)
    covered, partial = envs_for_aggregate(normalized)
    aggregates = aggregate(covered) if covered else []
    notes = [
        f"{env}: no run beats the random policy ({random[env]:.3g}), so it has no normalised score and is left out of "
        "the average normalised score; its raw scores are below."
        for env in unbeaten
    ]
    if partial:
        notes.append(
            f"{', '.join(partial)}: not every setting has run there yet, so the average normalised score covers "
            f"{', '.join(covered)} only; the raw scores below include it."
        )
    other_budgets = sorted({r.timesteps for r in all_runs} - {budget})
    if other_budgets:
        left_out = len(all_runs) - len(runs)
        notes.append(
            f"{left_out} runs of other budgets ({', '.join(f'{b:,}' for b in other_budgets)} timesteps) are not in this "
            "report: `report --timesteps <budget>` reports them."
        )

    learning_curves(runs, folder / "learning_curves.png")
    if any(r.algo in COMPARATORS for r in runs):
        learning_curves(figure3_runs(runs), folder / "figure3_curves.png")
    if aggregates:
        aggregate_bars(aggregates, folder / "aggregate.png")
    groups = software_groups(runs)
    _write_scores_csv(runs, raw, normalized, group_of(groups), folder / "scores.csv")
    pin = store.pin()
    summary = {
        "timesteps": budget,
        "envs": envs,
        "random_scores": random,
        "aggregate": [a.__dict__ for a in aggregates],
        "pin": pin,
        "software_groups": [{"group": g.name, "runs": len(g.runs), "versions": g.versions} for g in groups],
    }
    atomic_write_json(folder / "aggregate.json", summary)
    incomplete = incomplete_settings(covered)
    markdown = _markdown(runs, raw, random, aggregates, incomplete, budget, command, notes)
    extra = figure3_section(runs, raw) + klip_section(runs)
    updates = store.updates()
    if partition_plot(runs, updates, folder / "klip_partition.png"):
        extra += ["", PARTITION_HEADING, "", "Mean over seeds, per update.", "", "![partition](klip_partition.png)", ""]
        extra += partition_table(runs, updates)
    if baseline is not None:
        extra += paper_code_section(raw, baseline_raw, Path(baseline))
    markdown += "\n".join(extra) + ("\n\n" if extra else "")
    atomic_write_text(folder / "report.md", markdown + "\n".join(software_section(runs, pin)) + "\n")
    return summary


def read_scores_csv(folder: Path) -> list[dict[str, str]]:
    """The rows of a report's ``scores.csv`` in ``folder`` (one per run, keyed by its header), none without it."""
    if not (folder / "scores.csv").is_file():
        return []
    with open(folder / "scores.csv", newline="") as file:
        return list(csv.DictReader(file))


def _write_scores_csv(
    runs: list[RunResult],
    raw: dict[str, dict[str, list[float]]],
    normalized: dict[str, dict[str, list[float]]],
    software_group: dict[str, str],
    path: Path,
) -> None:
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    header = ["setting", "algo", "env", "seed", "timesteps", "episodes", "score", "normalized_score", "fps"]
    writer.writerow([*header, "software_group", "code_version"])
    for run in sorted(runs, key=lambda r: (r.setting, r.env, r.seed)):
        seeds = sorted(r.seed for r in runs if r.setting == run.setting and r.env == run.env)
        i = seeds.index(run.seed)
        # a comparator has no normalized score (it is outside Table 1's normalisation)
        scaled = normalized.get(run.env, {}).get(run.setting)
        writer.writerow(
            [
                run.setting,
                run.algo,
                run.env,
                run.seed,
                run.timesteps,
                len(run.episodes),
                f"{raw[run.env][run.setting][i]:.4f}",
                "" if scaled is None else f"{scaled[i]:.4f}",
                f"{run.fps:.0f}",
                software_group[run.key],
                run.code_version,
            ]
        )
    atomic_write_text(path, buffer.getvalue())


def _markdown(
    runs: list[RunResult],
    raw: dict[str, dict[str, list[float]]],
    random: dict[str, float],
    aggregates: list[Aggregate],
    incomplete: dict[str, list[str]],
    budget: int,
    command: str | None,
    notes: list[str] | None = None,
) -> str:
    envs = sorted(raw)
    settings = sorted({r.setting for r in runs}, key=lambda s: (known_setting(s) is None, s))
    seeds = sorted({r.seed for r in runs})
    # a folder of the klip preset (or of a grid of its own) has no Table 1 row: no paper column to read, no ordering
    table1 = any((known := known_setting(s)) is not None and known.paper_score is not None for s in settings)
    out = [
        "# Table 1 benchmark report" if table1 else "# Benchmark report",
        "",
        f"{len(runs)} runs: {len(settings)} settings x {len(envs)} environments x seeds {seeds}, "
        f"{budget:,} timesteps each, n_envs {sorted({r.n_envs for r in runs})}. Software and code versions: "
        "[below](#software).",
    ]
    if command:
        out += ["", "Produced by:", "", "```", command, "```"]
    if notes:
        out += ["", *(f"**Note:** {note}" for note in notes)]
    out += [
        "",
        f"Score of a run: mean return of its last {LAST_EPISODES} training episodes. Normalized: random policy "
        f"({RANDOM_EPISODES} episodes of uniform random actions) = 0, best run in this report = 1, per environment. "
        "95% CIs: rliable stratified bootstrap over runs; IQM: interquartile mean of all runs."
        + (
            " The paper's best run was the best over all of its 11 settings at 1M steps; here it is the best over the "
            "settings and budget of this report, so compare the paper's column for ordering more than for value."
            if table1
            else ""
        ),
        "",
        AGGREGATE_HEADING,
        "",
        "| setting | paper | mean | 95% CI | IQM | IQM 95% CI | runs |",
        "|---|---|---|---|---|---|---|",
    ]
    for a in aggregates:
        paper = "" if a.paper is None else f"{a.paper:.2f}"
        out.append(f"| {a.setting} | {paper} | {a.mean:.2f} | {_ci(a.mean_ci)} | {a.iqm:.2f} | {_ci(a.iqm_ci)} | {a.runs} |")
    for setting, envs_missing in incomplete.items():
        out.append(f"\n{setting} is left out of the aggregate until it has run on {', '.join(envs_missing)}.")
    out += ["", "![aggregate](aggregate.png)"]
    if table1:
        out += ["", ORDERING_HEADING, "", *ordering_verdict(aggregates, runs, raw, random)]
    for stock, clip, stock_name, clip_name in PARITY_PAIRS:
        n_pairs, n_same = identical_runs(runs, stock, clip)
        if not n_pairs:
            continue
        verdict = "identical" if n_same == n_pairs else "NOT identical"
        out += [
            "",
            f"## Stock {stock_name} vs {clip_name}",
            "",
            f"`{stock}` ({stock_name}) and `{clip}` ({clip_name}) produced {verdict} training episodes in "
            f"{n_same} of {n_pairs} (env, seed) runs, as they must: {clip_name} is bit-for-bit {stock_name}.",
        ]
    out += ["", "## Per environment: raw score, mean ± std over seeds (runs)", ""]
    out.append("| setting | " + " | ".join(envs) + " |")
    out.append("|---|" + "---|" * len(envs))
    out.append("| random policy | " + " | ".join(f"{random[e]:.1f}" for e in envs) + " |")
    for setting in settings:
        cells = []
        for env in envs:
            cells.append(mean_std_cell(raw[env].get(setting, [])))
        out.append(f"| {setting} | " + " | ".join(cells) + " |")
    out += ["", "## Learning curves", "", "Mean over seeds of the training returns; band: min-max over seeds.", ""]
    out += ["![learning curves](learning_curves.png)", ""]
    return "\n".join(out)
