"""Each extra works alone: install the package with one extra into a fresh virtual environment and run the commands
its documentation gives, on a tiny budget.

    python scripts/check_extras.py                     # every extra, in temporary folders
    python scripts/check_extras.py zoo benchmark       # some of them

Each venv gets the CPU torch wheel first (``torch==2.13.0``, as CI installs it), then ``.[<extra>]`` from this
checkout; nothing else. Exit code 1 when any extra's command fails; the failing command and its output are printed.
"""

from __future__ import annotations

import argparse
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
TORCH = "torch==2.13.0"

#: extra -> the commands its section documents, each run in the venv's folder (``{python}`` is the venv's python)
CHECKS: dict[str, list[str]] = {
    "": ["{python} -m sb3_ppo_variants.compare --timesteps 2048 --algos ppo ppo_clip ppo_adaptive_kl"],
    "extra": [
        '{python} -c "from sb3_ppo_variants import PPOClip; '
        "PPOClip('MlpPolicy', 'CartPole-v1', n_steps=64, batch_size=32, tensorboard_log='tb').learn(128, progress_bar=True)\"",
    ],
    "mujoco": [
        '{python} -c "from sb3_ppo_variants import PPOAdaptiveKL; '
        "PPOAdaptiveKL('MlpPolicy', 'HalfCheetah-v5', n_steps=64, batch_size=32).learn(128)\"",
    ],
    "zoo": [
        "{bin}/sb3-ppo-zoo train --help",
        # all_plots reads the evaluations.npz that only --eval-freq writes
        "{bin}/sb3-ppo-zoo train --algo ppo_fixed_kl --env CartPole-v1 -n 2048 -f logs --seed 1 --eval-freq 1024 "
        "--eval-episodes 2",
        "{bin}/sb3-ppo-zoo train --algo ppo_clip --env CartPole-v1 --paper-code -n 2048 -f logs",
        "{bin}/sb3-ppo-zoo enjoy --algo ppo_fixed_kl --env CartPole-v1 -f logs --no-render -n 200",
        "{bin}/sb3-ppo-zoo train --algo ppo_adaptive_kl --env CartPole-v1 -n 2048 -optimize --n-trials 2 --n-jobs 1 "
        "--sampler random --pruner none --eval-episodes 2 --n-evaluations 1 -f tune",
        "{bin}/sb3-ppo-zoo all_plots -a ppo_fixed_kl -e CartPole-v1 -f logs --no-display -o plot",
    ],
    "benchmark": [
        "{python} -m sb3_ppo_variants.benchmark run --preset quick --settings clip_0.2 sb3_ppo --envs CartPole-v1 "
        "--seeds 0 --timesteps 2048 --out bench --workers 1 --no-progress",
        "{python} -m sb3_ppo_variants.benchmark report bench",
    ],
    "ray": [],  # needs the benchmark's too: checked as "benchmark,ray" below
    "benchmark,ray": [
        "{python} -m sb3_ppo_variants.benchmark run --preset quick --settings clip_0.2 --envs CartPole-v1 --seeds 0 "
        "--timesteps 1024 --out bench --backend ray --workers 1 --no-progress",
    ],
    "upstream": [
        "{python} -m sb3_ppo_variants.upstream --families ppo_mask --variants ppo_mask_clip --paths exact --out up",
    ],
}


def run(command: str, cwd: Path) -> tuple[bool, str]:
    result = subprocess.run(command, shell=True, cwd=cwd, capture_output=True, text=True, check=False)
    return result.returncode == 0, (result.stdout + result.stderr)[-4000:]


def check(extra: str) -> bool:
    with tempfile.TemporaryDirectory(prefix=f"extra-{extra or 'base'}-") as folder:
        work = Path(folder)
        venv = work / "venv"
        python, bin_dir = venv / "bin" / "python", venv / "bin"
        target = f"{ROOT}[{extra}]" if extra else str(ROOT)
        steps = [
            f"{sys.executable} -m venv {venv}",
            f"{python} -m pip install --quiet {TORCH}",
            f"{python} -m pip install --quiet '{target}'",
        ] + [c.format(python=python, bin=bin_dir) for c in CHECKS[extra]]
        start = time.perf_counter()
        for step in steps:
            ok, output = run(step, work)
            if not ok:
                print(f"[{extra or 'base'}] FAILED: {step}\n{output}")
                return False
        print(f"[{extra or 'base'}] ok: {len(CHECKS[extra])} commands ({time.perf_counter() - start:.0f} s with the install)")
        return True


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("extras", nargs="*", help="extras to check (default: all; 'base' for none)")
    args = parser.parse_args()
    chosen = [("" if e == "base" else e) for e in args.extras] or [e for e, commands in CHECKS.items() if commands]
    failed = [extra for extra in chosen if not check(extra)]
    sys.exit(1 if failed else 0)


if __name__ == "__main__":
    main()
