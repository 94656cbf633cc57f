"""What a run produced: :class:`GroupExecutionResult` with a :class:`StepExecution` per step.

Failures travel as data: an attempt that raised, timed out, or whose process died is a
:class:`StepError` (type, message, traceback text) on its :class:`AttemptRecord` and on
the step. One serialisation path: ``to_dict`` here is the JSON of ``spine group run
--json`` (times in ISO-8601 UTC), and ``from_dict`` reads it back (the store, reports).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from spine.orchestration.models import GroupRunStatus, StepStatus

#: The name the original spine-core used for a run's status.
GroupExecutionStatus = GroupRunStatus


def iso(t: dt.datetime | None) -> str | None:
    """ISO-8601 UTC with a ``Z`` and microseconds (durations survive a round trip); ``None`` stays ``None``."""
    if t is None:
        return None
    if t.tzinfo is not dt.UTC:
        t = t.astimezone(dt.UTC)
    return t.replace(tzinfo=None).isoformat(timespec="microseconds") + "Z"


def from_iso(text: str | None) -> dt.datetime | None:
    if text is None:
        return None
    return dt.datetime.fromisoformat(text.replace("Z", "+00:00"))


def _duration(start: dt.datetime | None, end: dt.datetime | None) -> float | None:
    if start is None or end is None:
        return None
    return round((end - start).total_seconds(), 6)


@dataclass(frozen=True, slots=True)
class StepError:
    """Why an attempt failed: the exception's type and message, and the traceback text."""

    type: str
    message: str
    traceback: str = ""

    def to_dict(self) -> dict[str, Any]:
        return {"type": self.type, "message": self.message, "traceback": self.traceback}

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> StepError:
        return cls(str(data["type"]), str(data["message"]), str(data.get("traceback") or ""))

    @classmethod
    def from_exception(cls, exc: BaseException, tb: str = "") -> StepError:
        kind = type(exc)
        name = kind.__qualname__ if kind.__module__ in ("builtins", "__main__") else f"{kind.__module__}.{kind.__qualname__}"
        return cls(name, str(exc) or kind.__name__, tb)

    def __str__(self) -> str:
        return f"{self.type}: {self.message}"


@dataclass(frozen=True, slots=True)
class AttemptRecord:
    """One attempt of one step: when it ran and how it ended."""

    attempt: int
    status: StepStatus
    started_at: dt.datetime
    finished_at: dt.datetime | None = None
    error: StepError | None = None

    @property
    def duration_s(self) -> float | None:
        return _duration(self.started_at, self.finished_at)

    def to_dict(self) -> dict[str, Any]:
        return {
            "attempt": self.attempt,
            "status": self.status.value,
            "started_at": iso(self.started_at),
            "finished_at": iso(self.finished_at),
            "duration_s": self.duration_s,
            "error": self.error.to_dict() if self.error else None,
        }

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> AttemptRecord:
        started = from_iso(data["started_at"])
        assert started is not None
        return cls(
            attempt=int(data["attempt"]),
            status=StepStatus(data["status"]),
            started_at=started,
            finished_at=from_iso(data.get("finished_at")),
            error=StepError.from_dict(data["error"]) if data.get("error") else None,
        )


@dataclass(frozen=True, slots=True)
class StepExecution:
    """One step of a run: its final status, attempts, times, error and result."""

    name: str
    pipeline: str
    status: StepStatus = StepStatus.PENDING
    attempts: int = 0
    started_at: dt.datetime | None = None
    finished_at: dt.datetime | None = None
    error: StepError | None = None
    #: What the pipeline returned (plain JSON), when it completed.
    result: Any = None
    #: Why a step did not run: ``"dependency 'x' failed"``, ``"run cancelled"`` …
    reason: str | None = None
    #: Every attempt, oldest first (one bar each on the run report's timeline).
    history: tuple[AttemptRecord, ...] = ()
    #: The tail of what the step printed (stdout and stderr), bounded.
    output: str = ""
    #: Where a step of a nested group came from, outermost first (``NestedIn``s; empty at the top level).
    nesting: tuple[Any, ...] = ()

    @property
    def duration_s(self) -> float | None:
        return _duration(self.started_at, self.finished_at)

    def to_dict(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "pipeline": self.pipeline,
            "status": self.status.value,
            "attempts": self.attempts,
            "started_at": iso(self.started_at),
            "finished_at": iso(self.finished_at),
            "duration_s": self.duration_s,
            "error": self.error.to_dict() if self.error else None,
            "result": self.result,
            "reason": self.reason,
            "history": [a.to_dict() for a in self.history],
            "output": self.output,
            **({"nesting": [n.to_dict() for n in self.nesting]} if self.nesting else {}),
        }

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> StepExecution:
        return cls(
            name=data["name"],
            pipeline=data["pipeline"],
            status=StepStatus(data["status"]),
            attempts=int(data.get("attempts") or 0),
            started_at=from_iso(data.get("started_at")),
            finished_at=from_iso(data.get("finished_at")),
            error=StepError.from_dict(data["error"]) if data.get("error") else None,
            result=data.get("result"),
            reason=data.get("reason"),
            history=tuple(AttemptRecord.from_dict(a) for a in data.get("history") or ()),
            output=data.get("output") or "",
            nesting=nesting_from(data.get("nesting")),
        )


def nesting_from(data: Any) -> tuple[Any, ...]:
    """``NestedIn``s from their dicts (``None`` or empty: top level)."""
    if not data:
        return ()
    from spine.orchestration.nesting import NestedIn

    return tuple(NestedIn.from_dict(n) for n in data)


@dataclass(frozen=True, slots=True)
class GroupExecutionResult:
    """A whole run: status, times, the run params, and every step in plan order."""

    run_id: str
    batch_id: str
    group: str
    status: GroupRunStatus
    started_at: dt.datetime
    finished_at: dt.datetime | None
    params: Mapping[str, Any]
    step_executions: Sequence[StepExecution]
    executor: str = "threads"
    #: Why the run ended the way it did when that is not obvious from its steps.
    message: str | None = None
    group_version: int = 1
    #: For a replay of a dead-lettered step: the run whose step it ran again. (A resume
    #: keeps its run's id, so it needs no link.) ``None`` otherwise.
    resumed_from: str | None = None
    extra: Mapping[str, Any] = field(default_factory=dict)

    @property
    def duration_s(self) -> float | None:
        return _duration(self.started_at, self.finished_at)

    @property
    def ok(self) -> bool:
        return self.status is GroupRunStatus.COMPLETED

    def step(self, name: str) -> StepExecution:
        for s in self.step_executions:
            if s.name == name:
                return s
        raise KeyError(name)

    def by_status(self, status: StepStatus) -> list[StepExecution]:
        return [s for s in self.step_executions if s.status is status]

    def to_dict(self) -> dict[str, Any]:
        from spine.core.jsonable import jsonable

        return {
            "run_id": self.run_id,
            "batch_id": self.batch_id,
            "group": self.group,
            "group_version": self.group_version,
            "status": self.status.value,
            "executor": self.executor,
            "started_at": iso(self.started_at),
            "finished_at": iso(self.finished_at),
            "duration_s": self.duration_s,
            "params": jsonable(dict(self.params)),
            "message": self.message,
            "resumed_from": self.resumed_from,
            "steps": [s.to_dict() for s in self.step_executions],
        }

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> GroupExecutionResult:
        started = from_iso(data["started_at"])
        assert started is not None
        return cls(
            run_id=data["run_id"],
            batch_id=data["batch_id"],
            group=data["group"],
            status=GroupRunStatus(data["status"]),
            started_at=started,
            finished_at=from_iso(data.get("finished_at")),
            params=dict(data.get("params") or {}),
            step_executions=tuple(StepExecution.from_dict(s) for s in data.get("steps") or ()),
            executor=data.get("executor") or "threads",
            message=data.get("message"),
            group_version=int(data.get("group_version") or 1),
            resumed_from=data.get("resumed_from"),
        )
