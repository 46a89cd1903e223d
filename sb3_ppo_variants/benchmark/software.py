"""What a benchmark run ran on, and the pin that keeps a grid's runs on one set of software.

Two runs of the same setting, env and seed give identical episodes only on the same software and the same CPU
capability: a new torch, numpy, gymnasium, MuJoCo, SB3 or sb3-contrib release changes results at the 1e-9 level,
and MuJoCo amplifies such a difference until, a few episodes later, the two runs have nothing in common. Each run
therefore records its software (:func:`current_software`), and a benchmark folder is pinned to the versions of its
first run (:func:`pinned_versions`, kept in the results store and written out as a pip constraints file): the runner
refuses a run whose versions differ unless it is told to mix them, and the report shows any mixture.
"""

from __future__ import annotations

import platform
import subprocess
from importlib import metadata
from pathlib import Path

from sb3_ppo_variants.version import __version__

#: The distributions whose version changes a run's numbers (their pip names), in the order they are reported.
NUMERIC_PACKAGES = ("torch", "numpy", "gymnasium", "mujoco", "stable-baselines3", "sb3-contrib")
#: Also recorded with each run, without pinning: they do not enter a benchmark run's computation.
RECORDED_PACKAGES = ("rl_zoo3",)
#: The pinned name of torch's CPU capability (the vector instructions its CPU kernels use: AVX2, AVX512, ...).
CPU_CAPABILITY = "torch_cpu_capability"
NOT_INSTALLED = "not installed"
#: The stored value of a run recorded before runs recorded their software.
UNKNOWN = "unknown"
#: The name of the pip constraints file written into a pinned benchmark folder.
CONSTRAINTS_FILE = "constraints.txt"


class SoftwareMismatchError(ValueError):
    """A run would mix software versions into a benchmark folder pinned to others."""


def package_version(name: str) -> str:
    """The installed version of distribution ``name``, or ``"not installed"``."""
    try:
        return metadata.version(name)
    except metadata.PackageNotFoundError:
        return NOT_INSTALLED


def cpu_capability() -> str:
    """The instruction set torch's CPU kernels dispatch to on this machine (``AVX2``, ``AVX512``, ``DEFAULT``...)."""
    import torch as th

    return str(th.backends.cpu.get_cpu_capability())


def cpu_model() -> str:
    """The processor's model name as the operating system reports it."""
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine() or UNKNOWN


def package_root() -> Path:
    """The folder that holds the ``sb3_ppo_variants`` package (a clone's root when it runs from a source tree)."""
    return Path(__file__).resolve().parents[2]


def _git(root: Path, *args: str) -> str | None:
    try:
        return subprocess.run(
            ["git", "-C", str(root), *args], capture_output=True, text=True, check=True, timeout=10
        ).stdout.strip()
    except (OSError, subprocess.SubprocessError):
        return None


#: The package's own files in its source tree: a change elsewhere (``results/``, docs) cannot change a run.
OWN_FILES = ("sb3_ppo_variants", "hyperparams", "pyproject.toml")


def code_version() -> str:
    """
    The package version, and the git commit of the source tree it runs from: ``0.1.0+<commit>``, with ``-dirty`` when
    the package's own files (:data:`OWN_FILES`, untracked ones included) differ from that commit. Only a tree whose
    git top level is the package's own root counts: a package installed inside another repository (a virtual
    environment in a clone, say) reports the bare version, not that repository's commit.
    """
    root = package_root()
    top = _git(root, "rev-parse", "--show-toplevel")
    if top is None or Path(top).resolve() != root:
        return __version__
    commit = _git(root, "rev-parse", "--short=12", "HEAD")
    changes = _git(root, "status", "--porcelain", "--", *OWN_FILES)
    if not commit or changes is None:
        return __version__
    return f"{__version__}+{commit}" + ("-dirty" if changes else "")


def current_software() -> dict[str, str]:
    """
    Everything a run records about what it ran on: Python, the numerics-relevant libraries and rl-zoo3, torch's CPU
    capability and thread count, the CPU model, and the package's version and commit (:func:`code_version`).
    """
    import torch as th

    software = {"python": platform.python_version()}
    software.update({name: package_version(name) for name in NUMERIC_PACKAGES + RECORDED_PACKAGES})
    software[CPU_CAPABILITY] = cpu_capability()
    software["torch_threads"] = str(th.get_num_threads())
    software["cpu"] = cpu_model()
    software["platform"] = f"{platform.system()} {platform.machine()}"
    software["sb3-ppo-variants"] = code_version()
    return software


def pinned_versions(software: dict[str, str]) -> dict[str, str]:
    """The part of ``software`` that must be equal for two runs to be bit-for-bit comparable: the numerics-relevant
    library versions and torch's CPU capability (the package's own commit is reported, not pinned)."""
    return {name: software.get(name, UNKNOWN) for name in (*NUMERIC_PACKAGES, CPU_CAPABILITY)}


def mismatches(pin: dict[str, str], software: dict[str, str]) -> list[str]:
    """One readable line per pinned name whose value in ``software`` differs from ``pin``."""
    return [
        f"{name}: pinned {pin[name]}, this environment has {software.get(name, NOT_INSTALLED)}"
        for name in pin
        if software.get(name, NOT_INSTALLED) != pin[name]
    ]


def check_pin(pin: dict[str, str] | None, software: dict[str, str], folder: str | Path) -> None:
    """
    Refuse, before any training, software that differs from a folder's pin.

    :param pin: the folder's pinned versions (None: not pinned yet, nothing to check)
    :param software: the environment that would run (:func:`current_software`)
    :param folder: the benchmark folder, for the message
    :raises SoftwareMismatchError: naming each library and both versions, and how to proceed
    """
    if pin is None:
        return
    differ = mismatches(pin, software)
    if not differ:
        return
    remedies = []
    if any(not line.startswith(CPU_CAPABILITY + ":") for line in differ):
        remedies.append(f"Install the pinned versions (pip install -c {Path(folder) / CONSTRAINTS_FILE} ...).")
    if pin.get(CPU_CAPABILITY, UNKNOWN) != software.get(CPU_CAPABILITY, NOT_INSTALLED):
        # Hardware, not an install: torch picks its kernels by the instructions the CPU has (forcing AVX512 kernels
        # with ATEN_CPU_CAPABILITY on a CPU without them dies of an illegal instruction).
        remedies.append(
            f"The CPU capability is the machine's, not an install: continuing the grid bit for bit needs a CPU where "
            f"torch reports {pin.get(CPU_CAPABILITY, UNKNOWN)}."
        )
    raise SoftwareMismatchError(
        f"{folder} is pinned to other software than this environment's, so new runs would not be comparable bit "
        "for bit with the stored ones:\n  "
        + "\n  ".join(differ)
        + "\n"
        + " ".join(remedies)
        + " Or pass --allow-software-mismatch (allow_software_mismatch=True) to add runs made with this software "
        "anyway: they are comparable statistically (the same distribution of scores, other episodes), and the report "
        "shows them as their own software group."
    )


def constraints_text(pin: dict[str, str]) -> str:
    """A pip constraints file of the pinned libraries, with the pinned CPU capability as a comment."""
    lines = [
        "# The software this benchmark folder is pinned to (written by its first run). To continue the grid bit for",
        f'# bit: pip install -c {CONSTRAINTS_FILE} torch=={pin["torch"]} ".[benchmark]", on a CPU where torch reports',
        "# the same CPU capability. The runner refuses runs made with other versions unless told to mix them.",
        f"# {CPU_CAPABILITY}: {pin[CPU_CAPABILITY]}",
    ]
    lines += [f"{name}=={pin[name]}" for name in NUMERIC_PACKAGES if pin[name] != NOT_INSTALLED]
    lines += [f"# {name}: {NOT_INSTALLED}" for name in NUMERIC_PACKAGES if pin[name] == NOT_INSTALLED]
    return "\n".join(lines) + "\n"
