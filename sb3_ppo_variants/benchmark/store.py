"""The results store: one SQLite file per benchmark folder, one transaction per finished run.

A run is in the store completely or not at all (one row, its episodes included, committed at once), so a benchmark
killed at any moment loses at most the runs in flight, and re-running the same command skips what is stored.

Schema versions (SQLite's ``user_version``): 0, the first; 1 adds each run's ``software`` (a JSON object, see
:mod:`~sb3_ppo_variants.benchmark.software`; runs stored before it are kept and marked ``unknown``) and the folder's
``pin`` (the versions its runs must share). Opening a store migrates it in place, in one transaction.

Runners that share a folder (two processes, or two machines on a shared file system) split its grid: a worker claims
a run in the ``claims`` table before training it (:meth:`ResultsStore.claim`), and skips a run that another live
runner claimed. The table is created when first needed and is not part of the schema version, so older code that
does not claim still reads and writes the store.

A store that SQLite cannot read, or a run whose episode record does not unpack, is reported with the file and the
run's key (:class:`DamagedStoreError`); ``run --redo-damaged`` deletes the damaged runs so that they are trained again.
"""

from __future__ import annotations

import io
import json
import os
import socket
import sqlite3
import time
import zipfile
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any, NamedTuple

import numpy as np

from sb3_ppo_variants.benchmark.software import UNKNOWN

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
    episodes BLOB NOT NULL,
    software TEXT NOT NULL DEFAULT 'unknown'
);
CREATE TABLE IF NOT EXISTS random_scores (
    env TEXT PRIMARY KEY,
    episodes INTEGER NOT NULL,
    mean REAL NOT NULL,
    std REAL NOT NULL,
    seed INTEGER NOT NULL
);
CREATE TABLE IF NOT EXISTS pin (
    name TEXT PRIMARY KEY,
    value TEXT NOT NULL
);
"""
SCHEMA_VERSION = 1
#: The columns of ``runs``, in the order of :class:`RunResult`'s fields.
RUN_COLUMNS = (
    "key, setting, algo, env, seed, timesteps, n_envs, kwargs, code_version, wall_time, fps, finished_at, host, episodes, "
    "software"
)


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
    #: what the run ran on (:func:`~sb3_ppo_variants.benchmark.software.current_software`); None: not recorded (a run
    #: stored before runs recorded it)
    software: dict[str, str] | None = None
    #: per update, the timestep and the update's logged diagnostics (:data:`UPDATE_KEYS` that the algorithm logs), as
    #: columns; None: not recorded. Stored in the ``updates`` table and read with :meth:`ResultsStore.updates`, not
    #: with :meth:`ResultsStore.runs`
    updates: dict[str, list[float]] | None = None


#: a claim on a run by a runner on another host counts as abandoned after this long (a claim of this host is
#: abandoned as soon as its process is gone)
CLAIM_TIMEOUT_S = 24 * 3600.0

#: the ``train/`` keys a run records per update when its algorithm logs them (the partition of the samples, SB3's
#: clip fraction and approximate KL, the penalty's KL and β)
UPDATE_KEYS = (
    "train/frac_in_band",
    "train/frac_killed",
    "train/frac_passed",
    "train/kl_coef_killed",
    "train/clip_fraction",
    "train/approx_kl",
    "train/kl",
    "train/kl_coef",
)
#: created when a run first stores its updates (older code, which has no such table, keeps working on the store)
UPDATES_SCHEMA = "CREATE TABLE IF NOT EXISTS updates (key TEXT PRIMARY KEY, data BLOB NOT NULL)"

CLAIMS_SCHEMA = (
    "CREATE TABLE IF NOT EXISTS claims (key TEXT PRIMARY KEY, host TEXT NOT NULL, pid INTEGER NOT NULL, at REAL NOT NULL)"
)


def _software(column: str) -> dict[str, str] | None:
    """A run's ``software`` column as :attr:`RunResult.software` holds it (None: not recorded)."""
    return None if column == UNKNOWN else json.loads(column)


class StoredTime(NamedTuple):
    """A stored run's wall time and what it depends on, without its episodes (:meth:`ResultsStore.wall_times`)."""

    setting: str
    algo: str
    env: str
    seed: int
    timesteps: int
    #: seconds
    wall_time: float
    #: the processor it ran on (the ``cpu`` of its software), ``unknown`` for a run that did not record it
    cpu: str


class DamagedStoreError(ValueError):
    """The results store, or some of its runs, cannot be read: the message names the file and the runs."""


def _process_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def _claim_alive(host: str, pid: int, at: float, here: str) -> bool:
    """Whether a claim still holds: its process is alive (a claim of this host) or it is younger than
    :data:`CLAIM_TIMEOUT_S` (another host's, whose processes cannot be seen)."""
    return _process_alive(pid) if host == here else time.time() - at < CLAIM_TIMEOUT_S


class ResultsStore:
    """
    Finished runs and cached random-policy scores in ``<folder>/results.sqlite``.

    :param folder: the benchmark's output folder (created if missing)
    """

    FILENAME = "results.sqlite"

    def __init__(self, folder: str | Path):
        self.path = Path(folder) / self.FILENAME
        self.path.parent.mkdir(parents=True, exist_ok=True)
        try:
            self._migrate()
        except sqlite3.DatabaseError as error:
            raise DamagedStoreError(
                f"{self.path} is not a readable results store ({error}). Restore it (e.g. from git) or move it away to "
                "start a new one; its runs cannot be read."
            ) from None

    def _migrate(self) -> None:
        """Create the tables, or bring an older store to :data:`SCHEMA_VERSION`, keeping its runs."""
        db = sqlite3.connect(self.path, timeout=60, isolation_level=None)
        try:
            # One write transaction, taken before reading the version: two processes opening an old store at once
            # migrate it once.
            db.execute("BEGIN IMMEDIATE")
            version = db.execute("PRAGMA user_version").fetchone()[0]
            if version < SCHEMA_VERSION:
                columns = {row[1] for row in db.execute("PRAGMA table_info(runs)")}
                if columns and "software" not in columns:
                    db.execute("ALTER TABLE runs ADD COLUMN software TEXT NOT NULL DEFAULT 'unknown'")
                for statement in SCHEMA.split(";"):
                    if statement.strip():
                        db.execute(statement)
                db.execute(f"PRAGMA user_version = {SCHEMA_VERSION}")
            elif version > SCHEMA_VERSION:
                raise ValueError(
                    f"{self.path} has schema version {version}, newer than this package's {SCHEMA_VERSION}: "
                    "upgrade sb3-ppo-variants to read it"
                )
            db.execute("COMMIT")
        except BaseException:
            if db.in_transaction:
                db.execute("ROLLBACK")
            raise
        finally:
            db.close()

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
                f"INSERT OR REPLACE INTO runs ({RUN_COLUMNS}) VALUES ({', '.join('?' for _ in RUN_COLUMNS.split(','))})",
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
                    UNKNOWN if result.software is None else json.dumps(result.software, sort_keys=True),
                ),
            )
            if result.updates is not None:
                db.execute(UPDATES_SCHEMA)
                buffer = io.BytesIO()
                columns: dict[str, Any] = {k: np.asarray(v, dtype=np.float64) for k, v in result.updates.items()}
                np.savez_compressed(buffer, **columns)
                db.execute("INSERT OR REPLACE INTO updates VALUES (?, ?)", (result.key, buffer.getvalue()))
            db.execute(CLAIMS_SCHEMA)
            db.execute("DELETE FROM claims WHERE key = ?", (result.key,))

    def wall_times(self) -> dict[str, StoredTime]:
        """Per stored run key, its wall time, budget and processor (:class:`StoredTime`), without reading the episodes."""
        with self._connect() as db:
            rows = db.execute("SELECT key, setting, algo, env, seed, timesteps, wall_time, software FROM runs").fetchall()
        times = {}
        for key, setting, algo, env, seed, timesteps, wall_time, software in rows:
            cpu = (_software(software) or {}).get("cpu", UNKNOWN)
            times[key] = StoredTime(setting, algo, env, int(seed), int(timesteps), float(wall_time), cpu)
        return times

    def live_claims(self) -> dict[str, tuple[str, int, float]]:
        """
        The runs that a runner is training now, as :meth:`claim` judges it: per key, (host, pid, when it was claimed,
        a Unix time). A claim whose process is gone (this host) or older than :data:`CLAIM_TIMEOUT_S` is left out.
        """
        with self._connect() as db:
            # read only: a store no runner has claimed from has no claims table (status must not create it)
            if not db.execute("SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'claims'").fetchone():
                return {}
            rows = db.execute("SELECT key, host, pid, at FROM claims").fetchall()
        here = socket.gethostname()
        return {key: (host, int(pid), float(at)) for key, host, pid, at in rows if _claim_alive(host, pid, at, here)}

    def updates(self) -> dict[str, dict[str, np.ndarray]]:
        """Per run key, its recorded updates (:attr:`RunResult.updates`) as arrays; runs that recorded none are absent."""
        with self._connect() as db:
            db.execute(UPDATES_SCHEMA)
            rows = db.execute("SELECT key, data FROM updates").fetchall()
        out = {}
        for key, blob in rows:
            with np.load(io.BytesIO(blob)) as arrays:
                out[key] = {name: arrays[name] for name in arrays.files}
        return out

    def runs(self) -> list[RunResult]:
        """
        Every stored run with its episodes, in a stable order.

        :raises DamagedStoreError: naming the runs whose episode record does not unpack
        """
        runs, damaged = self._read_runs()
        if damaged:
            raise self.damaged_error(
                damaged,
                "Train them again with `python -m sb3_ppo_variants.benchmark run ... --redo-damaged` (the same command "
                "that made them), or restore the file.",
            )
        return runs

    def damaged_error(self, damaged: dict[str, str], remedy: str) -> DamagedStoreError:
        """
        The error that names the store's damaged runs.

        :param damaged: :meth:`damaged_keys`
        :param remedy: what the user can do, for the message
        """
        keys = ", ".join(sorted(damaged))
        return DamagedStoreError(f"{self.path}: the episode records of {len(damaged)} run(s) are damaged: {keys}. {remedy}")

    def damaged_keys(self) -> dict[str, str]:
        """The runs whose episode record does not unpack, with the error."""
        return self._read_runs()[1]

    def delete_runs(self, keys: list[str]) -> None:
        """Remove these runs (e.g. damaged ones, so that the runner trains them again), in one transaction."""
        with self._connect() as db:
            db.executemany("DELETE FROM runs WHERE key = ?", [(key,) for key in keys])

    def _read_runs(self) -> tuple[list[RunResult], dict[str, str]]:
        with self._connect() as db:
            rows = db.execute(f"SELECT {RUN_COLUMNS} FROM runs ORDER BY setting, env, seed, timesteps").fetchall()
        runs, damaged = [], {}
        for row in rows:
            try:
                episodes = unpack_episodes(row[13])
                kwargs, software = json.loads(row[7]), _software(row[14])
            except (zipfile.BadZipFile, ValueError, KeyError, OSError, EOFError) as error:
                damaged[row[0]] = f"{type(error).__name__}: {error}"
                continue
            runs.append(
                RunResult(
                    key=row[0],
                    setting=row[1],
                    algo=row[2],
                    env=row[3],
                    seed=row[4],
                    timesteps=row[5],
                    n_envs=row[6],
                    kwargs=kwargs,
                    code_version=row[8],
                    wall_time=row[9],
                    fps=row[10],
                    finished_at=row[11],
                    host=row[12],
                    episodes=episodes,
                    software=software,
                )
            )
        return runs, damaged

    def release(self, key: str) -> None:
        """Drop this run's claim (a run that failed, so that the next invocation retries it)."""
        with self._connect() as db:
            db.execute(CLAIMS_SCHEMA)
            db.execute("DELETE FROM claims WHERE key = ?", (key,))

    def claim(self, key: str, host: str | None = None, pid: int | None = None) -> bool:
        """
        Claim a run before training it, in one write transaction: False if the run is stored already or claimed by
        another live runner (so two runners on one folder split the grid instead of both training every run).
        A claim whose process is gone (same host) or older than :data:`CLAIM_TIMEOUT_S` (another host) is taken over.

        :param key: the run's key
        :param host: this runner's host (default: this machine's name)
        :param pid: this runner's process id (default: this process's)
        """
        host = socket.gethostname() if host is None else host
        pid = os.getpid() if pid is None else pid
        with self._connect() as db:
            db.execute("BEGIN IMMEDIATE")
            db.execute(CLAIMS_SCHEMA)
            if db.execute("SELECT 1 FROM runs WHERE key = ?", (key,)).fetchone():
                return False
            row = db.execute("SELECT host, pid, at FROM claims WHERE key = ?", (key,)).fetchone()
            if row is not None and (row[0], row[1]) != (host, pid) and _claim_alive(row[0], row[1], row[2], host):
                return False
            db.execute("INSERT OR REPLACE INTO claims VALUES (?, ?, ?, ?)", (key, host, pid, time.time()))
        return True

    def pin(self) -> dict[str, str] | None:
        """The versions this folder's runs must share (None: not pinned yet)."""
        with self._connect() as db:
            rows = db.execute("SELECT name, value FROM pin").fetchall()
        return dict(rows) if rows else None

    def pin_once(self, versions: dict[str, str]) -> dict[str, str]:
        """
        Pin the folder to ``versions`` unless it is pinned already (in one transaction, so that of two runners
        starting at once, one pins and the other reads that pin).

        :return: the folder's pin
        """
        with self._connect() as db:
            db.execute("BEGIN IMMEDIATE")
            rows = db.execute("SELECT name, value FROM pin").fetchall()
            if rows:
                return dict(rows)
            db.executemany("INSERT INTO pin VALUES (?, ?)", sorted(versions.items()))
        return dict(versions)

    def random_score(self, env: str) -> tuple[float, float, int] | None:
        """The cached (mean, std, episodes) of the uniformly random policy on ``env``, if measured."""
        with self._connect() as db:
            row = db.execute("SELECT mean, std, episodes FROM random_scores WHERE env = ?", (env,)).fetchone()
        return None if row is None else (row[0], row[1], row[2])

    def set_random_score(self, env: str, mean: float, std: float, episodes: int, seed: int) -> None:
        with self._connect() as db:
            db.execute("INSERT OR REPLACE INTO random_scores VALUES (?, ?, ?, ?, ?)", (env, episodes, mean, std, seed))
