"""``GroupRunner.execute(plan) -> GroupExecutionResult``: the one scheduling loop.

The loop owns every decision (:class:`~spine.runner.scheduler.Scheduler`: what is ready,
plan order, the concurrency limit, retries, skips, stop) and every clock (attempt and
run timeouts, retry delays, the cancel grace period). An executor only runs attempts and
puts their outcomes on the loop's queue. Each turn of the loop:

1. start what the scheduler says is ready, and retries whose delay has passed;
2. block on the outcome queue until the next deadline (a timeout, a retry, the end of
   the grace period) — a cancel wakes it at once;
3. record every outcome that arrived (a batch), deciding retry / completed / failed;
4. act on deadlines: a timed-out attempt is failed and given up (killed where the
   executor can), a run past ``timeout_minutes`` stops, a grace period that ran out
   gives up what still runs.

State kept per run (plan position ``i``)::

    sched           statuses, attempts, dependencies left, ready heap (pure)
    live[i]         the running attempt: number, handle, deadline, start time
    results[i]      what a completed step returned (for its dependents' ctx.upstream)
    history[i]      every attempt's record (the run report's timeline)
    retry_heap      (due time, i) for steps waiting to retry

Hooks (:class:`~spine.runner.hooks.RunHooks`, optional; the store's recorder is one):
``admit(i)`` is consulted by the scheduler before a ready step starts (a refused step
waits, and the loop wakes after ``retry_seconds`` to ask again); ``turn_done()`` runs once
per turn before the loop blocks and may shorten the wait; ``abort_reason()`` ends the run
as failed, the way ``timeout_minutes`` does. Without hooks the loop behaves as before.
An executor may say the same through ``abort_reason()`` (celery: its broker is gone for
too long), waking the loop by putting ``None`` on the queue; a handle's ``timeout_note()``
may add to a timeout's message (celery: no worker serves the step's queue).

Resume: ``completed`` (step → result) marks steps done before this execution; their
results reach dependents. ``attempts_before`` (step → attempts already made) continues
the numbering, so ``ctx.attempt`` on a resumed step says an earlier attempt may have run;
retries and their delays count from this execution's first attempt.

Cancel (Ctrl-C, SIGTERM, :class:`~spine.framework.CancelToken`): nothing new starts,
running attempts see ``ctx.cancelled``, and the loop waits ``grace_seconds`` for them;
what still runs then is given up and ``cancelled``. A second Ctrl-C raises
:class:`RunInterrupted` and everything still running is given up at once. Either way the
result is complete: every step has a final status.
"""

from __future__ import annotations

import datetime as dt
import heapq
import logging
import queue
import random
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from types import MappingProxyType
from typing import Any, cast

from spine.core.ids import new_batch_id
from spine.framework.context import CancelToken
from spine.framework.dispatcher import Dispatcher
from spine.orchestration.models import ExecutionMode, FailurePolicy, GroupRunStatus, StepStatus, group_status
from spine.runner.attempt import AttemptOutcome, AttemptTask, RunInterrupted
from spine.runner.capture import routed_output
from spine.runner.events import RunEvent, RunEventKind
from spine.runner.executors import EXECUTORS, Executor, Handle, make_executor
from spine.runner.hooks import RunHooks
from spine.runner.results import AttemptRecord, GroupExecutionResult, StepError, StepExecution
from spine.runner.scheduler import Scheduler, StepSlot

_log = logging.getLogger("spine.runner")
_WAKE = object()
#: How much a retry delay may vary (± this fraction), so retries of many steps spread out.
RETRY_JITTER = 0.1
#: Default time running steps get to finish after a cancel.
DEFAULT_GRACE_SECONDS = 10.0


def new_run_id() -> str:
    """``run_<YYYYmmddTHHMMSS>_<8 hex>``: sortable by start time, unique."""
    return new_batch_id("run")


@dataclass(slots=True)
class _Live:
    attempt: int
    handle: Handle
    deadline: float | None
    started_at: dt.datetime


class GroupRunner:
    """Runs execution plans on an executor. Get one with :func:`get_runner`."""

    def __init__(
        self,
        executor: str | Executor = "threads",
        *,
        max_concurrency: int | None = None,
        on_failure: FailurePolicy | str | None = None,
        grace_seconds: float = DEFAULT_GRACE_SECONDS,
        dask_address: str | None = None,
        broker: str | None = None,
        modules: tuple[str, ...] = (),
        dispatcher: Dispatcher | None = None,
    ) -> None:
        if isinstance(executor, str) and executor not in EXECUTORS:
            raise ValueError(f"unknown executor {executor!r}; choose one of {', '.join(EXECUTORS)}")
        if max_concurrency is not None and max_concurrency < 1:
            raise ValueError(f"max_concurrency must be at least 1, got {max_concurrency}")
        self.executor = executor
        self.max_concurrency = max_concurrency
        self.on_failure = FailurePolicy(on_failure) if isinstance(on_failure, str) else on_failure
        self.grace_seconds = grace_seconds
        self.dask_address = dask_address
        self.broker = broker
        self.modules = modules
        self.dispatcher = dispatcher

    @property
    def executor_name(self) -> str:
        return self.executor if isinstance(self.executor, str) else self.executor.name

    def _make_executor(self) -> Executor:
        if not isinstance(self.executor, str):
            return self.executor
        return make_executor(self.executor, dask_address=self.dask_address, broker=self.broker, modules=self.modules, dispatcher=self.dispatcher)

    def limit_for(self, plan: Any) -> int:
        """How many steps may run at once: 1 when sequential, else the override or the policy."""
        policy = plan.group.policy
        if policy.execution is not ExecutionMode.PARALLEL:
            return 1
        return self.max_concurrency if self.max_concurrency is not None else policy.max_concurrency

    def execute(
        self,
        plan: Any,
        *,
        cancel: CancelToken | None = None,
        on_event: Callable[[RunEvent], None] | None = None,
        run_id: str | None = None,
        completed: Mapping[str, Any] | None = None,
        hooks: RunHooks | None = None,
        attempts_before: Mapping[str, int] | None = None,
        origin_run_id: str | None = None,
    ) -> GroupExecutionResult:
        """Run ``plan`` to the end and return what happened to every step.

        ``completed`` (step name → result) marks steps already done (a resume): they are
        not run again and their results reach their dependents. ``attempts_before`` (step
        name → attempts made earlier) continues their attempt numbers. ``hooks`` lets the
        caller admit steps, act once per turn and abort the run (see the module docstring).
        ``origin_run_id`` (a replay) is the run whose step this runs again: pipelines see it
        as ``ctx.origin_run_id`` and their ``ctx.idempotency_key`` uses it.
        """
        run = _Run(self, plan, cancel or CancelToken(), on_event, run_id or new_run_id(), dict(completed or {}), hooks, attempts_before or {})
        run.origin_run_id = origin_run_id
        return run.go()


def get_runner(executor: str = "threads", max_concurrency: int | None = None, **options: Any) -> GroupRunner:
    """A :class:`GroupRunner` (the original spine-core's factory name)."""
    return GroupRunner(executor, max_concurrency=max_concurrency, **options)


class _Run:
    """One execution of one plan (the loop's state; see the module docstring)."""

    def __init__(
        self, runner: GroupRunner, plan: Any, token: CancelToken,
        on_event: Callable[[RunEvent], None] | None, run_id: str, completed: dict[str, Any],
        hooks: RunHooks | None = None, attempts_before: Mapping[str, int] | None = None,
    ) -> None:
        self.runner = runner
        self.plan = plan
        self.token = token
        self.emit = on_event
        self.run_id = run_id
        group = plan.group
        policy = group.policy
        self.on_failure = runner.on_failure or policy.on_failure
        self.steps = plan.steps
        index = {s.name: i for i, s in enumerate(self.steps)}
        self.index = index
        slots = [StepSlot(s.name, tuple(index[d] for d in s.depends_on), _retries(s, policy)) for s in self.steps]
        self.hooks = hooks
        self.sched = Scheduler(slots, limit=runner.limit_for(plan), on_failure=self.on_failure, admit=hooks.admit if hooks is not None else None)
        before = attempts_before or {}
        #: Attempts made before this execution (a resume), per step: numbering continues.
        self.base = [int(before.get(s.name, 0)) for s in self.steps]
        self.origin_run_id: str | None = None
        #: The run was ended as failed (run timeout, a hook's abort), whatever its steps say.
        self.failed_run = False
        n = len(self.steps)
        self.results: list[Any] = [None] * n
        self.history: list[list[AttemptRecord]] = [[] for _ in range(n)]
        self.errors: list[StepError | None] = [None] * n
        self.output: list[str] = [""] * n
        self.first_start: list[dt.datetime | None] = [None] * n
        self.last_end: list[dt.datetime | None] = [None] * n
        self.live: dict[int, _Live] = {}
        self.retry_heap: list[tuple[float, int]] = []
        self.deadlines: list[tuple[float, int, int]] = []
        self.queue: queue.SimpleQueue[Any] = queue.SimpleQueue()
        self.timeouts = [_timeout(s, policy) for s in self.steps]
        self.delays = [_delay(s, policy) for s in self.steps]
        minutes = policy.timeout_minutes
        self.run_deadline = time.monotonic() + minutes * 60 if minutes else None
        self.grace_deadline: float | None = None
        self.message: str | None = None
        self.user_cancelled = False
        self.modules = runner.modules
        self.completed_before = completed
        self._skip_seen: set[int] = set()
        for name in completed:
            if name not in index:
                from spine.core.errors import StepNotFoundError

                raise StepNotFoundError(f"cannot resume: the plan has no step {name!r}")

    # -- the loop ----------------------------------------------------------------------

    def go(self) -> GroupExecutionResult:
        started = dt.datetime.now(dt.UTC)
        self.started_at = started
        executor = self.runner._make_executor()
        self.token.on_cancel(lambda: self.queue.put(_WAKE))
        with routed_output():
            executor.open(self.queue, self.sched.limit)  # may raise (an unreachable cluster): nothing ran
            self.executor = executor
            self._event(RunEventKind.RUN_STARTED)
            try:
                self._preload()
                self._loop()
            except RunInterrupted:
                self._give_up_all("stopped at once (second interrupt)")
                self.user_cancelled = True
            finally:
                executor.close()
        return self._result(started)

    def _preload(self) -> None:
        """Mark steps completed in an earlier run (resume) without running them."""
        if self.completed_before:
            for name, result in self.completed_before.items():
                self.results[self.index[name]] = result
            self.sched.preset_completed({self.index[n] for n in self.completed_before})

    def _loop(self) -> None:
        sched, q = self.sched, self.queue
        executor_abort = getattr(self.executor, "abort_reason", None)  # e.g. celery: the broker is gone for too long
        while sched.is_active():
            if self.token.is_set() and sched.stopped is None:
                self._begin_cancel()
            if executor_abort is not None and sched.stopped is None and (why := executor_abort()):
                self._fail_run(why, "ExecutorUnavailable")
                continue
            for i in sched.get_ready():
                self._start(i, 1)
            now = time.monotonic()
            while self.retry_heap and self.retry_heap[0][0] <= now:
                _, i = heapq.heappop(self.retry_heap)
                if sched.stopped is not None:
                    sched.fail(i)  # no new attempts once stopped: the last failure stands
                    self._finished_event(i)
                    continue
                self._start(i, sched.retry_started(i))
            if not sched.is_active():
                break
            bound = None
            if self.hooks is not None:
                bound = self.hooks.turn_done()
                why = self.hooks.abort_reason() if sched.stopped is None else None
                if why:
                    self._fail_run(why, "RunAborted")
                    continue
            wait = self._next_wait(now)
            if bound is not None:
                wait = bound if wait is None else min(wait, bound)
            try:
                item = q.get(timeout=wait) if wait is None or wait > 0 else q.get_nowait()
            except queue.Empty:
                item = None
            while item is not None:
                if item is not _WAKE:
                    self._record(item)
                try:
                    item = q.get_nowait()
                except queue.Empty:
                    item = None
            self._deadlines()

    def _next_wait(self, now: float) -> float | None:
        times = []
        if self.retry_heap:
            times.append(self.retry_heap[0][0])
        while self.deadlines and self._stale_deadline(self.deadlines[0]):
            heapq.heappop(self.deadlines)
        if self.deadlines:
            times.append(self.deadlines[0][0])
        if self.run_deadline is not None and self.sched.stopped is None:
            times.append(self.run_deadline)
        if self.grace_deadline is not None:
            times.append(self.grace_deadline)
        if self.sched.deferred and self.hooks is not None and self.sched.stopped is None:
            times.append(now + self.hooks.retry_seconds)  # ask admit again about refused steps
        if not times:
            return None
        return max(0.0, min(times) - now)

    def _stale_deadline(self, entry: tuple[float, int, int]) -> bool:
        _, i, attempt = entry
        live = self.live.get(i)
        return live is None or live.attempt != attempt

    # -- starting and recording attempts ------------------------------------------------

    def _start(self, i: int, attempt: int) -> None:
        attempt += self.base[i]  # a resume continues the numbering
        step = self.steps[i]
        upstream = {d: self.results[self.index[d]] for d in step.depends_on}
        task = AttemptTask(
            index=i, run_id=self.run_id, batch_id=self.plan.batch_id, step=step.name, pipeline=step.pipeline,
            params=_plain(step.params), attempt=attempt, upstream=upstream, modules=self.modules,
            timeout_seconds=self.timeouts[i], origin_run_id=self.origin_run_id, queue=getattr(step, "queue", None),
        )
        now = dt.datetime.now(dt.UTC)
        timeout = self.timeouts[i]
        deadline = time.monotonic() + timeout if timeout else None
        if self.first_start[i] is None:
            self.first_start[i] = now
        if self.emit is not None:
            self._event(RunEventKind.STEP_STARTED, i, attempt=attempt)
        live = _Live(attempt, _PENDING_HANDLE, deadline, now)
        self.live[i] = live
        if deadline is not None:
            heapq.heappush(self.deadlines, (deadline, i, attempt))
        live.handle = self.executor.submit(task)  # inline runs the attempt right here

    def _record(self, outcome: AttemptOutcome) -> None:
        i = outcome.index
        live = self.live.get(i)
        if live is None or live.attempt != outcome.attempt:
            return  # an attempt already given up (timed out, cancelled): its outcome is moot
        del self.live[i]
        ok, error = outcome.ok, outcome.error
        limit = self.timeouts[i]
        if ok and live.deadline is not None and limit is not None and (outcome.finished_at - outcome.started_at).total_seconds() > limit:
            # the inline executor cannot interrupt: an attempt that overran fails on return
            ok, error = False, _timeout_error(limit, stopped=False)
        self.output[i] = outcome.output
        self.history[i].append(
            AttemptRecord(outcome.attempt, StepStatus.COMPLETED if ok else StepStatus.FAILED, outcome.started_at, outcome.finished_at, error)
        )
        self.last_end[i] = outcome.finished_at
        if ok:
            self.results[i] = outcome.result
            self.errors[i] = None
            self.sched.done(i, True)
            if self.emit is not None:
                self._finished_event(i)
            return
        self._failed_attempt(i, outcome.attempt, error)

    def _failed_attempt(self, i: int, attempt: int, error: StepError | None) -> None:
        self.errors[i] = error
        if self.sched.done(i, False):
            delay = self.delays[i] * (2 ** (attempt - self.base[i] - 1))
            delay *= 1 + random.uniform(-RETRY_JITTER, RETRY_JITTER)
            heapq.heappush(self.retry_heap, (time.monotonic() + delay, i))
            if self.emit is not None:
                last = self.history[i][-1] if self.history[i] else None
                self._event(RunEventKind.STEP_RETRYING, i, attempt=attempt, error=error, delay=delay, record=last, output=self.output[i])
            return
        if self.emit is not None:
            self._finished_event(i)
            for j in self._newly_skipped(i):
                self._event(RunEventKind.STEP_SKIPPED, j)
        if self.sched.stopped is not None:
            self._drop_retries()  # on_failure: stop — steps waiting to retry get no new attempt

    def _newly_skipped(self, i: int) -> list[int]:
        out: list[int] = []
        stack, seen = list(self.sched.dependents[i]), self._skip_seen
        while stack:
            j = stack.pop()
            if j in seen:
                continue
            seen.add(j)
            if self.sched.status[j] is StepStatus.SKIPPED:
                out.append(j)
                stack.extend(self.sched.dependents[j])
        return sorted(out)

    # -- deadlines ---------------------------------------------------------------------

    def _deadlines(self) -> None:
        now = time.monotonic()
        while self.deadlines and self.deadlines[0][0] <= now:
            _, i, attempt = heapq.heappop(self.deadlines)
            live = self.live.get(i)
            if live is None or live.attempt != attempt:
                continue
            del self.live[i]
            live.handle.stop()
            end = dt.datetime.now(dt.UTC)
            # a deadline exists only for a step with a timeout
            error = _timeout_error(cast(float, self.timeouts[i]), stopped=self.executor.name in ("processes",))
            note = getattr(live.handle, "timeout_note", None)  # e.g. celery: no worker serves the step's queue
            if note is not None and (extra := note()):
                error = StepError(error.type, error.message + extra)
            self.history[i].append(AttemptRecord(attempt, StepStatus.FAILED, live.started_at, end, error))
            self.last_end[i] = end
            self._failed_attempt(i, attempt, error)
        if self.run_deadline is not None and now >= self.run_deadline and self.sched.stopped is None:
            minutes = self.plan.group.policy.timeout_minutes
            self._fail_run(f"the run timed out after {minutes:g} minute(s) (policy.timeout_minutes)", "TimeoutError")
        if self.grace_deadline is not None and now >= self.grace_deadline:
            self._give_up_all(f"still running {self.runner.grace_seconds:g} s after the run was cancelled")

    def _fail_run(self, message: str, error_type: str) -> None:
        """End the run as failed: nothing new starts, running attempts stop and fail with ``message``."""
        self.message = message
        self.failed_run = True
        self.sched.stop(message)
        for i in list(self.live):
            live = self.live.pop(i)
            live.handle.stop()
            end = dt.datetime.now(dt.UTC)
            error = StepError(error_type, f"stopped: {message}")
            self.history[i].append(AttemptRecord(live.attempt, StepStatus.FAILED, live.started_at, end, error))
            self.last_end[i] = end
            self.errors[i] = error
            self.sched.fail(i)
            self._finished_event(i)
        self._drop_retries()

    def _begin_cancel(self) -> None:
        self.user_cancelled = True
        reason = self.token.reason or "cancelled"
        self.message = f"the run was {reason}"
        self.sched.stop(f"the run was {reason}")
        self._event(RunEventKind.RUN_CANCELLING)
        for live in self.live.values():
            live.handle.signal_cancel()
        self._drop_retries()
        self.grace_deadline = time.monotonic() + self.runner.grace_seconds

    def _drop_retries(self) -> None:
        while self.retry_heap:
            _, i = heapq.heappop(self.retry_heap)
            self.sched.fail(i)
            self._finished_event(i)

    def _give_up_all(self, why: str) -> None:
        self.sched.stop(why)
        self._drop_retries()
        for i in list(self.live):
            live = self.live.pop(i)
            live.handle.stop()
            end = dt.datetime.now(dt.UTC)
            self.history[i].append(AttemptRecord(live.attempt, StepStatus.CANCELLED, live.started_at, end, None))
            self.last_end[i] = end
            self.sched.cancel_in_flight(i, why)
            self._finished_event(i)
        self.grace_deadline = None

    # -- events and the result ---------------------------------------------------------

    def _event(self, kind: RunEventKind, i: int | None = None, **data: Any) -> None:
        if self.emit is None:
            return
        step = self.steps[i] if i is not None else None
        self.emit(
            RunEvent(
                kind=kind, run_id=self.run_id, group=self.plan.group.name,
                step=step.name if step else None, pipeline=step.pipeline if step else None,
                status=self.sched.status[i] if i is not None else None,
                at=dt.datetime.now(dt.UTC), reason=self.sched.reason[i] if i is not None else None,
                **data,
            )
        )

    def _finished_event(self, i: int) -> None:
        if self.emit is not None:
            done = self.sched.status[i] is StepStatus.COMPLETED
            last = self.history[i][-1] if self.history[i] else None
            self._event(
                RunEventKind.STEP_FINISHED, i, attempt=self.sched.attempts[i] + self.base[i], error=self.errors[i],
                result=self.results[i] if done else None, record=last, output=self.output[i],
            )

    def _result(self, started: dt.datetime) -> GroupExecutionResult:
        sched = self.sched
        sched.finish()
        execs = []
        for i, s in enumerate(self.steps):
            step_status = sched.status[i]
            execs.append(
                StepExecution(
                    name=s.name, pipeline=s.pipeline, status=step_status, attempts=len(self.history[i]),
                    started_at=self.first_start[i], finished_at=self.last_end[i],
                    error=self.errors[i] if step_status is StepStatus.FAILED else None,
                    result=self.results[i] if step_status is StepStatus.COMPLETED else None,
                    reason=sched.reason[i], history=tuple(self.history[i]), output=self.output[i], nesting=s.nesting,
                )
            )
        status = group_status(sched.status, self.on_failure, user_cancelled=self.user_cancelled)
        if self.failed_run and status is not GroupRunStatus.COMPLETED:
            status = GroupRunStatus.FAILED  # stopped before its end: even with no failed step, the run failed
        if self.message is None and status is GroupRunStatus.FAILED and sched.stopped:
            self.message = f"stopped: {sched.stopped}"
        result = GroupExecutionResult(
            run_id=self.run_id, batch_id=self.plan.batch_id, group=self.plan.group.name, status=status,
            started_at=started, finished_at=dt.datetime.now(dt.UTC), params=dict(self.plan.params),
            step_executions=tuple(execs), executor=self.executor.name, message=self.message,
            group_version=self.plan.group.version,
        )
        self._event(RunEventKind.RUN_FINISHED, result=result)
        _log.info("run %s of %s: %s", self.run_id, result.group, status.value, extra={"run_id": self.run_id, "status": status.value})
        return result


class _NoHandle:
    def signal_cancel(self) -> None:
        pass

    def stop(self) -> None:
        pass


_PENDING_HANDLE = _NoHandle()


def _timeout_error(seconds: float, *, stopped: bool) -> StepError:
    how = "its process was killed" if stopped else "it was abandoned and told through ctx.cancelled"
    return StepError("TimeoutError", f"timed out after {seconds:g} s (timeout_seconds); {how}")


def _retries(step: Any, policy: Any) -> int:
    """The plan carries effective values (the step's own, else the policy's)."""
    return int(getattr(step, "retries", 0) or 0)


def _timeout(step: Any, policy: Any) -> float | None:
    value = getattr(step, "timeout_seconds", None)
    return float(value) if value else None


def _delay(step: Any, policy: Any) -> float:
    return float(getattr(step, "retry_delay_seconds", 0) or 0.0)


_SCALARS = frozenset({str, int, float, bool, type(None)})
_MAPS = frozenset({dict, MappingProxyType})


def _plain(value: Any) -> Any:
    """Plain dicts and lists (picklable, mutable copies) from read-only plan params."""
    kind = type(value)  # exact types first: an ABC isinstance check costs ~10x more
    if kind in _SCALARS:
        return value
    if kind in _MAPS or isinstance(value, Mapping):
        return {k: _plain(v) for k, v in value.items()}
    if kind is list or kind is tuple or isinstance(value, (list, tuple)):
        return [_plain(v) for v in value]
    return value
