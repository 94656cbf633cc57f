"""``spine group backfill``: one recorded run per logical date in a range.

The dates come from a schedule's cron (``--schedule S``: its ticks in the range, in its
timezone, with its params rendered for each date as for a fire) or from a fixed interval
(``--every 7d``: the first day at 00:00 UTC, then every interval). ``--param`` values are
rendered with the same context (``schedule.logical_date`` …) and override the schedule's.

Each date is a *fire* claimed in the store under the schedule's name (``every:7d`` for an
interval), exactly like the scheduler's — so a backfill and the scheduler never both run
one tick. Running a backfill again:

- a date whose fire **completed** is skipped (``--rerun`` runs it again, as a new run);
- a date whose run **failed**, ended **partial** or was **cancelled** is *resumed* (the
  same run id; its completed steps do not run again);
- a date another process is running is left to it; a date left open by a process that
  stopped is taken over (its run resumed).

At most ``max_active`` dates run at once, and never more than the group's
``policy.max_active_runs`` (each run also passes the store's guard).
"""

from __future__ import annotations

import datetime as dt
import re
import threading
from collections.abc import Callable, Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Any

from spine.core.errors import GroupError, SpineError
from spine.core.findings import Finding
from spine.orchestration.models import PipelineGroup, Schedule
from spine.scheduler.context import FireTime, context, fire_time, interval_time, local_iso, render_params
from spine.scheduler.scheduler import FireOutcome, ScheduledGroup, Scheduler
from spine.store.schedules import FireOrigin, FireStatus

#: The most dates one backfill may cover.
MAX_DATES = 10_000
_EVERY = re.compile(r"^\s*(\d+)\s*([smhdw])\s*$")
_UNITS = {"s": "seconds", "m": "minutes", "h": "hours", "d": "days", "w": "weeks"}


class BackfillError(SpineError):
    """A backfill that cannot be planned as asked (a usage error: exit 2)."""

    exit_code = 2


def parse_every(text: str) -> dt.timedelta:
    """``7d`` → 7 days (units s, m, h, d, w); :class:`BackfillError` otherwise."""
    m = _EVERY.match(text)
    if not m or int(m.group(1)) == 0:
        raise BackfillError(f"--every {text!r}: give a positive whole number and a unit: 30m, 6h, 1d, 7d, 2w")
    return dt.timedelta(**{_UNITS[m.group(2)]: int(m.group(1))})


def every_name(text: str) -> str:
    """The fire key of an interval backfill: ``every:7d``."""
    return "every:" + text.strip()


@dataclass(frozen=True, slots=True)
class BackfillDate:
    """One run of a backfill: its logical date (and data interval) and its run params."""

    when: FireTime
    params: Mapping[str, Any]

    def to_dict(self) -> dict[str, Any]:
        from spine.core.jsonable import plain

        return {
            "logical_date": local_iso(self.when.logical_date),
            "data_interval_start": local_iso(self.when.data_interval_start),
            "data_interval_end": local_iso(self.when.data_interval_end),
            "params": plain(_jsonable(self.params)),
        }


def _jsonable(value: Any) -> Any:
    if isinstance(value, dt.datetime):
        return value.isoformat()
    if isinstance(value, dt.date):
        return value.isoformat()
    if isinstance(value, Mapping):
        return {k: _jsonable(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_jsonable(v) for v in value]
    return value


@dataclass(frozen=True, slots=True)
class BackfillPlan:
    """The dates of a backfill and the name its fires are claimed under."""

    group: PipelineGroup
    key: str
    dates: tuple[BackfillDate, ...]
    schedule: Schedule | None = None


def plan_backfill(
    group: PipelineGroup, start: dt.date, end: dt.date, *, schedule: str | None = None, every: str | None = None,
    params: Mapping[str, Any] | None = None,
) -> BackfillPlan:
    """The logical dates from ``start`` to ``end`` (both days included) and each date's run
    params; :class:`BackfillError` for a bad range or schedule, :class:`PlanResolutionError`
    for a template that fails."""
    from spine.core.suggest import did_you_mean
    from spine.orchestration.cron import ticks_between, zone

    if (schedule is None) == (every is None):
        raise BackfillError("choose the dates with --schedule NAME (the schedule's cron) or --every INTERVAL (e.g. 7d), not both or neither")
    if end < start:
        raise BackfillError(f"--to {end.isoformat()} is before --from {start.isoformat()}")
    extra = dict(params or {})
    if schedule is not None:
        found = next((s for s in group.schedules if s.name == schedule), None)
        if found is None:
            names = [s.name for s in group.schedules]
            known = ", ".join(names) if names else "none: add spec.schedules, or use --every"
            raise BackfillError(f"group {group.name!r} has no schedule {schedule!r}{did_you_mean(schedule, names)} (schedules: {known})")
        tz = zone(found.timezone)
        lo = dt.datetime.combine(start, dt.time(), tz) - dt.timedelta(microseconds=1)
        hi = dt.datetime.combine(end + dt.timedelta(days=1), dt.time(), tz) - dt.timedelta(microseconds=1)
        ticks = ticks_between(found.cron, found.timezone, lo, hi, limit=MAX_DATES + 1)
        times = [fire_time(found.cron, found.timezone, t) for t in ticks]
        base: dict[str, Any] = {**dict(found.params), **extra}
        key, cron, timezone = found.name, found.cron, found.timezone
    else:
        assert every is not None
        step = parse_every(every)
        t = dt.datetime.combine(start, dt.time(), dt.UTC)
        hi = dt.datetime.combine(end + dt.timedelta(days=1), dt.time(), dt.UTC)
        times = []
        while t < hi and len(times) <= MAX_DATES:
            times.append(interval_time(t, step))
            t += step
        base, key, cron, timezone = extra, every_name(every), None, "UTC"
        found = None
    if len(times) > MAX_DATES:
        raise BackfillError(f"the range holds more than {MAX_DATES:,} dates; backfill a shorter range at a time")
    dates = tuple(
        BackfillDate(w, render_params(group, base, context(group, key, w, cron=cron, timezone=timezone), what=f"backfill {key!r}"))
        for w in times
    )
    return BackfillPlan(group, key, dates, found)


class BackfillAction:
    """What a backfill did with one date."""

    RAN = "ran"  #: a new run
    RESUMED = "resumed"  #: its earlier run (failed, partial, cancelled, or orphaned) resumed
    SKIPPED = "skipped"  #: completed before (``--rerun`` runs it again)
    HELD = "held"  #: another process is running it
    INVALID = "invalid"  #: the group could not be planned for it: a failed fire with findings


@dataclass(frozen=True, slots=True)
class BackfillOutcome:
    """One date of a backfill, done."""

    logical_date: dt.datetime
    action: str
    status: FireStatus | None = None
    run_id: str | None = None
    message: str | None = None
    findings: tuple[Finding, ...] = ()

    def to_dict(self) -> dict[str, Any]:
        return {
            "logical_date": local_iso(self.logical_date), "action": self.action,
            "status": self.status.value if self.status is not None else None, "run_id": self.run_id,
            "message": self.message, "findings": [f.to_dict() for f in self.findings],
        }


@dataclass
class Backfill:
    """Runs a :class:`BackfillPlan` (see the module docstring)."""

    scheduler: Scheduler
    plan: BackfillPlan
    max_active: int = 1
    rerun: bool = False
    on_outcome: Callable[[BackfillOutcome], None] | None = None
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def run(self) -> list[BackfillOutcome]:
        width = max(1, min(self.max_active, self.plan.group.policy.max_active_runs, len(self.plan.dates) or 1))
        outcomes: list[BackfillOutcome] = []
        with ThreadPoolExecutor(max_workers=width, thread_name_prefix="spine-backfill") as pool:
            for out in pool.map(self._one, self.plan.dates):
                outcomes.append(out)
        return outcomes

    def _one(self, date: BackfillDate) -> BackfillOutcome:
        s = self.scheduler
        if s.cancel.is_set():
            return self._tell(BackfillOutcome(date.when.logical_date, BackfillAction.HELD, message="cancelled before it started"))
        g = self.plan.group
        retake = {FireStatus.FAILED, FireStatus.PARTIAL, FireStatus.CANCELLED} | ({FireStatus.COMPLETED} if self.rerun else set())
        claim = s.fires.claim(g.name, self.plan.key, date.when.logical_date, s.owner, origin=FireOrigin.BACKFILL, retake=retake)
        if claim is None:
            existing = s.fires.at(g.name, self.plan.key, [date.when.logical_date]).get(date.when.logical_date)
            if existing is not None and existing.status is FireStatus.COMPLETED:
                return self._tell(BackfillOutcome(date.when.logical_date, BackfillAction.SKIPPED, FireStatus.COMPLETED, existing.run_id,
                                                  "completed before (--rerun runs it again)"))
            return self._tell(BackfillOutcome(date.when.logical_date, BackfillAction.HELD, run_id=existing.run_id if existing else None,
                                              message="another process is running it"))
        entry = ScheduledGroup(g)
        prev = claim.previous
        if prev is not None and prev.run_id is not None and not (self.rerun and prev.status is FireStatus.COMPLETED):
            from spine.orchestration.models import GroupRunStatus
            from spine.store.errors import RunNotFoundError

            try:
                summary = s.store.run(prev.run_id)
            except RunNotFoundError:
                summary = None  # the claim named its run, but the run never started: run it now
            if summary is not None and summary.status is GroupRunStatus.COMPLETED:  # its process stopped right after the run
                s.fires.finish(claim.fire, s.owner, FireStatus.COMPLETED, run_id=summary.run_id)
                return self._tell(BackfillOutcome(date.when.logical_date, BackfillAction.SKIPPED, FireStatus.COMPLETED, summary.run_id,
                                                  "completed before (--rerun runs it again)"))
            if summary is not None:
                return self._tell(_from_fire(s.resume(claim, prev.run_id), BackfillAction.RESUMED, date))
        out = s.fire_claim(entry, claim, name=self.plan.key, params=date.params, when=date.when,
                           cron=self.plan.schedule.cron if self.plan.schedule else None,
                           timezone=self.plan.schedule.timezone if self.plan.schedule else "UTC")
        return self._tell(_from_fire(out, BackfillAction.INVALID if out.findings else BackfillAction.RAN, date))

    def _tell(self, out: BackfillOutcome) -> BackfillOutcome:
        if self.on_outcome is not None:
            with self._lock:
                self.on_outcome(out)
        return out


def _from_fire(out: FireOutcome, action: str, date: BackfillDate) -> BackfillOutcome:
    return BackfillOutcome(date.when.logical_date, action, out.status, out.run_id, out.message, out.findings)


def run_backfill(scheduler: Scheduler, plan: BackfillPlan, *, max_active: int = 1, rerun: bool = False,
                 on_outcome: Callable[[BackfillOutcome], None] | None = None) -> list[BackfillOutcome]:
    """Run every date of ``plan`` with ``scheduler``'s store, runner and pools; outcomes in date order."""
    return Backfill(scheduler, plan, max_active, rerun, on_outcome).run()


def summarise(outcomes: Sequence[BackfillOutcome]) -> dict[str, int]:
    """How many dates ended in each way (``completed``, ``failed``, ``skipped`` …)."""
    counts: dict[str, int] = {}
    for o in outcomes:
        key = o.action if o.action in (BackfillAction.SKIPPED, BackfillAction.HELD) else (o.status.value if o.status else o.action)
        counts[key] = counts.get(key, 0) + 1
    return counts


__all__ = [
    "MAX_DATES",
    "Backfill",
    "BackfillAction",
    "BackfillDate",
    "BackfillError",
    "BackfillOutcome",
    "BackfillPlan",
    "every_name",
    "parse_every",
    "plan_backfill",
    "run_backfill",
    "summarise",
]
