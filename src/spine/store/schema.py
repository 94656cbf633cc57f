"""The tables, as SQLAlchemy Core ``Table``s, and the schema revision this code expects.

Names follow RFC-001: ``pipeline_groups`` (every definition a run used, versioned, with
its hash), ``group_runs`` (one row per run), ``group_run_executions`` (one row per step
attempt, plus a row with ``attempt = 0`` for a step that ended without an attempt:
skipped, or never started), and ``dead_letters``; ``pool_slots`` holds the claims on
pool slots, ``schedule_fires`` the claims on schedule ticks (one row per group, schedule
and logical time: two schedulers cannot both fire a tick) and ``schedule_state`` each
schedule's pause flag and last fire, and ``api_tokens`` the HTTP API's bearer tokens
(hashed). ``group_run_nested_groups`` links a run of a composition to the definitions of
the groups its ``group:`` steps expanded, as they were when it started (0004). Alembic
migrations (``migrations/versions``) build exactly these tables; a test compares the two.

A step's state is its **latest** row (highest ``id``); a resume appends rows to the same
run (``execution`` counts the resumes), so the history of every attempt is kept.

Indexes serve the questions asked often: the newest runs (all, by group, by status),
every row of one run, the open dead letters, and who holds a pool's slots.
"""

from __future__ import annotations

import sqlalchemy as sa

from spine.store.types import JSONText, UTCDateTime

#: The number of the newest migration (``migrations/versions/NNNN_*.py``).
SCHEMA_VERSION = 4
#: The Alembic revision id of :data:`SCHEMA_VERSION`: the revision this code reads and writes.
HEAD_REVISION = f"{SCHEMA_VERSION:04d}"
#: Every revision this code knows, oldest first (a database at another one is refused).
KNOWN_REVISIONS = ("0001", "0002", "0003", "0004")

metadata = sa.MetaData()

# Integer primary keys: BIGINT on PostgreSQL, INTEGER (the rowid) on SQLite.
_BigId = sa.BigInteger().with_variant(sa.Integer(), "sqlite")

pipeline_groups = sa.Table(
    "pipeline_groups",
    metadata,
    sa.Column("id", _BigId, primary_key=True, autoincrement=True),
    sa.Column("name", sa.String(128), nullable=False),
    sa.Column("version", sa.Integer, nullable=False),
    #: sha256 of the definition's canonical JSON.
    sa.Column("hash", sa.String(64), nullable=False),
    #: The ``spine.io/v1`` document.
    sa.Column("definition", JSONText, nullable=False),
    sa.Column("created_at", UTCDateTime, nullable=False),
    #: When the HTTP API stored it as a group of its own (``POST``/``PUT /groups``);
    #: ``NULL``: only a definition some run used.
    sa.Column("published_at", UTCDateTime),
    #: When ``DELETE /groups/{name}`` removed it (the row stays: runs refer to it).
    sa.Column("deleted_at", UTCDateTime),
    sa.UniqueConstraint("name", "version", "hash", name="uq_pipeline_groups_name_version_hash"),
)

group_runs = sa.Table(
    "group_runs",
    metadata,
    sa.Column("run_id", sa.String(64), primary_key=True),
    #: ``run`` or ``replay`` (:class:`spine.store.RunKind`).
    sa.Column("kind", sa.String(16), nullable=False),
    sa.Column("group_name", sa.String(128), nullable=False),
    sa.Column("group_version", sa.Integer, nullable=False),
    sa.Column("definition_id", _BigId, sa.ForeignKey("pipeline_groups.id"), nullable=False),
    sa.Column("batch_id", sa.String(255), nullable=False),
    sa.Column("params", JSONText, nullable=False),
    #: How it was run: executor, max_concurrency, on_failure, grace_seconds (a resume reuses them).
    sa.Column("options", JSONText, nullable=False),
    #: A :class:`~spine.orchestration.models.GroupRunStatus` value.
    sa.Column("status", sa.String(16), nullable=False),
    sa.Column("message", sa.Text),
    sa.Column("executor", sa.String(32), nullable=False),
    sa.Column("step_count", sa.Integer, nullable=False),
    #: ``[[name, pipeline], …]`` in plan order: every step, also those that never got a row.
    sa.Column("plan_steps", JSONText, nullable=False),
    sa.Column("started_at", UTCDateTime, nullable=False),
    sa.Column("finished_at", UTCDateTime),
    #: The process that runs it now (or ran it last).
    sa.Column("host", sa.String(255), nullable=False),
    sa.Column("pid", sa.Integer, nullable=False),
    #: A random token naming that process's lease; pool slots are held in its name.
    sa.Column("owner", sa.String(64), nullable=False),
    sa.Column("heartbeat_at", UTCDateTime, nullable=False),
    #: Past this time without a heartbeat, the run is orphaned.
    sa.Column("lease_expires_at", UTCDateTime, nullable=False),
    sa.Column("cancel_requested_at", UTCDateTime),
    sa.Column("cancel_reason", sa.Text),
    #: How many times it was resumed (``spine runs resume`` keeps the run id).
    sa.Column("resumes", sa.Integer, nullable=False),
    #: For a replay: the run whose dead-lettered step it ran again.
    sa.Column("parent_run_id", sa.String(64), sa.ForeignKey("group_runs.run_id")),
    #: A run fired by a schedule or a backfill: the schedule's name (``every:7d`` for a
    #: backfill at a fixed interval) and the logical date (0002).
    sa.Column("schedule", sa.String(128)),
    sa.Column("logical_date", UTCDateTime),
    sa.Index("ix_group_runs_started", "started_at", "run_id"),
    sa.Index("ix_group_runs_group_started", "group_name", "started_at"),
    sa.Index("ix_group_runs_status_started", "status", "started_at"),
)

group_run_nested_groups = sa.Table(
    "group_run_nested_groups",
    metadata,
    #: A run whose plan expanded nested groups (a run without a row here has no nesting, or
    #: was recorded before 0004: its nested groups are looked up as they are now).
    sa.Column("run_id", sa.String(64), sa.ForeignKey("group_runs.run_id", ondelete="CASCADE"), primary_key=True),
    #: The definition of one nested group the run's plan expanded, as it was at the start.
    sa.Column("definition_id", _BigId, sa.ForeignKey("pipeline_groups.id"), primary_key=True),
)

group_run_executions = sa.Table(
    "group_run_executions",
    metadata,
    sa.Column("id", _BigId, primary_key=True, autoincrement=True),
    sa.Column("run_id", sa.String(64), sa.ForeignKey("group_runs.run_id", ondelete="CASCADE"), nullable=False),
    sa.Column("step", sa.Text, nullable=False),
    sa.Column("pipeline", sa.Text, nullable=False),
    #: The step's position in the plan.
    sa.Column("seq", sa.Integer, nullable=False),
    #: 1 for the first attempt; numbering continues across resumes. 0: no attempt.
    sa.Column("attempt", sa.Integer, nullable=False),
    #: 0 for the first execution of the run, 1 for its first resume …
    sa.Column("execution", sa.Integer, nullable=False),
    #: A :class:`~spine.orchestration.models.StepStatus` value.
    sa.Column("status", sa.String(16), nullable=False),
    sa.Column("started_at", UTCDateTime),
    sa.Column("finished_at", UTCDateTime),
    sa.Column("error", JSONText),
    sa.Column("result", JSONText),
    sa.Column("output", JSONText),
    sa.Column("reason", sa.Text),
    sa.Index("ix_group_run_executions_run_step", "run_id", "step", "attempt"),
)

dead_letters = sa.Table(
    "dead_letters",
    metadata,
    sa.Column("id", _BigId, primary_key=True, autoincrement=True),
    sa.Column("run_id", sa.String(64), sa.ForeignKey("group_runs.run_id", ondelete="CASCADE"), nullable=False),
    sa.Column("group_name", sa.String(128), nullable=False),
    sa.Column("step", sa.Text, nullable=False),
    sa.Column("pipeline", sa.Text, nullable=False),
    sa.Column("params", JSONText, nullable=False),
    sa.Column("error", JSONText),
    sa.Column("attempts", sa.Integer, nullable=False),
    #: ``open`` or ``resolved`` (:class:`spine.store.DeadLetterStatus`).
    sa.Column("status", sa.String(16), nullable=False),
    sa.Column("created_at", UTCDateTime, nullable=False),
    sa.Column("resolved_at", UTCDateTime),
    #: The run (a replay, or the resumed run) whose success resolved it.
    sa.Column("resolved_by", sa.String(64)),
    sa.Index("ix_dead_letters_status_id", "status", "id"),
    sa.Index("ix_dead_letters_run_step", "run_id", "step"),
)

api_tokens = sa.Table(
    "api_tokens",
    metadata,
    sa.Column("id", sa.String(32), primary_key=True),
    #: A label for people (``spine token create --name``); not secret.
    sa.Column("name", sa.String(128), nullable=False),
    #: ``viewer``, ``operator`` or ``admin`` (:class:`spine.store.TokenRole`).
    sa.Column("role", sa.String(16), nullable=False),
    #: sha256 (hex) of the token; the token itself is never stored.
    sa.Column("hash", sa.String(64), nullable=False),
    sa.Column("created_at", UTCDateTime, nullable=False),
    sa.Column("revoked_at", UTCDateTime),
    sa.UniqueConstraint("hash", name="uq_api_tokens_hash"),
)

pool_slots = sa.Table(
    "pool_slots",
    metadata,
    sa.Column("pool", sa.String(128), primary_key=True),
    sa.Column("slot", sa.Integer, primary_key=True, autoincrement=False),
    #: Who holds the slot (all ``NULL`` when free): a step of a run, in its owner's name.
    sa.Column("run_id", sa.String(64)),
    sa.Column("step", sa.Text),
    sa.Column("owner", sa.String(64)),
    sa.Column("claimed_at", UTCDateTime),
    sa.Index("ix_pool_slots_owner", "owner"),
)

schedule_fires = sa.Table(
    "schedule_fires",
    metadata,
    sa.Column("id", _BigId, primary_key=True, autoincrement=True),
    sa.Column("group_name", sa.String(128), nullable=False),
    #: The schedule's name, or ``every:<interval>`` for a backfill at a fixed interval.
    sa.Column("schedule", sa.String(128), nullable=False),
    #: The tick this fire is for: the claim's key, with the group and the schedule.
    sa.Column("logical_time", UTCDateTime, nullable=False),
    #: ``scheduler`` or ``backfill``.
    sa.Column("origin", sa.String(16), nullable=False),
    #: ``claimed`` (no run yet), ``running``, or the run's final status; ``failed`` with
    #: ``findings`` when the group could not be planned.
    sa.Column("status", sa.String(16), nullable=False),
    #: The owner token of the process that holds the claim, and its lease.
    sa.Column("claimed_by", sa.String(64), nullable=False),
    sa.Column("host", sa.String(255), nullable=False),
    sa.Column("pid", sa.Integer, nullable=False),
    sa.Column("claimed_at", UTCDateTime, nullable=False),
    sa.Column("lease_expires_at", UTCDateTime, nullable=False),
    sa.Column("run_id", sa.String(64)),
    sa.Column("params", JSONText),
    sa.Column("findings", JSONText),
    sa.Column("finished_at", UTCDateTime),
    #: How many times the claim was taken over from a process that stopped.
    sa.Column("takeovers", sa.Integer, nullable=False),
    sa.UniqueConstraint("group_name", "schedule", "logical_time", name="uq_schedule_fires_tick"),
    sa.Index("ix_schedule_fires_status", "status", "lease_expires_at"),
)

schedule_state = sa.Table(
    "schedule_state",
    metadata,
    sa.Column("group_name", sa.String(128), primary_key=True),
    sa.Column("schedule", sa.String(128), primary_key=True),
    sa.Column("paused", sa.Boolean, nullable=False),
    #: The newest tick fired (only ever moves forward: a clock jumping back fires nothing twice).
    sa.Column("last_fire", UTCDateTime),
    sa.Column("updated_at", UTCDateTime, nullable=False),
)

__all__ = [
    "HEAD_REVISION",
    "KNOWN_REVISIONS",
    "SCHEMA_VERSION",
    "api_tokens",
    "dead_letters",
    "group_run_executions",
    "group_run_nested_groups",
    "group_runs",
    "metadata",
    "pipeline_groups",
    "pool_slots",
    "schedule_fires",
    "schedule_state",
]
