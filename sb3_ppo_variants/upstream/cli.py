"""``python -m sb3_ppo_variants.upstream``: stable-baselines3's and sb3-contrib's own tests, with each of our classes in
place of the stock algorithm it mirrors, compared test by test with the stock class's run.

For each family (``ppo``: SB3's tests with ``PPO`` replaced; ``ppo_mask`` and ``ppo_lstm``: sb3-contrib's with
``MaskablePPO`` / ``RecurrentPPO`` replaced) it runs the tests that use the class (selected automatically, see
:mod:`~sb3_ppo_variants.upstream.plugin`) once per variant and path (exact, ``fast``), then the stock class on the
tests that some variant did not pass (``--all-stock``: on every test, which only changes the stock row's counts).
A variant fails when a test that the stock class passes does not pass with it, unless
:mod:`~sb3_ppo_variants.upstream.exclusions` lists that test for it with the reason. The tests come from the sdists
of the installed releases (downloaded once with pip), so the same command checks any SB3 release before upgrading::

    pip install "sb3-ppo-variants[upstream]" stable-baselines3==<version> sb3-contrib==<version>
    python -m sb3_ppo_variants.upstream --jobs 2

``--pairwise`` runs each variant on one path only, the exact path and ``fast=True`` alternating over the
objectives and families (:func:`select_runs`), so that every pair of objective and family, objective and path, and
family and path still runs: about half the pytest runs of the full product, which is what CI runs on each change.

Exit status 0 when every variant passes every test the stock class passes (bar the exclusions), 1 otherwise.
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import os
import subprocess
import sys
import tempfile
import time
from collections import deque
from collections.abc import Callable, Sequence
from concurrent.futures import FIRST_COMPLETED, Future, ThreadPoolExecutor, wait
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from sb3_ppo_variants.benchmark.io import atomic_write_json, atomic_write_text
from sb3_ppo_variants.registry import REGISTRY
from sb3_ppo_variants.upstream.exclusions import EXCLUSIONS, LEFT_OUT, Exclusion
from sb3_ppo_variants.upstream.sources import installed_version, upstream_source
from sb3_ppo_variants.upstream.targets import ENV_VAR, UPSTREAM_FAMILIES, UpstreamRun

RESTATED = Path(__file__).parent / "restated"
#: the restated tests of each upstream distribution's suite
RESTATED_FILES = {"stable-baselines3": "test_sb3.py", "sb3-contrib": "test_contrib.py"}
PATHS = {"exact": False, "fast": True}


@dataclass
class RunResult:
    """The outcome of one pytest run: per normalised test id, its outcome, and why where it did not pass."""

    run: UpstreamRun
    outcomes: dict[str, str] = field(default_factory=dict)
    reasons: dict[str, str] = field(default_factory=dict)
    returncode: int = 0
    seconds: float = 0.0
    log: str = ""


@dataclass
class Comparison:
    """A variant's run against the stock class's run of the same family."""

    result: RunResult
    #: tests the variant ran (selected, not excluded)
    run: int
    passed: int
    excluded: list[str]
    #: tests the stock class passes and the variant does not (and no exclusion covers), with the variant's outcome
    regressions: dict[str, str]

    def to_json(self) -> dict[str, Any]:
        return {
            "variant": self.result.run.label,
            "run": self.run,
            "passed": self.passed,
            "excluded": self.excluded,
            "regressions": {
                test: f"{outcome}: {self.result.reasons.get(test, '')}" for test, outcome in self.regressions.items()
            },
            "seconds": round(self.result.seconds, 1),
        }


def pytest_command(run: UpstreamRun, source: Path, include_long: bool, restated: bool = True) -> list[str]:
    """
    The pytest command line of one run: upstream's tests with upstream's pytest settings, our plugin, and our
    restated tests.

    :param run: the run
    :param source: the unpacked sdist
    :param include_long: whether to run the tests upstream marks as long (``expensive`` in SB3, ``slow`` in contrib)
    :param restated: whether to add our restated tests of the family's suite
    """
    command = [
        sys.executable,
        "-m",
        "pytest",
        "-p",
        "sb3_ppo_variants.upstream.plugin",
        "-p",
        "no:cacheprovider",
        "-q",
        "--continue-on-collection-errors",
        "--rootdir",
        str(source),
        "-c",
        str(source / "pyproject.toml"),
        str(source / "tests"),
    ]
    if restated:
        command.append(str(RESTATED / RESTATED_FILES[run.family.distribution]))
    if not include_long:
        command += ["-m", f"not {run.family.deselect_marker}"]
    return command


def execute(
    run: UpstreamRun,
    source: Path,
    logs: Path,
    include_long: bool = False,
    timeout: float = 3600.0,
    restated: bool = True,
    threads: int | None = None,
) -> RunResult:
    """
    Run one pytest process in a scratch folder (upstream tests write files to the working directory).

    :param run: the run (its ``report`` is set here)
    :param source: the unpacked sdist
    :param logs: the folder for the pytest output and the outcome file
    :param include_long: see :func:`pytest_command`
    :param timeout: seconds before the run is stopped
    :param restated: see :func:`pytest_command`
    :param threads: torch's (OpenMP's) threads in the pytest process; None: torch's default (one per core), which
        oversubscribes the cores when several runs go at once
    """
    name = run.label.replace(" ", "_").replace("=", "_").replace("(", "").replace(")", "")
    # absolute: pytest runs in a scratch folder, where a relative --out would point elsewhere
    logs = logs.resolve()
    report = logs / f"{name}.json"
    run = dataclasses.replace(run, report=str(report))
    env = {**os.environ, ENV_VAR: run.to_json()}
    if threads is not None:
        env["OMP_NUM_THREADS"] = env["MKL_NUM_THREADS"] = str(threads)
    # The pytest process must import this package from where this command did: run with -m from a source checkout,
    # this command imports the checkout although site-packages has an installed copy, and the plugin (from one copy)
    # and the restated test files (from the other) would clash.
    package_root = Path(__file__).resolve().parents[2]
    if package_root.name not in ("site-packages", "dist-packages"):
        env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(package_root), os.environ.get("PYTHONPATH")]))
    start = time.perf_counter()
    with tempfile.TemporaryDirectory(prefix="sb3_ppo_variants_upstream_") as scratch:
        try:
            process = subprocess.run(
                pytest_command(run, source, include_long, restated),
                cwd=scratch,
                env=env,
                capture_output=True,
                text=True,
                timeout=timeout,
            )
            output, returncode = process.stdout + process.stderr, process.returncode
        except subprocess.TimeoutExpired as error:
            partial = error.stdout.decode(errors="replace") if isinstance(error.stdout, bytes) else error.stdout or ""
            output, returncode = f"{partial}\nstopped after {timeout} s", -1
    seconds = time.perf_counter() - start
    atomic_write_text(logs / f"{name}.log", output)
    result = RunResult(run, returncode=returncode, seconds=seconds, log=str(logs / f"{name}.log"))
    if report.exists():
        data = json.loads(report.read_text())
        result.outcomes, result.reasons = data["outcomes"], data["reasons"]
    return result


def compare(stock: RunResult, variant: RunResult) -> Comparison:
    """
    :param stock: the stock class's run
    :param variant: a variant's run of the same family
    """
    excluded = sorted(test for test, outcome in variant.outcomes.items() if outcome == "excluded")
    ran = [test for test, outcome in variant.outcomes.items() if outcome not in (*LEFT_OUT, "collection error")]
    passed = [test for test in ran if variant.outcomes[test] == "passed"]
    regressions = {
        test: variant.outcomes.get(test, "not run")
        for test, outcome in stock.outcomes.items()
        if outcome == "passed" and variant.outcomes.get(test) not in ("passed", *LEFT_OUT)
    }
    return Comparison(variant, len(ran), len(passed), excluded, regressions)


def stale_exclusions(results: Sequence[RunResult]) -> list[Exclusion]:
    """The exclusions that excluded nothing in any run they apply to that ran (the list must not outlive the tests it
    names; an exclusion none of whose classes ran, e.g. under ``--variants``, is not judged)."""
    ran = [result.run for result in results]
    used = {
        (result.run.family_key, result.run.objective_key, test)
        for result in results
        for test, outcome in result.outcomes.items()
        if outcome == "excluded"
    }
    stale = []
    for exclusion in EXCLUSIONS:
        if any(exclusion.covers(run) for run in ran) and not any(
            family in exclusion.families and objective in exclusion.objectives and exclusion.matches(test)
            for family, objective, test in used
        ):
            stale.append(exclusion)
    return stale


def unpassed_tests(results: Sequence[RunResult], family_key: str) -> tuple[str, ...]:
    """
    What the stock class must run to judge a family's variants: the tests some variant ran and did not pass (a
    module that failed to collect: the whole module). A test every variant passed is no regression, whatever the
    stock class does with it.

    :param results: the variants' runs
    :param family_key: the family
    """
    return tuple(
        sorted(
            {
                test
                for result in results
                if result.run.family_key == family_key and result.run.variant_key is not None
                for test, outcome in result.outcomes.items()
                if outcome not in ("passed", *LEFT_OUT)
            }
        )
    )


def run_all(
    runs: Sequence[UpstreamRun], execute_one: Callable[[UpstreamRun], RunResult], jobs: int, all_stock: bool = False
) -> list[RunResult]:
    """
    Execute the runs, ``jobs`` at a time, in their order; without ``all_stock``, a family's stock run gets only the
    tests that its variants did not pass (:func:`unpassed_tests`), so it waits for them, then goes ahead of the runs
    not yet started: in the middle of the command rather than alone at its end. A family whose variants passed every
    test they ran needs no stock run: an empty result stands for it.

    :param runs: the runs (:func:`select_runs`)
    :param execute_one: runs one pytest process
    :param jobs: how many at once
    :param all_stock: run the stock classes on every test, in their place in ``runs``
    :return: the results in the order of ``runs``
    """
    positions = {run: position for position, run in enumerate(runs)}
    pending = deque(run for run in runs if run.variant_key is not None or all_stock)
    stock_waiting = {} if all_stock else {run.family_key: run for run in runs if run.variant_key is None}
    results: dict[int, RunResult] = {}
    with ThreadPoolExecutor(jobs) as pool:
        running: dict[Future[RunResult], UpstreamRun] = {}
        while pending or running:
            while pending and len(running) < jobs:
                run = pending.popleft()
                running[pool.submit(execute_one, run)] = run
            finished, _ = wait(running, return_when=FIRST_COMPLETED)
            for future in finished:
                run = running.pop(future)
                results[positions[run]] = future.result()
            for family_key, stock_run in list(stock_waiting.items()):
                if any(run.family_key == family_key for run in (*pending, *running.values())):
                    continue
                del stock_waiting[family_key]
                judge = dataclasses.replace(stock_run, only=unpassed_tests(list(results.values()), family_key))
                positions[judge] = positions[stock_run]
                if judge.only:
                    pending.appendleft(judge)
                else:
                    results[positions[judge]] = RunResult(judge)
    return [results[position] for position in sorted(results)]


def select_runs(
    family_keys: Sequence[str], variant_keys: Sequence[str] | None, paths: Sequence[bool], pairwise: bool = False
) -> list[UpstreamRun]:
    """
    The pytest runs of a command: per family, the stock class, then each of its variants on each path.

    :param family_keys: the families (``ppo``, ``ppo_mask``, ``ppo_lstm``)
    :param variant_keys: only these variants (registry keys), or None for all
    :param paths: the paths (``fast`` False, True)
    :param pairwise: with both paths, each variant on one path only: the path alternates with the objective's position
        in the registry and the family's position among all families, so that (with every family and objective)
        each objective runs both paths across the families and each family both paths across its objectives
    """
    families = list(UPSTREAM_FAMILIES)
    runs: list[UpstreamRun] = []
    for family_key in family_keys:
        runs.append(UpstreamRun(family_key))
        members = [variant for variant in REGISTRY if variant.family.key == family_key]
        for position, variant in enumerate(members):
            if variant_keys is not None and variant.key not in variant_keys:
                continue
            chosen = list(paths)
            if pairwise and len(chosen) > 1:
                chosen = [chosen[(position + families.index(family_key)) % len(chosen)]]
            runs += [UpstreamRun(family_key, variant.key, fast) for fast in chosen]
    return runs


def _parse(argv: Sequence[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        prog="python -m sb3_ppo_variants.upstream",
        description=__doc__.split("\n\n")[0] if __doc__ else None,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument(
        "--families",
        nargs="+",
        choices=sorted(UPSTREAM_FAMILIES),
        default=list(UPSTREAM_FAMILIES),
        help="the families whose upstream tests run (default: all)",
    )
    parser.add_argument(
        "--variants",
        nargs="+",
        choices=[variant.key for variant in REGISTRY],
        default=None,
        help="only these variants (registry keys; default: every variant of the chosen families)",
    )
    parser.add_argument(
        "--paths", nargs="+", choices=list(PATHS), default=list(PATHS), help="exact, fast or both (default: both)"
    )
    parser.add_argument(
        "--pairwise",
        action="store_true",
        help="each variant on one path, alternating, so that every objective-family, objective-path and family-path "
        "pair still runs (about half the runs; what CI runs)",
    )
    parser.add_argument(
        "--all-stock",
        action="store_true",
        help="run the stock class on every test, not only on those some variant did not pass (the same verdict; the "
        "stock row then counts all the tests the stock class passes)",
    )
    parser.add_argument("--jobs", type=int, default=1, help="pytest processes at once (default 1)")
    parser.add_argument("--source-sb3", type=Path, help="an unpacked stable-baselines3 sdist (default: download)")
    parser.add_argument("--source-contrib", type=Path, help="an unpacked sb3-contrib sdist (default: download)")
    parser.add_argument("--cache", type=Path, help="where downloaded sdists are kept (default ~/.cache/sb3_ppo_variants)")
    parser.add_argument("--out", type=Path, help="folder for each run's pytest log and outcomes (default: a temp dir)")
    parser.add_argument("--json", type=Path, help="write the summary here")
    parser.add_argument("--include-long", action="store_true", help="also the tests upstream marks expensive/slow")
    parser.add_argument("--timeout", type=float, default=3600.0, help="seconds per pytest run (default 3600)")
    args = parser.parse_args(argv)
    if args.jobs < 1:
        parser.error(f"--jobs must be an int >= 1, got {args.jobs}")
    return args


def main(argv: Sequence[str] | None = None) -> int:
    args = _parse(argv)
    sources: dict[str, Path] = {}
    given = {"stable-baselines3": args.source_sb3, "sb3-contrib": args.source_contrib}
    runs = select_runs(args.families, args.variants, [PATHS[path] for path in args.paths], args.pairwise)
    for family_key in args.families:
        distribution = UPSTREAM_FAMILIES[family_key].distribution
        if distribution not in sources:
            sources[distribution] = given[distribution] or upstream_source(distribution, args.cache)
    versions = {distribution: installed_version(distribution) for distribution in sources}
    print("upstream tests of " + ", ".join(f"{name} {version}" for name, version in versions.items()), flush=True)

    with tempfile.TemporaryDirectory(prefix="sb3_ppo_variants_upstream_logs_") as scratch:
        logs = args.out or Path(scratch)
        logs.mkdir(parents=True, exist_ok=True)

        def one(run: UpstreamRun) -> RunResult:
            # several runs at once share the cores: one torch thread each (LSTM tests ran ~4x slower oversubscribed)
            threads = 1 if args.jobs > 1 else None
            result = execute(run, sources[run.family.distribution], logs, args.include_long, args.timeout, threads=threads)
            print(f"  {run.label}: {len(result.outcomes)} tests in {result.seconds:.0f} s", flush=True)
            return result

        results = run_all(runs, one, args.jobs, args.all_stock)
        return _summarise(results, versions, args.json)


def _summarise(results: list[RunResult], versions: dict[str, str], json_path: Path | None) -> int:
    stock = {result.run.family_key: result for result in results if result.run.variant_key is None}
    failed = False
    summary: dict[str, Any] = {"versions": versions, "families": {}}
    # the class column fits the longest label (RecurrentPPOPerSampleKL fast=True), with one space after it
    width = max(len("class"), *(len(result.run.label) for result in results)) + 1
    print(f"\n{'class':<{width}}{'run':>6}{'passed':>8}{'excluded':>10}{'regressions':>13}")
    for family_key, stock_result in stock.items():
        stock_passed = [test for test, outcome in stock_result.outcomes.items() if outcome == "passed"]
        not_passing = {test: outcome for test, outcome in stock_result.outcomes.items() if outcome != "passed"}
        only = stock_result.run.only
        if only is None and (stock_result.returncode not in (0, 1) or not stock_passed):
            print(f"{stock_result.run.label}: pytest failed to run (exit {stock_result.returncode}), see {stock_result.log}")
            failed = True
        # run on the tests some variant did not pass, the stock class must have run each of them: one it did not run
        # would hide a variant's failure
        unjudged = [test for test in only or () if "::" in test and test not in stock_result.outcomes]
        if unjudged:
            print(f"{stock_result.run.label}: did not run {len(unjudged)} of the tests to judge, e.g. {unjudged[0]}")
            print(f"    (exit {stock_result.returncode}, see {stock_result.log})")
            failed = True
        ran = [test for test, outcome in stock_result.outcomes.items() if outcome != "collection error"]
        label = stock_result.run.label if only is None else f"{stock_result.run.label}*"
        print(f"{label:<{width}}{len(ran):>6}{len(stock_passed):>8}")
        comparisons = [
            compare(stock_result, result)
            for result in results
            if result.run.family_key == family_key and result is not stock_result
        ]
        for comparison in comparisons:
            variant = comparison.result
            if variant.returncode not in (0, 1) or comparison.passed == 0:
                print(f"{variant.run.label}: pytest failed to run (exit {variant.returncode}), see {variant.log}")
                failed = True
            print(
                f"{comparison.result.run.label:<{width}}{comparison.run:>6}{comparison.passed:>8}"
                f"{len(comparison.excluded):>10}{len(comparison.regressions):>13}"
            )
            for test, outcome in comparison.regressions.items():
                print(f"    {outcome}: {test}: {comparison.result.reasons.get(test, '')}  (log: {comparison.result.log})")
            failed = failed or bool(comparison.regressions)
        summary["families"][family_key] = {
            "stock": {
                "run": "every test" if only is None else list(only),
                "passed": len(stock_passed),
                "not passed here": not_passing,
            },
            "variants": [comparison.to_json() for comparison in comparisons],
        }
    if any(result.run.only is not None for result in stock.values()):
        print("* the stock class ran only the tests that some variant did not pass (--all-stock: every test)")
    stale = stale_exclusions(results)
    for exclusion in stale:
        print(f"stale exclusion (excluded nothing): {exclusion.test} for {exclusion.families}/{exclusion.objectives}")
    summary["stale_exclusions"] = [exclusion.test for exclusion in stale]
    failed = failed or bool(stale)
    if json_path is not None:
        atomic_write_json(json_path, summary)
    print(
        "\nevery variant passes every upstream test the stock class passes, bar the listed exclusions"
        if not failed
        else "\nFAILED: see the regressions above"
    )
    return 1 if failed else 0
