"""The results store: one SQLite file per benchmark folder, one transaction per finished run.

A run is in the store completely or not at all (one row, its episodes included, committed at once), so a benchmark
killed at any moment loses at most the runs in flight, and re-running the same command skips what is stored.
"""

from __future__ import annotations

import io
import json
import sqlite3
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

SCHEMA = """
CREATE TABLE IF NOT EXISTS runs (
    key TEXT PRIMARY KEY,
    setting TEXT NOT NULL,
    algo TEXT NOT NULL,
    env TEXT NOT NULL,
    seed INTEGER NOT NULL,
    timesteps INTEGER NOT NULL,
    n_envs INTEGER NOT NULL,
    kwargs TEXT NOT NULL,
    code_version TEXT NOT NULL,
    wall_time REAL NOT NULL,
    fps REAL NOT NULL,
    finished_at TEXT NOT NULL,
    host TEXT NOT NULL,
    episodes BLOB NOT NULL
);
CREATE TABLE IF NOT EXISTS random_scores (
    env TEXT PRIMARY KEY,
    episodes INTEGER NOT NULL,
    mean REAL NOT NULL,
    std REAL NOT NULL,
    seed INTEGER NOT NULL
);
"""


def pack_episodes(episodes: list[tuple[int, float, int]]) -> bytes:
    """Episodes as a compressed npz of three arrays (a run of short episodes has tens of thousands of them: a row
    each would make the store, which is committed with the results, several times larger)."""
    buffer = io.BytesIO()
    np.savez_compressed(
        buffer,
        timestep=np.array([e[0] for e in episodes], dtype=np.int64),
        episode_return=np.array([e[1] for e in episodes], dtype=np.float64),
        length=np.array([e[2] for e in episodes], dtype=np.int64),
    )
    return buffer.getvalue()


def unpack_episodes(blob: bytes) -> list[tuple[int, float, int]]:
    """The inverse of :func:`pack_episodes`."""
    with np.load(io.BytesIO(blob)) as arrays:
        return list(
            zip(arrays["timestep"].tolist(), arrays["episode_return"].tolist(), arrays["length"].tolist(), strict=True)
        )


@dataclass
class RunResult:
    """What a finished run leaves: its identity, its training episodes (timestep at the episode's end, return, length),
    and how long it took."""

    key: str
    setting: str
    algo: str
    env: str
    seed: int
    timesteps: int
    n_envs: int
    kwargs: dict[str, Any]
    code_version: str
    wall_time: float
    fps: float
    finished_at: str
    host: str
    episodes: list[tuple[int, float, int]]


class ResultsStore:
    """
    Finished runs and cached random-policy scores in ``<folder>/results.sqlite``.

    :param folder: the benchmark's output folder (created if missing)
    """

    FILENAME = "results.sqlite"

    def __init__(self, folder: str | Path):
        self.path = Path(folder) / self.FILENAME
        self.path.parent.mkdir(parents=True, exist_ok=True)
        with self._connect() as db:
            db.executescript(SCHEMA)

    @contextmanager
    def _connect(self) -> Iterator[sqlite3.Connection]:
        db = sqlite3.connect(self.path, timeout=60)
        try:
            with db:  # one transaction: committed on success, rolled back on any error
                yield db
        finally:
            db.close()

    def finished_keys(self) -> set[str]:
        with self._connect() as db:
            return {key for (key,) in db.execute("SELECT key FROM runs")}

    def add_run(self, result: RunResult) -> None:
        """Store a finished run with its episodes, in one transaction (replacing a previous copy of the same run)."""
        with self._connect() as db:
            db.execute(
                "INSERT OR REPLACE INTO runs VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                (
                    result.key,
                    result.setting,
                    result.algo,
                    result.env,
                    result.seed,
                    result.timesteps,
                    result.n_envs,
                    json.dumps(result.kwargs, sort_keys=True),
                    result.code_version,
                    result.wall_time,
                    result.fps,
                    result.finished_at,
                    result.host,
                    pack_episodes(result.episodes),
                ),
            )

    def runs(self) -> list[RunResult]:
        """Every stored run with its episodes, in a stable order."""
        with self._connect() as db:
            rows = db.execute("SELECT * FROM runs ORDER BY setting, env, seed, timesteps").fetchall()
        return [
            RunResult(
                key=row[0],
                setting=row[1],
                algo=row[2],
                env=row[3],
                seed=row[4],
                timesteps=row[5],
                n_envs=row[6],
                kwargs=json.loads(row[7]),
                code_version=row[8],
                wall_time=row[9],
                fps=row[10],
                finished_at=row[11],
                host=row[12],
                episodes=unpack_episodes(row[13]),
            )
            for row in rows
        ]

    def random_score(self, env: str) -> tuple[float, float, int] | None:
        """The cached (mean, std, episodes) of the uniformly random policy on ``env``, if measured."""
        with self._connect() as db:
            row = db.execute("SELECT mean, std, episodes FROM random_scores WHERE env = ?", (env,)).fetchone()
        return None if row is None else (row[0], row[1], row[2])

    def set_random_score(self, env: str, mean: float, std: float, episodes: int, seed: int) -> None:
        with self._connect() as db:
            db.execute("INSERT OR REPLACE INTO random_scores VALUES (?, ?, ?, ?, ?)", (env, episodes, mean, std, seed))
