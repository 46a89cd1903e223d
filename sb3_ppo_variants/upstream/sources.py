"""Where the upstream tests come from: the ``tests/`` folder of the sdist of the installed stable-baselines3 or
sb3-contrib release (SB3 and sb3-contrib ship their tests in their sdists), downloaded once with pip from the package
index and cached, or a folder the user gives."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import tarfile
import tempfile
from importlib import metadata
from pathlib import Path


def default_cache() -> Path:
    """``$XDG_CACHE_HOME/sb3_ppo_variants/upstream`` (``~/.cache/...`` without it)."""
    root = os.environ.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache")
    return Path(root) / "sb3_ppo_variants" / "upstream"


def installed_version(distribution: str) -> str:
    """
    :param distribution: a PyPI name (``stable-baselines3``)
    :return: the installed release's version
    """
    return metadata.version(distribution)


def upstream_source(distribution: str, cache: Path | None = None) -> Path:
    """
    The unpacked sdist of the installed release of ``distribution`` (its ``tests/`` and ``pyproject.toml``, which
    holds upstream's pytest settings), downloaded with pip on first use.

    :param distribution: ``stable-baselines3`` or ``sb3-contrib``
    :param cache: where sdists are kept (:func:`default_cache` if None)
    :return: the sdist's root folder
    """
    version = installed_version(distribution)
    cache = default_cache() if cache is None else cache
    root = cache / f"{distribution}-{version}"
    if (root / "tests").is_dir():
        return root
    cache.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(dir=cache) as download:
        command = [
            sys.executable,
            "-m",
            "pip",
            "download",
            "--quiet",
            "--no-deps",
            "--no-binary",
            ":all:",
            "--dest",
            download,
            f"{distribution}=={version}",
        ]
        result = subprocess.run(command, capture_output=True, text=True)
        archives = sorted(Path(download).glob("*.tar.gz"))
        if result.returncode != 0 or not archives:
            raise RuntimeError(
                f"could not download the sdist of {distribution}=={version} with pip (it holds the tests):\n"
                f"{result.stderr.strip()}\nDownload it yourself and pass its unpacked folder with --source."
            )
        unpacked = Path(download) / "unpacked"
        with tarfile.open(archives[0]) as archive:
            archive.extractall(unpacked, filter="data")
        (top,) = list(unpacked.iterdir())
        if not (top / "tests").is_dir():
            raise RuntimeError(f"the sdist of {distribution}=={version} has no tests/ folder")
        # one rename, so that a half-unpacked folder is never taken for a cached one
        staged = cache / f".{distribution}-{version}.staged"
        shutil.rmtree(staged, ignore_errors=True)
        shutil.move(str(top), staged)
        os.replace(staged, root)
    return root
