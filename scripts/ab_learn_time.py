"""A/B timing of ``PPOClip.learn()`` between this checkout and another (e.g. a ``git worktree`` at an older commit):
each run a fresh process, the two interleaved A B A B, the median of the per-pair ratios printed.

    git worktree add --detach ../before <commit>
    python scripts/ab_learn_time.py ../before --mode fast --steps 20480 --pairs 7
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
from pathlib import Path

CHILD = """
import sys, time
import torch as th
th.set_num_threads(1)
from sb3_ppo_variants import PPOClip
model = PPOClip("MlpPolicy", "Pendulum-v1", seed=0, fast=sys.argv[1] == "fast", device="cpu")
start = time.perf_counter()
model.learn(int(sys.argv[2]))
print(time.perf_counter() - start)
"""


def learn_time(checkout: Path, mode: str, steps: int) -> float:
    env = {**os.environ, "PYTHONPATH": str(checkout)}
    out = subprocess.run([sys.executable, "-c", CHILD, mode, str(steps)], env=env, capture_output=True, text=True, check=True)
    return float(out.stdout.strip().splitlines()[-1])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("baseline", type=Path, help="the other checkout (B)")
    parser.add_argument("--mode", choices=["fast", "exact"], default="fast")
    parser.add_argument("--steps", type=int, default=20480)
    parser.add_argument("--pairs", type=int, default=7)
    args = parser.parse_args()
    here = Path(__file__).resolve().parents[1]
    ratios = [
        learn_time(here, args.mode, args.steps) / learn_time(args.baseline, args.mode, args.steps) for _ in range(args.pairs)
    ]
    print(f"{args.mode}: median A/B {statistics.median(ratios):.3f} (min {min(ratios):.3f}, max {max(ratios):.3f})")


if __name__ == "__main__":
    main()
