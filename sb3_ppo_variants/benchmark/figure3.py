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
from sb3_ppo_variants.benchmark.cells import mean_std_cell
from sb3_ppo_variants.benchmark.comparators import ZOO_VERSION, zoo_entry
from sb3_ppo_variants.benchmark.grid import PAPER_CODE_SUFFIX
from sb3_ppo_variants.benchmark.store import RunResult

#: PPO-Clip's return at 1M steps per task, read off Figure 3 (the paper ran the -v1 tasks)
PAPER_PPO_CLIP: dict[str, str] = {
    "HalfCheetah-v5": "~1800",
    "Hopper-v5": "~2300",
    "InvertedDoublePendulum-v5": "~8000",
    "InvertedPendulum-v5": "~1000",
    "Reacher-v5": "~-7",
    "Swimmer-v5": "~108",
    "Walker2d-v5": "~3000-3460",
}
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
        lines.append(
            f"- `{cls.__module__.split('.')[0]}.{cls.__name__}`: rl-zoo3 {ZOO_VERSION}'s tuned hyperparameters on "
            + (", ".join(tuned) or "no task")
            + "; SB3's defaults on "
            + (", ".join(default) or "no task")
            + " (the zoo has no entry for them)."
        )
    return lines


def figure3_section(runs: list[RunResult], raw: dict[str, dict[str, list[float]]]) -> list[str]:
    """The report's Figure 3 section (empty without comparator runs)."""
    if not any(r.algo in COMPARATORS for r in runs):
        return []
    envs = sorted(raw)
    rows = [row for row in FIGURE3_ROWS if any(row in raw[env] for env in envs)]
    out = [
        "",
        "## Figure 3: PPO-Clip beside TRPO and A2C",
        "",
        "Raw score per task (mean return of the last 100 training episodes), mean ± std over seeds (runs). TRPO "
        "and A2C are reference rows outside the Table 1 normalisation. The paper's row is PPO-Clip's value read "
        "off Figure 3 at 1M steps (approximate; the paper's TRPO and A2C curves are not read off here).",
        "",
    ]
    out += hyperparameter_note(runs)
    out += ["", "| setting | " + " | ".join(envs) + " |", "|---|" + "---|" * len(envs)]
    out.append("| paper, PPO-Clip (Figure 3) | " + " | ".join(PAPER_PPO_CLIP.get(env, "") for env in envs) + " |")
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
        "## The paper's code-level settings vs SB3's defaults vs the paper",
        "",
        f"Raw score per task, mean ± std over seeds (runs). SB3's defaults: the same setting in `{baseline}`. The "
        "paper's value is PPO-Clip's, read off Figure 3 at 1M steps (it applies to the clipping rows).",
        "",
        "| task | paper, PPO-Clip (Figure 3) | " + " | ".join(f"{row} | SB3 defaults" for row in rows) + " |",
        "|---|---|" + "---|---|" * len(rows),
    ]
    for env in envs:
        cells = []
        for row in rows:
            default = row.replace(PAPER_CODE_SUFFIX, "")
            cells += [mean_std_cell(raw[env].get(row, [])), mean_std_cell(baseline_raw.get(env, {}).get(default, []))]
        out.append(f"| {env} | {PAPER_PPO_CLIP.get(env, '')} | " + " | ".join(cells) + " |")
    return out
