"""A short head-to-head of the PPO family's objectives and stock SB3 PPO on one environment, printed as a table.

    python -m sb3_ppo_variants.compare                       # CartPole-v1, 20k steps each, 1 seed
    python -m sb3_ppo_variants.compare --timesteps 50000 --seeds 0 1 2

Every algorithm trains with the same hyperparameters and seeds, then is evaluated for ``--eval-episodes``
deterministic episodes on a separately seeded env. This is a smoke test of the objectives, not a benchmark: the
Table 1 reproduction with confidence intervals is ``python -m sb3_ppo_variants.benchmark``.
"""

from __future__ import annotations

import argparse
import statistics
import time
from typing import Any

import gymnasium as gym
import numpy as np
import torch as th
from stable_baselines3.common.env_util import make_vec_env
from stable_baselines3.common.evaluation import evaluate_policy

from sb3_ppo_variants.benchmark import ALGORITHMS, PPO_FAMILY_ALGORITHMS
from sb3_ppo_variants.pipes import run_command_line

#: rl-zoo3's CartPole-v1 PPO settings, with a constant learning rate: they learn CartPole in ~50k steps.
CARTPOLE_KWARGS: dict[str, Any] = dict(n_steps=32, batch_size=256, gae_lambda=0.8, gamma=0.98, n_epochs=20, learning_rate=1e-3)


def run(algo: str, env_id: str, n_envs: int, timesteps: int, seed: int, eval_episodes: int) -> tuple[float, float]:
    """Train one algorithm; return (mean evaluation return, training wall time in seconds)."""
    kwargs = CARTPOLE_KWARGS if env_id == "CartPole-v1" else {}
    model = ALGORITHMS[algo]("MlpPolicy", make_vec_env(env_id, n_envs=n_envs, seed=seed), seed=seed, device="cpu", **kwargs)
    start = time.perf_counter()
    model.learn(timesteps)
    wall_time = time.perf_counter() - start
    eval_env = make_vec_env(env_id, n_envs=1, seed=seed + 10_000)
    mean_return, _ = evaluate_policy(model, eval_env, n_eval_episodes=eval_episodes, deterministic=True)
    return float(np.mean(mean_return)), wall_time


def main(argv: list[str] | None = None) -> dict[str, list[tuple[float, float]]]:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--env", default="CartPole-v1", help="a Gymnasium environment id")
    parser.add_argument("--timesteps", type=int, default=20_000, help="training steps per algorithm and seed")
    parser.add_argument("--n-envs", type=int, default=8, help="parallel environments (DummyVecEnv)")
    parser.add_argument("--seeds", type=int, nargs="+", default=[0])
    parser.add_argument("--eval-episodes", type=int, default=10)
    parser.add_argument("--algos", nargs="+", default=PPO_FAMILY_ALGORITHMS, choices=PPO_FAMILY_ALGORITHMS)
    args = parser.parse_args(argv)
    if args.timesteps < 1 or args.n_envs < 1 or args.eval_episodes < 1:
        parser.error("--timesteps, --n-envs and --eval-episodes must be >= 1")
    if args.env not in gym.registry:
        parser.error(f"unknown environment {args.env!r}")

    # 64-64 MLPs train fastest on one thread, and torch's default of one per core collapses when the cores are busy.
    th.set_num_threads(1)
    # the name column fits the longest key asked for (zoo keys run past 16 characters: ppo_mask_per_sample_kl)
    width = max(len("algorithm"), *(len(algo) for algo in args.algos))
    results: dict[str, list[tuple[float, float]]] = {}
    for algo in args.algos:
        results[algo] = [run(algo, args.env, args.n_envs, args.timesteps, seed, args.eval_episodes) for seed in args.seeds]
        returns = [r for r, _ in results[algo]]
        print(f"{algo:>{width}}: return {statistics.mean(returns):8.1f}  ({time.strftime('%H:%M:%S')})", flush=True)

    print(f"\n{args.env}, {args.timesteps} steps, seeds {args.seeds}, {args.eval_episodes} deterministic eval episodes\n")
    print(f"| {'algorithm':<{width}} | {'mean return':>11} | {'wall time (s)':>13} |")
    print(f"|{'-' * (width + 2)}|{'-' * 13}|{'-' * 15}|")
    for algo, rows in results.items():
        mean_return = statistics.mean(r for r, _ in rows)
        wall = statistics.mean(t for _, t in rows)
        print(f"| {algo:<{width}} | {mean_return:>11.1f} | {wall:>13.1f} |")
    return results


if __name__ == "__main__":
    run_command_line(main)
