"""What runs record of their software, the folder's pin, and the runner refusing to mix versions into a pinned folder."""

from __future__ import annotations

import sqlite3
import subprocess
from importlib import metadata
from pathlib import Path

import pytest
import torch as th
from packaging.requirements import Requirement

from sb3_ppo_variants.benchmark import software as software_module
from sb3_ppo_variants.benchmark.__main__ import main
from sb3_ppo_variants.benchmark.report import make_report
from sb3_ppo_variants.benchmark.runner import run_grid
from sb3_ppo_variants.benchmark.software import (
    CONSTRAINTS_FILE,
    CPU_CAPABILITY,
    NUMERIC_PACKAGES,
    SoftwareMismatchError,
    check_pin,
    code_version,
    current_software,
    pinned_versions,
)
from sb3_ppo_variants.benchmark.store import SCHEMA_VERSION, ResultsStore
from sb3_ppo_variants.benchmark.worker import execute_run
from sb3_ppo_variants.version import __version__
from tests.benchmark.conftest import tiny_grid


def test_current_software_records_the_installed_versions() -> None:
    software = current_software()
    for name in ("torch", "numpy", "gymnasium", "stable-baselines3"):
        assert software[name] == metadata.version(name)
    assert software[CPU_CAPABILITY] == th.backends.cpu.get_cpu_capability()
    assert software["torch_threads"] == str(th.get_num_threads())
    assert software["python"].count(".") == 2 and software["cpu"]
    assert software["sb3-ppo-variants"].startswith(__version__)
    assert set(pinned_versions(software)) == {*NUMERIC_PACKAGES, CPU_CAPABILITY}


def _git(repo: Path, *args: str) -> str:
    command = ["git", "-C", str(repo), "-c", "user.name=t", "-c", "user.email=t@t", *args]
    return subprocess.run(command, check=True, capture_output=True, text=True).stdout.strip()


def test_code_version_is_the_commit_of_the_packages_own_tree(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    repo = tmp_path / "clone"
    (repo / "sb3_ppo_variants").mkdir(parents=True)
    (repo / "sb3_ppo_variants" / "base.py").write_text("x = 1\n")
    (repo / "results").mkdir()
    _git(repo, "init", "-q")
    _git(repo, "add", ".")
    _git(repo, "commit", "-q", "-m", "one")
    commit = _git(repo, "rev-parse", "--short=12", "HEAD")
    monkeypatch.setattr(software_module, "package_root", lambda: repo.resolve())
    assert code_version() == f"{__version__}+{commit}"
    # results being written are not a change of the code that produced them
    (repo / "results" / "results.sqlite").write_text("rows")
    assert code_version() == f"{__version__}+{commit}"
    # a change of the package's own files, tracked or new, is
    (repo / "sb3_ppo_variants" / "new.py").write_text("y = 2\n")
    assert code_version() == f"{__version__}+{commit}-dirty"
    (repo / "sb3_ppo_variants" / "new.py").unlink()
    (repo / "sb3_ppo_variants" / "base.py").write_text("x = 2\n")
    assert code_version() == f"{__version__}+{commit}-dirty"
    # a package installed inside another repository (a venv in a clone) does not report that repository's commit
    site = repo / ".venv" / "lib" / "site-packages"
    site.mkdir(parents=True)
    monkeypatch.setattr(software_module, "package_root", lambda: site.resolve())
    assert code_version() == __version__


OLD_SCHEMA = """
CREATE TABLE runs (key TEXT PRIMARY KEY, setting TEXT NOT NULL, algo TEXT NOT NULL, env TEXT NOT NULL,
    seed INTEGER NOT NULL, timesteps INTEGER NOT NULL, n_envs INTEGER NOT NULL, kwargs TEXT NOT NULL,
    code_version TEXT NOT NULL, wall_time REAL NOT NULL, fps REAL NOT NULL, finished_at TEXT NOT NULL,
    host TEXT NOT NULL, episodes BLOB NOT NULL);
CREATE TABLE random_scores (env TEXT PRIMARY KEY, episodes INTEGER NOT NULL, mean REAL NOT NULL, std REAL NOT NULL,
    seed INTEGER NOT NULL);
"""


def test_a_store_of_the_first_schema_is_migrated_keeping_its_runs_marked_unknown(tmp_path: Path) -> None:
    from sb3_ppo_variants.benchmark.store import pack_episodes

    with sqlite3.connect(tmp_path / ResultsStore.FILENAME) as db:
        db.executescript(OLD_SCHEMA)
        row = ("k", "clip_0.2", "ppo_clip", "CartPole-v1", 0, 1000, 1, "{}", "0.1.0+abc", 1.0, 2.0, "t", "h")
        db.execute(
            "INSERT INTO runs VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)", (*row, pack_episodes([(10, 1.5, 10)]))
        )
        db.execute("INSERT INTO random_scores VALUES ('CartPole-v1', 100, 22.0, 1.0, 0)")
    store = ResultsStore(tmp_path)
    (run,) = store.runs()
    assert run.key == "k" and run.code_version == "0.1.0+abc" and run.episodes == [(10, 1.5, 10)]
    assert run.software is None and store.pin() is None
    assert store.random_score("CartPole-v1") == (22.0, 1.0, 100)
    with sqlite3.connect(tmp_path / ResultsStore.FILENAME) as db:
        assert db.execute("SELECT software FROM runs").fetchall() == [("unknown",)]
        assert db.execute("PRAGMA user_version").fetchone()[0] == SCHEMA_VERSION
    ResultsStore(tmp_path)  # opening a migrated store again changes nothing
    assert [r.key for r in ResultsStore(tmp_path).runs()] == ["k"]


def test_a_store_of_a_newer_schema_is_refused(tmp_path: Path) -> None:
    ResultsStore(tmp_path)
    with sqlite3.connect(tmp_path / ResultsStore.FILENAME) as db:
        db.execute(f"PRAGMA user_version = {SCHEMA_VERSION + 1}")
    with pytest.raises(ValueError, match="newer than this package"):
        ResultsStore(tmp_path)


def test_the_first_run_pins_the_folder_and_records_its_software(tmp_path: Path) -> None:
    run_grid(tiny_grid(seeds=(0,)), tmp_path, workers=1, progress=False)
    store = ResultsStore(tmp_path)
    expected = pinned_versions(current_software())
    assert store.pin() == expected
    for run in store.runs():
        assert run.software is not None and pinned_versions(run.software) == expected
        assert run.software["torch_threads"] == "1"  # a worker's one torch thread
        assert run.code_version == run.software["sb3-ppo-variants"]
    # the constraints file is what pip installs: one exact pin per installed numerics-relevant library
    requirements = [
        Requirement(line) for line in (tmp_path / CONSTRAINTS_FILE).read_text().splitlines() if not line.startswith("#")
    ]
    installed = {
        name: version for name, version in expected.items() if name in NUMERIC_PACKAGES and version != "not installed"
    }
    assert {r.name: str(r.specifier) for r in requirements} == {name: f"=={v}" for name, v in installed.items()}
    assert f"{CPU_CAPABILITY}: {expected[CPU_CAPABILITY]}" in (tmp_path / CONSTRAINTS_FILE).read_text()
    # the same software continues the grid
    assert len(run_grid(tiny_grid(seeds=(0, 1)), tmp_path, workers=1, progress=False)) == 2


def _pin_to_another_torch(folder: Path) -> dict[str, str]:
    pin = {**pinned_versions(current_software()), "torch": "1.0.0"}
    ResultsStore(folder).pin_once(pin)
    return pin


def test_the_runner_refuses_other_versions_before_training_and_accepts_them_with_the_flag(tmp_path: Path) -> None:
    _pin_to_another_torch(tmp_path)
    with pytest.raises(SoftwareMismatchError) as error:
        run_grid(tiny_grid(seeds=(0,)), tmp_path, workers=1, progress=False)
    message = str(error.value)
    assert f"torch: pinned 1.0.0, this environment has {th.__version__}" in message
    assert "--allow-software-mismatch" in message and CONSTRAINTS_FILE in message
    assert ResultsStore(tmp_path).runs() == []
    assert not (tmp_path / "clip_0.2").exists()  # refused before any env was built

    done = run_grid(tiny_grid(seeds=(0,)), tmp_path, workers=1, progress=False, allow_software_mismatch=True)
    assert len(done) == 2
    store = ResultsStore(tmp_path)
    assert store.pin() is not None and store.pin()["torch"] == "1.0.0"  # the pin stays the first run's
    assert all(r.software is not None and r.software["torch"] == th.__version__ for r in store.runs())


def test_the_command_line_names_the_library_and_the_flag(
    tmp_path: Path, grid_file: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    _pin_to_another_torch(tmp_path)
    with pytest.raises(SystemExit) as exit_:
        main(["run", "--grid", str(grid_file), "--out", str(tmp_path), "--workers", "1", "--no-progress"])
    assert exit_.value.code == 2
    err = capsys.readouterr().err
    assert "torch: pinned 1.0.0" in err and "--allow-software-mismatch" in err


def test_another_cpu_capability_is_refused_as_hardware_not_as_an_install(tmp_path: Path) -> None:
    software = current_software()
    other = "AVX512" if software[CPU_CAPABILITY] != "AVX512" else "AVX2"
    pin = {**pinned_versions(software), CPU_CAPABILITY: other}
    with pytest.raises(SoftwareMismatchError) as error:
        check_pin(pin, software, tmp_path)
    message = str(error.value)
    assert f"{CPU_CAPABILITY}: pinned {other}, this environment has {software[CPU_CAPABILITY]}" in message
    assert f"needs a CPU where torch reports {other}" in message and "--allow-software-mismatch" in message
    assert "Install the pinned versions" not in message  # no install gives a CPU other instructions
    # a library and the CPU both differ: both remedies
    with pytest.raises(SoftwareMismatchError) as error:
        check_pin({**pin, "numpy": "1.0.0"}, software, tmp_path)
    assert "Install the pinned versions" in str(error.value) and "needs a CPU where" in str(error.value)
    # a library alone: no word of the CPU
    with pytest.raises(SoftwareMismatchError) as error:
        check_pin({**pinned_versions(software), "numpy": "1.0.0"}, software, tmp_path)
    assert "Install the pinned versions" in str(error.value) and "needs a CPU where" not in str(error.value)
    check_pin(pinned_versions(software), software, tmp_path)  # the same software passes


def test_a_worker_refuses_a_run_whose_software_differs_from_the_pin(tmp_path: Path) -> None:
    pin = {**pinned_versions(current_software()), "mujoco": "0.0.1"}
    (spec, *_) = tiny_grid(seeds=(0,)).runs()
    with pytest.raises(SoftwareMismatchError, match=r"mujoco: pinned 0\.0\.1"):
        execute_run(spec, str(tmp_path), pin)
    assert not any(tmp_path.iterdir())


def test_the_report_shows_the_software_groups_and_flags_a_mixture(tmp_path: Path) -> None:
    run_grid(tiny_grid(seeds=(0,)), tmp_path, workers=1, progress=False)
    make_report(tmp_path)
    report = (tmp_path / "report.md").read_text()
    assert "## Software" in report and "Pinned to (`constraints.txt`): torch " in report
    assert "All runs ran on the same software" in report and "Mixed software" not in report
    assert f"| torch | {th.__version__} |" in report

    # a run made elsewhere, with another numpy, joins the folder
    store = ResultsStore(tmp_path)
    other = store.runs()[0]
    assert other.software is not None
    other.key, other.seed = other.key + "-other", 7
    other.software = {**other.software, "numpy": "1.0.0"}
    store.add_run(other)
    summary = make_report(tmp_path)
    report = (tmp_path / "report.md").read_text()
    assert "**Mixed software**: these runs come from 2 groups" in report
    assert f"- group B: {other.setting} CartPole-v1 seed 7" in report
    assert [(g["group"], g["runs"]) for g in summary["software_groups"]] == [("A", 2), ("B", 1)]
    rows = (tmp_path / "scores.csv").read_text().splitlines()
    assert rows[0].endswith(",software_group,code_version")
    assert sum(",B," in row for row in rows) == 1
