"""What the loop's own checks and diagnostics cost a training run: ``learn()`` as it is, against ``learn()`` with one
of them switched off by patching, interleaved in one process (A B C A B C ..., median of per-round ratios).

    python scripts/overhead_cost.py --env HalfCheetah-v5 --timesteps 8192 --repeats 5

- ``no_partition``: the partition of the samples (``train/frac_in_band``, ``frac_killed``, ``frac_passed``), computed
  after each update, left out (the loop still keeps its inputs per minibatch);
- ``no_observation_check``: the per-step check of the observations (``observations.FiniteObservations``) left out.

The ratio as_is / this above 1 is what the item costs: 1.03 means the run takes 3% longer with it. Run it on a quiet
machine.
"""

from __future__ import annotations

import argparse
import statistics
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

import torch as th
from stable_baselines3.common.env_util import make_vec_env
from stable_baselines3.common.on_policy_algorithm import OnPolicyAlgorithm

from sb3_ppo_variants import PPOClip, base


@contextmanager
def as_is() -> Iterator[None]:
    yield


@contextmanager
def no_partition() -> Iterator[None]:
    original = base.SurrogatePPO._record_partition
    base.SurrogatePPO._record_partition = lambda self, samples, clip_range: None  # type: ignore[method-assign]
    try:
        yield
    finally:
        base.SurrogatePPO._record_partition = original  # type: ignore[method-assign]


@contextmanager
def no_observation_check() -> Iterator[None]:
    original = base.SurrogatePPO._init_callback
    base.SurrogatePPO._init_callback = OnPolicyAlgorithm._init_callback  # type: ignore[method-assign]
    try:
        yield
    finally:
        base.SurrogatePPO._init_callback = original  # type: ignore[method-assign]


CONFIGURATIONS: dict[str, Callable[[], Any]] = {
    "as_is": as_is,
    "no_partition": no_partition,
    "no_observation_check": no_observation_check,
}


def time_learn(env_id: str, fast: bool, timesteps: int, seed: int) -> float:
    model = PPOClip("MlpPolicy", make_vec_env(env_id, n_envs=1, seed=seed), seed=seed, device="cpu", fast=fast)
    start = time.perf_counter()
    model.learn(timesteps)
    return time.perf_counter() - start


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--env", default="HalfCheetah-v5")
    parser.add_argument("--timesteps", type=int, default=8192)
    parser.add_argument("--repeats", type=int, default=5)
    args = parser.parse_args()
    th.set_num_threads(1)
    for fast in (True, False):
        times: dict[str, list[float]] = {name: [] for name in CONFIGURATIONS}
        for repeat in range(args.repeats + 1):  # the first round warms up and is not counted
            for name, configuration in CONFIGURATIONS.items():
                with configuration():
                    elapsed = time_learn(args.env, fast, args.timesteps, seed=0)
                if repeat > 0:
                    times[name].append(elapsed)
        print(f"PPOClip fast={fast}, {args.env}, {args.timesteps} steps, {args.repeats} rounds")
        for name, values in times.items():
            ratios = [a / b for a, b in zip(times["as_is"], values, strict=True)]
            print(
                f"  {name:>22}: median {statistics.median(values):6.2f} s, as_is / this: median "
                f"{statistics.median(ratios):.3f} (min {min(ratios):.3f}, max {max(ratios):.3f})"
            )


if __name__ == "__main__":
    main()
