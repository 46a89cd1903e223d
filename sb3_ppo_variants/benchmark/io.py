"""Writing results so that an interrupted process never leaves a half-written file behind."""

from __future__ import annotations

import io
import json
import os
import tempfile
from pathlib import Path
from typing import Any


def _default_mode() -> int:
    """The mode a plain ``open(path, "w")`` gives a new file: 0o666 less the process's umask (0o644 under the usual
    022). ``mkstemp`` creates its files 0o600, which would leave results unreadable to the rest of a group."""
    umask = os.umask(0)
    os.umask(umask)
    return 0o666 & ~umask


def atomic_write_bytes(path: str | Path, data: bytes) -> None:
    """
    Write ``data`` to ``path`` atomically: to a temporary file in the same folder, flushed to disk, then renamed
    over ``path`` (a rename within one file system is atomic on POSIX and Windows), with the mode a new file gets.

    :param path: the destination
    :param data: the whole content
    """
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "wb") as handle:
            handle.write(data)
            handle.flush()
            os.fsync(handle.fileno())
        os.chmod(tmp, _default_mode())
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def atomic_write_text(path: str | Path, text: str) -> None:
    """
    Write ``text`` to ``path`` atomically (see :func:`atomic_write_bytes`), UTF-8 encoded.

    :param path: the destination
    :param text: the whole content
    """
    atomic_write_bytes(path, text.encode())


def atomic_save_figure(figure: Any, path: str | Path, **kwargs: Any) -> None:
    """
    Save a matplotlib figure to ``path`` atomically (see :func:`atomic_write_bytes`), in the format of its suffix.

    :param figure: the figure
    :param path: the destination
    :param kwargs: for ``figure.savefig``
    """
    path = Path(path)
    buffer = io.BytesIO()
    figure.savefig(buffer, format=path.suffix.lstrip(".") or "png", **kwargs)
    atomic_write_bytes(path, buffer.getvalue())


def atomic_write_json(path: str | Path, data: Any) -> None:
    """
    Write ``data`` as indented JSON to ``path`` atomically (see :func:`atomic_write_text`).

    :param path: the destination
    :param data: anything ``json.dumps`` accepts
    """
    atomic_write_text(path, json.dumps(data, indent=2, sort_keys=False) + "\n")
