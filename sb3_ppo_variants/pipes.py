"""The package's command lines end quietly when their reader stops reading (``... status | head``), as Unix tools do,
instead of with Python's ``BrokenPipeError`` traceback."""

from __future__ import annotations

import os
import sys
from collections.abc import Callable
from typing import Any


def run_command_line(main: Callable[[], Any]) -> Any:
    """
    Run a command line's ``main()``; if standard output's reader has gone, exit with status 1 and no traceback.

    The flush inside the ``try`` makes the last buffered output fail here rather than at interpreter exit, where
    Python would print "Exception ignored ... BrokenPipeError"; standard output then points at ``os.devnull`` so
    that the exit's own flush has nowhere to fail (the recipe of Python's ``signal`` module documentation).

    :param main: the command line's entry point, called with no arguments
    :return: what ``main()`` returned
    """
    try:
        result = main()
        sys.stdout.flush()
    except BrokenPipeError:
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
        sys.exit(1)
    return result
