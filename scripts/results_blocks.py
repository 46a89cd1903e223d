"""Write what the committed benchmark grids say into README.md and docs/guide/benchmark.md, each between the markers
``<!-- results NAME -->`` and ``<!-- /results NAME -->``: how far the grid got (the runs of its folder's report,
counted as ``benchmark status`` counts them) and the sections of the report that carry its findings: for Table 1 at
1M steps its column and the ordering verdicts, and the fast-vs-exact check (from ``equivalence.json``, which must
cover the same runs); for Figure 3, the paper's code-level settings and KLip-PPO's comparison, their sections. Each
figure has one source, the committed report, so the pages cannot fall behind it: a test runs ``--check``.

    python scripts/results_blocks.py          # rewrite the blocks (after `benchmark report` and `benchmark.equivalence`)
    python scripts/results_blocks.py --check  # exit 1, naming the file, if a block differs from what the results say
"""

from __future__ import annotations

import argparse
import json
import re
import sys
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from sb3_ppo_variants.benchmark.figure3 import FIGURE3_HEADING, PAPER_CODE_HEADING
from sb3_ppo_variants.benchmark.grid import Grid, preset, select
from sb3_ppo_variants.benchmark.io import atomic_write_text
from sb3_ppo_variants.benchmark.klip import KLIP_HEADING
from sb3_ppo_variants.benchmark.report import AGGREGATE_HEADING, ORDERING_HEADING, read_scores_csv
from sb3_ppo_variants.benchmark.status import progress_by

ROOT = Path(__file__).resolve().parents[1]
#: the pages that carry the blocks
PAGES = ("README.md", "docs/guide/benchmark.md")


@dataclass(frozen=True)
class Summary:
    """
    One grid's block.

    :param name: the block's marker name
    :param folder: the grid's results folder
    :param grid: the grid, as ``scripts/grids.sh`` runs it (its runs are counted)
    :param sections: the report's sections the block carries, each (its heading in the report, the block's lead-in)
    :param equivalence: whether the block ends with the folder's fast-vs-exact check (``equivalence.json``)
    :param report_options: the options `benchmark report` needs besides the folder to write the sections (named when
        they are missing)
    """

    name: str
    folder: str
    grid: Callable[[], Grid]
    sections: tuple[tuple[str, str], ...]
    equivalence: bool = False
    report_options: str = ""


SUMMARIES = (
    Summary(
        "table1_1m",
        "results/table1_1m",
        lambda: select(preset("table1"), fast=True),
        (
            (AGGREGATE_HEADING, "The Table 1 column (each setting's runs of the seeds that it has on every task):"),
            (ORDERING_HEADING, "Does the paper's ordering hold (the report's verdicts)?"),
        ),
        equivalence=True,
    ),
    Summary("figure3", "results/table1_1m", lambda: preset("figure3"), ((FIGURE3_HEADING, ""),)),
    Summary(
        "paper_code",
        "results/paper_code",
        lambda: select(preset("table1"), ["clip_0.2", "adaptive_kl_0.01"], fast=True, paper_code=True),
        ((PAPER_CODE_HEADING, ""),),
        report_options=" --baseline results/table1_1m",
    ),
    Summary("klip", "results/klip", lambda: select(preset("klip"), fast=True), ((KLIP_HEADING, ""),)),
    Summary(
        "klip_v4",
        "results/klip_v4",
        lambda: select(
            preset("klip"), ["klip_clip_0.2", "klip_fixed_kl_1", "klip_adaptive_kl_0.02"], envs=["Ant-v4"], fast=True
        ),
        ((KLIP_HEADING, ""),),
    ),
)


def _block_pattern(name: str) -> re.Pattern[str]:
    return re.compile(rf"(<!-- results {re.escape(name)} -->\n).*?(<!-- /results {re.escape(name)} -->)", re.S)


def _section(report: str, heading: str) -> list[str] | None:
    """The lines of ``report.md`` under ``heading`` up to the next heading or image (None without the heading)."""
    if f"\n{heading}\n" not in report:
        return None
    section = []
    for line in report.split(f"\n{heading}\n", 1)[1].splitlines():
        if line.startswith("## ") or line.startswith("!["):
            break
        section.append(line)
    return "\n".join(section).strip("\n").splitlines()


def _reported(folder: Path) -> set[tuple[str, str, int]]:
    """The runs of the folder's report: (setting, env, seed) of each row of its ``scores.csv`` (none without it)."""
    return {(row["setting"], row["env"], int(row["seed"])) for row in read_scores_csv(folder)}


def block(summary: Summary, root: Path = ROOT) -> str:
    """A block's text (without its markers), from the committed report of its grid under ``root``."""
    folder = root / summary.folder
    runs = summary.grid().runs()
    # the grid's progress as of the report, whatever the store holds since
    reported = _reported(folder)
    done = {spec.key for spec in runs if (spec.setting, spec.env, spec.seed) in reported}
    if not done:
        return f"**Not started yet**: `{summary.folder}/` has no report of its runs (0 of {len(runs)}).\n"
    progress = "; ".join(f"by {attribute}: {progress_by(runs, done, attribute)}" for attribute in ("seed", "env"))
    state = f"Complete: {len(runs)} runs" if len(done) == len(runs) else f"Done so far: {len(done)} of {len(runs)} runs"
    groups = json.loads((folder / "aggregate.json").read_text())["software_groups"]
    software = ", ".join(
        f"{g['group']} {g['runs']} runs (torch CPU capability {g['versions'].get('torch_cpu_capability', 'unknown')})"
        for g in groups
    )
    lines = [f"**{state}** ({progress}), in `{summary.folder}/report.md`; the report's software groups: {software}."]
    report = (folder / "report.md").read_text()
    for heading, lead_in in summary.sections:
        section = _section(report, heading)
        if section is None:
            raise SystemExit(
                f"{summary.folder}/report.md has no section {heading!r}: run "
                f"`python -m sb3_ppo_variants.benchmark report {summary.folder}{summary.report_options}`"
            )
        lines += ["", lead_in, ""] if lead_in else [""]
        lines += section
    if summary.equivalence:
        lines += ["", _equivalence(summary.folder, folder, reported)]
    return "\n".join(lines) + "\n"


def _equivalence(name: str, folder: Path, reported: set[tuple[str, str, int]]) -> str:
    """The fast-vs-exact check of ``equivalence.json`` in one sentence; it must have the report's runs."""
    equivalence = json.loads((folder / "equivalence.json").read_text())
    a, b, tests = equivalence["a"], equivalence["b"], equivalence["tests"]
    for test in tests:
        counts = [sum(s == setting and e == test["env"] for s, e, _ in reported) for setting in (a, b)]
        if counts != test["n"]:
            raise SystemExit(
                f"{name}/equivalence.json has {test['n']} runs on {test['env']} and the report {counts}: run "
                f"`python -m sb3_ppo_variants.benchmark.equivalence {name} --a {a} --b {b}`"
            )
    ns = sorted({n for test in tests for n in test["n"]})
    seeds = f"{ns[0]}" if len(ns) == 1 else f"{ns[0]} to {ns[-1]}"
    return (
        f"Fast path against the exact one (`{name}/equivalence.md`): `{b}` against `{a}` on "
        f"{len({test['env'] for test in tests})} tasks with {seeds} seeds a side: {equivalence['significant']} of "
        f"{len(tests)} tests significant at alpha = {equivalence['alpha']} (Holm-corrected)."
    )


def page(text: str, path: str, blocks: dict[str, str]) -> str:
    """``text`` (the page at ``path``) with each of its blocks replaced by the new content; every block must be there."""
    for name, content in blocks.items():
        pattern = _block_pattern(name)
        if not pattern.search(text):
            raise SystemExit(f"{path} has no <!-- results {name} --> ... <!-- /results {name} --> block")
        text = pattern.sub(lambda m, content=content: m.group(1) + content + m.group(2), text)
    return text


def main(argv: list[str] | None = None, root: Path = ROOT) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--check", action="store_true", help="only check that the blocks are current")
    args = parser.parse_args(argv)
    blocks = {summary.name: block(summary, root) for summary in SUMMARIES}
    stale = []
    for path in PAGES:
        file = root / path
        text = file.read_text()
        new = page(text, path, blocks)
        if new == text:
            continue
        stale.append(path)
        if not args.check:
            atomic_write_text(file, new)
            print(f"wrote {path}")
    if args.check and stale:
        print(f"not what the results say: {', '.join(stale)}; run `python scripts/results_blocks.py`", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
