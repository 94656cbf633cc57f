"""Logging: the library logs through the standard ``logging`` module (``spine.*``
loggers, silent unless configured, so embedding spine prints nothing); the CLI renders
those records with structlog on stderr, keeping stdout clean for machine output."""

from __future__ import annotations

import logging
import sys


def configure_logging(verbosity: int = 0, *, json: bool = False) -> None:
    """Log ``spine.*`` to stderr through structlog. 0 = warnings, 1 = info, 2+ = debug."""
    import structlog

    level = logging.WARNING if verbosity <= 0 else logging.INFO if verbosity == 1 else logging.DEBUG
    renderer = structlog.processors.JSONRenderer() if json else structlog.dev.ConsoleRenderer(colors=False)
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(
        structlog.stdlib.ProcessorFormatter(
            processors=[structlog.stdlib.ProcessorFormatter.remove_processors_meta, renderer],
            foreign_pre_chain=[
                structlog.stdlib.add_log_level,
                structlog.stdlib.add_logger_name,
                structlog.processors.TimeStamper(fmt="iso"),
                structlog.stdlib.ExtraAdder(),
            ],
        )
    )
    root = logging.getLogger("spine")
    root.handlers[:] = [handler]
    root.setLevel(level)
    root.propagate = False


def get_logger(name: str) -> logging.Logger:
    """The library's logger for ``name`` (use ``extra={...}`` for structured fields)."""
    return logging.getLogger(name)
