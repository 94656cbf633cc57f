"""One attempt of one step, as a picklable task and its outcome — what every executor runs.

:func:`run_attempt` is the single function executors call (in a thread, a child process
or a Dask worker). It builds the :class:`~spine.framework.ExecutionContext`, calls the
pipeline through :class:`~spine.framework.Dispatcher`, and turns *anything* the pipeline
raises — ``KeyboardInterrupt`` and ``SystemExit`` included — into a :class:`StepError`.
"""

from __future__ import annotations

import datetime as dt
import traceback
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from spine.framework.context import CancelSignal, ExecutionContext
from spine.framework.dispatcher import Dispatcher
from spine.runner.results import StepError

#: Frames of a traceback kept (the innermost); a runaway recursion has thousands.
TRACEBACK_FRAMES = 30


class RunInterrupted(KeyboardInterrupt):
    """A second Ctrl-C: stop the run at once. Never swallowed by :func:`run_attempt`."""


@dataclass(frozen=True, slots=True)
class AttemptTask:
    """Everything a worker needs to run one attempt (picklable: plain data only)."""

    index: int
    run_id: str
    batch_id: str
    step: str
    pipeline: str
    params: Mapping[str, Any]
    attempt: int
    upstream: Mapping[str, Any] = field(default_factory=dict)
    #: Pipeline modules to import when the pipeline is not registered (process and Dask workers).
    modules: tuple[str, ...] = ()
    #: The attempt's time limit (the loop enforces it; executors that run the attempt in the
    #: loop's own thread use it to set ``ctx.cancelled`` on time).
    timeout_seconds: float | None = None
    #: A replay's original run (``ctx.origin_run_id``; the idempotency key uses it).
    origin_run_id: str | None = None
    #: The queue the step names (``queue:``): the celery executor routes by it, others ignore it.
    queue: str | None = None


@dataclass(frozen=True, slots=True)
class AttemptOutcome:
    """How an attempt ended, measured where it ran."""

    index: int
    attempt: int
    ok: bool
    started_at: dt.datetime
    finished_at: dt.datetime
    result: Any = None
    error: StepError | None = None
    output: str = ""


_OWN_FRAMES = tuple(str(Path(__file__).resolve().parents[1] / part) for part in ("runner", "framework"))


def format_traceback(exc: BaseException) -> str:
    """The traceback from the pipeline's own first frame on (spine's calling frames are
    noise to its author), at most the innermost :data:`TRACEBACK_FRAMES` frames."""
    tb = exc.__traceback__
    while tb is not None and tb.tb_next is not None and tb.tb_frame.f_code.co_filename.startswith(_OWN_FRAMES):
        tb = tb.tb_next
    return "".join(traceback.format_exception(type(exc), exc, tb, limit=-TRACEBACK_FRAMES))


def run_attempt(task: AttemptTask, cancel: CancelSignal | None = None, dispatcher: Dispatcher | None = None) -> AttemptOutcome:
    """Run ``task``; never raises (except :class:`RunInterrupted`)."""
    started = dt.datetime.now(dt.UTC)
    ctx = ExecutionContext(
        run_id=task.run_id,
        batch_id=task.batch_id,
        step=task.step,
        pipeline=task.pipeline,
        attempt=task.attempt,
        upstream=task.upstream,
        origin_run_id=task.origin_run_id,
        **({"_cancel": cancel} if cancel is not None else {}),
    )
    disp = dispatcher or Dispatcher(modules=task.modules)
    try:
        result = disp.submit(task.pipeline, task.params, ctx)
    except RunInterrupted:
        raise
    except BaseException as exc:
        error = StepError.from_exception(exc, format_traceback(exc))
        if isinstance(exc, KeyboardInterrupt):
            error = StepError(error.type, f"the pipeline raised KeyboardInterrupt: {error.message}", error.traceback)
        elif isinstance(exc, SystemExit):
            error = StepError(error.type, f"the pipeline called sys.exit({exc.code!r})", error.traceback)
        return AttemptOutcome(task.index, task.attempt, False, started, dt.datetime.now(dt.UTC), error=error)
    return AttemptOutcome(task.index, task.attempt, True, started, dt.datetime.now(dt.UTC), result=result)
