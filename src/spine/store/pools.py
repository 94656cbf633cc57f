"""Pool slots: at most N steps of a pool run at once, across every run and process that
shares the database.

``[tool.spine.pools] warehouse = 2`` makes slots 0 and 1 of ``warehouse``: rows of
``pool_slots``. A step with ``pool: warehouse`` (its own, or its group's policy) may start
only after it **claims** a free slot, in one short transaction:

- PostgreSQL: ``SELECT … FOR UPDATE SKIP LOCKED`` picks a free slot that no other
  transaction is looking at, then ``UPDATE`` writes the holder — two runners never get
  the same slot and never wait on each other (the pattern Airflow's scheduler uses).
- SQLite has no row locks; the transaction starts with ``BEGIN IMMEDIATE``, which takes
  the database's write lock, so select-then-update is atomic there too.

A slot is *free* when nobody holds it, or when its holder's lease is dead: the holder's
run is no longer ``running`` under that owner, or the owner's heartbeat stopped (its
lease expired). So a killed process never keeps a slot for longer than its lease. A slot
is released when its step ends (completed, failed for good, cancelled), and all of an
owner's slots when its run ends. A retrying step keeps its slot, as it keeps its
concurrency slot. Shrinking a pool in the configuration takes effect as slots free up:
slots numbered at or above the new size are never claimed again.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING

import sqlalchemy as sa

from spine.orchestration.models import GroupRunStatus
from spine.store.schema import group_runs, pool_slots

if TYPE_CHECKING:
    from spine.store.records import Owner
    from spine.store.store import RunStore


@dataclass(frozen=True, slots=True)
class SlotHolder:
    """Who holds one slot of a pool."""

    pool: str
    slot: int
    run_id: str
    step: str
    claimed_at: dt.datetime | None


def _live_holder(now: dt.datetime) -> sa.ColumnElement[bool]:
    """The slot's holder is a running run, under the same owner, with a live lease."""
    r = group_runs.c
    s = pool_slots.c
    return sa.exists().where(
        r.run_id == s.run_id, r.owner == s.owner, r.status == GroupRunStatus.RUNNING.value, r.lease_expires_at >= now
    )


class PoolSlots:
    """Claims and releases of pool slots in one store (see the module docstring)."""

    def __init__(self, store: RunStore, sizes: Mapping[str, int]) -> None:
        self.store = store
        self.sizes = dict(sizes)

    def ensure(self, names: set[str] | None = None) -> None:
        """Create the slot rows of the configured pools (those in ``names``, or all)."""
        wanted = [(p, n) for p, size in sorted(self.sizes.items()) if names is None or p in names for n in range(size)]
        if not wanted:
            return

        def tx(conn: sa.Connection) -> None:
            have = {tuple(r) for r in conn.execute(sa.select(pool_slots.c.pool, pool_slots.c.slot).where(pool_slots.c.pool.in_({p for p, _ in wanted})))}
            missing = [{"pool": p, "slot": n} for p, n in wanted if (p, n) not in have]
            if missing:
                conn.execute(self.store._insert_ignore(pool_slots, ("pool", "slot")), missing)

        self.store.write(tx)

    def claim(self, pool: str, run_id: str, step: str, owner: Owner) -> int | None:
        """Claim a free slot of ``pool`` for ``step``; its number, or ``None`` when all are held."""
        size = self.sizes[pool]
        s = pool_slots.c

        def tx(conn: sa.Connection) -> int | None:
            now = dt.datetime.now(dt.UTC)
            query = (
                sa.select(s.slot)
                .where(s.pool == pool, s.slot < size, (s.owner.is_(None)) | ~_live_holder(now))
                .order_by(s.slot)
                .limit(1)
            )
            if self.store.dialect == "postgresql":
                query = query.with_for_update(skip_locked=True, of=pool_slots)
            slot = conn.execute(query).scalar()
            if slot is None:
                return None
            conn.execute(
                pool_slots.update().where(s.pool == pool, s.slot == slot).values(run_id=run_id, step=step, owner=owner.token, claimed_at=now)
            )
            return int(slot)

        return self.store.write(tx, bound=10.0)

    def release_owner(self, owner: Owner) -> int:
        """Free every slot ``owner`` holds (its run ended); how many were freed."""
        s = pool_slots.c

        def tx(conn: sa.Connection) -> int:
            return conn.execute(
                pool_slots.update().where(s.owner == owner.token).values(run_id=None, step=None, owner=None, claimed_at=None)
            ).rowcount

        return self.store.write(tx)

    def holders(self, pool: str) -> list[SlotHolder]:
        """The live holders of ``pool``'s slots (dead owners' claims are not listed)."""
        s = pool_slots.c

        def q(conn: sa.Connection) -> list[SlotHolder]:
            now = dt.datetime.now(dt.UTC)
            rows = conn.execute(
                sa.select(s.pool, s.slot, s.run_id, s.step, s.claimed_at).where(s.pool == pool, s.owner.is_not(None), _live_holder(now)).order_by(s.slot)
            )
            return [SlotHolder(*r) for r in rows]

        return self.store.read(q)

    def in_use(self) -> dict[str, int]:
        """Slots held by a live run, per pool (every pool with slot rows; ``/metrics``)."""
        s = pool_slots.c

        def q(conn: sa.Connection) -> dict[str, int]:
            now = dt.datetime.now(dt.UTC)
            held = sa.func.sum(sa.case((s.owner.is_not(None) & _live_holder(now), 1), else_=0))
            return {pool: int(n or 0) for pool, n in conn.execute(sa.select(s.pool, held).group_by(s.pool))}

        return self.store.read(q, bound=5.0)


__all__ = ["PoolSlots", "SlotHolder"]
