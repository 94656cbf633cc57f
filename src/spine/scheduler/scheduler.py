"""``Scheduler``: fire due schedules as recorded runs, each tick claimed in the store first.

One *pass* (:meth:`Scheduler.run_once`), at a time ``now`` (the clock, or ``--now``):

1. **Recover.** Claims a scheduler left open when it stopped (lease expired, run not
   alive) are taken over and *completed*: an orphaned run is resumed (it keeps its run
   id; completed steps do not run again), a run that ended has its end recorded, a claim
   that never started its run fires it. No fire is lost and none is doubled.
2. **Find what is due.** For every enabled, unpaused schedule: the ticks after its last
   fire up to ``now`` — only the latest with ``catchup: false``, each (the newest
   ``max_catchup``, oldest first) with ``catchup: true``. A schedule never fired before
   fires its latest tick. ``last_fire`` never moves back, so after the clock jumps back
   nothing is due again.
3. **Claim, then fire.** Each tick is claimed (a unique row in ``schedule_fires``) before
   anything runs; a tick another scheduler claimed is skipped. ``last_fire`` advances
   with the claim. A fire renders the schedule's params for its logical date, plans the
   group, and runs it with :func:`spine.store.record_run` (``max_active_runs`` and pools
   apply; a fire waits for a place rather than failing). A group that is invalid, or
   cannot be planned, records a *failed fire with its findings*; the scheduler goes on.

The ticks of one schedule fire one after another, oldest first; different schedules fire
in parallel (``max_workers`` threads). While a fire is in flight a thread keeps its claim's
lease alive (so a fire waiting for ``max_active_runs`` is not taken over).

Table of state (all in the store)::

    schedule_fires[(group, schedule, logical_time)]   the claim: holder, lease, run_id, status, findings
    schedule_state[(group, schedule)]                  paused, last_fire
    group_runs.schedule / logical_date                 the runs fires started
"""

from __future__ import annotations

import datetime as dt
import logging
import threading
from collections.abc import Callable, Iterable, Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Any

from spine.core.errors import GroupError
from spine.core.findings import Code, Finding, Severity
from spine.framework.context import CancelToken
from spine.orchestration.models import GroupRunStatus, PipelineGroup, Schedule
from spine.runner.runner import GroupRunner, new_run_id
from spine.scheduler.context import FireTime, context, fire_time, render_params
from spine.store.control import StoreTuning, record_run, resume_run
from spine.store.errors import StoreError
from spine.store.records import Owner
from spine.store.schedules import Claim, Fire, FireOrigin, FireStatus, ScheduleFires, ScheduleState
from spine.store.store import RunStore

log = logging.getLogger("spine.scheduler")


@dataclass(frozen=True, slots=True)
class ScheduledGroup:
    """A group as the scheduler sees it: the definition (maybe invalid) and the errors that
    keep it from running (empty: it is valid)."""

    group: PipelineGroup
    errors: tuple[Finding, ...] = ()


class FireAction:
    """What a pass did with one tick (``FireOutcome.action``)."""

    FIRED = "fired"  #: claimed and run
    RESUMED = "resumed"  #: a stale claim taken over; its orphaned run resumed
    RECORDED = "recorded"  #: a stale claim taken over; its run had ended, the end recorded
    INVALID = "invalid"  #: claimed, but the group could not be planned: a failed fire with findings
    HELD = "held"  #: claimed elsewhere (another scheduler): skipped here


@dataclass(frozen=True, slots=True)
class FireOutcome:
    """One tick handled by a pass."""

    group: str
    schedule: str
    logical_date: dt.datetime
    action: str
    status: FireStatus | None = None
    run_id: str | None = None
    findings: tuple[Finding, ...] = ()
    message: str | None = None

    def to_dict(self) -> dict[str, Any]:
        from spine.scheduler.context import local_iso as iso

        return {
            "group": self.group, "schedule": self.schedule, "logical_date": iso(self.logical_date), "action": self.action,
            "status": self.status.value if self.status is not None else None, "run_id": self.run_id,
            "findings": [f.to_dict() for f in self.findings], "message": self.message,
        }


@dataclass(frozen=True, slots=True)
class Due:
    """The ticks of one schedule due in a pass."""

    entry: ScheduledGroup
    schedule: Schedule
    ticks: tuple[dt.datetime, ...]
    #: Missed ticks left out (``catchup: false``, or beyond ``max_catchup``).
    skipped: int = 0


def due_ticks(schedule: Schedule, state: ScheduleState, now: dt.datetime) -> tuple[list[dt.datetime], int]:
    """The ticks of ``schedule`` to fire at ``now`` and how many missed ones are left out
    (see the module docstring, step 2)."""
    from spine.orchestration.cron import latest_tick, ticks_between

    if state.last_fire is None:
        latest = latest_tick(schedule.cron, schedule.timezone, now)
        return ([latest] if latest is not None else []), 0
    if now <= state.last_fire:
        return [], 0
    window = schedule.max_catchup if schedule.catchup else 1
    # walk forward from the last fire, keeping only the newest `window` (bounded memory)
    kept: list[dt.datetime] = []
    seen = 0
    for t in ticks_between(schedule.cron, schedule.timezone, state.last_fire, now):
        seen += 1
        kept.append(t)
        if len(kept) > window:
            kept.pop(0)
    return kept, seen - len(kept)


class _ClaimKeeper:
    """Extends a claim's lease from a daemon thread while its fire is in flight."""

    def __init__(self, fires: ScheduleFires, fire: Fire, owner: Owner, interval: float) -> None:
        self.fires, self.fire, self.owner, self.interval = fires, fire, owner, interval
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name=f"spine-claim-{fire.id}", daemon=True)

    def __enter__(self) -> _ClaimKeeper:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join(timeout=10)

    def _run(self) -> None:
        while not self._stop.wait(self.interval):
            try:
                self.fires.extend(self.fire, self.owner)
            except StoreError as exc:  # the database is away: the run's own lease decides
                log.warning("claim %s: lease not extended: %s", self.fire.id, exc)


@dataclass
class Scheduler:
    """Fires due schedules (see the module docstring).

    ``load()`` returns the groups to schedule, read again at every pass (a group file that
    changed or broke is seen at the next pass). ``make_runner()`` builds a runner per fire.
    """

    store: RunStore
    load: Callable[[], Sequence[ScheduledGroup]]
    registry: Any
    make_runner: Callable[[], GroupRunner]
    pools: Mapping[str, int] = field(default_factory=dict)
    tuning: StoreTuning = field(default_factory=StoreTuning)
    max_workers: int = 4
    cancel: CancelToken = field(default_factory=CancelToken)
    #: Called with each outcome as it happens (the CLI prints a line).
    on_outcome: Callable[[FireOutcome], None] | None = None

    def __post_init__(self) -> None:
        self.fires = ScheduleFires(self.store)
        self.owner = Owner.here(self.tuning.lease_seconds)

    # -- one pass --------------------------------------------------------------------------

    def due(self, groups: Sequence[ScheduledGroup], now: dt.datetime) -> list[Due]:
        """What is due at ``now`` (step 2), without claiming anything."""
        states = self.fires.states()
        out = []
        for entry in groups:
            for schedule in entry.group.schedules:
                state = states.get((entry.group.name, schedule.name), ScheduleState())
                if not schedule.enabled or state.paused:
                    continue
                ticks, skipped = due_ticks(schedule, state, now)
                if ticks:
                    out.append(Due(entry, schedule, tuple(ticks), skipped))
        return out

    def run_once(self, now: dt.datetime | None = None) -> list[FireOutcome]:
        """One pass at ``now`` (default: the clock); returns what it did, in order."""
        now = now or dt.datetime.now(dt.UTC)
        if now.tzinfo is None:
            raise ValueError("now must be timezone-aware")
        groups = list(self.load())
        by_name = {e.group.name: e for e in groups}
        outcomes: list[FireOutcome] = []
        lock = threading.Lock()

        def note(o: FireOutcome) -> None:
            with lock:
                outcomes.append(o)
            if self.on_outcome is not None:
                self.on_outcome(o)

        # a backfill's open claims are completed by running that backfill again (it knows its --param values)
        for fire in self.fires.stale(groups=list(by_name), origin=FireOrigin.SCHEDULER):
            self._recover(fire, by_name[fire.group], note)
        work = self.due(groups, now)
        if not work:
            return outcomes
        with ThreadPoolExecutor(max_workers=max(1, min(self.max_workers, len(work))), thread_name_prefix="spine-fire") as pool:
            futures = [pool.submit(self._fire_schedule, d, note) for d in work]
            for f in futures:
                f.result()
        return outcomes

    def run_forever(self, *, interval: float = 30.0, stop: threading.Event | None = None,
                    clock: Callable[[], dt.datetime] | None = None) -> None:
        """Passes until ``stop`` is set (or the cancel token): one now, then one every
        ``interval`` seconds or at the next tick, whichever is sooner."""
        stop = stop or threading.Event()
        clock = clock or (lambda: dt.datetime.now(dt.UTC))
        while not stop.is_set() and not self.cancel.is_set():
            now = clock()
            try:
                self.run_once(now)
            except StoreError as exc:  # the database is away: try again at the next pass
                log.warning("scheduler pass failed: %s", exc)
            wait = self._until_next(clock(), interval)
            stop.wait(wait)

    def _until_next(self, now: dt.datetime, interval: float) -> float:
        from spine.orchestration.cron import next_ticks

        soonest = interval
        try:
            groups = list(self.load())
        except (GroupError, OSError):
            return interval
        for e in groups:
            for s in e.group.schedules:
                if s.enabled:
                    nxt = next_ticks(s.cron, s.timezone, now, 1)
                    if nxt:
                        soonest = min(soonest, max(0.0, (nxt[0] - now).total_seconds()) + 0.5)
        return soonest

    # -- firing ----------------------------------------------------------------------------

    def _fire_schedule(self, due: Due, note: Callable[[FireOutcome], None]) -> None:
        group, schedule = due.entry.group, due.schedule
        if due.skipped:
            log.info("%s/%s: %d missed tick(s) not fired (catchup: %s)", group.name, schedule.name, due.skipped, schedule.catchup)
        for tick in due.ticks:
            if self.cancel.is_set():
                return
            claim = self.fires.claim(group.name, schedule.name, tick, self.owner, origin=FireOrigin.SCHEDULER)
            self.fires.advance(group.name, schedule.name, tick)
            if claim is None:
                note(FireOutcome(group.name, schedule.name, tick, FireAction.HELD, message="claimed by another scheduler"))
                continue
            note(self.fire(due.entry, schedule, claim))

    def fire(self, entry: ScheduledGroup, schedule: Schedule, claim: Claim) -> FireOutcome:
        """Run the fire ``claim`` holds for ``schedule`` (render params, plan, run, record) and close the claim."""
        when = fire_time(schedule.cron, schedule.timezone, claim.fire.logical_time)
        return self.fire_claim(entry, claim, name=schedule.name, params=schedule.params, when=when, cron=schedule.cron,
                               timezone=schedule.timezone)

    def fire_claim(self, entry: ScheduledGroup, claim: Claim, *, name: str, params: Mapping[str, Any], when: FireTime,
                   cron: str | None = None, timezone: str = "UTC") -> FireOutcome:
        """Render ``params`` for ``when``, plan, run and record; a group that cannot be planned
        closes the claim as a failed fire with the findings."""
        group = entry.group
        with _ClaimKeeper(self.fires, claim.fire, self.owner, self.tuning.heartbeat_seconds):
            made = self._plan(entry, name, dict(params), when, cron=cron, timezone=timezone)
            if isinstance(made, tuple):
                findings = made
                self.fires.finish(claim.fire, self.owner, FireStatus.FAILED, findings=findings)
                return FireOutcome(group.name, name, when.logical_date, FireAction.INVALID, FireStatus.FAILED, findings=findings,
                                   message=f"the group cannot run: {len(findings)} problem(s); a failed fire was recorded")
            return self._run(claim, made, name, when.logical_date)

    def _plan(self, entry: ScheduledGroup, name: str, params: dict[str, Any], when: FireTime, *, cron: str | None, timezone: str) -> Any:
        """The plan of one fire, or the findings that keep it from running (a tuple)."""
        from spine.orchestration.planner import PlanResolver
        from spine.store.control import check_pools
        from spine.store.errors import UnknownPoolError

        group = entry.group
        errors = tuple(f for f in entry.errors if f.severity is Severity.ERROR)
        if errors:
            return errors
        try:
            ctx = context(group, name, when, cron=cron, timezone=timezone)
            rendered = render_params(group, params, ctx, what=f"schedule {name!r}")
            plan = PlanResolver(self.registry).resolve(group, rendered)
            check_pools(plan, self.pools)
        except GroupError as exc:
            return tuple(f.with_context(group=group.name) for f in exc.findings)
        except UnknownPoolError as exc:
            return (Finding(Code.INVALID_VALUE, str(exc), group=group.name),)
        return plan

    def _run(self, claim: Claim, plan: Any, schedule: str, logical_date: dt.datetime) -> FireOutcome:
        group = plan.group.name
        run_id = new_run_id()
        if not self.fires.attach(claim.fire, self.owner, run_id, params=dict(plan.params)):
            return FireOutcome(group, schedule, logical_date, FireAction.HELD, message="the claim was taken over before the run started")
        from spine.store.control import WaitCancelled

        try:
            result = record_run(
                self.store, plan, self.make_runner(), cancel=self.cancel, pools=self.pools, wait=True, tuning=self.tuning,
                run_id=run_id, schedule=schedule, logical_date=logical_date,
            )
        except WaitCancelled:  # stopped while waiting for max_active_runs: the claim stays open; the next scheduler fires it
            return FireOutcome(group, schedule, logical_date, FireAction.HELD, message="stopped while waiting for a place; not run")
        status = _fire_status(result.status)
        self.fires.finish(claim.fire, self.owner, status)
        return FireOutcome(group, schedule, logical_date, FireAction.FIRED, status, run_id=run_id, message=result.message)

    # -- recovery --------------------------------------------------------------------------

    def _recover(self, stale: Fire, entry: ScheduledGroup, note: Callable[[FireOutcome], None]) -> None:
        """Take over a stale claim and complete it (see the module docstring, step 1)."""
        schedule = next((s for s in entry.group.schedules if s.name == stale.schedule), None)
        claim = self.fires.claim(stale.group, stale.schedule, stale.logical_time, self.owner, origin=stale.origin)
        if claim is None or claim.previous is None:
            return  # someone else recovers it (or it was just finished)
        out = self.complete(claim, entry, schedule)
        if schedule is not None:  # the logical date in the schedule's timezone, as fires show it
            from dataclasses import replace

            from spine.orchestration.cron import zone

            out = replace(out, logical_date=out.logical_date.astimezone(zone(schedule.timezone)))
        note(out)

    def complete(self, claim: Claim, entry: ScheduledGroup, schedule: Schedule | None) -> FireOutcome:
        """Complete a claim taken over from a process that stopped."""
        fire = claim.fire
        run_id = claim.previous.run_id if claim.previous is not None else None
        summary = None
        if run_id is not None:
            from spine.store.errors import RunNotFoundError

            try:
                summary = self.store.run(run_id)
            except RunNotFoundError:
                summary = None  # the claim named its run, but the run never started
        if summary is None:
            if schedule is None:  # the schedule is gone from the group: nothing to fire
                self.fires.finish(fire, self.owner, FireStatus.FAILED, findings=[
                    Finding(Code.SCHEDULE_NOT_FOUND, f"schedule {fire.schedule!r} is no longer in group {fire.group!r}", group=fire.group)])
                return FireOutcome(fire.group, fire.schedule, fire.logical_time, FireAction.INVALID, FireStatus.FAILED)
            return self.fire(entry, schedule, claim)
        if summary.status is GroupRunStatus.RUNNING:
            return self.resume(claim, summary.run_id)
        status = _fire_status(summary.status)
        self.fires.finish(fire, self.owner, status, run_id=summary.run_id)
        return FireOutcome(fire.group, fire.schedule, fire.logical_time, FireAction.RECORDED, status, run_id=summary.run_id)

    def resume(self, claim: Claim, run_id: str) -> FireOutcome:
        """Resume the run of a claimed fire (it keeps its run id) and close the claim with its end."""
        fire = claim.fire
        with _ClaimKeeper(self.fires, fire, self.owner, self.tuning.heartbeat_seconds):
            self.fires.attach(fire, self.owner, run_id)
            result = resume_run(
                self.store, run_id, registry=self.registry, make_runner=lambda _opts: self.make_runner(),
                cancel=self.cancel, pools=self.pools, tuning=self.tuning,
            )
        status = _fire_status(result.status)
        self.fires.finish(fire, self.owner, status, run_id=run_id)
        return FireOutcome(fire.group, fire.schedule, fire.logical_time, FireAction.RESUMED, status, run_id=run_id, message=result.message)


def _fire_status(status: GroupRunStatus) -> FireStatus:
    """A run's end as a fire's status (a run still pending or running counts as failed)."""
    try:
        found = FireStatus(status.value)
    except ValueError:
        return FireStatus.FAILED
    return FireStatus.FAILED if found.open else found


def scheduled(groups: Iterable[ScheduledGroup]) -> list[ScheduledGroup]:
    """Only the groups that have schedules."""
    return [g for g in groups if g.group.schedules]


__all__ = ["Due", "FireAction", "FireOutcome", "ScheduledGroup", "Scheduler", "due_ticks", "scheduled"]
