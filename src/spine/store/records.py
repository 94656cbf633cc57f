"""What the store gives back: frozen records of runs and dead letters, with their enums.

``to_dict`` is the JSON of ``spine runs list --json`` and ``spine dlq list --json``.
(``spine runs show --json`` is a :class:`~spine.runner.GroupExecutionResult`, the
shape of ``spine group run --json``.)
"""

from __future__ import annotations

import datetime as dt
import enum
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from spine.orchestration.models import GroupRunStatus
from spine.runner.results import StepError, iso


class RunKind(enum.Enum):
    """Why a run exists."""

    RUN = "run"  #: ``spine group run`` (resumes keep the run, and its kind)
    REPLAY = "replay"  #: ``spine dlq replay``: one dead-lettered step run again


class DeadLetterStatus(enum.Enum):
    """Whether a dead letter still needs attention."""

    OPEN = "open"  #: the step failed for good and nothing has run it successfully since
    RESOLVED = "resolved"  #: a replay or a resume ran the step successfully


@dataclass(frozen=True, slots=True)
class RunSummary:
    """One row of ``group_runs``, as people and tools see it."""

    run_id: str
    group: str
    group_version: int
    kind: RunKind
    status: GroupRunStatus
    #: Still ``running`` in the database, but its owner stopped heartbeating: its lease expired.
    orphaned: bool
    started_at: dt.datetime
    finished_at: dt.datetime | None
    batch_id: str
    params: Mapping[str, Any]
    executor: str
    step_count: int
    host: str
    pid: int
    heartbeat_at: dt.datetime
    lease_expires_at: dt.datetime
    message: str | None = None
    resumes: int = 0
    parent_run_id: str | None = None
    cancel_requested_at: dt.datetime | None = None
    options: Mapping[str, Any] = field(default_factory=dict)
    #: The schedule that fired it (or ``every:7d`` for a fixed-interval backfill), and its logical date.
    schedule: str | None = None
    logical_date: dt.datetime | None = None

    @property
    def state(self) -> str:
        """The status people see: the run's status, or ``orphaned``."""
        return "orphaned" if self.orphaned else self.status.value

    @property
    def duration_s(self) -> float | None:
        if self.finished_at is None:
            return None
        return round((self.finished_at - self.started_at).total_seconds(), 6)

    def to_dict(self) -> dict[str, Any]:
        return {
            "run_id": self.run_id,
            "group": self.group,
            "group_version": self.group_version,
            "kind": self.kind.value,
            "status": self.state,
            "orphaned": self.orphaned,
            "started_at": iso(self.started_at),
            "finished_at": iso(self.finished_at),
            "duration_s": self.duration_s,
            "batch_id": self.batch_id,
            "params": dict(self.params),
            "executor": self.executor,
            "steps": self.step_count,
            "host": self.host,
            "pid": self.pid,
            "heartbeat_at": iso(self.heartbeat_at),
            "message": self.message,
            "resumes": self.resumes,
            "parent_run_id": self.parent_run_id,
            "cancel_requested_at": iso(self.cancel_requested_at),
            "schedule": self.schedule,
            "logical_date": iso(self.logical_date),
        }


@dataclass(frozen=True, slots=True)
class DeadLetter:
    """A step that failed for good (its retries exhausted), kept to be replayed."""

    id: int
    run_id: str
    group: str
    step: str
    pipeline: str
    params: Mapping[str, Any]
    error: StepError | None
    attempts: int
    status: DeadLetterStatus
    created_at: dt.datetime
    resolved_at: dt.datetime | None = None
    resolved_by: str | None = None

    def to_dict(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "run_id": self.run_id,
            "group": self.group,
            "step": self.step,
            "pipeline": self.pipeline,
            "params": dict(self.params),
            "error": self.error.to_dict() if self.error else None,
            "attempts": self.attempts,
            "status": self.status.value,
            "created_at": iso(self.created_at),
            "resolved_at": iso(self.resolved_at),
            "resolved_by": self.resolved_by,
        }


@dataclass(frozen=True, slots=True)
class Owner:
    """The process that runs a run: where, and the token its lease and pool slots carry."""

    token: str
    host: str
    pid: int
    #: Seconds after the last heartbeat at which the run counts as orphaned.
    lease_seconds: float

    @classmethod
    def here(cls, lease_seconds: float) -> Owner:
        import os
        import secrets
        import socket

        return cls(secrets.token_hex(16), socket.gethostname(), os.getpid(), lease_seconds)


__all__ = ["DeadLetter", "DeadLetterStatus", "Owner", "RunKind", "RunSummary"]
