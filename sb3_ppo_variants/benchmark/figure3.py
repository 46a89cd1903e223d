"""Figure 3 of the paper in a benchmark report: PPO-Clip beside TRPO and A2C per task, in raw returns, with the
paper's values read off its curves; and the paper-code comparison (SB3's defaults vs the released code's settings vs
the paper), per task.

Figure 3 plots training curves, not a table: the values of :data:`PAPER_PPO_CLIP` are read off the PPO-Clip curves
at 1M steps (../shared/paper-notes.md), approximate by nature. The comparators are not in the paper's Table 1
normalisation, so the report keeps them out of it and shows them in raw returns only.
"""

from __future__ import annotations

from pathlib import Path

from sb3_ppo_variants.benchmark import COMPARATORS
from sb3_ppo_variants.benchmark.cells import interval_cell, mean_std_cell, t_interval
from sb3_ppo_variants.benchmark.comparators import ZOO_VERSION, zoo_entry
from sb3_ppo_variants.benchmark.grid import PAPER_CODE_SUFFIX
from sb3_ppo_variants.benchmark.store import RunResult

#: the report's section headings
FIGURE3_HEADING = "## Figure 3: PPO-Clip beside TRPO and A2C"
PAPER_CODE_HEADING = "## The paper's code-level settings vs SB3's defaults vs the paper"
#: PPO-Clip's return at 1M steps per task, read off Figure 3 (the paper ran the -v1 tasks): the lowest and highest
#: value the curve's reading allows (equal where one value was read)
PAPER_PPO_CLIP: dict[str, tuple[float, float]] = {
    "HalfCheetah-v5": (1800, 1800),
    "Hopper-v5": (2300, 2300),
    "InvertedDoublePendulum-v5": (8000, 8000),
    "InvertedPendulum-v5": (1000, 1000),
    "Reacher-v5": (-7, -7),
    "Swimmer-v5": (108, 108),
    "Walker2d-v5": (3000, 3460),
}


def paper_value(env: str) -> str:
    """The paper's Figure 3 value for a task as read (``~1800``, ``~3000-3460``); empty where it has none."""
    if env not in PAPER_PPO_CLIP:
        return ""
    low, high = PAPER_PPO_CLIP[env]
    return f"~{low:g}" if low == high else f"~{low:g}-{high:g}"


#: the rows of the Figure 3 table, in order, where present: PPO-Clip (fast and exact), the best KL settings of
#: Table 1, then the comparators
FIGURE3_ROWS = ("clip_0.2_fast", "clip_0.2", "sb3_ppo", "adaptive_kl_0.01_fast", "fixed_kl_3_fast", "sb3_trpo", "sb3_a2c")


def hyperparameter_note(runs: list[RunResult]) -> list[str]:
    """Which tasks each comparator ran at the zoo's tuned hyperparameters, and which at SB3's defaults."""
    lines = []
    for algo, cls in COMPARATORS.items():
        envs = sorted({r.env for r in runs if r.algo == algo})
        if not envs:
            continue
        tuned = [f"{env} (the zoo's {found[0]})" for env in envs if (found := zoo_entry(algo, env)) is not None]
        default = [env for env in envs if zoo_entry(algo, env) is None]
        parts = []
        if tuned:
            parts.append(f"rl-zoo3 {ZOO_VERSION}'s tuned hyperparameters on " + ", ".join(tuned))
        if default:
            parts.append("SB3's defaults on " + ", ".join(default) + " (the zoo has no entry for them)")
        lines.append(f"- `{cls.__module__.split('.')[0]}.{cls.__name__}`: " + "; ".join(parts) + ".")
    return lines


def figure3_section(runs: list[RunResult], raw: dict[str, dict[str, list[float]]]) -> list[str]:
    """The report's Figure 3 section (empty without comparator runs)."""
    if not any(r.algo in COMPARATORS for r in runs):
        return []
    envs = sorted(raw)
    rows = [row for row in FIGURE3_ROWS if any(row in raw[env] for env in envs)]
    out = [
        "",
        FIGURE3_HEADING,
        "",
        "Raw score per task (mean return of the last 100 training episodes), mean ± std over seeds (runs). TRPO "
        "and A2C are reference rows outside the Table 1 normalisation. The paper's row is PPO-Clip's value read "
        "off Figure 3 at 1M steps (approximate; the paper's TRPO and A2C curves are not read off here).",
        "",
    ]
    out += hyperparameter_note(runs)
    out += ["", "| setting | " + " | ".join(envs) + " |", "|---|" + "---|" * len(envs)]
    out.append("| paper, PPO-Clip (Figure 3) | " + " | ".join(paper_value(env) for env in envs) + " |")
    for row in rows:
        out.append(f"| {row} | " + " | ".join(mean_std_cell(raw[env].get(row, [])) for env in envs) + " |")
    out += ["", "![figure 3](figure3_curves.png)"]
    return out


def figure3_runs(runs: list[RunResult]) -> list[RunResult]:
    """The runs of the Figure 3 rows (for its learning-curve plot)."""
    return [r for r in runs if r.setting in FIGURE3_ROWS]


def paper_code_section(
    raw: dict[str, dict[str, list[float]]], baseline_raw: dict[str, dict[str, list[float]]], baseline: Path
) -> list[str]:
    """
    Per task, each paper-code row beside the same setting at SB3's defaults (from ``baseline``, another benchmark
    folder) and the paper's Figure 3 value.

    :param raw: env -> setting -> raw scores, of this folder
    :param baseline_raw: the same, of the baseline folder
    :param baseline: the baseline folder, for the text
    """
    rows = sorted({s for by_setting in raw.values() for s in by_setting if PAPER_CODE_SUFFIX in s})
    if not rows:
        return []
    envs = sorted(raw)
    out = [
        "",
        PAPER_CODE_HEADING,
        "",
        f"Raw score per task, mean ± std over seeds (runs) and the 95% confidence interval of the mean (Student's t "
        f"over seeds). SB3's defaults: the same setting in `{baseline}`. The paper's value is PPO-Clip's, read off "
        "Figure 3 at 1M steps (it applies to the clipping rows).",
        "",
        "| task | paper, PPO-Clip (Figure 3) | " + " | ".join(f"{row} | SB3 defaults" for row in rows) + " |",
        "|---|---|" + "---|---|" * len(rows),
    ]
    for env in envs:
        cells = []
        for row in rows:
            default = row.replace(PAPER_CODE_SUFFIX, "")
            cells += [_cell(raw[env].get(row, [])), _cell(baseline_raw.get(env, {}).get(default, []))]
        out.append(f"| {env} | {paper_value(env)} | " + " | ".join(cells) + " |")
    clipping = [row for row in rows if row.startswith("clip_")]
    if clipping:
        out += ["", "Does the paper-code PPO-Clip reach the paper's score?"]
        out += [
            f"- {env}, `{row}`: {reaches_paper(env, raw[env][row])}" for row in clipping for env in envs if raw[env].get(row)
        ]
    return out


def _cell(values: list[float]) -> str:
    return f"{mean_std_cell(values)} {interval_cell(t_interval(values))}".strip()


def reaches_paper(env: str, values: list[float]) -> str:
    """
    Whether a task's scores reach the paper's Figure 3 value for it: its 95% confidence interval of the mean (Student's
    t over seeds) below the value read off ("falls short"), above it ("exceeds it") or covering it ("consistent").

    :param env: the task
    :param values: one score per seed
    """
    if env not in PAPER_PPO_CLIP:
        return "the paper has no value for this task."
    low, high = PAPER_PPO_CLIP[env]
    interval = t_interval(values)
    if interval is None:
        return f"one run, {values[0]:.1f} vs the paper's {paper_value(env)}: too few runs for a confidence interval."
    if interval[1] < low:
        verdict = "falls short of it"
    elif interval[0] > high:
        verdict = "exceeds it"
    else:
        verdict = "consistent with it (the interval covers it)"
    return f"{mean_std_cell(values)}, 95% CI {interval_cell(interval)} vs the paper's {paper_value(env)}: **{verdict}**."
