"""Pipelines registered only where this module is imported: on Celery workers (``spine worker``).

The test process never imports it, so a step calling one of these can only succeed on a
worker that imported it by name — as a user's workers import ``[tool.spine] pipelines``.
"""

from __future__ import annotations

import os
import socket
import time
from pathlib import Path

from spine.framework import register_pipeline

MODULE = __name__


@register_pipeline("celeryonly.where", allow_extra_params=True)
def where(params, ctx):
    """Which process ran the attempt, and the attempt number the pipeline saw."""
    return {"pid": os.getpid(), "pgid": os.getpgid(0), "host": socket.gethostname(), "attempt": ctx.attempt}


@register_pipeline("celeryonly.die_once", allow_extra_params=True)
def die_once(params, ctx):
    """Append ``pid pgid`` to ``log``; the first delivery then waits (to be killed), later ones return."""
    log = Path(params["log"])
    earlier = log.read_text(encoding="utf-8").splitlines() if log.exists() else []
    with log.open("a", encoding="utf-8") as f:
        f.write(f"{os.getpid()} {os.getpgid(0)}\n")
    if not earlier:
        time.sleep(float(params.get("seconds", 60)))
    return {"runs": len(earlier) + 1, "attempt": ctx.attempt, "pgid": os.getpgid(0)}
