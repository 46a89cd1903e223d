"""One way to write a score over seeds in the reports' tables."""

from __future__ import annotations

from sb3_ppo_variants.benchmark.cells import mean_std_cell


def test_mean_std_cell() -> None:
    assert mean_std_cell([]) == ""
    # one run has no spread to show: not "± 0.0"
    assert mean_std_cell([1234.56]) == "1234.6 (1)"
    assert mean_std_cell([1.0, 2.0, 3.0]) == "2.0 ± 1.0 (3)"  # the sample standard deviation (n - 1)
    assert mean_std_cell([1000.4, 2000.4], digits=0) == "1500 ± 707 (2)"
