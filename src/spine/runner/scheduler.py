"""The scheduling decisions of a run, pure: no threads, no clocks, no I/O.

:class:`Scheduler` is stepped through the way ``graphlib.TopologicalSorter`` is::

    s = Scheduler(steps, limit=4, on_failure=FailurePolicy.STOP)
    while s.is_active():
        for i in s.get_ready():          # start these (plan order, within the limit)
            ...
        s.done(i, ok=True)               # or ok=False: maybe a retry, maybe skips

Policy, in order of precedence:

1. A step becomes *ready* when every dependency has **completed**. Among ready steps the
   one that comes first in plan order starts first (a heap of plan positions).
2. At most ``limit`` steps are *in flight*. A step holds its slot from its first attempt
   until its final outcome, including the wait before a retry, so a retrying step is never
   overtaken by steps behind it in sequential mode.
3. A failed attempt with retries left becomes a *retry* (the caller waits the delay and
   calls :meth:`retry_started`). Otherwise the step is **failed**, and every step
   downstream of it is **skipped** at once (it can never run).
4. ``on_failure: stop`` — after a failure no new step and no new attempt starts; steps in
   flight finish; never-started steps end **cancelled** (the run is ``failed``).
   ``continue`` — everything not downstream of a failure still runs.
5. :meth:`stop` (user cancel, run timeout) — nothing new starts; the caller decides how the
   in-flight steps end; never-started steps end **cancelled**.
6. ``admit`` (optional, e.g. the store's pool slots): a ready step starts only when
   ``admit(i)`` says yes. A refused step stays ready, keeps its place in plan order and
   takes no concurrency slot; :meth:`get_ready` asks again on every later call (the loop
   calls it again when something finishes, or after a short wait: see ``deferred``). With
   ``limit == 1`` (sequential) nothing overtakes a refused step; in parallel, later ready
   steps may start in the meantime, so one busy pool never blocks unrelated work.

State (one slot per step, by plan position ``i``)::

    status[i]     StepStatus
    waiting[i]    number of dependencies not yet completed
    attempts[i]   attempts started so far
    reason[i]     why a step was skipped or cancelled (text for people)

Cost: each step is pushed and popped once on the ready heap and each edge is visited once
when its dependency completes (and once more when a failure skips downstream steps), so a
run of n steps and e edges costs O((n + e) log n) here, whatever the executor.
"""

from __future__ import annotations

import heapq
from collections.abc import Callable, Sequence
from dataclasses import dataclass

from spine.orchestration.models import FailurePolicy, StepStatus

_PENDING, _RUNNING, _COMPLETED, _FAILED, _SKIPPED, _CANCELLED = (
    StepStatus.PENDING,
    StepStatus.RUNNING,
    StepStatus.COMPLETED,
    StepStatus.FAILED,
    StepStatus.SKIPPED,
    StepStatus.CANCELLED,
)


@dataclass(frozen=True, slots=True)
class StepSlot:
    """What the scheduler needs of a step: its name, plan positions of its deps, retries."""

    name: str
    deps: tuple[int, ...]
    retries: int = 0


class Scheduler:
    """Decides which step starts next; see the module docstring for the policy."""

    def __init__(
        self, steps: Sequence[StepSlot], *, limit: int, on_failure: FailurePolicy, admit: Callable[[int], bool] | None = None
    ) -> None:
        if limit < 1:
            raise ValueError(f"limit must be at least 1, got {limit}")
        self.steps = steps
        self.limit = limit
        self.on_failure = on_failure
        self.admit = admit
        #: Ready steps that ``admit`` refused on the last call of :meth:`get_ready`.
        self.deferred = 0
        n = len(steps)
        self.status: list[StepStatus] = [_PENDING] * n
        self.attempts: list[int] = [0] * n
        self.reason: list[str | None] = [None] * n
        self.waiting: list[int] = [len(s.deps) for s in steps]
        self.dependents: list[list[int]] = [[] for _ in range(n)]
        for i, s in enumerate(steps):
            for d in s.deps:
                self.dependents[d].append(i)
        self._ready: list[int] = [i for i in range(n) if self.waiting[i] == 0]
        heapq.heapify(self._ready)
        self.in_flight = 0
        self._unfinished = n
        self.stopped: str | None = None

    # -- the protocol ------------------------------------------------------------------

    def is_active(self) -> bool:
        """True while some step has not reached a final status."""
        return self._unfinished > 0 and not (self.stopped is not None and self.in_flight == 0)

    def get_ready(self) -> list[int]:
        """Steps to start now, in plan order, marked running; none once stopped."""
        if self.stopped is not None:
            return []
        out: list[int] = []
        ready, status, attempts, admit = self._ready, self.status, self.attempts, self.admit
        refused: list[int] = []
        while ready and self.in_flight < self.limit:
            i = heapq.heappop(ready)
            if status[i] is not _PENDING:  # skipped while it sat in the heap
                continue
            if admit is not None and not admit(i):
                refused.append(i)
                if self.limit == 1:
                    break  # sequential: nothing overtakes a step that waits
                continue
            status[i] = _RUNNING
            attempts[i] = 1
            self.in_flight += 1
            out.append(i)
        for i in refused:
            heapq.heappush(ready, i)
        self.deferred = len(refused)
        return out

    def done(self, i: int, ok: bool) -> bool:
        """Record the outcome of step ``i``'s current attempt.

        Returns ``True`` when the step should be retried (it keeps its slot; call
        :meth:`retry_started` when the retry begins), ``False`` when its status is final.
        """
        if ok:
            self._finish(i, _COMPLETED)
            waiting, status, ready = self.waiting, self.status, self._ready
            for j in self.dependents[i]:
                waiting[j] -= 1
                if waiting[j] == 0 and status[j] is _PENDING:
                    heapq.heappush(ready, j)
            return False
        if self.stopped is None and self.attempts[i] <= self.steps[i].retries:
            return True
        self.fail(i)
        return False

    def preset_completed(self, done: set[int], why: str = "completed in an earlier run") -> None:
        """Mark steps completed before this run started (a resume): they never run again."""
        waiting, status = self.waiting, self.status
        for i in sorted(done):
            status[i] = _COMPLETED
            self.reason[i] = why
            self._unfinished -= 1
            for j in self.dependents[i]:
                waiting[j] -= 1
        self._ready = [i for i in range(len(status)) if status[i] is _PENDING and waiting[i] == 0]
        heapq.heapify(self._ready)

    def retry_started(self, i: int) -> int:
        """A retry of ``i`` begins; returns its attempt number (2 for the first retry)."""
        self.attempts[i] += 1
        return self.attempts[i]

    def fail(self, i: int) -> None:
        """Step ``i`` failed for good: skip everything downstream, maybe stop the run."""
        self._finish(i, _FAILED)
        name = self.steps[i].name
        stack = list(self.dependents[i])
        status, reason = self.status, self.reason
        while stack:
            j = stack.pop()
            if status[j] is not _PENDING:
                continue
            status[j] = _SKIPPED
            reason[j] = f"upstream step {name!r} failed"
            self._unfinished -= 1
            stack.extend(self.dependents[j])
        if self.on_failure is FailurePolicy.STOP and self.stopped is None:
            self.stopped = f"step {name!r} failed and on_failure is stop"

    def cancel_in_flight(self, i: int, why: str) -> None:
        """Step ``i`` was in flight when the run stopped and is given up: ``cancelled``."""
        self._finish(i, _CANCELLED)
        self.reason[i] = why

    def stop(self, why: str) -> None:
        """Start nothing new (user cancel, run timeout); in-flight steps are the caller's."""
        if self.stopped is None:
            self.stopped = why

    def finish(self) -> None:
        """Close the run: every step never started becomes ``cancelled`` with the reason."""
        why = self.stopped or "run ended"
        for i, s in enumerate(self.status):
            if s is _PENDING:
                self.status[i] = _CANCELLED
                self.reason[i] = f"not started: {why}"
                self._unfinished -= 1

    # -- internals ---------------------------------------------------------------------

    def _finish(self, i: int, status: StepStatus) -> None:
        if self.status[i] is _RUNNING:
            self.in_flight -= 1
        self.status[i] = status
        self._unfinished -= 1
