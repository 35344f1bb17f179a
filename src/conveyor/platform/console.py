"""Rich consoles for the CLI. Piped or captured output (a script, a CI log) gets wide tables instead of
Rich's 80-column fallback, which would cut emails and ids short; a terminal gets its own width."""

from __future__ import annotations

import sys

from rich.console import Console

PIPED_WIDTH = 200


def make_console(*, stderr: bool = False) -> Console:
    stream = sys.stderr if stderr else sys.stdout
    width = None if stream.isatty() else PIPED_WIDTH
    return Console(stderr=stderr, width=width)
