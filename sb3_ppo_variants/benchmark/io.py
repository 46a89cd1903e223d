"""Writing results so that an interrupted process never leaves a half-written file behind."""

from __future__ import annotations

import json
import os
import tempfile
from pathlib import Path
from typing import Any


def atomic_write_text(path: str | Path, text: str) -> None:
    """
    Write ``text`` to ``path`` atomically: to a temporary file in the same folder, flushed to disk, then renamed
    over ``path`` (a rename within one file system is atomic on POSIX and Windows).

    :param path: the destination
    :param text: the whole content
    """
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "w") as handle:
            handle.write(text)
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def atomic_write_json(path: str | Path, data: Any) -> None:
    """
    Write ``data`` as indented JSON to ``path`` atomically (see :func:`atomic_write_text`).

    :param path: the destination
    :param data: anything ``json.dumps`` accepts
    """
    atomic_write_text(path, json.dumps(data, indent=2, sort_keys=False) + "\n")
