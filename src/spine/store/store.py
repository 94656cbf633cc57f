"""``RunStore``: the run history in a database, behind typed methods.

One object per database URL. It owns a SQLAlchemy engine, checks the schema revision
before the first use (an empty database is created; a newer one is refused; an older
one asks for ``spine db upgrade``), and translates every driver error into a
:class:`~spine.store.errors.StoreError`. Writes go through :meth:`RunStore.write`
(SQLite: ``BEGIN IMMEDIATE``; transient errors retried with backoff for a bounded time).

What it answers and changes:

- definitions: :meth:`save_definition` (one row per distinct definition, by hash);
- runs: :meth:`start_run` (with the ``max_active_runs`` guard; a composition's run also
  keeps the definitions of the nested groups its plan expanded), :meth:`claim_resume`
  (takes an orphaned or finished run over, once), :meth:`heartbeat`, :meth:`request_cancel`,
  :meth:`run`, :meth:`runs`, :meth:`last_runs`, :meth:`result` (the ``spine group run --json`` shape),
  :meth:`resume_state` and :meth:`stored_run` (what a resume needs).

A run is *active* while its status is ``running`` and its lease has not expired; once
the lease expired it is *orphaned* (computed when read: nothing needs to mark it).
Dead letters live in :mod:`spine.store.dlq`, pool slots in :mod:`spine.store.pools`, the
hot path of recording a run in :mod:`spine.store.recorder`.
"""

from __future__ import annotations

import datetime as dt
import hashlib
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TypeVar

import sqlalchemy as sa

from spine.orchestration.models import GroupRunStatus, StepStatus
from spine.runner.results import AttemptRecord, GroupExecutionResult, StepError, StepExecution, nesting_from
from spine.store import codec
from spine.store.engine import WRITE, display_url, make_engine, resolve_url, retrying
from spine.store.errors import (
    ActiveRunError,
    RunNotFoundError,
    RunNotResumableError,
    RunStateError,
    SchemaVersionError,
    StoreError,
)
from spine.store.records import Owner, RunKind, RunSummary
from spine.store.schema import (
    HEAD_REVISION,
    KNOWN_REVISIONS,
    group_run_executions,
    group_run_nested_groups,
    group_runs,
    pipeline_groups,
)
from spine.store.types import RawJSON

T = TypeVar("T")

#: Where the Alembic environment and revisions ship (package data).
MIGRATIONS = Path(__file__).parent / "migrations"
#: How long a write keeps retrying a locked database or a lost connection (seconds).
WRITE_RETRY_SECONDS = 30.0
#: Runs listed when no limit is given.
DEFAULT_LIMIT = 20
#: Up to this many group names, :meth:`RunStore.last_runs` selects them with ``IN``.
LAST_RUNS_IN_LIST = 1000

_RUNNING = GroupRunStatus.RUNNING.value


def _now() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


def canonical_json(document: Mapping[str, Any]) -> str:
    """A definition's canonical JSON: sorted keys, typed values tagged (see :mod:`.codec`)."""
    return codec.dumps(document, sort_keys=True)


def definition_hash(document: Mapping[str, Any], *, text: str | None = None) -> str:
    """sha256 of a definition's canonical JSON."""
    return hashlib.sha256((text if text is not None else canonical_json(document)).encode("utf-8")).hexdigest()


@dataclass(frozen=True, slots=True)
class SchemaState:
    """Where a database's schema stands against this code."""

    url: str
    #: The revision found (``None``: an empty database).
    found: str | None
    expected: str

    @property
    def current(self) -> bool:
        return self.found == self.expected

    @property
    def newer(self) -> bool:
        return self.found is not None and self.found not in KNOWN_REVISIONS and self.found.isdigit() and self.found > self.expected


@dataclass(frozen=True, slots=True)
class StoredRun:
    """What a resume or a replay needs to rebuild a run's plan: the definition it used,
    the definitions of the groups its steps nested, its params and batch id, and how it
    was run."""

    run_id: str
    definition: Mapping[str, Any]
    params: Mapping[str, Any]
    batch_id: str
    options: Mapping[str, Any]
    summary: RunSummary
    #: The documents of the nested groups the run's plan expanded, as they were when it
    #: started, by name. Empty for a run without nesting, and for a run recorded before
    #: schema 0004 (which stored none).
    nested: tuple[Mapping[str, Any], ...] = ()


@dataclass(frozen=True, slots=True)
class ResumeState:
    """What earlier executions of a run finished: completed steps' results, attempts made."""

    completed: Mapping[str, Any]
    attempts: Mapping[str, int]
    #: The number the next execution gets (0 was the first execution).
    execution: int


@dataclass(frozen=True, slots=True)
class Beat:
    """What a heartbeat learned."""

    #: The lease is still ours (another process has not taken the run over).
    owned: bool
    #: Someone asked to cancel the run (``spine runs cancel``): their reason.
    cancel_reason: str | None = None


class RunStore:
    """The run history in one database (see the module docstring)."""

    def __init__(self, url: str, *, root: Path | None = None) -> None:
        self.url = resolve_url(url, root)
        self.shown = display_url(self.url)
        self.engine = make_engine(self.url)
        self.dialect = self.engine.dialect.name
        self._checked = False

    @classmethod
    def open(cls, url: str, *, root: Path | None = None, create: bool = True) -> RunStore:
        """A store whose schema is known to be current (created when the database is empty)."""
        store = cls(url, root=root)
        try:
            store.ensure_schema(create=create)
        except BaseException:
            store.close()
            raise
        return store

    def close(self) -> None:
        self.engine.dispose()

    def __enter__(self) -> RunStore:
        return self

    def __exit__(self, *exc_info: Any) -> None:
        self.close()

    # -- transactions ----------------------------------------------------------------------

    @contextmanager
    def _connection(self, write: bool) -> Iterator[sa.Connection]:
        conn = self.engine.connect()
        try:
            if write:
                conn.execution_options(**WRITE)
            yield conn
        finally:
            conn.close()

    def write(self, fn: Callable[[sa.Connection], T], *, bound: float = WRITE_RETRY_SECONDS) -> T:
        """Run ``fn(conn)`` in one write transaction, retried as a whole on transient errors."""

        def attempt() -> T:
            with self._connection(True) as conn, conn.begin():
                return fn(conn)

        return retrying(attempt, url=self.url, bound_seconds=bound)

    def read(self, fn: Callable[[sa.Connection], T], *, bound: float = WRITE_RETRY_SECONDS) -> T:
        """Run ``fn(conn)`` in one read transaction, retried on transient errors."""

        def attempt() -> T:
            with self._connection(False) as conn, conn.begin():
                return fn(conn)

        return retrying(attempt, url=self.url, bound_seconds=bound)

    # -- the schema --------------------------------------------------------------------------

    def schema_state(self) -> SchemaState:
        """The revision the database is at (``None`` when it has no spine tables yet)."""

        def look(conn: sa.Connection) -> str | None:
            if not sa.inspect(conn).has_table("alembic_version"):
                return None
            return conn.exec_driver_sql("SELECT version_num FROM alembic_version").scalar()

        return SchemaState(self.shown, self.read(look, bound=5.0), HEAD_REVISION)

    def ensure_schema(self, *, create: bool = True) -> None:
        """Check the revision once; create the schema in an empty database when ``create``."""
        if self._checked:
            return
        state = self.schema_state()
        if state.found is None and create:
            self.upgrade()
            state = self.schema_state()
        self._refuse_unless_current(state)
        self._checked = True

    def _refuse_unless_current(self, state: SchemaState) -> None:
        if state.current:
            return
        if state.found is None:
            raise SchemaVersionError(self.shown, None, HEAD_REVISION, newer=False)
        if state.found in KNOWN_REVISIONS:
            raise SchemaVersionError(self.shown, state.found, HEAD_REVISION, newer=False)
        if state.newer:
            raise SchemaVersionError(self.shown, state.found, HEAD_REVISION, newer=True)
        raise StoreError(
            f"the database {self.shown} holds another application's schema (Alembic revision {state.found!r}); "
            "give spine a database (or PostgreSQL schema) of its own"
        )

    def upgrade(self) -> tuple[str | None, str]:
        """Bring the schema to :data:`HEAD_REVISION` with Alembic; returns (before, after).

        On PostgreSQL an advisory lock serialises concurrent upgrades; on SQLite the write
        lock does. A newer schema is refused, never downgraded.
        """
        before = self.schema_state()
        if before.found is not None and before.found not in KNOWN_REVISIONS:
            self._refuse_unless_current(before)
        if before.current:
            return before.found, HEAD_REVISION
        from alembic import command
        from alembic.config import Config

        def run(conn: sa.Connection) -> None:
            if self.dialect == "postgresql":
                conn.exec_driver_sql("SELECT pg_advisory_xact_lock(733184519)")  # 'spine' migrations
                if sa.inspect(conn).has_table("alembic_version"):
                    found = conn.exec_driver_sql("SELECT version_num FROM alembic_version").scalar()
                    if found == HEAD_REVISION:
                        return  # another process upgraded while we waited
            cfg = Config()
            cfg.set_main_option("script_location", str(MIGRATIONS))
            cfg.attributes["connection"] = conn
            command.upgrade(cfg, "head")

        try:
            self.write(run)
        except StoreError:
            state = self.schema_state()  # a concurrent upgrade (SQLite) may have won the race
            if not state.current:
                raise
        return before.found, HEAD_REVISION

    # -- definitions -------------------------------------------------------------------------

    def save_definition(self, conn: sa.Connection, group: Any) -> int:
        """The id of ``group``'s definition row, inserted when new (inside ``conn``'s transaction)."""
        document = group.to_dict()
        text = canonical_json(document)
        digest = definition_hash(document, text=text)
        key = (pipeline_groups.c.name == group.name) & (pipeline_groups.c.version == group.version) & (pipeline_groups.c.hash == digest)
        found = conn.execute(sa.select(pipeline_groups.c.id).where(key)).scalar()
        if found is not None:
            return int(found)
        values = {"name": group.name, "version": group.version, "hash": digest, "definition": RawJSON(text), "created_at": _now()}
        conn.execute(self._insert_ignore(pipeline_groups, ("name", "version", "hash")).values(**values))
        return int(conn.execute(sa.select(pipeline_groups.c.id).where(key)).scalar_one())

    def _insert_ignore(self, table: sa.Table, keys: Sequence[str]) -> Any:
        if self.dialect == "postgresql":
            from sqlalchemy.dialects.postgresql import insert as pg_insert

            return pg_insert(table).on_conflict_do_nothing(index_elements=list(keys))
        from sqlalchemy.dialects.sqlite import insert as sqlite_insert

        return sqlite_insert(table).on_conflict_do_nothing(index_elements=list(keys))

    # -- runs: starting, owning, finishing ----------------------------------------------------

    def _lock_group(self, conn: sa.Connection, group: str) -> None:
        """Serialise run starts of one group (PostgreSQL; SQLite's write lock already does)."""
        if self.dialect == "postgresql":
            conn.execute(sa.text("SELECT pg_advisory_xact_lock(hashtext(:g))"), {"g": "spine.group:" + group})

    def active_runs(self, conn: sa.Connection, group: str, now: dt.datetime, exclude: str | None = None) -> list[str]:
        """Runs of ``group`` whose owner is alive, oldest first."""
        q = (
            sa.select(group_runs.c.run_id)
            .where(group_runs.c.group_name == group, group_runs.c.status == _RUNNING, group_runs.c.lease_expires_at >= now)
            .order_by(group_runs.c.started_at)
        )
        if exclude is not None:
            q = q.where(group_runs.c.run_id != exclude)
        return [r[0] for r in conn.execute(q)]

    def start_run(
        self,
        plan: Any,
        *,
        run_id: str,
        owner: Owner,
        options: Mapping[str, Any],
        executor: str,
        kind: RunKind = RunKind.RUN,
        parent_run_id: str | None = None,
        max_active_runs: int | None = None,
        schedule: str | None = None,
        logical_date: dt.datetime | None = None,
    ) -> None:
        """Record a new run as ``running``, owned by ``owner``; refuse it (:class:`ActiveRunError`)
        when ``max_active_runs`` runs of its group are active (``None``: no guard).
        ``schedule`` and ``logical_date`` tag a run fired by a schedule or a backfill.
        The definitions of the nested groups the plan expanded (``plan.nested_groups``) are
        kept with the run, for :func:`~spine.store.control.plan_of`."""
        group = plan.group
        nested = plan.nested_groups

        def tx(conn: sa.Connection) -> None:
            now = _now()
            definition_id = self.save_definition(conn, group)
            if max_active_runs is not None:
                self._lock_group(conn, group.name)
                active = self.active_runs(conn, group.name, now)
                if len(active) >= max_active_runs:
                    raise ActiveRunError(group.name, active, max_active_runs)
            conn.execute(
                group_runs.insert().values(
                    run_id=run_id, kind=kind.value, group_name=group.name, group_version=group.version,
                    definition_id=definition_id, batch_id=plan.batch_id, params=codec.encode(dict(plan.params)),
                    options=dict(options), status=_RUNNING, message=None, executor=executor,
                    step_count=len(plan.steps), plan_steps=[_plan_step(s) for s in plan.steps],
                    started_at=now, finished_at=None, host=owner.host, pid=owner.pid, owner=owner.token,
                    heartbeat_at=now, lease_expires_at=now + dt.timedelta(seconds=owner.lease_seconds),
                    cancel_requested_at=None, cancel_reason=None, resumes=0, parent_run_id=parent_run_id,
                    schedule=schedule, logical_date=logical_date,
                )
            )
            if nested:
                ids = sorted({self.save_definition(conn, g) for g in nested})
                conn.execute(group_run_nested_groups.insert(), [{"run_id": run_id, "definition_id": i} for i in ids])

        self.write(tx)

    def claim_resume(self, run_id: str, owner: Owner, *, max_active_runs: int | None = None) -> int:
        """Take ``run_id`` over for a resume; returns the new execution number.

        Exactly one of several racing resumes wins: the claim is one conditional
        ``UPDATE`` (status not running, or its lease expired). Attempts the dead owner
        left ``running`` are closed as failed (``ProcessLost``): they may have done part
        of their work, and they run again (at least once).
        """

        def tx(conn: sa.Connection) -> int:
            now = _now()
            row = conn.execute(sa.select(group_runs).where(group_runs.c.run_id == run_id)).mappings().first()
            if row is None:
                raise RunNotFoundError(run_id, self._suggest(conn, run_id))
            summary = _summary(row, now)
            if summary.status is GroupRunStatus.COMPLETED:
                raise RunNotResumableError(run_id, "it completed; every step already ran")
            if summary.status is GroupRunStatus.RUNNING and not summary.orphaned:
                raise RunNotResumableError(
                    run_id,
                    f"it is running (pid {summary.pid} on {summary.host}, heartbeat {_ago(summary.heartbeat_at, now)}); "
                    "cancel it first, or wait for it to finish or for its lease to expire",
                )
            if max_active_runs is not None:
                self._lock_group(conn, summary.group)
                active = self.active_runs(conn, summary.group, now, exclude=run_id)
                if len(active) >= max_active_runs:
                    raise ActiveRunError(summary.group, active, max_active_runs)
            claimed = conn.execute(
                group_runs.update()
                .where(
                    group_runs.c.run_id == run_id,
                    group_runs.c.owner == row["owner"],
                    (group_runs.c.status != _RUNNING) | (group_runs.c.lease_expires_at < now),
                )
                .values(
                    status=_RUNNING, finished_at=None, message=None, host=owner.host, pid=owner.pid, owner=owner.token,
                    heartbeat_at=now, lease_expires_at=now + dt.timedelta(seconds=owner.lease_seconds),
                    cancel_requested_at=None, cancel_reason=None, resumes=group_runs.c.resumes + 1,
                )
            ).rowcount
            if claimed != 1:
                raise RunNotResumableError(run_id, "another process took it over just now")
            lost = StepError(
                "ProcessLost",
                f"the process running this attempt (pid {row['pid']} on {row['host']}) stopped; "
                f"its last heartbeat was {row['heartbeat_at']:%Y-%m-%d %H:%M:%S} UTC",
            )
            conn.execute(
                group_run_executions.update()
                .where(group_run_executions.c.run_id == run_id, group_run_executions.c.status == StepStatus.RUNNING.value)
                .values(status=StepStatus.FAILED.value, finished_at=now, error=lost.to_dict())
            )
            return int(row["resumes"]) + 1

        return self.write(tx)

    def heartbeat(self, run_id: str, owner: Owner) -> Beat:
        """Extend ``owner``'s lease on ``run_id``; say whether it is still ours and whether a
        cancel was asked for."""

        def tx(conn: sa.Connection) -> Beat:
            now = _now()
            done = conn.execute(
                group_runs.update()
                .where(group_runs.c.run_id == run_id, group_runs.c.owner == owner.token, group_runs.c.status == _RUNNING)
                .values(heartbeat_at=now, lease_expires_at=now + dt.timedelta(seconds=owner.lease_seconds))
            ).rowcount
            if done != 1:
                return Beat(False)
            reason = conn.execute(
                sa.select(group_runs.c.cancel_reason).where(group_runs.c.run_id == run_id, group_runs.c.cancel_requested_at.is_not(None))
            ).first()
            return Beat(True, (reason[0] or "cancelled") if reason is not None else None)

        return self.write(tx, bound=5.0)

    def heartbeat_many(self, leases: Sequence[tuple[str, Owner]]) -> dict[str, Beat]:
        """:meth:`heartbeat` for many runs in one transaction (a server keeping the leases
        of the runs waiting in its queue)."""

        def tx(conn: sa.Connection) -> dict[str, Beat]:
            now = _now()
            out: dict[str, Beat] = {}
            for run_id, owner in leases:
                done = conn.execute(
                    group_runs.update()
                    .where(group_runs.c.run_id == run_id, group_runs.c.owner == owner.token, group_runs.c.status == _RUNNING)
                    .values(heartbeat_at=now, lease_expires_at=now + dt.timedelta(seconds=owner.lease_seconds))
                ).rowcount
                out[run_id] = Beat(done == 1)
            ids = [r for r, b in out.items() if b.owned]
            if ids:
                for run_id, reason in conn.execute(
                    sa.select(group_runs.c.run_id, group_runs.c.cancel_reason)
                    .where(group_runs.c.run_id.in_(ids), group_runs.c.cancel_requested_at.is_not(None))
                ):
                    out[run_id] = Beat(True, reason or "cancelled")
            return out

        return self.write(tx, bound=5.0)

    def request_cancel(self, run_id: str, reason: str = "cancelled by spine runs cancel") -> RunSummary:
        """Ask the process running ``run_id`` to cancel it (it sees the request at its next
        heartbeat and stops as on Ctrl-C). An orphaned run, whose process is gone, is marked
        ``cancelled`` here at once. Returns the run as it is after the request."""

        def tx(conn: sa.Connection) -> RunSummary:
            now = _now()
            row = conn.execute(sa.select(group_runs).where(group_runs.c.run_id == run_id)).mappings().first()
            if row is None:
                raise RunNotFoundError(run_id, self._suggest(conn, run_id))
            summary = _summary(row, now)
            if summary.status is not GroupRunStatus.RUNNING:
                raise RunStateError(run_id, f"it already finished ({summary.status.value}); there is nothing to cancel")
            values: dict[str, Any] = {"cancel_requested_at": now, "cancel_reason": reason}
            if summary.orphaned:
                values |= {"status": GroupRunStatus.CANCELLED.value, "finished_at": now, "message": f"the run was {reason} (its process had stopped)"}
            conn.execute(group_runs.update().where(group_runs.c.run_id == run_id).values(**values))
            row = conn.execute(sa.select(group_runs).where(group_runs.c.run_id == run_id)).mappings().one()
            return _summary(row, now)

        return self.write(tx)

    # -- reading -------------------------------------------------------------------------------

    def run(self, run_id: str) -> RunSummary:
        """One run; :class:`RunNotFoundError` (with a suggestion) when there is none."""

        def q(conn: sa.Connection) -> RunSummary:
            row = conn.execute(sa.select(group_runs).where(group_runs.c.run_id == run_id)).mappings().first()
            if row is None:
                raise RunNotFoundError(run_id, self._suggest(conn, run_id))
            return _summary(row, _now())

        return self.read(q)

    def runs(
        self, *, group: str | None = None, status: str | None = None, since: dt.datetime | None = None, limit: int | None = DEFAULT_LIMIT,
        until: dt.datetime | None = None, before: tuple[dt.datetime, str] | None = None,
    ) -> list[RunSummary]:
        """Runs, newest first. ``status`` is a run status or ``orphaned``; ``running`` means
        running with a live owner. ``until`` keeps runs started before it; ``before`` (a
        run's ``(started_at, run_id)``) keeps the runs listed after that one (a cursor)."""

        def q(conn: sa.Connection) -> list[RunSummary]:
            now = _now()
            c = group_runs.c
            # the summary's columns only: plan_steps (the whole plan, as JSON) is not decoded per row
            query = sa.select(*_SUMMARY_COLUMNS).order_by(c.started_at.desc(), c.run_id.desc())
            if group is not None:
                query = query.where(c.group_name == group)
            if status in ("orphaned", _RUNNING) and self.dialect == "sqlite":
                # few runs are running: seek them by status and sort them. Left alone, SQLite
                # walks every run by start time (to skip the sort) and filters them one by
                # one; a unary + on the sort key keeps it off that index.
                query = query.order_by(None).order_by(sa.literal_column("+group_runs.started_at").desc(), c.run_id.desc())
            if status == "orphaned":
                query = query.where(c.status == _RUNNING, c.lease_expires_at < now)
            elif status == _RUNNING:
                query = query.where(c.status == _RUNNING, c.lease_expires_at >= now)
            elif status is not None:
                query = query.where(c.status == GroupRunStatus(status).value)
            if since is not None:
                query = query.where(c.started_at >= since)
            if until is not None:
                query = query.where(c.started_at < until)
            if before is not None:
                at, rid = before
                query = query.where((c.started_at < at) | ((c.started_at == at) & (c.run_id < rid)))
            if limit is not None:
                query = query.limit(limit)
            return [_summary(r, now) for r in conn.execute(query).mappings()]

        return self.read(q)

    def last_runs(self, groups: Iterable[str]) -> dict[str, RunSummary]:
        """The newest run of each of ``groups`` (as ``runs(group=name, limit=1)`` answers it:
        latest ``started_at``, ties broken by the greater ``run_id``), in one query; a group
        without runs is not in the answer.

        The query is a ``GROUP BY group_name`` of ``max(started_at)`` (read from the index
        ``ix_group_runs_group_started``) joined back to its runs; the rare runs that tie on
        the time are all returned and the greatest ``run_id`` kept here. Past
        :data:`LAST_RUNS_IN_LIST` names the ``IN`` list is dropped (databases bound the
        parameters of one statement) and every group's newest run is read and filtered here.
        """
        names = sorted(set(groups))
        if not names:
            return {}

        def q(conn: sa.Connection) -> dict[str, RunSummary]:
            now = _now()
            c = group_runs.c
            newest = sa.select(c.group_name, sa.func.max(c.started_at).label("started_at")).group_by(c.group_name)
            if len(names) <= LAST_RUNS_IN_LIST:
                newest = newest.where(c.group_name.in_(names))
            latest = newest.subquery("latest")
            query = (
                sa.select(*_SUMMARY_COLUMNS)
                .join(latest, (c.group_name == latest.c.group_name) & (c.started_at == latest.c.started_at))
                .order_by(c.group_name, c.run_id.desc())
            )
            wanted = set(names)
            out: dict[str, RunSummary] = {}
            for row in conn.execute(query).mappings():
                if row["group_name"] in wanted and row["group_name"] not in out:  # the first of a tie: the greatest run_id
                    out[row["group_name"]] = _summary(row, now)
            return out

        return self.read(q)

    def stored_run(self, run_id: str) -> StoredRun:
        """The definition, nested groups' definitions, params, batch id and options of ``run_id``."""

        def q(conn: sa.Connection) -> StoredRun:
            row = conn.execute(
                sa.select(group_runs, pipeline_groups.c.definition.label("definition"))
                .join(pipeline_groups, pipeline_groups.c.id == group_runs.c.definition_id)
                .where(group_runs.c.run_id == run_id)
            ).mappings().first()
            if row is None:
                raise RunNotFoundError(run_id, self._suggest(conn, run_id))
            n = group_run_nested_groups.c
            nested = conn.execute(
                sa.select(pipeline_groups.c.definition)
                .join(group_run_nested_groups, n.definition_id == pipeline_groups.c.id)
                .where(n.run_id == run_id)
                .order_by(pipeline_groups.c.name)
            ).scalars()
            return StoredRun(
                run_id=run_id, definition=codec.decode(row["definition"]), params=codec.decode(row["params"]),
                batch_id=row["batch_id"], options=dict(row["options"] or {}), summary=_summary(row, _now()),
                nested=tuple(codec.decode(d) for d in nested),
            )

        return self.read(q)

    def resume_state(self, run_id: str) -> ResumeState:
        """Completed steps (with results) and attempts so far, over every execution of the
        run and its successful replays (a replayed step counts as completed)."""

        def q(conn: sa.Connection) -> ResumeState:
            e = group_run_executions.c
            latest: dict[str, tuple[str, Any]] = {}
            attempts: dict[str, int] = {}
            rows = conn.execute(sa.select(e.step, e.attempt, e.status, e.result).where(e.run_id == run_id).order_by(e.id))
            for step, attempt, status, result in rows:
                latest[step] = (status, result)
                if attempt > attempts.get(step, 0):
                    attempts[step] = attempt
            completed = {s: r for s, (st, r) in latest.items() if st == StepStatus.COMPLETED.value}
            replays = sa.select(group_runs.c.run_id).where(group_runs.c.parent_run_id == run_id, group_runs.c.kind == RunKind.REPLAY.value)
            for step, result in conn.execute(
                sa.select(e.step, e.result).where(e.run_id.in_(replays), e.status == StepStatus.COMPLETED.value).order_by(e.id)
            ):
                completed.setdefault(step, result)
            resumes = conn.execute(sa.select(group_runs.c.resumes).where(group_runs.c.run_id == run_id)).scalar()
            if resumes is None:
                raise RunNotFoundError(run_id, self._suggest(conn, run_id))
            return ResumeState(completed, attempts, int(resumes))

        return self.read(q)

    def result(self, run_id: str) -> GroupExecutionResult:
        """The run as :class:`~spine.runner.GroupExecutionResult` (``spine group run --json``'s
        shape): every step in plan order, every attempt of every execution in its history."""

        def q(conn: sa.Connection) -> tuple[Any, Sequence[Any]]:
            row = conn.execute(sa.select(group_runs).where(group_runs.c.run_id == run_id)).mappings().first()
            if row is None:
                raise RunNotFoundError(run_id, self._suggest(conn, run_id))
            e = group_run_executions.c
            rows = conn.execute(
                sa.select(e.step, e.attempt, e.status, e.started_at, e.finished_at, e.error, e.result, e.output, e.reason)
                .where(e.run_id == run_id)
                .order_by(e.id)
            ).all()
            return row, rows

        row, rows = self.read(q)
        return _result(row, rows, _now())

    def _suggest(self, conn: sa.Connection, run_id: str) -> str:
        """A "did you mean" among recent runs sharing the id's start."""
        head = run_id[: max(4, len(run_id) - 4)]
        like = conn.execute(
            sa.select(group_runs.c.run_id).where(group_runs.c.run_id.like(head.replace("%", "").replace("_", "\\_") + "%", escape="\\")).limit(200)
        ).scalars().all()
        if not like:
            return ""
        from spine.core.suggest import did_you_mean

        return did_you_mean(run_id, like)


# -- rows → records ----------------------------------------------------------------------------

#: The columns :func:`_summary` reads (a list of runs selects only these).
_SUMMARY_COLUMNS = tuple(
    group_runs.c[name] for name in (
        "run_id", "group_name", "group_version", "kind", "status", "lease_expires_at", "started_at", "finished_at", "batch_id",
        "params", "executor", "step_count", "host", "pid", "heartbeat_at", "message", "resumes", "parent_run_id",
        "cancel_requested_at", "options", "schedule", "logical_date",
    )
)


def _summary(row: Mapping[Any, Any], now: dt.datetime) -> RunSummary:
    status = GroupRunStatus(row["status"])
    return RunSummary(
        run_id=row["run_id"], group=row["group_name"], group_version=row["group_version"], kind=RunKind(row["kind"]),
        status=status, orphaned=status is GroupRunStatus.RUNNING and row["lease_expires_at"] < now,
        started_at=row["started_at"], finished_at=row["finished_at"], batch_id=row["batch_id"],
        params=codec.decode(row["params"]), executor=row["executor"], step_count=row["step_count"], host=row["host"],
        pid=row["pid"], heartbeat_at=row["heartbeat_at"], lease_expires_at=row["lease_expires_at"], message=row["message"],
        resumes=row["resumes"], parent_run_id=row["parent_run_id"], cancel_requested_at=row["cancel_requested_at"],
        options=dict(row["options"] or {}), schedule=row.get("schedule"), logical_date=row.get("logical_date"),
    )


def _plan_step(step: Any) -> list[Any]:
    """A plan step as ``group_runs.plan_steps`` keeps it: ``[name, pipeline]``, and for a
    step of a nested group its nesting as a third item (so ``runs show`` can group it)."""
    if step.nesting:
        return [step.name, step.pipeline, [n.to_dict() for n in step.nesting]]
    return [step.name, step.pipeline]


def _ago(t: dt.datetime, now: dt.datetime) -> str:
    return f"{max(0.0, (now - t).total_seconds()):.0f} s ago"


def _result(run: Mapping[Any, Any], rows: Sequence[Any], now: dt.datetime) -> GroupExecutionResult:
    summary = _summary(run, now)
    # rows as plain tuples (a Row's attribute access costs more than the rest of this loop)
    per_step: dict[str, list[tuple[Any, ...]]] = {}
    for step, *rest in rows:
        per_step.setdefault(step, []).append(tuple(rest))
    statuses = {s.value: s for s in StepStatus}
    running, failed, completed = StepStatus.RUNNING, StepStatus.FAILED, StepStatus.COMPLETED
    execs = []
    for name, pipeline, *more in run["plan_steps"]:
        nesting = nesting_from(more[0]) if more else ()
        mine = per_step.get(name)
        if not mine:
            execs.append(StepExecution(name=name, pipeline=pipeline, nesting=nesting))
            continue
        history = tuple(
            AttemptRecord(attempt, statuses[status], started, finished, StepError.from_dict(error) if error else None)
            for attempt, status, started, finished, error, _, _, _ in mine
            if attempt > 0 and started is not None
        )
        _, last_status, _, last_finished, last_error, last_result, last_output, last_reason = mine[-1]
        status = statuses[last_status]
        first = next((started for attempt, _, started, *_ in mine if attempt > 0), None)
        execs.append(
            StepExecution(
                name=name, pipeline=pipeline, status=status, attempts=len(history), started_at=first,
                finished_at=last_finished if status is not running else None,
                error=StepError.from_dict(last_error) if last_error and status is failed else None,
                result=last_result if status is completed else None,
                reason=last_reason, history=history, output=last_output or "", nesting=nesting,
            )
        )
    message = summary.message
    if summary.orphaned:
        message = (
            f"orphaned: its process (pid {summary.pid} on {summary.host}) stopped heartbeating at "
            f"{summary.heartbeat_at:%Y-%m-%d %H:%M:%S} UTC; `spine runs resume {summary.run_id}` takes it over"
        )
    return GroupExecutionResult(
        run_id=summary.run_id, batch_id=summary.batch_id, group=summary.group, status=summary.status,
        started_at=summary.started_at, finished_at=summary.finished_at, params=summary.params,
        step_executions=tuple(execs), executor=summary.executor, message=message, group_version=summary.group_version,
        resumed_from=summary.parent_run_id,
    )


__all__ = ["DEFAULT_LIMIT", "LAST_RUNS_IN_LIST", "MIGRATIONS", "Beat", "ResumeState", "RunStore", "SchemaState", "StoredRun", "definition_hash"]
