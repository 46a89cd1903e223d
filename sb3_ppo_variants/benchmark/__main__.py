"""Command line of the head-to-head benchmark.

python -m sb3_ppo_variants.benchmark run --preset table1 --out results/table1     # resumable grid
python -m sb3_ppo_variants.benchmark status --preset table1 --out results/table1  # progress, time left
python -m sb3_ppo_variants.benchmark report results/table1                         # table + plots
"""

from __future__ import annotations

import argparse
import sys

from sb3_ppo_variants.benchmark.grid import PRESETS, Grid, load_grid, preset, select
from sb3_ppo_variants.benchmark.report import make_report
from sb3_ppo_variants.benchmark.runner import run_grid
from sb3_ppo_variants.benchmark.status import format_status, grid_status
from sb3_ppo_variants.pipes import run_command_line


def _add_grid_arguments(parser: argparse.ArgumentParser) -> None:
    """The arguments that select a grid and its folder (``run`` and ``status`` take the same)."""
    source = parser.add_mutually_exclusive_group(required=True)
    source.add_argument("--preset", choices=PRESETS, help="a named grid")
    source.add_argument("--grid", help="a grid yml file (see sb3_ppo_variants/benchmark/grid.py)")
    parser.add_argument("--out", required=True, help="folder of the results store, Monitor logs and report")
    parser.add_argument("--settings", nargs="+", help="only these settings (e.g. no_clip clip_0.2 sb3_ppo)")
    parser.add_argument("--envs", nargs="+", help="only these environments")
    parser.add_argument("--seeds", nargs="+", type=int, help="these seeds")
    parser.add_argument("--timesteps", type=int, help="timesteps per run")
    parser.add_argument(
        "--fast", action="store_true", help="the variants' settings on the opt-in fast path, as <setting>_fast rows"
    )
    parser.add_argument(
        "--paper-code",
        action="store_true",
        help="the settings with the code-level settings of the paper's released code (observation normalisation, "
        "annealed step size and ε, advantages standardised over the rollout, vf_coef 1, no gradient clipping), as "
        "<setting>_paper_code rows; see sb3_ppo_variants.paper_code",
    )


def _grid(args: argparse.Namespace) -> Grid:
    grid = preset(args.preset) if args.preset else load_grid(args.grid)
    return select(grid, args.settings, args.envs, args.seeds, args.timesteps, args.fast, args.paper_code)


def grid_of(argv: list[str]) -> Grid:
    """The grid that ``run`` and ``status`` select from these arguments (their other options are ignored)."""
    parser = argparse.ArgumentParser(add_help=False)
    _add_grid_arguments(parser)
    return _grid(parser.parse_known_args(argv)[0])


def main(argv: list[str] | None = None) -> None:
    argv = sys.argv[1:] if argv is None else argv
    parser = argparse.ArgumentParser(
        prog="python -m sb3_ppo_variants.benchmark", description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    commands = parser.add_subparsers(dest="command", required=True)

    run = commands.add_parser("run", help="run a grid's unfinished runs, storing each as soon as it finishes")
    _add_grid_arguments(run)
    run.add_argument("--workers", type=int, default=2, help="parallel processes for the local backend")
    run.add_argument("--backend", choices=["local", "ray"], default="local")
    run.add_argument("--address", default=None, help="Ray cluster address (default: start Ray locally)")
    run.add_argument("--no-progress", action="store_true", help="no progress bar")
    run.add_argument(
        "--allow-software-mismatch",
        action="store_true",
        help="add runs although this environment's torch, numpy, gymnasium, MuJoCo, SB3 or sb3-contrib version or "
        "torch's CPU capability differs from the folder's pin (its constraints.txt); the report shows the groups",
    )

    run.add_argument(
        "--redo-damaged",
        action="store_true",
        help="delete the stored runs whose episode record is damaged and train them again",
    )

    status = commands.add_parser("status", help="how far a grid has got in its folder, and how long the rest should take")
    _add_grid_arguments(status)
    status.add_argument("--workers", type=int, default=1, help="the workers to divide the estimated time among")

    report = commands.add_parser("report", help="write report.md, scores.csv, aggregate.json and plots")
    report.add_argument("folder", help="a benchmark's --out folder")
    report.add_argument("--timesteps", type=int, help="report the runs of this budget (default: the largest)")
    report.add_argument("--command", dest="run_command", help="the run command to quote in the report")
    report.add_argument(
        "--baseline",
        help="a benchmark folder with the same settings at SB3's defaults: the report compares the folder's "
        "paper-code rows with them per task (e.g. report results/paper_code --baseline results/table1_1m)",
    )

    args = parser.parse_args(argv)
    try:
        if args.command in ("run", "status"):
            grid = _grid(args)
        if args.command == "status":
            if args.workers < 1:
                parser.error(f"--workers must be >= 1, got {args.workers}")
            print(format_status(grid_status(grid, args.out), args.out, args.workers))
        elif args.command == "run":
            run_grid(
                grid,
                args.out,
                args.workers,
                args.backend,
                args.address,
                progress=not args.no_progress,
                allow_software_mismatch=args.allow_software_mismatch,
                redo_damaged=args.redo_damaged,
            )
        else:
            make_report(args.folder, args.timesteps, args.run_command, args.baseline)
            print(f"wrote {args.folder}/report.md")
    except (ValueError, TypeError, FileNotFoundError) as error:
        parser.error(str(error))


if __name__ == "__main__":
    run_command_line(main)
