"""One way to write a score over seeds in the reports' tables."""

from __future__ import annotations

from sb3_ppo_variants.benchmark.cells import mean_std_cell


def test_mean_std_cell() -> None:
    assert mean_std_cell([]) == ""
    # one run has no spread to show: not "± 0.0"
    assert mean_std_cell([1234.56]) == "1234.6 (1)"
    assert mean_std_cell([1.0, 2.0, 3.0]) == "2.0 ± 1.0 (3)"  # the sample standard deviation (n - 1)
    assert mean_std_cell([1000.4, 2000.4], digits=0) == "1500 ± 707 (2)"


def test_t_interval_is_students_interval_of_the_mean() -> None:
    import math

    import pytest
    from scipy import stats

    from sb3_ppo_variants.benchmark.cells import interval_cell, t_interval

    values = [1.0, 2.0, 6.0]
    low, high = t_interval(values)  # type: ignore[misc]
    # 3 seeds: mean 3, std sqrt(7), t(0.975, 2 dof) = 4.303
    half_width = stats.t.ppf(0.975, 2) * math.sqrt(7) / math.sqrt(3)
    assert (low, high) == (pytest.approx(3 - half_width), pytest.approx(3 + half_width))
    assert half_width == pytest.approx(6.572, abs=1e-3)
    assert t_interval([5.0]) is None and t_interval([]) is None
    assert interval_cell(None) == "" and interval_cell((1.234, 5.678), 1) == "[1.2, 5.7]"
