"""How far a grid has got in its folder, and how long the rest should take: ``python -m sb3_ppo_variants.benchmark
status`` (the same grid arguments as ``run``). It reads the results store only; nothing is trained or written.

The estimate of a remaining run is its budget times the median time per step of the stored runs of the same setting
and environment, else of the same algorithm on that environment (:func:`algorithm_of`: a rougher guess, since the
exact path is ~3x slower than ``fast``); a run without either has no estimate (environments differ by more than one
algorithm's settings do, and algorithms by far more: TRPO and A2C took 4-6x the time per step of PPO with
``fast``), and the output says how many estimates came from each source. Time per step depends on the machine and on
what else runs on it: where some of a pool's runs ran on this machine's processor, only theirs count (a grid that moves
between machines has runs ~2x apart in time per step: a KLip Ant-v5 run took 11 min on one Xeon and 21 on one AMD
EPYC), and the output says how many estimates came from runs on this processor; otherwise the estimate holds for the
machines and the load that made the stored runs.
"""

from __future__ import annotations

import statistics
import time
from collections import Counter, defaultdict
from dataclasses import dataclass, field
from pathlib import Path

from sb3_ppo_variants.benchmark.grid import Grid, RunSpec
from sb3_ppo_variants.benchmark.software import cpu_model
from sb3_ppo_variants.benchmark.store import ResultsStore
from sb3_ppo_variants.benchmark.worker import monitor_folder
from sb3_ppo_variants.registry import BY_KEY

#: where a remaining run's estimate came from, best first
ESTIMATE_SOURCES = ("setting and env", "algorithm and env")


def algorithm_of(algo: str) -> str:
    """
    The algorithm whose runs' times stand in for one another's in an estimate: a preset class counts as its family's
    stock algorithm (the same loop; stock PPO is the exact path), a comparator (TRPO, A2C) as itself.

    :param algo: a benchmark algorithm key (``ppo_clip``, ``ppo``, ``trpo``)
    """
    variant = BY_KEY.get(algo)
    return variant.family.key if variant is not None else algo


def _sources(setting: str, algo: str, env: str) -> tuple[tuple[str, ...], ...]:
    """The keys under which a run's time per step is pooled, in the order of :data:`ESTIMATE_SOURCES` (the first
    element of each is its source): one definition for the stored runs that give times and the runs that take them."""
    return (("setting and env", setting, env), ("algorithm and env", algorithm_of(algo), env))


@dataclass
class GridStatus:
    """A grid against its folder's store."""

    #: every run of the grid, in the runner's order
    runs: list[RunSpec]
    #: the keys of the grid's runs that the store holds
    stored: set[str]
    #: the grid's runs a runner is training now: key -> (host, pid, claimed at, Unix time)
    running: dict[str, tuple[str, int, float]]
    #: per remaining run key, its estimated wall time in seconds and the estimate's source (:data:`ESTIMATE_SOURCES`)
    estimates: dict[str, tuple[float, str]] = field(default_factory=dict)
    #: per remaining run key, the Monitor log folder in rl-zoo3's layout that its setting, env and seed have there
    #: although no run of theirs (of any budget) is stored: written in place by a runner that predates ``.in_progress``
    #: (its run in progress, or killed halfway), which rl-zoo3's plots would read as a finished run
    partial_logs: dict[str, Path] = field(default_factory=dict)
    #: whether the folder holds a results store (a grid that has not started has none; status creates nothing)
    started: bool = True
    #: the processor the estimates are for (:func:`~sb3_ppo_variants.benchmark.software.cpu_model`)
    cpu: str = ""
    #: the remaining runs whose estimate came from stored runs on :attr:`cpu` (the others': from other processors')
    this_cpu: set[str] = field(default_factory=set)

    @property
    def remaining(self) -> list[RunSpec]:
        """The runs the store does not hold yet, in the runner's order (the running ones included)."""
        return [spec for spec in self.runs if spec.key not in self.stored]

    def estimated_seconds(self) -> float:
        """The remaining runs' estimated wall time, one after another (the runs without an estimate count 0)."""
        return sum(seconds for seconds, _ in self.estimates.values())


def grid_status(grid: Grid, out: str | Path, cpu: str | None = None) -> GridStatus:
    """
    The grid's progress in ``out`` and the estimated wall time of its remaining runs.

    :param grid: the grid (as ``run`` would select it)
    :param out: the benchmark folder (one without a results store is a grid not started: nothing stored, no
        estimate, and nothing is created there)
    :param cpu: the processor to estimate for (default: this machine's, :func:`~sb3_ppo_variants.benchmark.software.cpu_model`)
    """
    runs = grid.runs()
    cpu = cpu_model() if cpu is None else cpu
    if not (Path(out) / ResultsStore.FILENAME).exists():
        return GridStatus(runs, set(), {}, started=False, cpu=cpu)
    store = ResultsStore(out)
    keys = {spec.key for spec in runs}
    times = store.wall_times()
    status = GridStatus(runs, keys & set(times), {k: v for k, v in store.live_claims().items() if k in keys}, cpu=cpu)
    # per pooling key, the stored runs' (processor, seconds per step)
    per_step: dict[tuple[str, ...], list[tuple[str, float]]] = defaultdict(list)
    # a Monitor log folder is per setting, env and seed, whatever the budget
    logged = {(t.setting, t.env, t.seed) for t in times.values()}
    for t in times.values():
        for key in _sources(t.setting, t.algo, t.env):
            per_step[key].append((t.cpu, t.wall_time / max(t.timesteps, 1)))
    for spec in status.remaining:
        if (spec.setting, spec.env, spec.seed) not in logged and monitor_folder(out, spec).exists():
            status.partial_logs[spec.key] = monitor_folder(out, spec)
        for key in _sources(spec.setting, spec.algo, spec.env):
            if per_step.get(key):
                here = [seconds for run_cpu, seconds in per_step[key] if run_cpu == cpu]
                if here:
                    status.this_cpu.add(spec.key)
                pool = here or [seconds for _, seconds in per_step[key]]
                status.estimates[spec.key] = (statistics.median(pool) * spec.timesteps, key[0])
                break
    return status


def progress_by(runs: list[RunSpec], stored: set[str], attribute: str) -> str:
    """
    ``<value> <stored>/<runs>`` for each value of a run's ``attribute`` (``env``, ``seed``), in the grid's order:
    ``0 84/84, 1 84/84, 2 50/84``.

    :param runs: the grid's runs
    :param stored: the keys of the runs that are done
    :param attribute: the :class:`~sb3_ppo_variants.benchmark.grid.RunSpec` attribute to count by
    """
    done: Counter[object] = Counter(getattr(s, attribute) for s in runs if s.key in stored)
    total: Counter[object] = Counter(getattr(s, attribute) for s in runs)
    return ", ".join(f"{value} {done[value]}/{count}" for value, count in total.items())


def _hours(seconds: float) -> str:
    return f"{seconds / 3600:.1f} h" if seconds >= 3600 else f"{seconds / 60:.0f} min"


def format_status(status: GridStatus, out: str | Path, workers: int = 1, now: float | None = None) -> str:
    """
    The status as text: stored / total (per environment and per seed), the runs in progress, the estimate, the next
    runs.

    :param status: :func:`grid_status`
    :param out: the folder, for the first line
    :param workers: the workers the estimate divides the remaining time among (as if they ran side by side undisturbed)
    :param now: the current Unix time (for the running runs' elapsed time; default: now)
    """
    now = time.time() if now is None else now
    total, stored = len(status.runs), len(status.stored)
    lines = [f"{out}: {stored} of {total} runs stored ({100 * stored / max(total, 1):.0f}%), {total - stored} to run"]
    if not status.started:
        lines[0] += f" (not started: no results store, {ResultsStore.FILENAME}, there yet)"
    for attribute in ("env", "seed"):
        lines.append(f"  by {attribute}: {progress_by(status.runs, status.stored, attribute)}")
    by_key = {spec.key: spec for spec in status.runs}
    for key, (host, pid, at) in status.running.items():
        spec = by_key[key]
        lines.append(
            f"  running now: {spec.setting} {spec.env} seed {spec.seed} (pid {pid} on {host}, {_hours(now - at)} so far)"
        )
    for key, folder in status.partial_logs.items():
        spec = by_key[key]
        lines.append(
            f"  partial Monitor log of {spec.setting} {spec.env} seed {spec.seed}, not stored yet: {folder} (a run in "
            "progress by an older runner, which wrote logs in place, or one killed before it was stored; rl-zoo3's plots "
            "read it as a finished run)"
        )
    remaining = status.remaining
    if remaining:
        sources = Counter(source for _, source in status.estimates.values())
        unknown = len(remaining) - len(status.estimates)
        basis = ", ".join(f"{sources[s]} runs by {s}" for s in ESTIMATE_SOURCES if sources[s])
        if status.estimates:
            seconds = status.estimated_seconds() / workers
            scope = f" for {len(status.estimates)} of the {len(remaining)} runs" if unknown else ""
            here = len(status.this_cpu)
            if here == len(status.estimates):
                machine = f"all from runs on this processor, {status.cpu}"
            elif here:
                machine = f"{here} of them from runs on this processor ({status.cpu}), the others from other processors' runs"
            else:
                machine = f"none from runs on this processor ({status.cpu}): other processors' runs"
            lines.append(
                f"  estimated time left: {_hours(seconds)}{scope} with {workers} worker{'s' if workers > 1 else ''} "
                f"(the stored runs' median time per step: {basis}; {machine})"
                + (f"; {unknown} runs with no stored run of their algorithm on their env have no estimate" if unknown else "")
            )
        else:
            lines.append("  estimated time left: unknown (no stored run of these algorithms on these envs to estimate from)")
        waiting = [spec for spec in remaining if spec.key not in status.running]
        if waiting:
            lines.append("  next: " + "; ".join(f"{s.setting} {s.env} seed {s.seed}" for s in waiting[:3]))
    else:
        lines.append("  complete")
    return "\n".join(lines)
