"""``scripts/results_blocks.py``: the 1M Table 1 summary in README.md and the benchmark guide is the committed report's."""

from __future__ import annotations

import csv
import importlib.util
import re
import shutil
import sys
from pathlib import Path
from types import ModuleType

import pytest

from sb3_ppo_variants.benchmark.report import AGGREGATE_HEADING, ORDERING_HEADING, read_scores_csv

ROOT = Path(__file__).resolve().parents[2]
FILES = ("report.md", "aggregate.json", "equivalence.json", "scores.csv")


def _script() -> ModuleType:
    spec = importlib.util.spec_from_file_location("results_blocks", ROOT / "scripts" / "results_blocks.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # for its dataclass
    spec.loader.exec_module(module)
    return module


def _summary(script: ModuleType, name: str) -> object:
    return next(summary for summary in script.SUMMARIES if summary.name == name)


def _copy(tmp_path: Path) -> Path:
    """The committed report files and the two pages, under a root of their own."""
    folder = tmp_path / "results" / "table1_1m"
    folder.mkdir(parents=True)
    for name in FILES:
        shutil.copy(ROOT / "results" / "table1_1m" / name, folder / name)
    for page in ("README.md", "docs/guide/benchmark.md"):
        (tmp_path / page).parent.mkdir(parents=True, exist_ok=True)
        shutil.copy(ROOT / page, tmp_path / page)
    return folder


def test_the_committed_pages_say_what_the_committed_report_says() -> None:
    assert _script().main(["--check"]) == 0, "run `python scripts/results_blocks.py` after regenerating the report"


def test_the_block_counts_the_reports_runs_and_carries_its_table_and_verdicts(tmp_path: Path) -> None:
    script = _script()
    folder = _copy(tmp_path)
    report = (folder / "report.md").read_text()
    content = script.block(_summary(script, "table1_1m"), tmp_path)
    rows = read_scores_csv(folder)
    table1 = [row for row in rows if not row["setting"].startswith(("sb3_trpo", "sb3_a2c"))]
    progress = "Complete: 252 runs" if len(table1) == 252 else f"Done so far: {len(table1)} of 252 runs"
    assert f"**{progress}**" in content
    aggregate = report.split(AGGREGATE_HEADING + "\n")[1].split("![aggregate]")[0]
    verdicts = report.split(ORDERING_HEADING + "\n")[1].split("\n## ")[0]
    lines = [line for line in (aggregate + verdicts).splitlines() if line.strip()]
    assert len(lines) > 2 + 12 + 5  # the table's header, its 12 settings, the verdicts
    for line in lines:
        assert line in content
    # a run dropped from the report: one run fewer on its seed and env, and the pages are stale until rewritten
    dropped = next(row for row in table1 if row["setting"] == "clip_0.1_fast" and row["seed"] == "0")
    with open(folder / "scores.csv", "w", newline="") as file:
        writer = csv.DictWriter(file, fieldnames=list(rows[0]))
        writer.writeheader()
        writer.writerows(row for row in rows if row is not dropped)
    fewer = script.block(_summary(script, "table1_1m"), tmp_path)
    assert f"**Done so far: {len(table1) - 1} of 252 runs** (by seed: 0 83/84" in fewer
    assert script.main(["--check"], root=tmp_path) == 1
    assert script.main([], root=tmp_path) == 0 and script.main(["--check"], root=tmp_path) == 0
    assert fewer in (tmp_path / "README.md").read_text() and fewer in (tmp_path / "docs/guide/benchmark.md").read_text()


def test_an_equivalence_check_of_other_runs_and_a_page_without_the_block_are_refused(tmp_path: Path) -> None:
    script = _script()
    folder = _copy(tmp_path)
    rows = read_scores_csv(folder)
    with open(folder / "scores.csv", "w", newline="") as file:
        writer = csv.DictWriter(file, fieldnames=list(rows[0]))
        writer.writeheader()
        writer.writerows(
            row for row in rows if not (row["setting"] == "sb3_ppo" and row["env"] == "Hopper-v5" and row["seed"] == "0")
        )
    with pytest.raises(SystemExit, match=r"equivalence\.json has .* runs on Hopper-v5"):
        script.block(_summary(script, "table1_1m"), tmp_path)
    with pytest.raises(SystemExit, match=re.escape("README.md has no <!-- results klip -->")):
        script.page("<!-- results table1_1m -->\n<!-- /results table1_1m -->\n", "README.md", {"table1_1m": "", "klip": ""})


def test_a_grid_not_started_says_so_and_a_started_one_carries_its_section(tmp_path: Path) -> None:
    from sb3_ppo_variants.benchmark.klip import KLIP_HEADING
    from sb3_ppo_variants.benchmark.report import make_report
    from sb3_ppo_variants.benchmark.store import ResultsStore, RunResult

    script = _script()
    klip = _summary(script, "klip")
    assert script.block(klip, tmp_path) == "**Not started yet**: `results/klip/` has no report of its runs (0 of 75).\n"
    folder = tmp_path / "results" / "klip"
    store = ResultsStore(folder)
    store.set_random_score("Ant-v5", -100.0, 1.0, 100, seed=0)
    for setting, algo, level in (("klip_clip_0.2_fast", "ppo_clip", 2000.0), ("klip_fixed_kl_1_fast", "ppo_fixed_kl", 100.0)):
        for seed in (0, 1):
            episodes = [(t, level + seed, 100) for t in range(100, 10_001, 100)]
            key = f"{setting}|{seed}"
            store.add_run(RunResult(key, setting, algo, "Ant-v5", seed, 10_000, 1, {}, "v", 1.0, 1.0, "t", "h", episodes))
    make_report(folder)
    content = script.block(klip, tmp_path)
    assert content.startswith("**Done so far: 4 of 75 runs** (by seed: 0 2/25, 1 2/25, 2 0/25; by env: Ant-v5 4/15,")
    report = (folder / "report.md").read_text()
    section = report.split(KLIP_HEADING + "\n")[1].split("\n## ")[0].strip()
    assert section in content and "| Ant-v5 | fixed_kl |" in content and "- Ant-v5: fixed_kl" in content
    # a report without a section the block carries is refused with the command that writes it
    paper_code = _summary(script, "paper_code")
    (tmp_path / "results" / "paper_code").mkdir()
    for name in ("scores.csv", "report.md", "aggregate.json"):
        text = (folder / name).read_text().replace("klip_clip_0.2_fast", "clip_0.2_paper_code_fast")
        (tmp_path / "results" / "paper_code" / name).write_text(text.replace("Ant-v5", "Hopper-v5"))
    with pytest.raises(SystemExit, match=re.escape("report results/paper_code --baseline results/table1_1m`")):
        script.block(paper_code, tmp_path)


def test_each_summary_counts_the_runs_of_its_grids_in_the_queue() -> None:
    from sb3_ppo_variants.benchmark.__main__ import grid_of
    from tests.benchmark.test_grids_script import _queued_arguments

    script = _script()
    queue = _queued_arguments()
    for summary in script.SUMMARIES:
        keys = {spec.key for spec in summary.grid().runs()}
        # the queue's grids into the summary's folder whose runs are the summary's (figure3 shares Table 1's folder)
        queued = [
            {spec.key for spec in grid_of(arguments).runs()}
            for _, arguments in queue
            if arguments[arguments.index("--out") + 1] == summary.folder
        ]
        mine = set().union(*(grid for grid in queued if grid & keys))
        assert mine == keys, summary.name
