"""A store that misbehaves: a damaged file or run is named and can be redone, two runners split a folder's grid, and
a runner killed while it commits leaves a store that reads whole."""

from __future__ import annotations

import json
import multiprocessing
import os
import signal
import sqlite3
import time
from pathlib import Path
from typing import Any

import pytest

from sb3_ppo_variants.benchmark.report import make_report
from sb3_ppo_variants.benchmark.runner import run_grid
from sb3_ppo_variants.benchmark.store import CLAIM_TIMEOUT_S, DamagedStoreError, ResultsStore, RunResult
from tests.benchmark.conftest import tiny_grid


def fake_run(key: str, episodes: int = 1000) -> RunResult:
    return RunResult(
        key=key, setting="s", algo="ppo", env="CartPole-v1", seed=0, timesteps=1000, n_envs=1, kwargs={},
        code_version="x", wall_time=1.0, fps=1.0, finished_at="now", host="h",
        episodes=[(i, float(i), 1) for i in range(episodes)],
    )  # fmt: skip


def test_a_damaged_store_file_is_named(tmp_path: Path) -> None:
    (tmp_path / ResultsStore.FILENAME).write_bytes(b"not a database" * 100)
    with pytest.raises(DamagedStoreError, match=f"{tmp_path / ResultsStore.FILENAME} is not a readable results store"):
        ResultsStore(tmp_path)


def damage(folder: Path, key: str) -> None:
    with sqlite3.connect(folder / ResultsStore.FILENAME) as db:
        db.execute("UPDATE runs SET episodes = ? WHERE key = ?", (b"PK\x03\x04 truncated", key))


def test_a_damaged_run_is_named_by_report_and_run_and_can_be_redone(tmp_path: Path) -> None:
    grid = tiny_grid(timesteps=512, seeds=(0,))
    run_grid(grid, tmp_path, workers=1, progress=False)
    store = ResultsStore(tmp_path)
    key = sorted(store.finished_keys())[0]
    damage(tmp_path, key)
    assert set(store.damaged_keys()) == {key}
    with pytest.raises(DamagedStoreError, match=f"damaged: {key}"):
        store.runs()
    with pytest.raises(DamagedStoreError, match=f"damaged: {key}"):
        make_report(tmp_path)
    with pytest.raises(DamagedStoreError, match=f"damaged: {key}. Pass --redo-damaged"):
        run_grid(grid, tmp_path, workers=1, progress=False)
    redone = run_grid(grid, tmp_path, workers=1, progress=False, redo_damaged=True)
    assert [run.key for run in redone] == [key]
    assert store.damaged_keys() == {} and len(store.runs()) == 2


def test_claims(tmp_path: Path) -> None:
    store = ResultsStore(tmp_path)
    assert store.claim("a", host="here", pid=os.getpid())
    assert not store.claim("a", host="here", pid=os.getppid())  # a live process of this host holds it
    dead = multiprocessing.get_context("spawn").Process(target=time.sleep, args=(0,))
    dead.start()
    dead.join()
    assert store.claim("b", host="here", pid=dead.pid)
    assert store.claim("b", host="here", pid=os.getpid())  # its process is gone: taken over
    assert store.claim("c", host="elsewhere", pid=1)
    assert not store.claim("c", host="here", pid=os.getpid())  # another host's fresh claim holds
    with sqlite3.connect(store.path) as db:
        db.execute("UPDATE claims SET at = at - ? WHERE key = 'c'", (CLAIM_TIMEOUT_S + 1,))
    assert store.claim("c", host="here", pid=os.getpid())  # an old claim of another host is abandoned
    store.add_run(fake_run("a", 3))
    assert not store.claim("a", host="here", pid=os.getpid())  # stored: nothing to claim
    store.release("c")
    assert store.claim("c", host="elsewhere", pid=2)


def _runner(folder: str, name: str) -> None:
    done = run_grid(tiny_grid(timesteps=512, seeds=(0, 1, 2)), folder, workers=1, progress=False)
    (Path(folder) / f"{name}.json").write_text(json.dumps([run.key for run in done]))


def test_two_runners_on_one_folder_split_its_grid(tmp_path: Path) -> None:
    context = multiprocessing.get_context("spawn")
    runners = [context.Process(target=_runner, args=(str(tmp_path), f"runner{i}")) for i in range(2)]
    for runner in runners:
        runner.start()
    for runner in runners:
        runner.join(timeout=600)
        assert runner.exitcode == 0
    runs = ResultsStore(tmp_path).runs()
    assert len(runs) == 6
    trained = [json.loads((tmp_path / f"runner{i}.json").read_text()) for i in range(2)]
    # each run was trained by exactly one of them (without claims both train all six)
    assert sorted(trained[0] + trained[1]) == sorted(run.key for run in runs)


def _keep_adding(folder: str, started: Any) -> None:
    store = ResultsStore(folder)
    index = 0
    while True:
        store.add_run(fake_run(f"run{index}", episodes=20_000))
        started.set()
        index += 1


@pytest.mark.parametrize("delay", [0.0, 0.05, 0.13, 0.31])
def test_a_runner_killed_while_committing_leaves_a_whole_store(tmp_path: Path, delay: float) -> None:
    """SIGKILL at an arbitrary moment of a stream of commits: the store opens, checks as intact, and every run it
    holds reads whole (a run is in it completely or not at all)."""
    context = multiprocessing.get_context("spawn")
    started = context.Event()
    process = context.Process(target=_keep_adding, args=(str(tmp_path), started))
    process.start()
    assert started.wait(timeout=300), "the writer never committed"
    time.sleep(delay)  # each commit takes a few ms: the kill lands anywhere in the stream
    assert process.pid is not None
    os.kill(process.pid, signal.SIGKILL)
    process.join()
    store = ResultsStore(tmp_path)
    with sqlite3.connect(store.path) as db:
        assert db.execute("PRAGMA integrity_check").fetchone() == ("ok",)
    runs = store.runs()
    assert runs
    assert all(len(run.episodes) == 20_000 for run in runs)
