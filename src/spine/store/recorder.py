"""Recording a run as it happens: runner events in, grouped commits out.

:class:`RunRecorder` is both the run's ``on_event`` watcher and its
:class:`~spine.runner.hooks.RunHooks`. Events arrive synchronously in the loop's thread and
are only *buffered* (no I/O); the buffer is committed in one transaction:

- **before a dependent starts** — ``admit(i)`` commits first when a dependency of step
  ``i`` completed since the last commit, and refuses the step if that commit fails. This
  is the store's invariant: *a step's completion is committed before any of its
  dependents starts*;
- **once per turn of the loop** (``turn_done``), so many steps finishing together share
  one transaction, and a completion is durable within one turn even when nothing
  depends on it. A turn that only *started* steps waits up to :data:`START_GRACE`
  seconds first: a quick step's start and end then become one row in one commit (a
  chain costs one commit per step, not two), and a slow step's start is still durable
  within that grace;
- **at the end** (:meth:`close`), with the run's final status.

A pool step is admitted only after it claims a slot in the store (:mod:`.pools`); a
pool found full is not asked about again in the same turn. If a commit or a claim fails
(the database is locked past its busy timeout, or gone), the buffer is kept, no new
step is admitted, commits are retried with backoff, and after ``lost_after`` seconds
``abort_reason`` fails the run with a message naming the steps known to be done
(committed). Nothing in the buffer is ever dropped while the process lives.

The hot path writes with the driver's own ``executemany`` on one dedicated connection,
with hand-written, parametrised SQL (values are never spliced into statements); times
and JSON are converted exactly as the Core column types do (:mod:`.types`).

Table of state (plan position ``i``)::

    inserts[(i, attempt)]  rows not yet written (a start, merged with its end when both
                           fall in one commit)
    updates                ends of attempts whose start is already written
    pending_done           steps completed since the last commit
    held[i]                the pool slot step i holds
"""

from __future__ import annotations

import datetime as dt
import time
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from spine.orchestration.models import StepStatus
from spine.runner.events import RunEvent, RunEventKind
from spine.runner.hooks import RunHooks
from spine.store import codec
from spine.store.engine import translate
from spine.store.errors import StoreError, StoreUnavailableError
from spine.store.types import sqlite_time, to_json

if TYPE_CHECKING:
    from spine.runner.results import GroupExecutionResult
    from spine.store.leases import Lease
    from spine.store.pools import PoolSlots
    from spine.store.records import Owner
    from spine.store.store import RunStore

#: Steps named in a message about known-done steps before "… and N more".
NAMES_SHOWN = 20
#: Seconds a buffered step *start* may wait for more to commit with (see the module docstring).
START_GRACE = 0.05

_COLS = ("run_id", "step", "pipeline", "seq", "attempt", "execution", "status", "started_at", "finished_at", "error", "result", "output", "reason")


class RunNotRecordedError(StoreUnavailableError):
    """The run ended but its end could not be committed: the database stayed unreachable.

    Carries the run's ``result`` (what happened, as far as this process knows) and the
    steps whose completion *is* committed (``known_done``): a resume skips exactly those.
    """

    def __init__(self, url: str, why: str, result: GroupExecutionResult | None, known_done: list[str]) -> None:
        self.result = result
        self.known_done = known_done
        super().__init__(url, why, advice=f"steps known done: {_names(known_done)}; resume the run when the database is back")


def _names(names: list[str]) -> str:
    if not names:
        return "none"
    shown = ", ".join(names[:NAMES_SHOWN])
    return shown + (f" … and {len(names) - NAMES_SHOWN} more" if len(names) > NAMES_SHOWN else "")


class _Sql:
    """The hot path's statements in the driver's parameter style."""

    def __init__(self, dialect: str) -> None:
        p = (lambda n: f":{n}") if dialect == "sqlite" else (lambda n: f"%({n})s")
        self.insert = f"INSERT INTO group_run_executions ({', '.join(_COLS)}) VALUES ({', '.join(p(c) for c in _COLS)})"
        sets = ("status", "started_at", "finished_at", "error", "result", "output", "reason")
        self.update = (
            f"UPDATE group_run_executions SET {', '.join(f'{c} = {p(c)}' for c in sets)} "
            f"WHERE run_id = {p('run_id')} AND step = {p('step')} AND attempt = {p('attempt')}"
        )
        self.letter = (
            "INSERT INTO dead_letters (run_id, group_name, step, pipeline, params, error, attempts, status, created_at) "
            f"VALUES ({p('run_id')}, {p('group_name')}, {p('step')}, {p('pipeline')}, {p('params')}, {p('error')}, {p('attempts')}, 'open', {p('created_at')})"
        )
        self.letter_again = f"UPDATE dead_letters SET error = {p('error')}, attempts = {p('attempts')} WHERE id = {p('id')} AND status = 'open'"
        self.resolve = (
            f"UPDATE dead_letters SET status = 'resolved', resolved_at = {p('at')}, resolved_by = {p('by')} "
            f"WHERE id = {p('id')} AND status = 'open'"
        )
        self.release = (
            "UPDATE pool_slots SET run_id = NULL, step = NULL, owner = NULL, claimed_at = NULL "
            f"WHERE owner = {p('owner')} AND run_id = {p('run_id')} AND step = {p('step')}"
        )
        self.release_all = f"UPDATE pool_slots SET run_id = NULL, step = NULL, owner = NULL, claimed_at = NULL WHERE owner = {p('owner')}"
        self.finish = (
            f"UPDATE group_runs SET status = {p('status')}, finished_at = {p('finished_at')}, message = {p('message')} "
            f"WHERE run_id = {p('run_id')} AND owner = {p('owner')}"
        )
        # the first execution also takes the runner's start time (the row was written just before it)
        self.finish_first = self.finish.replace(" WHERE", f", started_at = {p('started_at')} WHERE")
        self.begin = "BEGIN IMMEDIATE" if dialect == "sqlite" else None


class RunRecorder(RunHooks):
    """Records one execution of one run (see the module docstring)."""

    retry_seconds = 0.25

    def __init__(
        self,
        store: RunStore,
        plan: Any,
        *,
        run_id: str,
        owner: Owner,
        execution: int = 0,
        pools: PoolSlots | None = None,
        lease: Lease | None = None,
        dlq_run: str | None = None,
        open_letters: Mapping[str, int] | None = None,
        preset_rows: Mapping[str, Any] | None = None,
        lost_after: float = 30.0,
    ) -> None:
        self.store = store
        self.plan = plan
        self.run_id = run_id
        self.owner = owner
        self.execution = execution
        self.pools = pools
        self.lease = lease
        self.dlq_run = dlq_run or run_id
        self.open_letters = dict(open_letters or {})
        self.lost_after = lost_after
        steps = plan.steps
        self.names = [s.name for s in steps]
        self.pipelines = [s.pipeline for s in steps]
        index = {s.name: i for i, s in enumerate(steps)}
        self.index = index
        self.deps = [tuple(index[d] for d in s.depends_on) for s in steps]
        self.pool_of = [getattr(s, "pool", None) for s in steps]
        self.sqlite = store.dialect == "sqlite"
        self._t = sqlite_time if self.sqlite else (lambda t: t)
        self.sql = _Sql(store.dialect)
        self.inserts: dict[tuple[int, int], dict[str, Any]] = {}
        self.updates: list[dict[str, Any]] = []
        self.letters: list[dict[str, Any]] = []
        self.letters_again: list[dict[str, Any]] = []
        self.resolves: list[dict[str, Any]] = []
        self.releases: list[dict[str, Any]] = []
        self.final: dict[str, Any] | None = None
        self.pending_done: set[int] = set()
        self.known_done: list[str] = []
        self.started: set[int] = set()
        self.held: dict[int, int] = {}
        self.refused_pools: set[str] = set()
        self.down_since: float | None = None
        #: Something other than a step start is buffered (an end, a skip, a dead letter …).
        self.urgent = False
        #: When the oldest buffered start was buffered (``time.monotonic()``).
        self.starts_since: float | None = None
        self.failures = 0
        self.last_error = ""
        self.result: GroupExecutionResult | None = None
        self._conn: Any = None
        self._cur: Any = None
        for name, result in (preset_rows or {}).items():  # a replay shows its inputs as completed rows
            self.urgent = True
            i = index[name]
            self.inserts[(i, 0)] = self._row(i, 0, StepStatus.COMPLETED, None, None, result=result, reason=f"completed in run {self.dlq_run}")

    # -- events (buffer only) ----------------------------------------------------------------

    def event(self, e: RunEvent) -> None:
        kind = e.kind
        if kind is RunEventKind.STEP_STARTED:
            i = self.index[e.step]
            self.started.add(i)
            attempt = e.attempt or 1
            self.inserts[(i, attempt)] = self._row(i, attempt, StepStatus.RUNNING, e.at, None)
            if self.starts_since is None:
                self.starts_since = time.monotonic()
            return
        self.urgent = True
        if kind is RunEventKind.STEP_FINISHED:
            self._finished(e)
        elif kind is RunEventKind.STEP_RETRYING:
            rec = e.record
            self._end_attempt(self.index[e.step], rec.attempt, StepStatus.FAILED, rec, None, e.output, None)
        elif kind is RunEventKind.STEP_SKIPPED:
            i = self.index[e.step]
            self.inserts[(i, 0)] = self._row(i, 0, StepStatus.SKIPPED, None, None, reason=e.reason)
        elif kind is RunEventKind.RUN_FINISHED:
            self._run_finished(e.result)

    def _row(
        self, i: int, attempt: int, status: StepStatus, started: dt.datetime | None, finished: dt.datetime | None,
        *, error: Any = None, result: Any = None, output: str | None = None, reason: str | None = None,
    ) -> dict[str, Any]:
        return {
            "run_id": self.run_id, "step": self.names[i], "pipeline": self.pipelines[i], "seq": i, "attempt": attempt,
            "execution": self.execution, "status": status.value, "started_at": self._t(started), "finished_at": self._t(finished),
            "error": to_json(error.to_dict()) if error is not None else None, "result": to_json(result),
            "output": to_json(output) if output else None, "reason": reason,
        }

    def _end_attempt(self, i: int, attempt: int, status: StepStatus, rec: Any, result: Any, output: str | None, reason: str | None) -> None:
        t = self._t
        values = {
            "status": status.value, "started_at": t(rec.started_at) if rec is not None else None,
            "finished_at": t(rec.finished_at) if rec is not None else None,
            "error": to_json(rec.error.to_dict()) if rec is not None and rec.error is not None else None,
            "result": to_json(result), "output": to_json(output) if output else None, "reason": reason,
        }
        row = self.inserts.get((i, attempt))
        if row is not None:
            row.update(values)
        else:
            values |= {"run_id": self.run_id, "step": self.names[i], "attempt": attempt}
            self.updates.append(values)

    def _finished(self, e: RunEvent) -> None:
        i = self.index[e.step]
        status = e.status or StepStatus.FAILED
        attempt = e.attempt or 0
        rec = e.record
        if rec is None or rec.attempt != attempt:  # no attempt of its own in this execution (defensive)
            self.inserts[(i, attempt)] = self._row(i, attempt, status, None, None, error=e.error, reason=e.reason)
        else:
            result = e.result if status is StepStatus.COMPLETED else None
            self._end_attempt(i, attempt, status, rec, result, e.output, e.reason if status is StepStatus.CANCELLED else None)
        name = self.names[i]
        if status is StepStatus.COMPLETED:
            self.pending_done.add(i)
            entry = self.open_letters.pop(name, None)
            if entry is not None:
                self.resolves.append({"id": entry, "at": self._t(e.at), "by": self.run_id})
        elif status is StepStatus.FAILED:
            error = to_json(e.error.to_dict()) if e.error is not None else None
            entry = self.open_letters.get(name)
            if entry is not None:
                self.letters_again.append({"id": entry, "error": error, "attempts": e.attempt or 0})
            else:
                params = to_json(codec.encode(dict(self.plan.steps[i].params)))
                self.letters.append(
                    {"run_id": self.dlq_run, "group_name": self.plan.group.name, "step": name, "pipeline": self.pipelines[i],
                     "params": params, "error": error, "attempts": e.attempt or 0, "created_at": self._t(e.at)}
                )
        slot = self.held.pop(i, None)
        if slot is not None:
            self.releases.append({"owner": self.owner.token, "run_id": self.run_id, "step": name})

    def _run_finished(self, result: GroupExecutionResult) -> None:
        self.result = result
        for i, s in enumerate(result.step_executions):
            if s.status is StepStatus.CANCELLED and i not in self.started:  # never started: say why
                self.inserts[(i, 0)] = self._row(i, 0, StepStatus.CANCELLED, None, None, reason=s.reason)
        self.final = {
            "status": result.status.value, "finished_at": self._t(result.finished_at), "message": result.message,
            "run_id": self.run_id, "owner": self.owner.token,
        }
        if self.execution == 0:
            self.final["started_at"] = self._t(result.started_at)

    # -- hooks (the loop asks) ---------------------------------------------------------------

    def admit(self, i: int) -> bool:
        pending = self.pending_done
        if pending and any(d in pending for d in self.deps[i]):
            if not self._try_flush():
                return False  # a dependency's completion is not committed: the step waits
        if self.down_since is not None:
            return False  # the database is unreachable: start nothing new
        pool = self.pool_of[i]
        if pool is None or self.pools is None:
            return True
        if pool in self.refused_pools:
            return False
        try:
            slot = self.pools.claim(pool, self.run_id, self.names[i], self.owner)
        except StoreError as exc:
            self._down(exc)
            return False
        if slot is None:
            self.refused_pools.add(pool)
            return False
        self.held[i] = slot
        return True

    def turn_done(self) -> float | None:
        self.refused_pools.clear()
        if self._buffered():
            if not self.urgent and self.down_since is None and self.starts_since is not None:
                left = START_GRACE - (time.monotonic() - self.starts_since)
                if left > 0:
                    return left  # only starts so far: give them a moment to commit with their ends
            if not self._try_flush():
                return self._backoff()
        elif self.down_since is not None:
            if not self._probe():
                return self._backoff()
        # wake at least once per heartbeat, so a lease that stopped renewing (the database
        # gone while a long step runs) ends the run in time, not when the step returns
        return self.lease.interval if self.lease is not None else None

    def abort_reason(self) -> str | None:
        lease = self.lease
        if lease is not None and lease.lost:
            return "another process took this run over (this process could not renew its lease in time); stopping here"
        since = [t for t in (self.down_since, lease.failing_since if lease is not None else None) if t is not None]
        if since and time.monotonic() - min(since) > self.lost_after:
            why = self.last_error or (lease.last_error if lease is not None else "") or "unreachable"
            return (
                f"lost the database {self.store.shown} for more than {self.lost_after:g} s ({why}); "
                f"steps known done: {_names(self.known_done)}"
            )
        return None

    # -- committing --------------------------------------------------------------------------

    def _buffered(self) -> bool:
        return bool(self.inserts or self.updates or self.letters or self.letters_again or self.resolves or self.releases or self.final)

    def _backoff(self) -> float:
        return min(2.0, 0.05 * (2 ** min(self.failures, 6)))

    def _down(self, exc: BaseException) -> None:
        self.failures += 1
        self.last_error = getattr(exc, "why", None) or str(exc)
        if self.down_since is None:
            self.down_since = time.monotonic()

    def _raw(self) -> Any:
        if self._conn is None:
            try:
                self._conn = self.store.engine.raw_connection()
            except Exception as exc:
                raise translate(exc, self.store.url) from exc
        return self._conn

    def _drop_connection(self) -> None:
        conn, self._conn, self._cur = self._conn, None, None
        if conn is not None:
            try:
                conn.invalidate()
            except Exception:
                pass

    def _try_flush(self) -> bool:
        try:
            self.flush()
        except StoreError as exc:
            self._down(exc)
            return False
        return True

    def _probe(self) -> bool:
        try:
            cur = self._raw().cursor()
            cur.execute("SELECT 1")
            cur.fetchall()
            cur.close()
            if not self.sqlite:
                self._conn.rollback()
        except StoreError as exc:
            self._down(exc)
            return False
        except Exception as exc:
            self._drop_connection()
            self._down(translate(exc, self.store.url))
            return False
        self.down_since, self.failures = None, 0
        return True

    def flush(self) -> None:
        """Commit everything buffered in one transaction; on failure keep it all and raise."""
        if not self._buffered():
            return
        sql = self.sql
        conn = self._raw()
        try:
            cur = self._cur
            if cur is None:
                cur = self._cur = conn.cursor()
            if sql.begin:
                cur.execute(sql.begin)
            if self.inserts:
                cur.executemany(sql.insert, list(self.inserts.values()))
            if self.updates:
                cur.executemany(sql.update, self.updates)
            if self.letters:
                cur.executemany(sql.letter, self.letters)
            if self.letters_again:
                cur.executemany(sql.letter_again, self.letters_again)
            if self.resolves:
                cur.executemany(sql.resolve, self.resolves)
            if self.releases:
                cur.executemany(sql.release, self.releases)
            if self.final is not None:
                cur.execute(sql.finish_first if "started_at" in self.final else sql.finish, self.final)
                cur.execute(sql.release_all, {"owner": self.owner.token})
            if self.sqlite:
                cur.execute("COMMIT")
            else:
                conn.commit()
        except BaseException as exc:
            self._drop_connection()  # closing rolls the transaction back; the retry gets a fresh connection
            if isinstance(exc, Exception):
                raise translate(exc, self.store.url) from exc
            raise
        self.known_done.extend(self.names[i] for i in sorted(self.pending_done))
        self.pending_done.clear()
        self.inserts.clear()
        self.updates.clear()
        self.letters.clear()
        self.letters_again.clear()
        self.resolves.clear()
        self.releases.clear()
        self.final = None
        self.urgent = False
        self.starts_since = None
        self.down_since, self.failures = None, 0

    def abandon(self, message: str) -> None:
        """The runner raised instead of returning a result: commit what is buffered and mark
        the run failed with ``message`` (best effort: the lease expiring is the fallback)."""
        now = dt.datetime.now(dt.UTC)
        self.final = {"status": "failed", "finished_at": self._t(now), "message": message, "run_id": self.run_id, "owner": self.owner.token}
        try:
            self.flush()
        except StoreError:
            pass  # the run stays "running" until its lease expires, then shows as orphaned
        finally:
            conn, self._conn, self._cur = self._conn, None, None
            if conn is not None:
                try:
                    conn.close()
                except Exception:
                    pass

    def close(self, result: GroupExecutionResult | None = None) -> None:
        """Commit the end of the run (retrying for up to ``lost_after`` seconds) and let the
        connection go. Raises :class:`RunNotRecordedError` when it cannot."""
        if result is not None and self.result is None:
            self._run_finished(result)
        deadline = time.monotonic() + self.lost_after
        try:
            while True:
                try:
                    self.flush()
                    return
                except StoreError as exc:
                    self._down(exc)
                    if time.monotonic() + self._backoff() > deadline:
                        raise RunNotRecordedError(self.store.shown, self.last_error, self.result, list(self.known_done)) from exc
                time.sleep(self._backoff())
        finally:
            conn, self._conn, self._cur = self._conn, None, None
            if conn is not None:
                try:
                    conn.close()
                except Exception:
                    pass


__all__ = ["RunNotRecordedError", "RunRecorder"]
