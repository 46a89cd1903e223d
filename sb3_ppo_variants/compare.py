"""A short head-to-head of the PPO family's objectives and stock SB3 PPO on one environment, printed as a table.

    python -m sb3_ppo_variants.compare                       # CartPole-v1, 20k steps each, seeds 0, 1, 2
    python -m sb3_ppo_variants.compare --timesteps 50000 --seeds 0 1 2

Every algorithm trains with the same hyperparameters and seeds, then is evaluated for ``--eval-episodes`` episodes
on a separately seeded env, before and after training. Evaluation samples actions from the policy, as it acts while it
trains (``--deterministic`` takes the most likely action instead): on CartPole-v1 the untrained greedy policy of seed 0
already balances the pole for 381-459 steps, so a greedy score cannot tell an objective that learned from one that did
not. This is a smoke test of the objectives, not a benchmark: the Table 1 reproduction with confidence intervals is
``python -m sb3_ppo_variants.benchmark``.
"""

from __future__ import annotations

import argparse
import statistics
import time
from typing import Any, NamedTuple

import gymnasium as gym
import numpy as np
import torch as th
from stable_baselines3.common.env_util import make_vec_env
from stable_baselines3.common.evaluation import evaluate_policy

from sb3_ppo_variants.benchmark import ALGORITHMS, PPO_FAMILY_ALGORITHMS
from sb3_ppo_variants.pipes import run_command_line

#: rl-zoo3's CartPole-v1 PPO settings, with a constant learning rate: they learn CartPole in ~50k steps.
CARTPOLE_KWARGS: dict[str, Any] = dict(n_steps=32, batch_size=256, gae_lambda=0.8, gamma=0.98, n_epochs=20, learning_rate=1e-3)


class Result(NamedTuple):
    """One algorithm and seed: the mean evaluation return before and after training, and the training wall time."""

    untrained: float
    trained: float
    wall_time: float


def evaluate(model: Any, env_id: str, seed: int, eval_episodes: int, deterministic: bool) -> float:
    """Mean return over ``eval_episodes`` episodes of an env seeded apart from training (``seed + 10_000``)."""
    eval_env = make_vec_env(env_id, n_envs=1, seed=seed + 10_000)
    mean_return, _ = evaluate_policy(model, eval_env, n_eval_episodes=eval_episodes, deterministic=deterministic)
    return float(np.mean(mean_return))


def run(
    algo: str, env_id: str, n_envs: int, timesteps: int, seed: int, eval_episodes: int, deterministic: bool = False
) -> Result:
    """Train one algorithm and seed, evaluating it before and after training."""
    kwargs = CARTPOLE_KWARGS if env_id == "CartPole-v1" else {}
    model = ALGORITHMS[algo]("MlpPolicy", make_vec_env(env_id, n_envs=n_envs, seed=seed), seed=seed, device="cpu", **kwargs)
    # Sampling actions draws from torch's generator: the untrained evaluation runs on a fork of it, so training (and
    # the trained score) is exactly what model.learn gives without it.
    with th.random.fork_rng(devices=[]):
        untrained = evaluate(model, env_id, seed, eval_episodes, deterministic)
    start = time.perf_counter()
    model.learn(timesteps)
    wall_time = time.perf_counter() - start
    return Result(untrained, evaluate(model, env_id, seed, eval_episodes, deterministic), wall_time)


def main(argv: list[str] | None = None) -> dict[str, list[Result]]:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--env", default="CartPole-v1", help="a Gymnasium environment id")
    parser.add_argument("--timesteps", type=int, default=20_000, help="training steps per algorithm and seed")
    parser.add_argument("--n-envs", type=int, default=8, help="parallel environments (DummyVecEnv)")
    # one seed is a coin toss on CartPole at 20k steps: seed 0 of ppo_adaptive_kl ended at 500 on one CPU and at 11.9
    # (below the untrained policy) on another, whose float rounding differs; over seeds 0-2 every objective learns
    parser.add_argument(
        "--seeds", type=int, nargs="+", default=[0, 1, 2], help="training seeds (the table averages over them)"
    )
    parser.add_argument("--eval-episodes", type=int, default=10)
    parser.add_argument(
        "--deterministic", action="store_true", help="evaluate the most likely action instead of sampling from the policy"
    )
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
    results: dict[str, list[Result]] = {}
    for algo in args.algos:
        results[algo] = [
            run(algo, args.env, args.n_envs, args.timesteps, seed, args.eval_episodes, args.deterministic)
            for seed in args.seeds
        ]
        trained = statistics.mean(r.trained for r in results[algo])
        print(f"{algo:>{width}}: return {trained:8.1f}  ({time.strftime('%H:%M:%S')})", flush=True)

    actions = "greedy" if args.deterministic else "sampled"
    print(
        f"\n{args.env}, {args.timesteps} steps, seeds {args.seeds}, {args.eval_episodes} eval episodes ({actions} actions)\n"
    )
    print(f"| {'algorithm':<{width}} | {'untrained':>9} | {'mean return':>11} | {'wall time (s)':>13} |")
    print(f"|{'-' * (width + 2)}|{'-' * 11}|{'-' * 13}|{'-' * 15}|")
    for algo, rows in results.items():
        untrained = statistics.mean(r.untrained for r in rows)
        trained = statistics.mean(r.trained for r in rows)
        wall = statistics.mean(r.wall_time for r in rows)
        print(f"| {algo:<{width}} | {untrained:>9.1f} | {trained:>11.1f} | {wall:>13.1f} |")
    return results


if __name__ == "__main__":
    run_command_line(main)
