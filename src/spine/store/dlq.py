"""The dead-letter queue: steps that failed for good, kept with their params, error and run.

A step lands here when its last attempt fails and no retry is left (whatever the
cause: its own error, a timeout, the run's timeout). One entry per step of a run:
failing again — in a resume, or in a replay of the entry — updates the open entry
(error, attempts) instead of adding another. An entry is **resolved** when the step
completes: in a replay (``spine dlq replay ID``, a one-step run linked to the original)
or in a resume of its run. Purging deletes entries; it never touches runs.

The recorder (:mod:`spine.store.recorder`) writes entries in the same transaction as the
step's final row; this module reads, resolves and purges them.
"""

from __future__ import annotations

import builtins
import datetime as dt
from collections.abc import Iterable, Mapping
from typing import TYPE_CHECKING, Any

import sqlalchemy as sa

from spine.runner.results import StepError
from spine.store import codec
from spine.store.errors import DeadLetterNotFoundError
from spine.store.records import DeadLetter, DeadLetterStatus
from spine.store.schema import dead_letters

if TYPE_CHECKING:
    from spine.store.store import RunStore


def _letter(row: Mapping[Any, Any]) -> DeadLetter:
    return DeadLetter(
        id=int(row["id"]), run_id=row["run_id"], group=row["group_name"], step=row["step"], pipeline=row["pipeline"],
        params=codec.decode(row["params"]), error=StepError.from_dict(row["error"]) if row["error"] else None,
        attempts=row["attempts"], status=DeadLetterStatus(row["status"]), created_at=row["created_at"],
        resolved_at=row["resolved_at"], resolved_by=row["resolved_by"],
    )


class DeadLetters:
    """The dead-letter entries of one store."""

    def __init__(self, store: RunStore) -> None:
        self.store = store

    def list(
        self, *, status: DeadLetterStatus | None = DeadLetterStatus.OPEN, run_id: str | None = None, limit: int | None = None
    ) -> list[DeadLetter]:
        """Entries, newest first (``status=None``: open and resolved)."""
        d = dead_letters.c

        def q(conn: sa.Connection) -> list[DeadLetter]:
            query = sa.select(dead_letters).order_by(d.id.desc())
            if status is not None:
                query = query.where(d.status == status.value)
            if run_id is not None:
                query = query.where(d.run_id == run_id)
            if limit is not None:
                query = query.limit(limit)
            return [_letter(r) for r in conn.execute(query).mappings()]

        return self.store.read(q)

    def get(self, ids: Iterable[int]) -> builtins.list[DeadLetter]:
        """The entries with these ids, in the order given; :class:`DeadLetterNotFoundError`
        naming every id that does not exist."""
        wanted = list(dict.fromkeys(ids))

        def q(conn: sa.Connection) -> builtins.list[DeadLetter]:
            rows = {int(r["id"]): _letter(r) for r in conn.execute(sa.select(dead_letters).where(dead_letters.c.id.in_(wanted))).mappings()}
            missing = [i for i in wanted if i not in rows]
            if missing:
                raise DeadLetterNotFoundError(missing)
            return [rows[i] for i in wanted]

        return self.store.read(q)

    def open_for(self, run_id: str) -> dict[str, int]:
        """Open entries of one run: step → entry id."""
        d = dead_letters.c

        def q(conn: sa.Connection) -> dict[str, int]:
            rows = conn.execute(sa.select(d.step, d.id).where(d.run_id == run_id, d.status == DeadLetterStatus.OPEN.value).order_by(d.id))
            return {step: int(i) for step, i in rows}

        return self.store.read(q)

    def purge(
        self, *, ids: Iterable[int] = (), status: DeadLetterStatus | None = None, before: dt.datetime | None = None, everything: bool = False
    ) -> int:
        """Delete entries: those in ``ids``, and/or those matching ``status`` and ``before``
        (created earlier); ``everything`` deletes all. Returns how many were deleted."""
        d = dead_letters.c
        chosen = list(ids)
        if not (chosen or status is not None or before is not None or everything):
            raise ValueError("purge needs ids, a status, a time, or everything=True")

        def tx(conn: sa.Connection) -> int:
            if chosen:
                found = set(conn.execute(sa.select(d.id).where(d.id.in_(chosen))).scalars())
                missing = [i for i in chosen if i not in found]
                if missing:
                    raise DeadLetterNotFoundError(missing)
            query = dead_letters.delete()
            if not everything:
                if chosen:
                    query = query.where(d.id.in_(chosen))
                if status is not None:
                    query = query.where(d.status == status.value)
                if before is not None:
                    query = query.where(d.created_at < before)
            return conn.execute(query).rowcount

        return self.store.write(tx)


__all__ = ["DeadLetters"]
