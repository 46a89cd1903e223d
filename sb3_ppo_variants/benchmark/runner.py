"""Run a grid's unfinished runs in parallel worker processes, locally or on a Ray cluster, storing each at once."""

from __future__ import annotations

import multiprocessing
from collections.abc import Iterator
from concurrent.futures import FIRST_COMPLETED, Future, ProcessPoolExecutor, wait
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from tqdm.auto import tqdm

from sb3_ppo_variants.benchmark.grid import Grid, RunSpec
from sb3_ppo_variants.benchmark.io import atomic_write_text
from sb3_ppo_variants.benchmark.software import (
    CONSTRAINTS_FILE,
    check_pin,
    constraints_text,
    current_software,
    pinned_versions,
)
from sb3_ppo_variants.benchmark.store import ResultsStore, RunResult
from sb3_ppo_variants.benchmark.worker import execute_run, init_worker


@dataclass
class RunFailure:
    """A run that raised: it is not stored, so the next invocation tries it again."""

    spec: RunSpec
    error: str


Pin = dict[str, str] | None


def _local_results(runs: list[RunSpec], out: str, workers: int, pin: Pin) -> Iterator[RunResult | RunFailure | None]:
    """Results as they finish, from a pool of ``workers`` spawned processes (one torch thread each)."""
    context = multiprocessing.get_context("spawn")  # no fork of a process that holds torch's thread pools
    pool = ProcessPoolExecutor(max_workers=workers, mp_context=context, initializer=init_worker)
    futures = {pool.submit(execute_run, spec, out, pin): spec for spec in runs}
    pending: set[Future[RunResult | None]] = set(futures)
    completed = False
    try:
        while pending:
            done, pending = wait(pending, return_when=FIRST_COMPLETED)
            for future in done:
                error = future.exception()
                yield future.result() if error is None else RunFailure(futures[future], repr(error))
        completed = True
    finally:
        if not completed:
            # Interrupted (Ctrl-C, or the caller stopped): the runs in flight are lost anyway, so stop their
            # processes now instead of letting the interpreter wait for them at exit.
            for process in list(getattr(pool, "_processes", {}).values()):
                process.terminate()
        pool.shutdown(wait=completed, cancel_futures=True)


def _ray_execute(spec: RunSpec, out: str, pin: Pin) -> RunResult | None:
    init_worker()
    return execute_run(spec, out, pin)


def _ray_results(runs: list[RunSpec], out: str, address: str | None, pin: Pin) -> Iterator[RunResult | RunFailure | None]:
    """Results as they finish, one Ray task (one CPU) per run. ``address=None`` starts a local Ray instance."""
    try:
        import ray
    except ImportError as error:  # pragma: no cover - depends on the optional extra
        raise ImportError('the Ray backend needs Ray: pip install "sb3-ppo-variants[ray]"') from error
    started_here = not ray.is_initialized()
    if started_here:
        ray.init(address=address, include_dashboard=False, log_to_driver=False)
    try:
        remote = ray.remote(num_cpus=1)(_ray_execute)
        specs = {remote.remote(spec, out, pin): spec for spec in runs}
        pending = list(specs)
        while pending:
            done, pending = ray.wait(pending, num_returns=1)
            try:
                yield ray.get(done[0])
            except ray.exceptions.RayError as error:
                yield RunFailure(specs[done[0]], repr(error))
    finally:
        if started_here:
            ray.shutdown()


def run_grid(
    grid: Grid,
    out: str | Path,
    workers: int = 2,
    backend: str = "local",
    address: str | None = None,
    progress: bool = True,
    allow_software_mismatch: bool = False,
    redo_damaged: bool = False,
) -> list[RunResult]:
    """
    Run every run of ``grid`` that ``out``'s results store does not hold yet, storing each as soon as it finishes.

    The first call that has runs to do pins ``out`` to this environment's numerics-relevant software (kept in the
    store and written to ``out/constraints.txt``, see :mod:`~sb3_ppo_variants.benchmark.software`); later calls, and
    each worker before it trains, refuse other versions unless ``allow_software_mismatch``.

    :param grid: the grid
    :param out: the benchmark folder: results store, Monitor logs, report
    :param workers: parallel processes for the local backend (Ray uses the cluster's CPUs)
    :param backend: ``local`` or ``ray``
    :param address: the Ray cluster's address (``auto``, ``ray://host:10001``...); None starts Ray locally
    :param progress: show a progress bar with runs done / total and an ETA
    :param allow_software_mismatch: add runs made with software other than the folder's pin (each run records its
        own; the report shows the groups)
    :param redo_damaged: delete the stored runs whose episode record is damaged and train them again (without it,
        damaged runs stop the call before any training, naming them)
    :return: the runs finished by this call
    :raises SoftwareMismatchError: before any training, when this environment differs from the folder's pin
    """
    if backend not in ("local", "ray"):
        raise ValueError(f"backend must be 'local' or 'ray', got {backend!r}")
    if workers < 1:
        raise ValueError(f"workers must be >= 1, got {workers}")
    store = ResultsStore(out)
    damaged = store.damaged_keys()
    if damaged and not redo_damaged:
        raise store.damaged_error(damaged, "Pass --redo-damaged (redo_damaged=True) to delete and train them again.")
    store.delete_runs(list(damaged))
    all_runs = grid.runs()
    finished = store.finished_keys()
    todo = [spec for spec in all_runs if spec.key not in finished]
    results: Iterator[RunResult | RunFailure | None] = iter(())
    if todo:
        software = current_software()
        pin = store.pin_once(pinned_versions(software))
        constraints = Path(out) / CONSTRAINTS_FILE
        if not constraints.exists():
            atomic_write_text(constraints, constraints_text(pin))
        if not allow_software_mismatch:
            check_pin(pin, software, out)
        worker_pin = None if allow_software_mismatch else pin
        if backend == "local":
            results = _local_results(todo, str(out), workers, worker_pin)
        else:
            results = _ray_results(todo, str(out), address, worker_pin)
    bar: Any = tqdm(total=len(all_runs), initial=len(all_runs) - len(todo), unit="run", disable=not progress)
    done: list[RunResult] = []
    failures: list[RunFailure] = []
    claimed_elsewhere = 0
    with bar:
        for result in results:
            if result is None:  # another runner on this folder stored or claimed it
                claimed_elsewhere += 1
                bar.update()
                continue
            if isinstance(result, RunFailure):
                failures.append(result)
                bar.write(f"FAILED {result.spec.key}: {result.error}")
                continue
            store.add_run(result)
            done.append(result)
            bar.set_postfix_str(f"{result.setting} {result.env} seed {result.seed}: {result.fps:.0f} steps/s")
            bar.update()
    if claimed_elsewhere:
        print(f"{claimed_elsewhere} run(s) were left to another runner on this folder, which claimed them first")
    if failures:
        raise RuntimeError(
            f"{len(failures)} of {len(todo)} runs failed and were not stored (the others were); rerun the same "
            "command to retry them: " + "; ".join(f"{f.spec.key}: {f.error}" for f in failures)
        )
    return done
