"""The command lines end quietly when their reader stops reading (e.g. ``| head``)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path


def _with_reader_gone(args: list[str], cwd: Path) -> subprocess.CompletedProcess[bytes]:
    """Run a command whose standard output's reader has already closed its end of the pipe."""
    process = subprocess.Popen(args, stdout=subprocess.PIPE, stderr=subprocess.PIPE, cwd=cwd)
    assert process.stdout is not None and process.stderr is not None
    process.stdout.close()
    stderr = process.stderr.read()
    process.wait(timeout=120)
    return subprocess.CompletedProcess(args, process.returncode, b"", stderr)


def test_a_closed_pipe_ends_the_command_with_status_1_and_no_traceback(tmp_path: Path) -> None:
    code = "from sb3_ppo_variants.pipes import run_command_line\nrun_command_line(lambda: print('x' * 1_000_000))"
    result = _with_reader_gone([sys.executable, "-c", code], tmp_path)
    assert result.stderr == b""
    assert result.returncode == 1


def test_without_the_helper_the_same_command_prints_a_traceback(tmp_path: Path) -> None:
    # the control: the test above would pass vacuously if a closed pipe raised nothing
    result = _with_reader_gone([sys.executable, "-c", "print('x' * 1_000_000)"], tmp_path)
    assert b"BrokenPipeError" in result.stderr


def test_benchmark_status_piped_into_a_reader_that_has_gone(tmp_path: Path) -> None:
    results = Path(__file__).resolve().parents[1] / "results" / "table1"  # the committed 300k grid
    args = [sys.executable, "-m", "sb3_ppo_variants.benchmark", "status", "--preset", "table1", "--timesteps", "300000"]
    args += ["--out", str(results)]
    assert b"runs stored" in subprocess.run(args, capture_output=True, check=True, cwd=tmp_path).stdout
    result = _with_reader_gone(args, tmp_path)
    assert result.stderr == b""
    assert result.returncode == 1


def test_the_return_value_and_normal_exit_are_kept() -> None:
    from sb3_ppo_variants.pipes import run_command_line

    assert run_command_line(lambda: 7) == 7
