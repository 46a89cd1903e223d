"""``benchmark status``: a grid's progress in its folder and the estimate of the time left, read from the store."""

from __future__ import annotations

import os
import socket
from pathlib import Path

import pytest

from sb3_ppo_variants.benchmark.__main__ import main
from sb3_ppo_variants.benchmark.grid import Grid, Setting
from sb3_ppo_variants.benchmark.status import format_status, grid_status
from sb3_ppo_variants.benchmark.store import ResultsStore, RunResult


def _grid() -> Grid:
    settings = [Setting("clip_0.2", "ppo_clip", {"clip_range": 0.2}), Setting("sb3_ppo", "ppo")]
    return Grid(settings, ["CartPole-v1", "Pendulum-v1"], [0, 1], 1000)


def _store(out: Path, grid: Grid, stored: dict[tuple[str, str, int], float], cpu: str | None = None) -> ResultsStore:
    """Store the grid's runs named in ``stored`` ((setting, env, seed) -> wall time) with no episodes, recorded as run on
    processor ``cpu`` (None: software not recorded)."""
    store = ResultsStore(out)
    for spec in grid.runs():
        wall_time = stored.get((spec.setting, spec.env, spec.seed))
        if wall_time is not None:
            store.add_run(
                RunResult(
                    spec.key, spec.setting, spec.algo, spec.env, spec.seed, spec.timesteps, 1, {}, "v", wall_time, 1.0, "t",
                    "h", [], software=None if cpu is None else {"cpu": cpu},
                )
            )  # fmt: skip
    return store


def test_counts_and_estimates_from_the_stored_runs(tmp_path: Path) -> None:
    grid = _grid()
    # a run of another budget (or grid) in the same folder is not one of this grid's, but its time per step counts
    other = Grid([Setting("clip_0.2", "ppo_clip", {"clip_range": 0.2})], ["CartPole-v1"], [5], 4000)
    _store(tmp_path, other, {("clip_0.2", "CartPole-v1", 5): 400.0})  # 0.1 s per step
    _store(tmp_path, grid, {("clip_0.2", "CartPole-v1", 0): 20.0, ("sb3_ppo", "CartPole-v1", 0): 60.0})
    status = grid_status(grid, tmp_path)
    assert len(status.runs) == 8 and len(status.stored) == 2 and len(status.remaining) == 6
    estimates = {(s.setting, s.env, s.seed): status.estimates.get(s.key) for s in status.remaining}
    # clip_0.2 on CartPole: median of 0.02 and 0.1 s per step; sb3_ppo: its own 0.06
    assert estimates[("clip_0.2", "CartPole-v1", 1)] == (pytest.approx(60.0), "setting and env")
    assert estimates[("sb3_ppo", "CartPole-v1", 1)] == (pytest.approx(60.0), "setting and env")
    # no run on Pendulum: no estimate, and the text says the total covers only the runs with one
    assert [estimates[(s, "Pendulum-v1", seed)] for s in ("clip_0.2", "sb3_ppo") for seed in (0, 1)] == [None] * 4
    text = format_status(status, tmp_path, workers=2)
    assert f"{tmp_path}: 2 of 8 runs stored (25%), 6 to run" in text
    assert "by env: CartPole-v1 2/4, Pendulum-v1 0/4" in text and "by seed: 0 2/4, 1 0/4" in text
    assert "estimated time left: 1 min for 2 of the 6 runs with 2 workers" in text
    assert "4 runs with no stored run of their algorithm on their env have no estimate" in text
    # in the runner's order: seed by seed
    assert text.endswith("next: clip_0.2 Pendulum-v1 seed 0; sb3_ppo Pendulum-v1 seed 0; clip_0.2 CartPole-v1 seed 1")


def test_an_env_without_the_setting_borrows_the_same_algorithms_other_settings(tmp_path: Path) -> None:
    grid = _grid()
    _store(tmp_path, grid, {("sb3_ppo", "CartPole-v1", 0): 30.0, ("sb3_ppo", "Pendulum-v1", 0): 3600.0})
    status = grid_status(grid, tmp_path)
    by_run = {(s.setting, s.env, s.seed): status.estimates[s.key] for s in status.remaining}
    # PPOClip runs stock PPO's loop: its runs take stock PPO's time per step as the rough guess
    assert by_run[("clip_0.2", "Pendulum-v1", 1)] == (pytest.approx(3600.0), "algorithm and env")
    assert by_run[("sb3_ppo", "Pendulum-v1", 1)] == (pytest.approx(3600.0), "setting and env")
    assert status.estimated_seconds() == pytest.approx(3 * 3600.0 + 3 * 30.0)
    assert "estimated time left: 3.0 h with 1 worker (the stored runs' median time per step: 2 runs by setting and env, " in (
        format_status(status, tmp_path)
    )


def test_a_comparator_borrows_no_other_algorithms_time(tmp_path: Path) -> None:
    # TRPO's and A2C's runs take many times PPO's: PPO's times on the env estimate neither of them
    ppo = Setting("clip_0.2_fast", "ppo_clip", {"clip_range": 0.2, "fast": True})
    grid = Grid([ppo, Setting("sb3_trpo", "trpo"), Setting("sb3_a2c", "a2c")], ["CartPole-v1"], [0, 1], 1000)
    _store(tmp_path, grid, {("clip_0.2_fast", "CartPole-v1", 0): 30.0, ("sb3_trpo", "CartPole-v1", 0): 300.0})
    status = grid_status(grid, tmp_path)
    by_run = {(s.setting, s.seed): status.estimates.get(s.key) for s in status.remaining}
    assert by_run == {
        ("sb3_a2c", 0): None,
        ("clip_0.2_fast", 1): (pytest.approx(30.0), "setting and env"),
        ("sb3_trpo", 1): (pytest.approx(300.0), "setting and env"),
        ("sb3_a2c", 1): None,
    }
    assert "2 runs with no stored run of their algorithm on their env have no estimate" in format_status(status, tmp_path)


def test_the_estimate_counts_only_this_processors_runs_where_it_has_some(tmp_path: Path) -> None:
    # a grid that moved between machines: runs of one setting ~2x apart in time per step
    grid = _grid()
    _store(tmp_path, grid, {("clip_0.2", "CartPole-v1", 0): 10.0}, cpu="Xeon")
    _store(tmp_path, grid, {("sb3_ppo", "CartPole-v1", 0): 40.0}, cpu="EPYC")
    old = Grid([Setting("clip_0.2", "ppo_clip", {"clip_range": 0.2})], ["CartPole-v1"], [5, 6], 1000)
    _store(tmp_path, old, {("clip_0.2", "CartPole-v1", 5): 20.0, ("clip_0.2", "CartPole-v1", 6): 30.0}, cpu="EPYC")
    _store(tmp_path, grid, {("clip_0.2", "Pendulum-v1", 0): 99.0})  # recorded no processor
    key = {(spec.setting, spec.env, spec.seed): spec.key for spec in grid.runs()}
    clip_1, ppo_1 = key["clip_0.2", "CartPole-v1", 1], key["sb3_ppo", "CartPole-v1", 1]
    pendulum_1 = key["clip_0.2", "Pendulum-v1", 1]

    on_xeon = grid_status(grid, tmp_path, cpu="Xeon")
    # clip_0.2 on CartPole: the Xeon's one run, not the median of all three (20 s)
    assert on_xeon.estimates[clip_1] == (pytest.approx(10.0), "setting and env")
    # sb3_ppo and clip_0.2 on Pendulum: no run of theirs on the Xeon, so every processor's
    assert on_xeon.estimates[ppo_1] == (pytest.approx(40.0), "setting and env")
    assert on_xeon.estimates[pendulum_1] == (pytest.approx(99.0), "setting and env")
    assert on_xeon.this_cpu == {clip_1}
    text = format_status(on_xeon, tmp_path)
    assert "1 of them from runs on this processor (Xeon), the others from other processors' runs" in text

    on_epyc = grid_status(grid, tmp_path, cpu="EPYC")
    assert on_epyc.estimates[clip_1] == (pytest.approx(25.0), "setting and env")  # median of the EPYC's 20 and 30 s
    assert on_epyc.estimates[ppo_1] == (pytest.approx(40.0), "setting and env")
    assert on_epyc.this_cpu == {clip_1, ppo_1}
    elsewhere = format_status(grid_status(grid, tmp_path, cpu="Other"), tmp_path)
    assert "none from runs on this processor (Other): other processors' runs" in elsewhere


def test_shows_the_runs_in_progress_and_the_end(tmp_path: Path) -> None:
    grid = _grid()
    store = _store(tmp_path, grid, {})
    running = grid.runs()[0]
    assert store.claim(running.key, host=socket.gethostname(), pid=os.getpid())  # this process: alive
    assert store.claim(grid.runs()[1].key, host=socket.gethostname(), pid=2**22 + 7)  # no such process: not running
    status = grid_status(grid, tmp_path)
    assert list(status.running) == [running.key]
    text = format_status(status, tmp_path, now=status.running[running.key][2] + 125 * 60)
    assert f"running now: {running.setting} {running.env} seed {running.seed} (pid {os.getpid()}" in text
    assert "2.1 h so far" in text and "estimated time left: unknown" in text
    # the run in progress is not among the next ones
    assert f"next: {grid.runs()[1].setting} {grid.runs()[1].env} seed {grid.runs()[1].seed};" in text

    complete = _store(tmp_path / "complete", grid, {(s.setting, s.env, s.seed): 1.0 for s in grid.runs()})
    assert complete.finished_keys() == {s.key for s in grid.runs()}
    assert format_status(grid_status(grid, tmp_path / "complete"), "f").endswith("8 of 8 runs stored (100%), 0 to run\n"
        "  by env: CartPole-v1 4/4, Pendulum-v1 4/4\n  by seed: 0 4/4, 1 4/4\n  complete")  # fmt: skip


def test_the_command_reads_without_writing(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    empty = tmp_path / "empty"
    main(["status", "--preset", "quick", "--envs", "CartPole-v1", "--out", str(empty)])
    out = capsys.readouterr().out
    assert "0 of 10 runs stored (0%), 10 to run (not started: no results store" in out, out
    assert "estimated time left: unknown" in out and not empty.exists()
    with pytest.raises(SystemExit):
        main(["status", "--preset", "quick", "--out", str(tmp_path), "--workers", "0"])
    assert "--workers must be >= 1, got 0" in capsys.readouterr().err
    ResultsStore(tmp_path)
    before = (tmp_path / ResultsStore.FILENAME).read_bytes()
    main(["status", "--preset", "quick", "--fast", "--envs", "CartPole-v1", "--out", str(tmp_path)])
    out = capsys.readouterr().out
    assert "runs stored (0%)" in out and "by env: CartPole-v1" in out and "_fast" in out
    assert (tmp_path / ResultsStore.FILENAME).read_bytes() == before


def test_names_the_partial_monitor_logs_of_runs_not_stored(tmp_path: Path) -> None:
    from sb3_ppo_variants.benchmark.worker import in_progress_folder, monitor_folder

    grid = _grid()
    specs = {(s.setting, s.env, s.seed): s for s in grid.runs()}
    _store(tmp_path, grid, {("clip_0.2", "CartPole-v1", 0): 20.0})
    # a stored run's log in place is a finished one; an unstored run's log in place came from an older runner (or a run
    # killed before it was stored); an unstored run's log under .in_progress is hidden from rl-zoo3 and not named
    for key, folder in [
        (("clip_0.2", "CartPole-v1", 0), monitor_folder),
        (("sb3_ppo", "CartPole-v1", 0), monitor_folder),
        (("sb3_ppo", "Pendulum-v1", 1), in_progress_folder),
    ]:
        folder(tmp_path, specs[key]).mkdir(parents=True)
    # a run of another budget owns its setting's, env's and seed's folder: not a partial log of this grid's run
    other = Grid([Setting("clip_0.2", "ppo_clip", {"clip_range": 0.2})], ["Pendulum-v1"], [0], 4000)
    _store(tmp_path, other, {("clip_0.2", "Pendulum-v1", 0): 40.0})
    monitor_folder(tmp_path, other.runs()[0]).mkdir(parents=True)
    status = grid_status(grid, tmp_path)
    partial = specs[("sb3_ppo", "CartPole-v1", 0)]
    assert specs[("clip_0.2", "Pendulum-v1", 0)].key in {s.key for s in status.remaining}
    assert status.partial_logs == {partial.key: monitor_folder(tmp_path, partial)}
    text = format_status(status, tmp_path)
    assert f"partial Monitor log of sb3_ppo CartPole-v1 seed 0, not stored yet: {monitor_folder(tmp_path, partial)}" in text
    assert text.count("partial Monitor log") == 1
