"""Claims on schedule ticks, and each schedule's state: what makes a double fire impossible.

A fire is one row of ``schedule_fires``, unique per (group, schedule, logical time). A
process fires a tick only after it *claimed* it: it inserted that row (``INSERT … ON
CONFLICT DO NOTHING``; of several racing schedulers exactly one inserts), or took over a
claim whose holder stopped. A claim carries a lease like a run's: its holder's token and a
time after which it counts as abandoned — unless the run it started is still alive
(heartbeating), which keeps the claim alive too.

Life of a fire::

    claimed ──attach(run_id)──▶ running ──finish──▶ completed | failed | partial | cancelled
       └──────────finish (the group could not be planned: failed, with findings)──────▶

A claim left ``claimed`` or ``running`` by a process that died is *stale* once its lease
expired and its run (if any) is not alive; :meth:`ScheduleFires.claim` hands it to the
next claimant, with the row as it was (``Claim.previous``) so it can complete what was
started (resume the orphaned run, or record how the run ended) instead of firing again.

``schedule_state`` keeps each schedule's pause flag and the newest tick fired
(``last_fire``), which only ever moves forward: after a clock jumps back, no tick at or
before it is due again.
"""

from __future__ import annotations

import datetime as dt
import enum
from collections.abc import Collection, Iterable, Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import sqlalchemy as sa

from spine.orchestration.models import GroupRunStatus
from spine.runner.results import iso
from spine.store.schema import group_runs, schedule_fires, schedule_state

if TYPE_CHECKING:
    from spine.store.records import Owner
    from spine.store.store import RunStore


class FireStatus(enum.Enum):
    """Where a fire stands."""

    CLAIMED = "claimed"  #: claimed, no run yet (or the run could not start)
    RUNNING = "running"  #: its run was started (``run_id`` names it)
    COMPLETED = "completed"  #: its run completed
    FAILED = "failed"  #: its run failed, or the group could not be planned (``findings``)
    PARTIAL = "partial"  #: its run ended partial
    CANCELLED = "cancelled"  #: its run was cancelled

    @property
    def open(self) -> bool:
        return self in (FireStatus.CLAIMED, FireStatus.RUNNING)


class FireOrigin(enum.Enum):
    """Who fired it."""

    SCHEDULER = "scheduler"  #: ``spine scheduler run``
    BACKFILL = "backfill"  #: ``spine group backfill``


@dataclass(frozen=True, slots=True)
class Fire:
    """One row of ``schedule_fires``."""

    id: int
    group: str
    schedule: str
    logical_time: dt.datetime
    origin: FireOrigin
    status: FireStatus
    claimed_by: str
    host: str
    pid: int
    claimed_at: dt.datetime
    lease_expires_at: dt.datetime
    run_id: str | None = None
    params: Any = None
    findings: Any = None
    finished_at: dt.datetime | None = None
    takeovers: int = 0

    def to_dict(self) -> dict[str, Any]:
        return {
            "group": self.group, "schedule": self.schedule, "logical_time": iso(self.logical_time), "origin": self.origin.value,
            "status": self.status.value, "run_id": self.run_id, "host": self.host, "pid": self.pid,
            "claimed_at": iso(self.claimed_at), "finished_at": iso(self.finished_at), "takeovers": self.takeovers,
            "findings": self.findings,
        }


@dataclass(frozen=True, slots=True)
class Claim:
    """A tick this process now holds: the row as claimed, and as it was before (a takeover)."""

    fire: Fire
    #: ``None``: a new claim. Otherwise the row taken over: a stale claim (its holder
    #: stopped) or a finished fire taken again (a backfill's retry or ``--rerun``).
    previous: Fire | None = None


@dataclass(frozen=True, slots=True)
class ScheduleState:
    """A schedule's pause flag and newest tick fired."""

    paused: bool = False
    last_fire: dt.datetime | None = None


def _now() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


def _fire(row: Mapping[Any, Any]) -> Fire:
    from spine.store import codec

    return Fire(
        id=int(row["id"]), group=row["group_name"], schedule=row["schedule"], logical_time=row["logical_time"],
        origin=FireOrigin(row["origin"]), status=FireStatus(row["status"]), claimed_by=row["claimed_by"], host=row["host"],
        pid=row["pid"], claimed_at=row["claimed_at"], lease_expires_at=row["lease_expires_at"], run_id=row["run_id"],
        params=codec.decode(row["params"]) if row["params"] is not None else None, findings=row["findings"],
        finished_at=row["finished_at"], takeovers=row["takeovers"],
    )


class ScheduleFires:
    """Claims on ticks and schedule state in one store (see the module docstring)."""

    def __init__(self, store: RunStore) -> None:
        self.store = store

    # -- claims ----------------------------------------------------------------------------

    def claim(
        self, group: str, schedule: str, logical_time: dt.datetime, owner: Owner, *, origin: FireOrigin,
        params: Any = None, retake: Collection[FireStatus] = (), now: dt.datetime | None = None,
    ) -> Claim | None:
        """Claim a tick for ``owner``; ``None`` when another process holds it or it was fired.

        A new tick is inserted; a stale claim (see the module docstring) is taken over;
        a finished fire whose status is in ``retake`` is claimed again. Exactly one of
        several racing claimants gets a tick (an insert that conflicts, or a conditional
        update naming the row as it was read).
        """
        from spine.store import codec

        def tx(conn: sa.Connection) -> Claim | None:
            t = now or _now()
            values = {
                "group_name": group, "schedule": schedule, "logical_time": logical_time, "origin": origin.value,
                "status": FireStatus.CLAIMED.value, "claimed_by": owner.token, "host": owner.host, "pid": owner.pid,
                "claimed_at": t, "lease_expires_at": t + dt.timedelta(seconds=owner.lease_seconds), "run_id": None,
                "params": codec.encode(params) if params is not None else None, "findings": None, "finished_at": None,
                "takeovers": 0,
            }
            key = (schedule_fires.c.group_name == group) & (schedule_fires.c.schedule == schedule) & (schedule_fires.c.logical_time == logical_time)
            # RETURNING says whether this insert won (rowcount is -1 on some drivers)
            inserted = conn.execute(
                self.store._insert_ignore(schedule_fires, ("group_name", "schedule", "logical_time")).values(**values).returning(schedule_fires.c.id)
            ).first()
            row = conn.execute(sa.select(schedule_fires).where(key)).mappings().one()
            if inserted is not None:
                return Claim(_fire(row))
            before = _fire(row)
            if before.status.open:
                if before.lease_expires_at >= t or self._run_alive(conn, before.run_id, t):
                    return None  # its holder is alive
            elif before.status not in retake:
                return None  # fired already
            changed = {k: v for k, v in values.items() if k not in ("group_name", "schedule", "logical_time", "takeovers")}
            if before.status.open:
                changed["run_id"] = before.run_id  # the run it started, to complete
            done = conn.execute(
                schedule_fires.update()
                .where(schedule_fires.c.id == before.id, schedule_fires.c.claimed_by == before.claimed_by,
                       schedule_fires.c.status == before.status.value, schedule_fires.c.claimed_at == before.claimed_at)
                .values(**changed, takeovers=schedule_fires.c.takeovers + 1)
            ).rowcount
            if done != 1:
                return None  # someone else took it between our read and our write
            row = conn.execute(sa.select(schedule_fires).where(schedule_fires.c.id == before.id)).mappings().one()
            return Claim(_fire(row), before)

        return self.store.write(tx)

    @staticmethod
    def _run_alive(conn: sa.Connection, run_id: str | None, now: dt.datetime) -> bool:
        if run_id is None:
            return False
        row = conn.execute(sa.select(group_runs.c.status, group_runs.c.lease_expires_at).where(group_runs.c.run_id == run_id)).first()
        return row is not None and row[0] == GroupRunStatus.RUNNING.value and row[1] >= now

    def attach(self, fire: Fire, owner: Owner, run_id: str, *, params: Any = None) -> bool:
        """Record the run id of ``fire`` before its run starts; ``False`` when the claim is no longer ours."""
        from spine.store import codec

        def tx(conn: sa.Connection) -> bool:
            t = _now()
            values: dict[str, Any] = {
                "status": FireStatus.RUNNING.value, "run_id": run_id, "lease_expires_at": t + dt.timedelta(seconds=owner.lease_seconds),
            }
            if params is not None:
                values["params"] = codec.encode(params)
            return bool(conn.execute(
                schedule_fires.update().where(schedule_fires.c.id == fire.id, schedule_fires.c.claimed_by == owner.token).values(**values)
            ).rowcount == 1)

        return self.store.write(tx)

    def extend(self, fire: Fire, owner: Owner) -> bool:
        """Push the lease of ``owner``'s open claim on ``fire`` forward; ``False`` when it is not ours."""

        def tx(conn: sa.Connection) -> bool:
            until = _now() + dt.timedelta(seconds=owner.lease_seconds)
            f = schedule_fires.c
            return bool(conn.execute(
                schedule_fires.update()
                .where(f.id == fire.id, f.claimed_by == owner.token, f.status.in_([FireStatus.CLAIMED.value, FireStatus.RUNNING.value]))
                .values(lease_expires_at=until)
            ).rowcount == 1)

        return self.store.write(tx, bound=5.0)

    def finish(self, fire: Fire, owner: Owner, status: FireStatus, *, findings: Iterable[Any] | None = None, run_id: str | None = None) -> bool:
        """Close ``fire`` with ``status`` (and the findings that kept it from running)."""

        def tx(conn: sa.Connection) -> bool:
            values: dict[str, Any] = {"status": status.value, "finished_at": _now()}
            if findings is not None:
                values["findings"] = [f.to_dict() if hasattr(f, "to_dict") else f for f in findings]
            if run_id is not None:
                values["run_id"] = run_id
            return bool(conn.execute(
                schedule_fires.update().where(schedule_fires.c.id == fire.id, schedule_fires.c.claimed_by == owner.token).values(**values)
            ).rowcount == 1)

        return self.store.write(tx)

    def release(self, fire: Fire, owner: Owner) -> bool:
        """Give a new claim back (nothing ran: the tick is due again at the next pass)."""

        def tx(conn: sa.Connection) -> bool:
            return bool(conn.execute(
                schedule_fires.delete().where(
                    schedule_fires.c.id == fire.id, schedule_fires.c.claimed_by == owner.token,
                    schedule_fires.c.status == FireStatus.CLAIMED.value,
                )
            ).rowcount == 1)

        return self.store.write(tx)

    # -- reading ---------------------------------------------------------------------------

    def stale(self, *, now: dt.datetime | None = None, groups: Collection[str] | None = None,
              origin: FireOrigin | None = None) -> list[Fire]:
        """Open claims whose lease expired and whose run is not alive, oldest first (only
        ``origin``'s, when given)."""

        def q(conn: sa.Connection) -> list[Fire]:
            t = now or _now()
            f = schedule_fires.c
            query = (
                sa.select(schedule_fires)
                .where(f.status.in_([FireStatus.CLAIMED.value, FireStatus.RUNNING.value]), f.lease_expires_at < t)
                .order_by(f.logical_time, f.id)
            )
            if groups is not None:
                query = query.where(f.group_name.in_(list(groups)))
            if origin is not None:
                query = query.where(f.origin == origin.value)
            found = [_fire(r) for r in conn.execute(query).mappings()]
            return [x for x in found if not self._run_alive(conn, x.run_id, t)]

        return self.store.read(q)

    def fires(self, *, group: str | None = None, schedule: str | None = None, limit: int | None = 100) -> list[Fire]:
        """Fires, newest tick first."""

        def q(conn: sa.Connection) -> list[Fire]:
            f = schedule_fires.c
            query = sa.select(schedule_fires).order_by(f.logical_time.desc(), f.id.desc())
            if group is not None:
                query = query.where(f.group_name == group)
            if schedule is not None:
                query = query.where(f.schedule == schedule)
            if limit is not None:
                query = query.limit(limit)
            return [_fire(r) for r in conn.execute(query).mappings()]

        return self.store.read(q)

    def at(self, group: str, schedule: str, times: Iterable[dt.datetime]) -> dict[dt.datetime, Fire]:
        """The fires of ``times`` that exist, by logical time."""
        wanted = list(times)

        def q(conn: sa.Connection) -> dict[dt.datetime, Fire]:
            f = schedule_fires.c
            out: dict[dt.datetime, Fire] = {}
            for i in range(0, len(wanted), 500):
                chunk = wanted[i: i + 500]
                rows = conn.execute(sa.select(schedule_fires).where(f.group_name == group, f.schedule == schedule, f.logical_time.in_(chunk)))
                for r in rows.mappings():
                    fire = _fire(r)
                    out[fire.logical_time] = fire
            return out

        return self.store.read(q)

    def last(self, group: str, schedule: str) -> Fire | None:
        found = self.fires(group=group, schedule=schedule, limit=1)
        return found[0] if found else None

    # -- state -----------------------------------------------------------------------------

    def states(self) -> dict[tuple[str, str], ScheduleState]:
        """Every schedule's state that was ever written, by (group, schedule)."""

        def q(conn: sa.Connection) -> dict[tuple[str, str], ScheduleState]:
            s = schedule_state.c
            return {(g, n): ScheduleState(bool(p), lf) for g, n, p, lf in conn.execute(sa.select(s.group_name, s.schedule, s.paused, s.last_fire))}

        return self.store.read(q)

    def state(self, group: str, schedule: str) -> ScheduleState:
        return self.states().get((group, schedule), ScheduleState())

    def _upsert(self, conn: sa.Connection, group: str, schedule: str) -> None:
        conn.execute(
            self.store._insert_ignore(schedule_state, ("group_name", "schedule")).values(
                group_name=group, schedule=schedule, paused=False, last_fire=None, updated_at=_now()
            )
        )

    def set_paused(self, group: str, schedule: str, paused: bool) -> bool:
        """Pause or resume a schedule; returns whether it was paused before."""

        def tx(conn: sa.Connection) -> bool:
            self._upsert(conn, group, schedule)
            s = schedule_state.c
            key = (s.group_name == group) & (s.schedule == schedule)
            before = bool(conn.execute(sa.select(s.paused).where(key)).scalar_one())
            conn.execute(schedule_state.update().where(key).values(paused=paused, updated_at=_now()))
            return before

        return self.store.write(tx)

    def advance(self, group: str, schedule: str, tick: dt.datetime) -> None:
        """``last_fire`` becomes ``tick`` if that is later (it never moves back)."""

        def tx(conn: sa.Connection) -> None:
            self._upsert(conn, group, schedule)
            s = schedule_state.c
            conn.execute(
                schedule_state.update()
                .where(s.group_name == group, s.schedule == schedule, sa.or_(s.last_fire.is_(None), s.last_fire < tick))
                .values(last_fire=tick, updated_at=_now())
            )

        self.store.write(tx)


__all__ = ["Claim", "Fire", "FireOrigin", "FireStatus", "ScheduleFires", "ScheduleState"]
