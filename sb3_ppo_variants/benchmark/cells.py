"""How the reports write a score over seeds in a table cell (one definition for every report section)."""

from __future__ import annotations

import math
import statistics
from collections.abc import Sequence


def mean_std_cell(values: Sequence[float], digits: int = 1) -> str:
    """
    ``mean ± std (runs)`` of the values, the sample standard deviation over seeds; ``mean (1)`` for a single run,
    whose spread is unknown (not 0); empty for none.

    :param values: one score per run (seed)
    :param digits: decimals of the mean and the std
    """
    if not values:
        return ""
    mean = f"{statistics.mean(values):.{digits}f}"
    if len(values) == 1:
        return f"{mean} (1)"
    return f"{mean} ± {statistics.stdev(values):.{digits}f} ({len(values)})"


def t_interval(values: Sequence[float], confidence: float = 0.95) -> tuple[float, float] | None:
    """
    Student's t confidence interval of the mean over seeds (the seeds' scores taken as a normal sample): wide with
    few seeds, as it should be (3 seeds: the mean ± 2.48 std at 95%); None for fewer than 2 values.

    :param values: one score per run (seed)
    :param confidence: the interval's coverage
    """
    if len(values) < 2:
        return None
    from scipy import stats

    mean = statistics.mean(values)
    half_width = float(stats.t.ppf(0.5 + confidence / 2, len(values) - 1)) * statistics.stdev(values) / math.sqrt(len(values))
    return mean - half_width, mean + half_width


def interval_cell(interval: tuple[float, float] | None, digits: int = 1) -> str:
    """``[low, high]``; empty for None (fewer than 2 runs)."""
    return "" if interval is None else f"[{interval[0]:.{digits}f}, {interval[1]:.{digits}f}]"
