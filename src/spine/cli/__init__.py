"""The ``spine`` command. :func:`main` is the one place that exits the process."""

from __future__ import annotations

import sys


def main(argv: list[str] | None = None) -> None:
    """Entry point of the ``spine`` console script: run the CLI and exit with its code."""
    from spine.cli.app import run

    sys.exit(run(argv))


__all__ = ["main"]
