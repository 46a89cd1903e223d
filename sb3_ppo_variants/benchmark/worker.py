"""One benchmark run in one process: train, record every training episode, write the standard Monitor log (put in
place when the run has finished)."""

from __future__ import annotations

import ctypes
import datetime
import os
import platform
import shutil
import signal
import sys
import time
from pathlib import Path

import numpy as np
import torch as th
from stable_baselines3.common.callbacks import BaseCallback
from stable_baselines3.common.env_util import make_vec_env
from stable_baselines3.common.vec_env import VecNormalize

from sb3_ppo_variants.benchmark import ALGORITHMS
from sb3_ppo_variants.benchmark.grid import RunSpec
from sb3_ppo_variants.benchmark.software import check_pin, current_software
from sb3_ppo_variants.benchmark.store import UPDATE_KEYS, ResultsStore, RunResult
from sb3_ppo_variants.envs import register_envs
from sb3_ppo_variants.schedules import from_strings


class EpisodeRecorder(BaseCallback):
    """Keeps (timestep at the episode's end, return, length) of every training episode, from the Monitor's info."""

    def __init__(self) -> None:
        super().__init__()
        self.episodes: list[tuple[int, float, int]] = []

    def _on_step(self) -> bool:
        for info in self.locals["infos"]:
            episode = info.get("episode")
            if episode is not None:
                self.episodes.append((self.num_timesteps, float(episode["r"]), int(episode["l"])))
        return True


class UpdateRecorder(BaseCallback):
    """
    Keeps, per update, the timestep and the update's :data:`~sb3_ppo_variants.benchmark.store.UPDATE_KEYS` that the
    algorithm logs. SB3 records an update's ``train/`` values in ``train()`` and dumps them after the next rollout, so
    they are read at the start of the next rollout, and after the last update at the end of training.
    """

    def __init__(self) -> None:
        super().__init__()
        self.updates: dict[str, list[float]] = {"timestep": []}

    def _read(self) -> None:
        values = self.model.logger.name_to_value
        if not any(key in values for key in UPDATE_KEYS):
            return  # no update yet
        timestep = float(self.num_timesteps)
        if self.updates["timestep"] and self.updates["timestep"][-1] == timestep:
            return
        self.updates["timestep"].append(timestep)
        for key in UPDATE_KEYS:
            if key in values:
                self.updates.setdefault(key, []).append(float(values[key]))

    def _on_rollout_start(self) -> None:
        self._read()

    def _on_training_end(self) -> None:
        self._read()

    def _on_step(self) -> bool:
        return True


#: the folder of ``<out>`` where a run writes its Monitor log while it trains (hidden from rl-zoo3's plots, which read
#: every ``<env>_*`` folder of a setting)
IN_PROGRESS = ".in_progress"


def monitor_folder(out: str | Path, spec: RunSpec) -> Path:
    """rl-zoo3's layout, ``<out>/<algo>/<env>_<run id>``, with the setting as the algo and seed + 1 as the run id, so
    ``python -m rl_zoo3.cli all_plots -a <setting> -e <env> -f <out>`` plots the benchmark."""
    return Path(out) / spec.setting / f"{spec.env}_{spec.seed + 1}"


def in_progress_folder(out: str | Path, spec: RunSpec) -> Path:
    """Where the run's Monitor log is written while it trains: ``<out>/.in_progress/<setting>/<env>_<run id>``. It is
    moved to :func:`monitor_folder` when the run has finished, so that a run killed halfway leaves no partial log
    among the finished ones."""
    return Path(out) / IN_PROGRESS / spec.setting / f"{spec.env}_{spec.seed + 1}"


def publish_monitor_log(partial: Path, final: Path) -> None:
    """
    Move a finished run's Monitor log folder into place in one rename, replacing an older copy of the same run (a run
    trained again with ``--redo-damaged``).

    :param partial: the folder the run wrote
    :param final: its place in rl-zoo3's layout
    """
    final.parent.mkdir(parents=True, exist_ok=True)
    if final.exists():
        shutil.rmtree(final)
    os.replace(partial, final)


def init_worker() -> None:
    """Per worker process: one torch thread (the workers are the parallelism), and die with the parent on Linux
    so that killing the benchmark does not leave orphans training for nobody."""
    th.set_num_threads(1)
    if sys.platform.startswith("linux"):
        try:
            libc = ctypes.CDLL("libc.so.6", use_errno=True)
            pr_set_pdeathsig = 1
            libc.prctl(pr_set_pdeathsig, signal.SIGKILL)
        except OSError:
            pass


def execute_run(spec: RunSpec, out: str, pin: dict[str, str] | None = None) -> RunResult | None:
    """
    Train one run of a grid and return everything the store keeps of it, what it ran on included. Worker processes
    call :func:`init_worker` first.

    :param spec: the run
    :param out: the benchmark folder (for the Monitor log)
    :param pin: the folder's pinned versions: a worker whose software differs refuses the run before training (a
        Ray worker may sit on another machine than the runner that checked its own); None: no check
    :return: the finished run, or None when another runner has stored or claimed it (see
        :meth:`~sb3_ppo_variants.benchmark.store.ResultsStore.claim`)
    :raises SoftwareMismatchError: the worker's software differs from ``pin``
    """
    software = current_software()
    check_pin(pin, software, out)
    store = ResultsStore(out)
    # another runner on this folder may have trained or claimed it meanwhile: the two split the grid
    if not store.claim(spec.key):
        return None
    try:
        return _train(spec, out, software)
    except BaseException:
        store.release(spec.key)  # so that the next invocation retries it at once
        raise


def _train(spec: RunSpec, out: str, software: dict[str, str]) -> RunResult:
    register_envs()
    partial = in_progress_folder(out, spec)
    # what an attempt killed halfway left (this worker holds the run's claim, so no other process writes there)
    shutil.rmtree(partial, ignore_errors=True)
    env = make_vec_env(spec.env, n_envs=spec.n_envs, seed=spec.seed, monitor_dir=str(partial))
    if spec.normalize is not None:
        # after the Monitor wrappers: the recorded episode returns are the env's own
        env = VecNormalize(env, **spec.normalize)
    algorithm = ALGORITHMS[spec.algo]
    # the family's MLP policy: RecurrentPPO's is an LSTM one
    policy = "MlpLstmPolicy" if "MlpLstmPolicy" in algorithm.policy_aliases else "MlpPolicy"
    # a grid holds linear schedules as rl-zoo3's strings (lin_<value>)
    model = algorithm(policy, env, seed=spec.seed, device="cpu", **from_strings(spec.kwargs))
    recorder, update_recorder = EpisodeRecorder(), UpdateRecorder()
    start = time.perf_counter()
    model.learn(spec.timesteps, callback=[recorder, update_recorder])
    wall_time = time.perf_counter() - start
    env.close()
    publish_monitor_log(partial, monitor_folder(out, spec))
    return RunResult(
        key=spec.key,
        setting=spec.setting,
        algo=spec.algo,
        env=spec.env,
        seed=spec.seed,
        timesteps=spec.timesteps,
        n_envs=spec.n_envs,
        kwargs=spec.kwargs,
        code_version=software["sb3-ppo-variants"],
        wall_time=wall_time,
        fps=model.num_timesteps / wall_time,
        finished_at=datetime.datetime.now(datetime.timezone.utc).isoformat(timespec="seconds"),
        host=f"{platform.node()} ({os.cpu_count()} cpus)",
        episodes=recorder.episodes,
        software=software,
        # only keys logged at every update, so that every column lines up with the timesteps
        updates={k: v for k, v in update_recorder.updates.items() if len(v) == len(update_recorder.updates["timestep"])},
    )


def random_policy_returns(env_id: str, episodes: int = 100, seed: int = 0) -> list[float]:
    """
    Returns of ``episodes`` episodes of uniformly random actions: the paper's zero of the normalized score.

    :param env_id: a Gymnasium id
    :param episodes: how many episodes
    :param seed: seeds the env's resets and the action sampling
    :return: one return per episode
    """
    register_envs()
    env = make_vec_env(env_id, n_envs=1, seed=seed)
    env.action_space.seed(seed)
    env.reset()
    returns: list[float] = []
    total = 0.0
    while len(returns) < episodes:
        _, reward, done, _ = env.step(np.array([env.action_space.sample()]))
        total += float(reward[0])
        if done[0]:
            returns.append(total)
            total = 0.0
    env.close()
    return returns
