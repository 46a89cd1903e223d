"""Wall time of ``learn()`` for each variant against stock SB3 PPO, interleaved in one process.

    python -m sb3_ppo_variants.benchmark.throughput --env HalfCheetah-v5 CartPole-v1 --out results/throughput.json

For every (env, n_envs) configuration and every repeat, each algorithm trains once, from the same seed and the same
hyperparameters (SB3's defaults, which are the paper's Table 3), in the order ppo, variant, variant, ... (A B A B),
so that slow drifts of the machine hit all of them alike. A variant's figure is the median over repeats of its wall
time divided by stock PPO's wall time *in the same repeat*. Each variant runs on its default (exact) path and on its
``fast=True`` path (``<algo>+fast``; ``--modes`` picks). Model construction is not timed; a warm-up round that is
not counted comes first. The env-only floor is the rate of stepping the same vectorised env with random actions.
"""

from __future__ import annotations

import argparse
import platform
import statistics
import sys
import time
from typing import Any

import gymnasium as gym
import numpy as np
import stable_baselines3
import torch as th
from stable_baselines3.common.env_util import make_vec_env

from sb3_ppo_variants.benchmark import ALGORITHMS, PPO_FAMILY_ALGORITHMS
from sb3_ppo_variants.benchmark.io import atomic_write_json
from sb3_ppo_variants.pipes import run_command_line
from sb3_ppo_variants.version import __version__

#: Suffix of an algorithm's label on the opt-in fast path (``ppo_clip+fast``).
FAST = "+fast"


def time_learn(algo: str, env_id: str, n_envs: int, timesteps: int, seed: int) -> float:
    """Seconds that ``learn(timesteps)`` takes for a freshly built model (construction not included).

    :param algo: a key of ALGORITHMS, with ``+fast`` for a variant's fast path
    """
    name, fast = algo.removesuffix(FAST), algo.endswith(FAST)
    env = make_vec_env(env_id, n_envs=n_envs, seed=seed)
    extra: dict[str, Any] = {"fast": True} if fast else {}
    model = ALGORITHMS[name]("MlpPolicy", env, seed=seed, device="cpu", **extra)
    start = time.perf_counter()
    model.learn(timesteps)
    elapsed = time.perf_counter() - start
    env.close()
    return elapsed


def env_only_rate(env_id: str, n_envs: int, timesteps: int, seed: int) -> float:
    """Steps per second of the vectorised env alone, with uniformly random actions: the floor no agent beats."""
    env = make_vec_env(env_id, n_envs=n_envs, seed=seed)
    env.reset()
    env.action_space.seed(seed)
    actions = [np.stack([env.action_space.sample() for _ in range(n_envs)]) for _ in range(timesteps // n_envs)]
    start = time.perf_counter()
    for action in actions:
        env.step(action)
    elapsed = time.perf_counter() - start
    env.close()
    return len(actions) * n_envs / elapsed


def benchmark_config(env_id: str, n_envs: int, algos: list[str], timesteps: int, repeats: int, seed: int) -> dict[str, Any]:
    """Interleaved timings of every algorithm on one (env, n_envs) configuration."""
    for algo in algos:  # warm-up round: imports, allocator, first-call overheads
        time_learn(algo, env_id, n_envs, min(timesteps, 2048 * n_envs), seed)
    times: dict[str, list[float]] = {algo: [] for algo in algos}
    for repeat in range(repeats):
        for algo in algos:
            times[algo].append(time_learn(algo, env_id, n_envs, timesteps, seed))
        print(
            f"  {env_id} n_envs={n_envs} repeat {repeat + 1}/{repeats}: "
            + ", ".join(f"{algo} {times[algo][-1]:.2f}s" for algo in algos),
            flush=True,
        )
    floor = env_only_rate(env_id, n_envs, timesteps, seed)
    summary = {}
    for algo in algos:
        ratios = [t / ref for t, ref in zip(times[algo], times["ppo"], strict=True)]
        steps_per_second = timesteps / statistics.median(times[algo])
        summary[algo] = {
            "median_seconds": statistics.median(times[algo]),
            "steps_per_second": steps_per_second,
            "wall_time_ratio_vs_ppo": statistics.median(ratios),
            "speedup_vs_ppo": statistics.median(1 / r for r in ratios),
            "fraction_of_env_only": steps_per_second / floor,
            "seconds": times[algo],
        }
    return {"env": env_id, "n_envs": n_envs, "timesteps": timesteps, "env_only_steps_per_second": floor, "algos": summary}


def format_table(results: list[dict[str, Any]]) -> str:
    lines = [
        "| env | n_envs | algorithm | steps/s | wall time / SB3 PPO (median) | share of env-only rate |",
        "|---|---|---|---|---|---|",
    ]
    for config in results:
        for algo, row in config["algos"].items():
            lines.append(
                f"| {config['env']} | {config['n_envs']} | {algo} | {row['steps_per_second']:.0f} | "
                f"{row['wall_time_ratio_vs_ppo']:.3f} | {row['fraction_of_env_only']:.1%} |"
            )
    return "\n".join(lines)


def readme_table(results: list[dict[str, Any]]) -> str:
    """
    The README's table of a throughput JSON: per configuration and algorithm its speed, the median over repeats of
    its per-repeat speed-up over stock PPO (PPO's wall time / its wall time in the same repeat), their range, and its
    share of the env-only rate.

    :param results: the ``results`` of a file written by ``--out``
    :return: the Markdown table
    """
    lines = [
        "| env | n_envs | algorithm | steps/s | speed-up vs SB3 PPO (median) | per-repeat range | share of env-only rate |",
        "|---|---|---|---|---|---|---|",
    ]
    for config in results:
        reference = config["algos"]["ppo"]["seconds"]
        for algo, row in config["algos"].items():
            speedups = [ppo / own for ppo, own in zip(reference, row["seconds"], strict=True)]
            base = algo.removesuffix(FAST)
            name = (
                "SB3 `PPO`"
                if algo == "ppo"
                else f"`{ALGORITHMS[base].__name__}`" + (" `fast=True`" if algo.endswith(FAST) else "")
            )
            median = f"{statistics.median(speedups):.2f}×"  # noqa: RUF001 (the sign the README uses)
            lines.append(
                f"| {config['env']} | {config['n_envs']} | {name} | {row['steps_per_second']:.0f} | "
                + (f"**{median}**" if algo.endswith(FAST) else median)
                + " | "
                + ("" if algo == "ppo" else f"{min(speedups):.2f}–{max(speedups):.2f}")  # noqa: RUF001
                + f" | {row['fraction_of_env_only']:.1%} |"
            )
    return "\n".join(lines)


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--env", nargs="+", default=["HalfCheetah-v5", "CartPole-v1"], help="environment ids")
    parser.add_argument("--n-envs", nargs="+", type=int, default=[1], help="numbers of parallel envs (DummyVecEnv)")
    parser.add_argument(
        "--algos",
        nargs="+",
        default=PPO_FAMILY_ALGORITHMS,
        choices=PPO_FAMILY_ALGORITHMS,
        help="algorithms; ppo is always run",
    )
    parser.add_argument(
        "--modes",
        nargs="+",
        choices=["exact", "fast"],
        default=["exact", "fast"],
        help="the variants' default (exact) path and/or their fast=True path (labelled <algo>+fast)",
    )
    parser.add_argument("--timesteps", type=int, default=8192, help="timesteps per timed run")
    parser.add_argument("--repeats", type=int, default=5, help="interleaved repeats per configuration")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--torch-threads", type=int, default=1, help="torch.set_num_threads (1: one core per run)")
    parser.add_argument("--out", default=None, help="JSON file to write (atomically, after each configuration)")
    parser.add_argument("--table", default=None, help="print the README's table of this JSON file and measure nothing")
    args = parser.parse_args(argv)
    if args.timesteps < 1 or args.repeats < 1 or any(n < 1 for n in args.n_envs):
        parser.error("--timesteps, --repeats and --n-envs must be >= 1")
    for env_id in args.env:
        if env_id not in gym.registry:
            parser.error(f"unknown environment {env_id!r}")
    variants = [a for a in args.algos if a != "ppo"]
    args.algos = [
        "ppo",
        *(variants if "exact" in args.modes else []),
        *([a + FAST for a in variants] if "fast" in args.modes else []),
    ]
    return args


def main(argv: list[str] | None = None) -> list[dict[str, Any]]:
    args = parse_args(argv)
    if args.table:
        import json

        with open(args.table) as handle:
            stored: list[dict[str, Any]] = json.load(handle)["results"]
        print(readme_table(stored))
        return stored
    th.set_num_threads(args.torch_threads)
    meta = {
        "command": " ".join(["python -m sb3_ppo_variants.benchmark.throughput", *(sys.argv[1:] if argv is None else argv)]),
        "sb3_ppo_variants": __version__,
        "stable_baselines3": stable_baselines3.__version__,
        "torch": th.__version__,
        "python": platform.python_version(),
        "machine": platform.platform(),
        "torch_threads": args.torch_threads,
    }
    results: list[dict[str, Any]] = []
    for env_id in args.env:
        for n_envs in args.n_envs:
            results.append(benchmark_config(env_id, n_envs, args.algos, args.timesteps, args.repeats, args.seed))
            if args.out:
                atomic_write_json(args.out, {"meta": meta, "results": results})
    print(format_table(results))
    return results


if __name__ == "__main__":
    run_command_line(main)
