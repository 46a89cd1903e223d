"""``scripts/grids.sh``: the queue of published grids names grids that the benchmark's command line accepts."""

from __future__ import annotations

import re
import shlex
import sqlite3
import subprocess
import sys
from pathlib import Path

import pytest

from sb3_ppo_variants.benchmark.__main__ import main
from sb3_ppo_variants.benchmark.software import CPU_CAPABILITY, current_software, pinned_versions
from sb3_ppo_variants.benchmark.store import ResultsStore, RunResult

SCRIPT = Path(__file__).resolve().parents[2] / "scripts" / "grids.sh"


def _queued_lines() -> list[str]:
    """The script's queue: one "name|commit|arguments" per grid, in its order."""
    block = re.search(r"^grids=\(\n(.*?)^\)", SCRIPT.read_text(), re.S | re.M)
    assert block is not None, "scripts/grids.sh has no grids=( ... ) block"
    return [shlex.split(line)[0] for line in block.group(1).splitlines()]


def _queued_arguments() -> list[tuple[str, list[str]]]:
    """(name, benchmark arguments) of every grid in the script's queue, in its order."""
    queue = []
    for line in _queued_lines():
        name, _commit, arguments = line.split("|")
        queue.append((name, shlex.split(arguments.replace("$main/", ""))))
    return queue


def test_each_queued_commit_exists() -> None:
    shallow = subprocess.run(
        ["git", "-C", str(SCRIPT.parent), "rev-parse", "--is-shallow-repository"], capture_output=True, text=True, check=False
    )
    if shallow.returncode != 0 or shallow.stdout.strip() != "false":
        pytest.skip("not a git clone with its whole history")
    commits = {line.split("|")[1] for line in _queued_lines()}
    for commit in commits:
        # the script's variables, resolved as bash does (a default after :-)
        value = re.search(rf"^{commit[1:]}=(.*)$", SCRIPT.read_text(), re.M) if commit.startswith("$") else None
        sha = value.group(1).split(":-")[-1].rstrip("}") if value else commit
        found = subprocess.run(["git", "-C", str(SCRIPT.parent), "cat-file", "-e", f"{sha}^{{commit}}"], check=False)
        assert found.returncode == 0, f"scripts/grids.sh names {commit} = {sha}, which is no commit of this repository"


def test_the_queue_follows_the_issues_order() -> None:
    # issue 11: Table 1, then paper_code, then the comparators; issue 16: KLip-PPO's Ant and Humanoid after the Table 1
    # grid, its other tasks if compute allows (last); Ant on their table's task version right after its Ant and Humanoid
    names = [name for name, _ in _queued_arguments()]
    assert names == [
        "table1_1m",
        "klip (Ant, Humanoid)",
        "klip on Ant-v4 (their task)",
        "paper_code",
        "figure3",
        "klip (the rest)",
    ]
    arguments = dict(_queued_arguments())
    envs = arguments["klip (Ant, Humanoid)"]
    assert envs[envs.index("--envs") + 1 :][:2] == ["Ant-v5", "Humanoid-v5"]


@pytest.mark.parametrize("name, arguments", _queued_arguments(), ids=lambda value: str(value).split(" ")[0])
def test_each_queued_grid_is_accepted(
    name: str, arguments: list[str], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out = arguments.index("--out") + 1
    arguments[out] = str(tmp_path / arguments[out])
    main(["status", *arguments])
    assert "not started" in capsys.readouterr().out


def _cpu_flag(folder: Path) -> subprocess.CompletedProcess[str]:
    """The script's ``cpu_flag`` function, run with this interpreter on ``folder``."""
    function = re.search(r"^cpu_flag\(\) \{.*?^\}$", SCRIPT.read_text(), re.S | re.M)
    assert function is not None, "scripts/grids.sh has no cpu_flag function"
    return subprocess.run(
        ["bash", "-c", function.group(0) + '\ncpu_flag "$0" "$1"', sys.executable, str(folder)],
        capture_output=True,
        text=True,
        check=False,
    )


def test_a_grid_continues_on_another_cpu_as_its_own_group_but_not_on_other_libraries(tmp_path: Path) -> None:
    software = current_software()
    assert _cpu_flag(tmp_path / "new").stdout == ""  # a folder not started has no pin
    same = tmp_path / "same"
    ResultsStore(same).pin_once(pinned_versions(software))
    assert (_cpu_flag(same).returncode, _cpu_flag(same).stdout) == (0, "")

    other_cpu = tmp_path / "other_cpu"
    ResultsStore(other_cpu).pin_once({**pinned_versions(software), CPU_CAPABILITY: "NOT-THIS-ONE"})
    flagged = _cpu_flag(other_cpu)
    assert (flagged.returncode, flagged.stdout.strip()) == (0, "--allow-software-mismatch")
    assert "own software group" in flagged.stderr

    other_numpy = tmp_path / "other_numpy"
    ResultsStore(other_numpy).pin_once({**pinned_versions(software), CPU_CAPABILITY: "NOT-THIS-ONE", "numpy": "1.0.0"})
    refused = _cpu_flag(other_numpy)
    assert refused.returncode != 0 and refused.stdout == "" and "numpy: pinned 1.0.0" in refused.stderr


def test_stop_counts_the_runs_of_a_store_on_disk_and_of_its_committed_bytes(tmp_path: Path) -> None:
    # `stop` says per folder how many runs the store holds against the last commit's, read by runs_in
    function = re.search(r"^runs_in\(\) \{.*?^\}$", SCRIPT.read_text(), re.S | re.M)
    assert function is not None, "scripts/grids.sh has no runs_in function"
    store = ResultsStore(tmp_path)
    for seed in (0, 1, 2):
        store.add_run(RunResult(f"k{seed}", "s", "ppo", "CartPole-v1", seed, 10, 1, {}, "v", 1.0, 1.0, "t", "h", []))

    def runs_in(argument: str, given: bytes = b"") -> str:
        command = ["bash", "-c", function.group(0) + '\nruns_in "$0"', argument]
        return subprocess.run(command, input=given, capture_output=True, check=True).stdout.decode().strip()

    assert runs_in(str(store.path)) == "3"
    assert runs_in("-", store.path.read_bytes()) == "3"  # as `git show HEAD:<store>` gives it


def test_stop_releases_the_claims_of_runs_whose_process_is_gone(tmp_path: Path) -> None:
    function = re.search(r"^release_dead_claims\(\) \{.*?^\}$", SCRIPT.read_text(), re.S | re.M)
    assert function is not None, "scripts/grids.sh has no release_dead_claims function"
    store = ResultsStore(tmp_path)
    gone = subprocess.Popen([sys.executable, "-c", "pass"])
    gone.wait()
    assert store.claim("stopped", pid=gone.pid) and store.claim("running")  # this test's process: alive
    assert store.claim("elsewhere", host="another-host", pid=gone.pid)

    def claims() -> set[str]:
        # the rows themselves: live_claims() already hides a claim whose process is gone, but only while its pid is free
        with sqlite3.connect(store.path) as db:
            return {key for (key,) in db.execute("SELECT key FROM claims")}

    assert claims() == {"stopped", "running", "elsewhere"}
    command = ["bash", "-c", function.group(0) + '\nrelease_dead_claims "$0" "$1"', sys.executable, str(tmp_path)]
    subprocess.run(command, check=True)
    # the stopped run's row is gone; a live process's claim and another host's stay
    assert claims() == {"running", "elsewhere"}
