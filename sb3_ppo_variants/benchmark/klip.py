"""KLip-PPO's comparison in a benchmark report: the ``klip`` preset's five objectives per task beside the numbers of
that paper's table (../shared/klip-notes.md), in its metric, and the verdict on its claim that a scalar β falls far
behind clipping on Ant and Humanoid."""

from __future__ import annotations

import statistics
from pathlib import Path

import numpy as np
from gymnasium.envs.registration import parse_env_id

from sb3_ppo_variants.benchmark.cells import interval_cell, mean_std_cell, t_interval
from sb3_ppo_variants.benchmark.io import atomic_save_figure
from sb3_ppo_variants.benchmark.store import RunResult

#: their table: task -> objective -> (mean, std) over 5 seeds of the return over the last 10% of training (-v4 tasks)
PAPER: dict[str, dict[str, tuple[float, float]]] = {
    "HalfCheetah": {"clip": (1955, 312), "per_sample_kl": (1955, 312), "fixed_kl": (2111, 1066), "adaptive_kl": (2207, 1117)},
    "Hopper": {"clip": (2598, 278), "per_sample_kl": (2598, 278), "fixed_kl": (2616, 208), "adaptive_kl": (2236, 365)},
    "Walker2d": {"clip": (3717, 425), "per_sample_kl": (3717, 425), "fixed_kl": (3995, 402), "adaptive_kl": (3639, 374)},
    "Ant": {"clip": (2193, 361), "per_sample_kl": (2193, 361), "fixed_kl": (16, 16), "adaptive_kl": (159, 86)},
    "Humanoid": {"clip": (660, 70), "per_sample_kl": (660, 70), "fixed_kl": (342, 31), "adaptive_kl": (553, 22)},
}
#: the ``klip`` preset's settings (their ``_fast`` rows too) by the objective of their table
ROWS = {
    "klip_clip_0.2": "clip",
    "klip_per_sample_kl": "per_sample_kl",
    "klip_soft_clip_linear_0.05": "soft_clip",
    "klip_fixed_kl_1": "fixed_kl",
    "klip_adaptive_kl_0.02": "adaptive_kl",
}
#: the tasks of their claim
HARD_TASKS = ("Ant", "Humanoid")
#: what the -v5 task we run changes from the -v4 task of their table, where it changes what the agent sees or is paid
#: (gymnasium's version history; both -v5 tasks also pay the healthy reward only while healthy, which an episode
#: that ends when unhealthy differs in by one step at most)
V5_CHANGES = {
    "Ant": "Ant-v5 observes the contact forces (105 numbers; -v4 by default 27) and charges a contact cost (-v4 by "
    "default none)",
    "Humanoid": "Humanoid-v5 drops 28 always-zero numbers of -v4's observation (348 of 376) and charges a contact "
    "cost of weight 5e-7 (-v4 none)",
}
#: the report's section headings: the comparison, and the plot of the partition over training
KLIP_HEADING = "## KLip-PPO's comparison (the `klip` preset)"
PARTITION_HEADING = "## The partition of the samples over training (the `klip` preset)"


def last_tenth_return(run: RunResult) -> float | None:
    """
    Their metric of a run: the mean return of the training episodes that end in the last 10% of its timesteps; None
    when none ends there (only on budgets of a few episodes: a MuJoCo episode is at most 1,000 steps).
    """
    returns = [r for t, r, _ in run.episodes if t > 0.9 * run.timesteps]
    return float(np.mean(returns)) if returns else None


def _objective(setting: str) -> str | None:
    return ROWS.get(setting.removesuffix("_fast"))


def _task(env: str) -> str:
    """The task of an env id, as their table names it (``Ant`` for ``Ant-v5``): gymnasium's parse of the id."""
    return parse_env_id(env)[1]


PARTITION = ("train/frac_in_band", "train/frac_killed", "train/frac_passed")
#: β per update: the scalar coefficient of the KL penalties, the mean abs(β_t) over the killed samples of the per-sample ones
BETA = ("train/kl_coef", "train/kl_coef_killed")
APPROX_KL = "train/approx_kl"


def partition_plot(runs: list[RunResult], updates: dict[str, dict[str, np.ndarray]], path: Path) -> bool:
    """
    The partition of the samples over training (in band, killed, passed; KLip-PPO's diagnostics), one row of panels
    per task, one line per objective (mean over seeds, on each update's timestep).

    :param updates: the store's recorded updates (:meth:`~sb3_ppo_variants.benchmark.store.ResultsStore.updates`)
    :return: whether a plot was written (runs of the ``klip`` settings that recorded their updates exist)
    """
    recorded = [r for r in runs if _objective(r.setting) is not None and r.key in updates and PARTITION[1] in updates[r.key]]
    if not recorded:
        return False
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    tasks = sorted({r.env for r in recorded})
    fig, axes = plt.subplots(len(tasks), 3, figsize=(13, 3.2 * len(tasks)), squeeze=False)
    for row, task in enumerate(tasks):
        for objective in ROWS.values():
            mine = [updates[r.key] for r in recorded if r.env == task and _objective(r.setting) == objective]
            if not mine:
                continue
            n = min(len(u["timestep"]) for u in mine)
            # clipping wide and faint underneath: the per-sample penalty has its gradient, so their curves coincide
            style = {"lw": 3.5, "alpha": 0.45} if objective == "clip" else {"lw": 1.2}
            for col, key in enumerate(PARTITION):
                mean = np.mean([u[key][:n] for u in mine], axis=0)
                axes[row, col].plot(mine[0]["timestep"][:n], mean, label=objective, **style)
        for col, key in enumerate(PARTITION):
            axes[row, col].set_title(f"{task}: {key.removeprefix('train/')}")
            axes[row, col].set_xlabel("timesteps")
    axes[0, 0].legend(fontsize=8)
    fig.tight_layout()
    atomic_save_figure(fig, path, dpi=100)
    plt.close(fig)
    return True


def partition_table(runs: list[RunResult], updates: dict[str, dict[str, np.ndarray]]) -> list[str]:
    """
    The partition plot's numbers: per task and objective, the fractions in band, killed and passed and β, each the mean
    over a run's updates, and SB3's ``train/approx_kl`` as the median over its updates (a fixed β's KL can have single
    updates thousands of times its median, which would dominate a mean), each then the mean over seeds.

    :param updates: the store's recorded updates (:meth:`~sb3_ppo_variants.benchmark.store.ResultsStore.updates`)
    :return: the table's lines, none without runs of the ``klip`` settings that recorded their updates
    """
    cells: dict[tuple[str, str], list[dict[str, float]]] = {}
    for run in runs:
        objective = _objective(run.setting)
        recorded = updates.get(run.key, {})
        if objective is None or PARTITION[1] not in recorded:
            continue
        values = {key: float(np.mean(recorded[key])) for key in (*PARTITION, *BETA) if key in recorded}
        if APPROX_KL in recorded:
            values[APPROX_KL] = float(np.median(recorded[APPROX_KL]))
        cells.setdefault((run.env, objective), []).append(values)
    if not cells:
        return []
    out = [
        "| task | objective | in band | killed | passed | β | approx KL (median) | runs |",
        "|---|---|---|---|---|---|---|---|",
    ]
    order = list(ROWS.values())
    for (env, objective), per_run in sorted(cells.items(), key=lambda item: (item[0][0], order.index(item[0][1]))):
        fractions = " | ".join(_mean_over_seeds(per_run, key, ".3f") for key in PARTITION)
        beta = next((cell for cell in (_mean_over_seeds(per_run, key, ".2f") for key in BETA) if cell), "")
        kl = _mean_over_seeds(per_run, APPROX_KL, ".3g")
        out.append(f"| {env} | {objective} | {fractions} | {beta} | {kl} | {len(per_run)} |")
    return [
        "Per run the mean over its updates (SB3's approximate KL: the median), then the mean over seeds. β: the "
        "scalar coefficient of the KL penalties (adaptive: the β each update used), the mean abs(β_t) over the "
        "killed samples for the per-sample ones (`train/kl_coef_killed`).",
        "",
        *out,
    ]


def _mean_over_seeds(per_run: list[dict[str, float]], key: str, spec: str) -> str:
    """The mean over the runs that recorded ``key`` (runs of older code may lack a key), formatted; empty for none."""
    recorded = [values[key] for values in per_run if key in values]
    return format(float(np.mean(recorded)), spec) if recorded else ""


def klip_section(runs: list[RunResult]) -> list[str]:
    """The report's KLip-PPO section (empty without runs of the ``klip`` settings)."""
    scores: dict[str, dict[str, list[float]]] = {}
    names: dict[str, str] = {}
    envs: set[str] = set()
    without_episode: list[str] = []
    for run in sorted(runs, key=lambda r: r.seed):
        objective = _objective(run.setting)
        if objective is None:
            continue
        names[objective] = run.setting
        envs.add(run.env)
        value = last_tenth_return(run)
        if value is None:
            without_episode.append(f"{run.setting} {run.env} seed {run.seed}")
            continue
        # per env id, not per task: a folder may hold two versions of a task (Ant-v4, Ant-v5), which are not one task
        scores.setdefault(run.env, {}).setdefault(objective, []).append(value)
    if not names:
        return []
    objectives = [o for o in ROWS.values() if o in names]
    out = [
        "",
        KLIP_HEADING,
        "",
        "Their metric: mean return of the training episodes in the last 10% of timesteps, mean ± std over seeds (runs), "
        "with the 95% confidence interval of the mean (Student's t over seeds); theirs: mean ± std over 5 seeds on the "
        f"-v4 tasks, ours: {', '.join(sorted(envs))}. Rows: " + ", ".join(f"`{names[o]}`" for o in objectives) + ".",
        "",
    ]
    changes = [V5_CHANGES[task] for task in sorted(V5_CHANGES) if f"{task}-v5" in envs]
    if changes:
        out += [
            "The tasks differ from theirs: " + "; ".join(changes) + ". Their absolute returns are not ours to match on "
            "such a task; their claim, which sets objectives against each other on one task, is.",
            "",
        ]
    if without_episode:
        out += [
            f"Left out: {len(without_episode)} runs that finished no episode in their last 10% of timesteps (their "
            f"metric needs one; a budget of a few episodes): {', '.join(without_episode)}.",
            "",
        ]
    out += ["| task | objective | ours | 95% CI | theirs |", "|---|---|---|---|---|"]
    for env, by_objective in sorted(scores.items()):
        for objective in objectives:
            values = by_objective.get(objective, [])
            theirs = PAPER.get(_task(env), {}).get(objective)
            out.append(
                f"| {env} | {objective} | {mean_std_cell(values, digits=0)} | {interval_cell(t_interval(values), digits=0)} "
                f"| {'' if theirs is None else f'{theirs[0]:.0f} ± {theirs[1]:.0f}'} |"
            )
    out += ["", "Their claim, on our runs (a scalar β far behind clipping where the policy must travel far):"]
    for task in HARD_TASKS:
        envs_of_task = sorted(env for env in scores if _task(env) == task)
        if not envs_of_task:
            out.append(f"- {task}: no runs.")
        for env in envs_of_task:
            by_objective = scores[env]
            if "clip" not in by_objective:
                out.append(f"- {env}: no PPO-Clip runs yet.")
                continue
            clip = by_objective["clip"]
            scalar_beta = [objective for objective in ("fixed_kl", "adaptive_kl") if objective in by_objective]
            if not scalar_beta:
                out.append(f"- {env}: no scalar-β runs yet.")
            for objective in scalar_beta:
                out.append(f"- {env}: " + _verdict(objective, by_objective[objective], clip))
    return out


def _verdict(objective: str, scalar_beta: list[float], clip: list[float]) -> str:
    """Whether a scalar-β objective's mean is below half of clipping's, and whether the CIs settle it."""
    value, half_clip = statistics.mean(scalar_beta), 0.5 * statistics.mean(clip)
    holds = value < half_clip
    text = (
        f"{objective} {value:.0f} vs clip {2 * half_clip:.0f} ({len(scalar_beta)} and {len(clip)} runs): "
        f"**{'holds' if holds else 'does not hold'}** (criterion: below half of clip's mean)."
    )
    beta_ci, clip_ci = t_interval(scalar_beta), t_interval(clip)
    if beta_ci is None or clip_ci is None:
        return text + " Too few runs for confidence intervals."
    # settled: the whole interval of the scalar-β mean lies on the verdict's side of half of clip's interval
    settled = beta_ci[1] < 0.5 * clip_ci[0] if holds else beta_ci[0] >= 0.5 * clip_ci[1]
    return text + (
        f" The 95% CIs {'settle' if settled else 'do not settle'} it: {objective} {interval_cell(beta_ci, 0)}, half of "
        f"clip {interval_cell((0.5 * clip_ci[0], 0.5 * clip_ci[1]), 0)}."
    )
