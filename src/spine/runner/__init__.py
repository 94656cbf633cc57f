"""Running groups: one scheduling loop (:mod:`.runner`), pure decisions (:mod:`.scheduler`),
executors from the calling thread to a Dask cluster or Celery workers (:mod:`.executors`), results as data."""

from spine.framework.context import CancelToken, ExecutionContext
from spine.runner.attempt import AttemptOutcome, AttemptTask, RunInterrupted, run_attempt
from spine.runner.celery_executor import CeleryExecutor, CeleryUnavailableError
from spine.runner.dask_executor import DaskUnavailableError
from spine.runner.events import RunEvent, RunEventKind
from spine.runner.executors import EXECUTORS, DaskExecutor, InlineExecutor, ProcessExecutor, ThreadExecutor, make_executor
from spine.runner.hooks import RunHooks
from spine.runner.results import (
    AttemptRecord,
    GroupExecutionResult,
    GroupExecutionStatus,
    StepError,
    StepExecution,
)
from spine.runner.runner import DEFAULT_GRACE_SECONDS, GroupRunner, get_runner, new_run_id
from spine.runner.scheduler import Scheduler, StepSlot

__all__ = [
    "DEFAULT_GRACE_SECONDS",
    "EXECUTORS",
    "AttemptOutcome",
    "AttemptRecord",
    "AttemptTask",
    "CancelToken",
    "CeleryExecutor",
    "CeleryUnavailableError",
    "DaskExecutor",
    "DaskUnavailableError",
    "ExecutionContext",
    "GroupExecutionResult",
    "GroupExecutionStatus",
    "GroupRunner",
    "InlineExecutor",
    "ProcessExecutor",
    "RunEvent",
    "RunEventKind",
    "RunHooks",
    "RunInterrupted",
    "Scheduler",
    "StepError",
    "StepExecution",
    "StepSlot",
    "ThreadExecutor",
    "get_runner",
    "make_executor",
    "new_run_id",
    "run_attempt",
]
