"""Remember runs: a SQLAlchemy Core store (SQLite by default, PostgreSQL for teams) with
run history, resume after a crash, a dead-letter queue, run guards and pools.

:class:`RunStore` (:mod:`.store`) is the database; :func:`record_run`,
:func:`resume_run` and :func:`replay_dead_letter` (:mod:`.control`) run plans with it;
:class:`RunRecorder` (:mod:`.recorder`) commits what the runner reports; :class:`Lease`
(:mod:`.leases`) keeps a run's heartbeat; :class:`PoolSlots` (:mod:`.pools`) and
:class:`DeadLetters` (:mod:`.dlq`) are the pools and the dead-letter queue;
:class:`ApiTokens` (:mod:`.tokens`) the HTTP API's bearer tokens. Tables and
the schema revision are in :mod:`.schema`; migrations ship in ``migrations/``.
"""

from spine.store.control import (
    ClaimedRun,
    StoreTuning,
    WaitCancelled,
    check_pools,
    claim_replay,
    claim_resume,
    claim_run,
    execute_claimed,
    plan_of,
    record_run,
    replay_dead_letter,
    replay_plan,
    resume_run,
    runner_options,
)
from spine.store.dlq import DeadLetters
from spine.store.engine import NO_DATABASE, display_url, resolve_url
from spine.store.errors import (
    ActiveRunError,
    BadDatabaseURLError,
    DeadLetterNotFoundError,
    RunNotFoundError,
    RunNotResumableError,
    RunStateError,
    SchemaVersionError,
    StoreCorruptError,
    StoreError,
    StoreUnavailableError,
    UnknownPoolError,
)
from spine.store.leases import HEARTBEAT_SECONDS, LEASE_SECONDS, Lease
from spine.store.pools import PoolSlots, SlotHolder
from spine.store.recorder import RunNotRecordedError, RunRecorder
from spine.store.records import DeadLetter, DeadLetterStatus, Owner, RunKind, RunSummary
from spine.store.schema import HEAD_REVISION, SCHEMA_VERSION
from spine.store.store import Beat, ResumeState, RunStore, SchemaState, StoredRun
from spine.store.tokens import ApiToken, ApiTokens, TokenNotFoundError, TokenRole

__all__ = [
    "HEAD_REVISION",
    "HEARTBEAT_SECONDS",
    "LEASE_SECONDS",
    "NO_DATABASE",
    "SCHEMA_VERSION",
    "ActiveRunError",
    "ApiToken",
    "ApiTokens",
    "BadDatabaseURLError",
    "Beat",
    "ClaimedRun",
    "DeadLetter",
    "DeadLetterNotFoundError",
    "DeadLetterStatus",
    "DeadLetters",
    "Lease",
    "Owner",
    "PoolSlots",
    "ResumeState",
    "RunKind",
    "RunNotFoundError",
    "RunNotRecordedError",
    "RunNotResumableError",
    "RunRecorder",
    "RunStateError",
    "RunStore",
    "RunSummary",
    "SchemaState",
    "SchemaVersionError",
    "SlotHolder",
    "StoreCorruptError",
    "StoreError",
    "StoreTuning",
    "StoreUnavailableError",
    "StoredRun",
    "TokenNotFoundError",
    "TokenRole",
    "UnknownPoolError",
    "WaitCancelled",
    "check_pools",
    "claim_replay",
    "claim_resume",
    "claim_run",
    "display_url",
    "execute_claimed",
    "plan_of",
    "record_run",
    "replay_dead_letter",
    "replay_plan",
    "resolve_url",
    "resume_run",
    "runner_options",
]
