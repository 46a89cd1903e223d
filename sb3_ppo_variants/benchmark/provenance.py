"""What a report's runs ran on: their software groups and code versions, and whether they mix."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field

from sb3_ppo_variants.benchmark.software import CPU_CAPABILITY, NUMERIC_PACKAGES, UNKNOWN, pinned_versions
from sb3_ppo_variants.benchmark.store import RunResult


@dataclass
class SoftwareGroup:
    """
    Runs that share their numerics-relevant software (they are comparable bit for bit).

    :param name: ``A``, ``B``, ... by decreasing size, or ``unknown`` for runs stored before runs recorded it
    :param versions: the pinned names and their values (empty for ``unknown``)
    :param runs: the group's runs
    :param recorded: what else these runs recorded (python, CPU model, threads, rl_zoo3), with how many runs had it
    """

    name: str
    versions: dict[str, str]
    runs: list[RunResult]
    recorded: dict[str, Counter[str]] = field(default_factory=dict)


#: Recorded with each run and shown in the report, but not part of the pin.
SHOWN_UNPINNED = ("python", "rl_zoo3", "cpu", "torch_threads")


def software_groups(runs: list[RunResult]) -> list[SoftwareGroup]:
    """The runs grouped by their pinned versions, largest group first, runs of unknown software last."""
    by_versions: dict[tuple[tuple[str, str], ...], list[RunResult]] = {}
    unknown: list[RunResult] = []
    for run in runs:
        if run.software is None:
            unknown.append(run)
        else:
            by_versions.setdefault(tuple(pinned_versions(run.software).items()), []).append(run)
    ordered = sorted(by_versions.items(), key=lambda item: -len(item[1]))
    groups = []
    for i, (versions, members) in enumerate(ordered):
        recorded = {name: Counter(r.software.get(name, UNKNOWN) for r in members if r.software) for name in SHOWN_UNPINNED}
        groups.append(SoftwareGroup(chr(ord("A") + i) if i < 26 else f"G{i}", dict(versions), members, recorded))
    if unknown:
        groups.append(SoftwareGroup(UNKNOWN, {}, unknown))
    return groups


def group_of(groups: list[SoftwareGroup]) -> dict[str, str]:
    """Run key -> the name of its software group."""
    return {run.key: group.name for group in groups for run in group.runs}


def _counted(counter: Counter[str]) -> str:
    return ", ".join(value if len(counter) == 1 else f"{value} ({n})" for value, n in counter.most_common())


def software_section(runs: list[RunResult], pin: dict[str, str] | None) -> list[str]:
    """The report's Markdown section on what its runs ran on: the folder's pin (if given), one column per software
    group, the runs outside the largest group, and the code versions with their run counts."""
    groups = software_groups(runs)
    out = ["", "## Software", ""]  # after the Markdown before it, a blank line first
    if pin is not None:
        out += [
            "Pinned to (`constraints.txt`): "
            + ", ".join(f"{name} {pin[name]}" for name in NUMERIC_PACKAGES)
            + f", torch CPU capability {pin[CPU_CAPABILITY]}.",
            "",
        ]
    out += ["| | " + " | ".join(f"group {g.name}" for g in groups) + " |", "|---|" + "---|" * len(groups)]
    out.append("| runs | " + " | ".join(str(len(g.runs)) for g in groups) + " |")
    for name in (*NUMERIC_PACKAGES, CPU_CAPABILITY):
        out.append(f"| {name} | " + " | ".join(g.versions.get(name, UNKNOWN) for g in groups) + " |")
    for name in SHOWN_UNPINNED:
        cells = [_counted(g.recorded[name]) if g.recorded else UNKNOWN for g in groups]
        out.append(f"| {name} (not pinned) | " + " | ".join(cells) + " |")
    out.append("")
    if len(groups) == 1 and groups[0].name != UNKNOWN:
        out.append("All runs ran on the same software: they are comparable bit for bit.")
    elif len(groups) == 1:
        out.append("None of these runs recorded its software: whether they share one set of versions is unknown.")
    else:
        out.append(
            f"**Mixed software**: these runs come from {len(groups)} groups. Runs of different groups are comparable "
            "statistically, not bit for bit (the same setting, env and seed gives other episodes on other software). "
            "The runs outside group A:"
        )
        for group in groups[1:]:
            names = ", ".join(f"{r.setting} {r.env} seed {r.seed}" for r in sorted(group.runs, key=_order))
            out.append(f"- group {group.name}: {names}")
    codes = Counter(r.code_version for r in runs)
    out += ["", "Code versions (`sb3-ppo-variants` version + commit; `-dirty`: the package's own files differed from it):", ""]
    out += [f"- `{code}`: {n} runs" for code, n in sorted(codes.items())]
    return out


def _order(run: RunResult) -> tuple[str, str, int]:
    return run.setting, run.env, run.seed
