"""Logging: structlog to stderr, so stdout stays clean for machine output."""

from __future__ import annotations

import logging
import sys
from typing import Any


def configure_logging(verbosity: int = 0, *, json: bool = False) -> None:
    """Send structured logs to stderr. ``verbosity`` 0 = warnings, 1 = info, 2+ = debug."""
    import structlog

    level = logging.WARNING if verbosity <= 0 else logging.INFO if verbosity == 1 else logging.DEBUG
    renderer: Any = (
        structlog.processors.JSONRenderer() if json else structlog.dev.ConsoleRenderer(colors=False)
    )
    structlog.configure(
        processors=[
            structlog.processors.add_log_level,
            structlog.processors.TimeStamper(fmt="iso"),
            renderer,
        ],
        wrapper_class=structlog.make_filtering_bound_logger(level),
        logger_factory=structlog.PrintLoggerFactory(file=sys.stderr),
        cache_logger_on_first_use=False,
    )


def get_logger(name: str) -> Any:
    import structlog

    return structlog.get_logger(name)
