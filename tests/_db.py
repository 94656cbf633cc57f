"""Databases for the store tests: one parametrised fixture, SQLite and PostgreSQL.

``db_url`` gives each test a fresh database: a SQLite file in the test's folder, or a
fresh schema (``CREATE SCHEMA t_<random>``, reached through ``search_path`` in the URL)
in the PostgreSQL at ``SPINE_TEST_PG`` (default: the project's machines' server,
``127.0.0.1:5432``, database ``test``), dropped afterwards. PostgreSQL tests skip with a
reason when the server is unreachable. ``pg_url`` is PostgreSQL only (the racing tests).
Import the fixtures into a test module: ``from _db import db_url, pg_url, store``.
"""

from __future__ import annotations

import os
import secrets
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import quote

import pytest

PG_BASE = os.environ.get("SPINE_TEST_PG", "postgresql+psycopg://postgres@127.0.0.1:5432/test")
_pg_problem: list[str | None] = []


def pg_problem() -> str | None:
    """Why PostgreSQL cannot be used (``None``: it can); asked once per session."""
    if not _pg_problem:
        import psycopg

        conninfo = PG_BASE.replace("postgresql+psycopg://", "postgresql://")
        try:
            psycopg.connect(conninfo, connect_timeout=3).close()
            _pg_problem.append(None)
        except psycopg.Error as exc:
            _pg_problem.append(f"PostgreSQL at {PG_BASE} is unreachable ({str(exc).strip().splitlines()[0]}); start it with "
                               "`pg_ctlcluster --skip-systemctl-redirect $(ls /etc/postgresql) main start`")
    return _pg_problem[0]


def _pg_admin(sql: str) -> None:
    import psycopg

    with psycopg.connect(PG_BASE.replace("postgresql+psycopg://", "postgresql://"), autocommit=True) as conn:
        conn.execute(sql)


def fresh_pg_schema() -> Iterator[str]:
    """A URL whose connections see only a new, empty schema; the schema is dropped after."""
    problem = pg_problem()
    if problem:
        pytest.skip(problem)
    name = f"t_{secrets.token_hex(6)}"
    _pg_admin(f"CREATE SCHEMA {name}")
    try:
        # application_name lets a test find (and cut) exactly its own connections
        yield f"{PG_BASE}?options={quote(f'-csearch_path={name}')}&application_name={name}"
    finally:
        _pg_admin(f"DROP SCHEMA {name} CASCADE")


def kill_pg_connections(url: str) -> int:
    """Terminate every server connection opened with ``url`` (its application_name); how many."""
    import psycopg
    from sqlalchemy.engine import make_url

    app = make_url(url).query["application_name"]
    with psycopg.connect(PG_BASE.replace("postgresql+psycopg://", "postgresql://"), autocommit=True) as conn:
        rows = conn.execute("SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE application_name = %s", (app,)).fetchall()
    return len(rows)


@pytest.fixture(params=["sqlite", "postgresql"])
def db_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    """A fresh database: a SQLite file, or a fresh PostgreSQL schema."""
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'spine.db'}"
    else:
        yield from fresh_pg_schema()


@pytest.fixture
def pg_url() -> Iterator[str]:
    """A fresh PostgreSQL schema (racing tests run there, with real processes)."""
    yield from fresh_pg_schema()


@pytest.fixture
def store(db_url: str) -> Iterator[object]:
    """A :class:`~spine.store.RunStore` on ``db_url``, its schema created."""
    from spine.store import RunStore

    s = RunStore.open(db_url)
    try:
        yield s
    finally:
        s.close()


# -- pipelines and groups for in-process store tests ------------------------------------------


class Pipes:
    """A private registry whose pipelines record every call (``calls``, in order)."""

    def __init__(self) -> None:
        from spine.framework import PipelineRegistry, register_pipeline

        self.registry = PipelineRegistry()
        self.calls: list[tuple[str, int]] = []
        self.failing: set[str] = set()
        reg = self.registry

        @register_pipeline("t.ok", registry=reg, allow_extra_params=True)
        def ok(params: dict, ctx: object) -> object:
            self.calls.append((ctx.step, ctx.attempt))
            return {"step": ctx.step, "upstream": dict(ctx.upstream), "key": ctx.idempotency_key}

        @register_pipeline("t.maybe", registry=reg, allow_extra_params=True)
        def maybe(params: dict, ctx: object) -> object:
            self.calls.append((ctx.step, ctx.attempt))
            if ctx.step in self.failing:
                raise RuntimeError(f"{ctx.step} is told to fail")
            return {"step": ctx.step, "attempt": ctx.attempt, "key": ctx.idempotency_key, "upstream": dict(ctx.upstream)}

    def dispatcher(self) -> object:
        from spine.framework import Dispatcher

        return Dispatcher(self.registry)

    def runner(self, executor: str = "inline", **options: object) -> object:
        from spine.runner import get_runner

        return get_runner(executor, dispatcher=self.dispatcher(), **options)

    def plan(self, group: object, params: dict | None = None) -> object:
        from spine.orchestration import PlanResolver

        return PlanResolver(self.registry).resolve(group, params or {})

    def steps_called(self) -> list[str]:
        return [s for s, _ in self.calls]


def chain_group(name: str = "t.chain", n: int = 3, pipeline: str = "t.maybe", **policy: object) -> object:
    """``s0 -> s1 -> … -> s(n-1)``."""
    from spine.orchestration import PipelineGroup, PipelineStep
    from spine.orchestration.models import ExecutionPolicy

    steps = tuple(PipelineStep(f"s{i}", pipeline, depends_on=(f"s{i - 1}",) if i else ()) for i in range(n))
    return PipelineGroup(name=name, steps=steps, policy=ExecutionPolicy(**policy))
