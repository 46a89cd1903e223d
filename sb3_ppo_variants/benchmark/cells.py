"""How the reports write a score over seeds in a table cell (one definition for every report section)."""

from __future__ import annotations

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
