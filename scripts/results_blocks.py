"""Write what the committed 1M-step Table 1 grid says into README.md and docs/guide/benchmark.md, between the markers
``<!-- results table1_1m -->`` and ``<!-- /results table1_1m -->``: how far the grid got (the runs of its report,
counted as ``benchmark status`` counts them), the Table 1 column and the ordering verdicts (from its ``report.md``),
and the fast-vs-exact check (from its ``equivalence.json``, which must cover the same runs). Each figure has one
source, the committed report, so the pages cannot fall behind it: a test runs ``--check``.

    python scripts/results_blocks.py          # rewrite the blocks (after `benchmark report` and `benchmark.equivalence`)
    python scripts/results_blocks.py --check  # exit 1, naming the file, if a block differs from what the results say
"""

from __future__ import annotations

import argparse
import csv
import json
import re
import sys
from pathlib import Path

from sb3_ppo_variants.benchmark.grid import preset, select
from sb3_ppo_variants.benchmark.io import atomic_write_text
from sb3_ppo_variants.benchmark.report import AGGREGATE_HEADING, ORDERING_HEADING
from sb3_ppo_variants.benchmark.status import progress_by

ROOT = Path(__file__).resolve().parents[1]
FOLDER = "results/table1_1m"
#: the pages that carry the block
PAGES = ("README.md", "docs/guide/benchmark.md")
BLOCK = re.compile(r"(<!-- results table1_1m -->\n).*?(<!-- /results table1_1m -->)", re.S)


def _section(report: str, heading: str) -> list[str]:
    """The lines of ``report.md`` under ``heading`` up to the next heading or image, blank lines dropped."""
    lines = report.split(f"\n{heading}\n", 1)[1].splitlines()
    section = []
    for line in lines:
        if line.startswith("## ") or line.startswith("!["):
            break
        if line.strip():
            section.append(line)
    return section


def block(root: Path = ROOT) -> str:
    """The block's text (without its markers), from the committed report of the grid under ``root``."""
    folder = root / FOLDER
    runs = select(preset("table1"), fast=True).runs()
    with open(folder / "scores.csv", newline="") as file:
        # the report's runs (scores.csv lists each): the grid's progress as of the report, whatever the store holds since
        reported = {(row["setting"], row["env"], int(row["seed"])) for row in csv.DictReader(file)}
    stored = {spec.key for spec in runs if (spec.setting, spec.env, spec.seed) in reported}
    progress = "; ".join(f"by {attribute}: {progress_by(runs, stored, attribute)}" for attribute in ("seed", "env"))
    summary = json.loads((folder / "aggregate.json").read_text())
    groups = ", ".join(
        f"{g['group']} {g['runs']} runs (torch CPU capability {g['versions'].get('torch_cpu_capability', 'unknown')})"
        for g in summary["software_groups"]
    )
    report = (folder / "report.md").read_text()
    equivalence = json.loads((folder / "equivalence.json").read_text())
    tests = equivalence["tests"]
    for test in tests:
        counts = [sum(s == name and e == test["env"] for s, e, _ in reported) for name in (equivalence["a"], equivalence["b"])]
        if counts != test["n"]:
            raise SystemExit(
                f"{FOLDER}/equivalence.json has {test['n']} runs on {test['env']} and the report {counts}: run "
                f"`python -m sb3_ppo_variants.benchmark.equivalence {FOLDER} --a {equivalence['a']} --b {equivalence['b']}`"
            )
    envs = sorted({t["env"] for t in tests})
    ns = sorted({n for t in tests for n in t["n"]})
    seeds = f"{ns[0]}" if len(ns) == 1 else f"{ns[0]} to {ns[-1]}"
    lines = [
        f"**Done so far: {len(stored)} of {len(runs)} runs** ({progress}). Software groups in the report: {groups}.",
        "",
        f"The Table 1 column at 1M steps so far, from `{FOLDER}/report.md` (each setting's "
        "runs of the seeds that it has on every task):",
        "",
        *_section(report, AGGREGATE_HEADING),
        "",
        "Does the paper's ordering hold (the report's verdicts)?",
        "",
        *_section(report, ORDERING_HEADING),
        "",
        f"Fast path against the exact one at 1M steps (`{FOLDER}/equivalence.md`): "
        f"`{equivalence['b']}` against `{equivalence['a']}` on {len(envs)} tasks with {seeds} seeds a side: "
        f"{equivalence['significant']} of {len(tests)} tests significant at alpha = {equivalence['alpha']} (Holm-corrected).",
    ]
    return "\n".join(lines) + "\n"


def page(text: str, path: str, content: str) -> str:
    """``text`` (the page at ``path``) with its block replaced by ``content``."""
    if not BLOCK.search(text):
        raise SystemExit(f"{path} has no <!-- results table1_1m --> ... <!-- /results table1_1m --> block")
    return BLOCK.sub(lambda m: m.group(1) + content + m.group(2), text)


def main(argv: list[str] | None = None, root: Path = ROOT) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--check", action="store_true", help="only check that the blocks are current")
    args = parser.parse_args(argv)
    content = block(root)
    stale = []
    for path in PAGES:
        file = root / path
        text = file.read_text()
        new = page(text, path, content)
        if new == text:
            continue
        stale.append(path)
        if not args.check:
            atomic_write_text(file, new)
            print(f"wrote {path}")
    if args.check and stale:
        print(f"not what {FOLDER} says: {', '.join(stale)}; run `python scripts/results_blocks.py`", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
