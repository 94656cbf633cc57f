"""Run events: what the loop tells watchers (the CLI's progress, later the store and SSE)."""

from __future__ import annotations

import datetime as dt
import enum
from dataclasses import dataclass
from typing import Any

from spine.orchestration.models import StepStatus


class RunEventKind(enum.Enum):
    RUN_STARTED = "run_started"  #: the loop is about to start steps
    STEP_STARTED = "step_started"  #: an attempt was handed to the executor
    STEP_RETRYING = "step_retrying"  #: an attempt failed; another follows after ``delay`` s
    STEP_FINISHED = "step_finished"  #: a step reached a final status (completed, failed, cancelled)
    STEP_SKIPPED = "step_skipped"  #: a step will never run: something upstream failed
    RUN_CANCELLING = "run_cancelling"  #: a cancel arrived; running steps get the grace period
    RUN_FINISHED = "run_finished"  #: every step is final; ``result`` holds the run


@dataclass(frozen=True, slots=True)
class RunEvent:
    kind: RunEventKind
    run_id: str
    group: str
    at: dt.datetime
    step: str | None = None
    pipeline: str | None = None
    status: StepStatus | None = None
    attempt: int | None = None
    error: Any = None
    delay: float | None = None
    reason: str | None = None
    #: STEP_FINISHED of a completed step: what it returned; RUN_FINISHED: the run's result.
    result: Any = None
    #: STEP_RETRYING / STEP_FINISHED: the attempt that just ended (its times, status and error).
    record: Any = None
    #: STEP_RETRYING / STEP_FINISHED: the tail of what the step printed.
    output: str | None = None
