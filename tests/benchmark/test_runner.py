"""The runner end to end on a tiny grid: storage, Monitor logs, resumability after a kill, Ray, and the report."""

from __future__ import annotations

import os
import signal
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

import pytest

from sb3_ppo_variants.benchmark import worker
from sb3_ppo_variants.benchmark.report import make_report
from sb3_ppo_variants.benchmark.runner import run_grid
from sb3_ppo_variants.benchmark.store import ResultsStore
from sb3_ppo_variants.benchmark.worker import IN_PROGRESS, in_progress_folder, monitor_folder, publish_monitor_log
from tests.benchmark.conftest import tiny_grid

ROOT = Path(__file__).resolve().parents[2]


def test_a_runs_monitor_log_appears_whole_when_it_has_finished(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    spec = tiny_grid(timesteps=512, seeds=(0,)).runs()[0]
    partial, final = in_progress_folder(tmp_path, spec), monitor_folder(tmp_path, spec)
    partial.mkdir(parents=True)
    (partial / "0.monitor.csv").write_text("what an attempt killed halfway wrote\n")
    final.mkdir(parents=True)
    (final / "0.monitor.csv").write_text("an older copy of the run (--redo-damaged)\n")
    at_publication: list[list[str]] = []

    def publish(written: Path, place: Path) -> None:
        # while the run trained, its log grew under .in_progress, and rl-zoo3's layout held the old copy only
        at_publication.extend(folder.joinpath("0.monitor.csv").read_text().splitlines() for folder in (written, place))
        publish_monitor_log(written, place)

    monkeypatch.setattr(worker, "publish_monitor_log", publish)
    result = worker.execute_run(spec, str(tmp_path))
    assert result is not None and result.episodes
    fresh, old = at_publication
    assert fresh[0].startswith("#{") and len(fresh) == 2 + len(result.episodes)
    assert old == ["an older copy of the run (--redo-damaged)"]
    assert (final / "0.monitor.csv").read_text().splitlines() == fresh and not partial.exists()


def test_tiny_grid_end_to_end_with_report(tmp_path: Path) -> None:
    done = run_grid(tiny_grid(), tmp_path, workers=2, progress=False)
    assert len(done) == 4
    runs = ResultsStore(tmp_path).runs()
    assert {(r.setting, r.seed) for r in runs} == {("clip_0.2", 0), ("clip_0.2", 1), ("sb3_ppo", 0), ("sb3_ppo", 1)}
    for run in runs:
        assert run.episodes and run.episodes[-1][0] <= 1024 and run.fps > 0 and run.code_version
        # the standard Monitor log, in rl-zoo3's layout
        monitor = tmp_path / run.setting / f"CartPole-v1_{run.seed + 1}" / "0.monitor.csv"
        assert len(monitor.read_text().splitlines()) == 2 + len(run.episodes)
    # every finished run's log moved out of the folder it was written in
    assert not any(path.is_file() for path in (tmp_path / IN_PROGRESS).rglob("*"))
    # nothing left to do: a second call runs nothing
    assert run_grid(tiny_grid(), tmp_path, workers=2, progress=False) == []

    summary = make_report(tmp_path, command="python -m sb3_ppo_variants.benchmark run ...")
    report = (tmp_path / "report.md").read_text()
    assert "| setting | paper | mean | 95% CI | IQM | IQM 95% CI | runs |" in report
    assert "| clip_0.2 |" in report and "| sb3_ppo |" in report
    # the two are bit-identical, so their episodes must be too
    assert "produced identical training episodes in 2 of 2" in report
    for name in ("learning_curves.png", "aggregate.png", "scores.csv", "aggregate.json"):
        assert (tmp_path / name).stat().st_size > 0
    assert {a["setting"] for a in summary["aggregate"]} == {"clip_0.2", "sb3_ppo"}
    assert summary["random_scores"]["CartPole-v1"] == pytest.approx(22, abs=5)  # uniform random CartPole
    assert len((tmp_path / "scores.csv").read_text().splitlines()) == 5


def _stored(out: Path) -> list[tuple[str, str]]:
    path = out / ResultsStore.FILENAME
    if not path.exists():
        return []
    try:
        with sqlite3.connect(path, timeout=1) as db:
            return db.execute("SELECT key, finished_at FROM runs").fetchall()
    except sqlite3.OperationalError:
        return []


def test_killed_benchmark_resumes_without_redoing_or_losing_runs(tmp_path: Path, grid_file: Path) -> None:
    out = tmp_path / "out"
    command = [sys.executable, "-m", "sb3_ppo_variants.benchmark", "run", "--grid", str(grid_file), "--out", str(out)]
    command += ["--workers", "1", "--no-progress"]
    process = subprocess.Popen(command, cwd=ROOT, start_new_session=True, stderr=subprocess.DEVNULL)
    try:
        deadline = time.time() + 240
        while not _stored(out):
            assert process.poll() is None, "the benchmark ended before it could be killed"
            assert time.time() < deadline, "no run finished in time"
            time.sleep(0.1)
    finally:
        os.killpg(process.pid, signal.SIGKILL)  # the whole process group: the runner and its worker
        process.wait()
    first = _stored(out)
    assert 1 <= len(first) < 4  # killed with runs left to do
    # rl-zoo3's layout holds the logs of the stored runs only: the run killed halfway left its log under .in_progress
    logs = {(path.parent.parent.name, path.parent.name) for path in out.glob("*/CartPole-v1_*/0.monitor.csv")}
    assert logs == {(key.split("|")[0], f"CartPole-v1_{int(key.split('|')[2]) + 1}") for key, _ in first}

    subprocess.run(command, cwd=ROOT, check=True, stderr=subprocess.DEVNULL)
    after = dict(_stored(out))
    assert len(after) == 4  # nothing lost
    for key, finished_at in first:
        assert after[key] == finished_at  # nothing redone
    runs = ResultsStore(out).runs()
    assert all(r.episodes for r in runs)


@pytest.mark.slow
def test_ray_backend_on_a_tiny_grid(tmp_path: Path) -> None:
    pytest.importorskip("ray")
    done = run_grid(tiny_grid(seeds=(0,)), tmp_path, backend="ray", progress=False)
    assert sorted(r.setting for r in done) == ["clip_0.2", "sb3_ppo"]
    assert len(ResultsStore(tmp_path).runs()) == 2


def test_the_contrib_preset_runs_the_masked_family_beside_stock_maskable_ppo(tmp_path: Path) -> None:
    from sb3_ppo_variants.benchmark.grid import preset, select

    grid = select(preset("contrib"), seeds=[0], timesteps=512)
    done = run_grid(grid, tmp_path, workers=1, progress=False)
    assert {r.algo for r in done} == {
        "ppo_mask",
        "ppo_mask_clip",
        "ppo_mask_adaptive_kl",
        "ppo_mask_fixed_kl",
        "ppo_mask_no_clip",
    }
    make_report(tmp_path)
    report = (tmp_path / "report.md").read_text()
    assert "`sb3_ppo_mask` (sb3_contrib.MaskablePPO) and `mask_clip_0.2` (MaskablePPOClip) produced identical" in report


def test_the_contrib_lstm_preset_runs_the_recurrent_family_beside_stock_recurrent_ppo(tmp_path: Path) -> None:
    from sb3_ppo_variants.benchmark.grid import preset, select

    settings = ["lstm_clip_0.2", "lstm_adaptive_kl_0.01", "sb3_ppo_lstm"]
    grid = select(preset("contrib_lstm"), settings=settings, seeds=[0], timesteps=512)
    done = run_grid(grid, tmp_path, workers=1, progress=False)
    assert {r.algo for r in done} == {"ppo_lstm", "ppo_lstm_clip", "ppo_lstm_adaptive_kl"}
    make_report(tmp_path)
    report = (tmp_path / "report.md").read_text()
    assert "`sb3_ppo_lstm` (sb3_contrib.RecurrentPPO) and `lstm_clip_0.2` (RecurrentPPOClip) produced identical" in report


def test_runs_record_their_updates_diagnostics_and_the_klip_report_plots_them(tmp_path: Path) -> None:
    from sb3_ppo_variants.benchmark.grid import Grid, Setting
    from sb3_ppo_variants.benchmark.report import make_report
    from sb3_ppo_variants.benchmark.store import ResultsStore

    settings = [
        Setting("klip_clip_0.2", "ppo_clip", {"n_steps": 256, "batch_size": 64, "n_epochs": 2}),
        Setting("klip_per_sample_kl", "ppo_per_sample_kl", {"n_steps": 256, "batch_size": 64, "n_epochs": 2}),
        Setting("sb3_ppo", "ppo", {"n_steps": 256, "batch_size": 64, "n_epochs": 2}),
    ]
    run_grid(Grid(settings, ["Pendulum-v1"], [0], 1024), tmp_path, workers=1, progress=False)
    store = ResultsStore(tmp_path)
    updates = store.updates()
    keys = {r.setting: r.key for r in store.runs()}
    per_sample = updates[keys["klip_per_sample_kl"]]
    assert per_sample["timestep"].tolist() == [256.0, 512.0, 768.0, 1024.0]  # one row per update
    assert {"train/frac_killed", "train/kl_coef_killed", "train/clip_fraction"} <= set(per_sample)
    assert "train/frac_killed" not in updates[keys["sb3_ppo"]] and len(updates[keys["sb3_ppo"]]["timestep"]) == 4
    make_report(tmp_path)
    assert (tmp_path / "klip_partition.png").is_file()
    report = (tmp_path / "report.md").read_text()
    assert "![partition](klip_partition.png)" in report
    # the plot's numbers below it: a row per klip setting, none for stock PPO
    assert "| Pendulum-v1 | clip | " in report and "| Pendulum-v1 | per_sample_kl | " in report
    assert "| Pendulum-v1 | sb3_ppo" not in report
