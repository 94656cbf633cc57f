"""Pipelines registered only where this module is imported: on Dask workers.

The test process never imports it (a test checks ``sys.modules``), so a step calling one
of these can only succeed if the worker imported it by name — the way a user's workers
find the project's pipelines (``[tool.spine] pipelines``).
"""

from __future__ import annotations

import os
import signal
import time
from pathlib import Path

from spine.framework import register_pipeline

MODULE = __name__


@register_pipeline("daskonly.where", allow_extra_params=True)
def where(params, ctx):
    """Where the attempt ran: the worker's pid, the task's Dask key, the scheduler's address.

    Fails every attempt before ``succeed_on`` (default 1), so a retry's key can be seen.
    """
    from distributed import get_worker

    worker = get_worker()
    if ctx.attempt < int(params.get("succeed_on", 1)):
        raise RuntimeError(f"attempt {ctx.attempt} fails on purpose")
    return {"pid": os.getpid(), "key": list(worker.get_current_task()), "scheduler": worker.scheduler.address}


@register_pipeline("daskonly.die_once", allow_extra_params=True)
def die_once(params, ctx):
    """Append this process's pid to ``log``; the first run then waits (to be killed), later runs return."""
    log = Path(params["log"])
    earlier = log.read_text(encoding="utf-8").split() if log.exists() else []
    with log.open("a", encoding="utf-8") as f:
        f.write(f"{os.getpid()}\n")
    if not earlier:
        time.sleep(float(params.get("seconds", 120)))
    return {"runs": len(earlier) + 1}


@register_pipeline("daskonly.die_always", allow_extra_params=True)
def die_always(params, ctx):
    """Kill the worker process running it, every time."""
    os.kill(os.getpid(), signal.SIGKILL)
