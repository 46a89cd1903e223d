"""A/B timing of a class's ``learn()`` between this checkout and another (e.g. a ``git worktree`` at an older
commit): each run a fresh process (only ``learn()`` is timed), the two interleaved A B A B, the median of the per-pair
ratios A/B printed (below 1: this checkout is faster).

    git worktree add --detach ../before <commit>
    python scripts/ab_learn_time.py ../before --mode fast --steps 20480 --pairs 7
    python scripts/ab_learn_time.py ../before --cls PPOSoftClip --env HalfCheetah-v5 --steps 16384 --pairs 5
"""

from __future__ import annotations

import argparse
import statistics
import subprocess
import sys
from pathlib import Path

CHILD = """
import sys, time
sys.path.insert(0, sys.argv[5])  # before the working directory, which `python -c` puts first
import torch as th
th.set_num_threads(1)
import sb3_ppo_variants
assert sb3_ppo_variants.__file__.startswith(sys.argv[5]), f"imported {sb3_ppo_variants.__file__}, not {sys.argv[5]}"
cls = getattr(sb3_ppo_variants, sys.argv[3])
model = cls("MlpPolicy", sys.argv[4], seed=0, fast=sys.argv[1] == "fast", device="cpu")
start = time.perf_counter()
model.learn(int(sys.argv[2]))
print(time.perf_counter() - start)
"""


def learn_time(checkout: Path, mode: str, steps: int, cls: str, env_id: str) -> float:
    command = [sys.executable, "-c", CHILD, mode, str(steps), cls, env_id, str(checkout.resolve())]
    out = subprocess.run(command, capture_output=True, text=True, check=True)
    return float(out.stdout.strip().splitlines()[-1])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("baseline", type=Path, help="the other checkout (B)")
    parser.add_argument("--mode", choices=["fast", "exact"], default="fast")
    parser.add_argument("--steps", type=int, default=20480)
    parser.add_argument("--pairs", type=int, default=7)
    parser.add_argument("--cls", default="PPOClip", help="a class that both checkouts export (default PPOClip)")
    parser.add_argument("--env", default="Pendulum-v1", help="a Gymnasium id (default Pendulum-v1)")
    args = parser.parse_args()
    here = Path(__file__).resolve().parents[1]
    ratios = []
    for _ in range(args.pairs):
        a = learn_time(here, args.mode, args.steps, args.cls, args.env)
        ratios.append(a / learn_time(args.baseline, args.mode, args.steps, args.cls, args.env))
    print(
        f"{args.cls} {args.mode} on {args.env}: median A/B {statistics.median(ratios):.3f} "
        f"(min {min(ratios):.3f}, max {max(ratios):.3f})"
    )


if __name__ == "__main__":
    main()
