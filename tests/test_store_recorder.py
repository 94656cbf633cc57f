"""Recording while the run goes: the invariant, grouped commits, and a database that goes away."""

# ruff: noqa: F811 - the fixtures imported from _db are parameters of the tests below

from __future__ import annotations

import sqlite3
import threading
import time

import pytest
import sqlalchemy as sa
from _db import Pipes, chain_group, db_url, kill_pg_connections, pg_url, store  # noqa: F401 - fixtures

from spine.framework import register_pipeline
from spine.orchestration import PipelineGroup, PipelineStep
from spine.orchestration.models import ExecutionMode, ExecutionPolicy, GroupRunStatus, StepStatus
from spine.store import RunNotRecordedError, RunRecorder, StoreTuning, record_run
from spine.store.schema import group_run_executions


def _diamonds(n: int) -> PipelineGroup:
    """Layers of 4 steps, each depending on every step of the layer before."""
    steps = []
    for layer in range(n):
        for k in range(4):
            deps = tuple(f"l{layer - 1}_{j}" for j in range(4)) if layer else ()
            steps.append(PipelineStep(f"l{layer}_{k}", "t.check", depends_on=deps))
    return PipelineGroup(name="t.diamonds", steps=tuple(steps), policy=ExecutionPolicy(execution=ExecutionMode.PARALLEL, max_concurrency=4))


class TestInvariant:
    def test_dependencies_are_committed_before_a_dependent_starts(self, store, db_url: str) -> None:
        """Every step, when it starts, finds each dependency's completion already committed (read on another connection)."""
        pipes = Pipes()
        engine = sa.create_engine(store.url)
        violations: list[str] = []
        e = group_run_executions.c

        @register_pipeline("t.check", registry=pipes.registry)
        def check(params, ctx):
            deps = [d.split(":")[0] for d in ctx.upstream]
            if deps:
                with engine.connect() as conn:
                    rows = conn.execute(
                        sa.select(e.step, e.status).where(e.run_id == ctx.run_id, e.step.in_(deps), e.status == "completed")
                    ).all()
                if {s for s, _ in rows} != set(deps):
                    violations.append(ctx.step)
            return ctx.step

        try:
            result = record_run(store, pipes.plan(_diamonds(6)), pipes.runner("threads"))
        finally:
            engine.dispose()
        assert result.status is GroupRunStatus.COMPLETED and violations == []


class TestGroupedCommits:
    def test_steps_finishing_together_share_commits(self, store, monkeypatch: pytest.MonkeyPatch) -> None:
        """A 100-step parallel run commits far fewer times than it has steps, and loses no row."""
        flushes = []
        original = RunRecorder.flush

        def counting(self):
            if self._buffered():
                flushes.append(1)
            return original(self)

        monkeypatch.setattr(RunRecorder, "flush", counting)
        pipes = Pipes()
        steps = tuple(PipelineStep(f"w{i}", "t.ok") for i in range(100))
        group = PipelineGroup(name="t.wide", steps=steps, policy=ExecutionPolicy(execution=ExecutionMode.PARALLEL, max_concurrency=10))
        result = record_run(store, pipes.plan(group), pipes.runner("inline"))
        done = store.read(lambda c: c.execute(sa.select(sa.func.count()).where(group_run_executions.c.run_id == result.run_id, group_run_executions.c.status == "completed")).scalar())
        assert done == 100 and len(flushes) <= 15

    def test_a_chain_commits_before_each_dependent(self, store, monkeypatch: pytest.MonkeyPatch) -> None:
        """In a chain every dependent waits for a commit: at least one commit per step."""
        flushes = []
        original = RunRecorder.flush

        def counting(self):
            if self._buffered():
                flushes.append(1)
            return original(self)

        monkeypatch.setattr(RunRecorder, "flush", counting)
        pipes = Pipes()
        record_run(store, pipes.plan(chain_group(n=5)), pipes.runner())
        assert len(flushes) >= 5


def _hold_lock(url: str, hold: threading.Event, locked: threading.Event) -> None:
    """Lock the store's tables from another connection until ``hold`` is set: SQLite's
    write lock (BEGIN EXCLUSIVE), or PostgreSQL's ACCESS EXCLUSIVE table locks."""
    if url.startswith("sqlite"):
        conn = sqlite3.connect(url.removeprefix("sqlite:///"), isolation_level=None, timeout=10)
        conn.execute("BEGIN EXCLUSIVE")
        locked.set()
        hold.wait(30)
        conn.execute("ROLLBACK")
        conn.close()
        return
    import psycopg
    from _db import PG_BASE
    from sqlalchemy.engine import make_url

    with psycopg.connect(PG_BASE.replace("postgresql+psycopg://", "postgresql://"), options=make_url(url).query["options"]) as conn:
        conn.execute("LOCK TABLE group_run_executions, group_runs, pool_slots, dead_letters IN ACCESS EXCLUSIVE MODE")
        locked.set()
        hold.wait(30)
        conn.rollback()


@pytest.fixture
def short_locks(monkeypatch: pytest.MonkeyPatch) -> None:
    """Lock waits of 50 ms, so a held lock turns into errors (and retries) quickly."""
    monkeypatch.setattr("spine.store.engine.SQLITE_BUSY_TIMEOUT_MS", 50)
    monkeypatch.setattr("spine.store.engine.PG_LOCK_TIMEOUT_MS", 50)


class TestFaults:
    def test_a_locked_database_is_retried_and_nothing_is_dropped(self, db_url: str, short_locks: None) -> None:
        """A lock held by another connection for a second mid-run delays the run; every row is still committed."""
        from spine.store import RunStore

        pipes = Pipes()
        hold, locked = threading.Event(), threading.Event()

        @register_pipeline("t.locker", registry=pipes.registry)
        def locker(params, ctx):
            threading.Thread(target=_hold_lock, args=(db_url, hold, locked), daemon=True).start()
            locked.wait(5)
            threading.Timer(1.0, hold.set).start()
            return "locked"

        group = PipelineGroup(
            name="t.lock",
            steps=(PipelineStep("a", "t.locker"), PipelineStep("b", "t.ok", depends_on=("a",)), PipelineStep("c", "t.ok", depends_on=("b",))),
        )
        try:
            with RunStore.open(db_url) as s:
                result = record_run(s, pipes.plan(group), pipes.runner())
                stored = s.result(result.run_id)
        finally:
            hold.set()
        assert result.status is GroupRunStatus.COMPLETED
        assert [x.status for x in stored.step_executions] == [StepStatus.COMPLETED] * 3

    def test_a_database_lost_too_long_fails_the_run_naming_the_done_steps(self, db_url: str, short_locks: None) -> None:
        """A database unusable for longer than the bound: no new step starts, the run fails, and the message names the steps known done."""
        from spine.store import RunStore

        pipes = Pipes()
        hold, locked = threading.Event(), threading.Event()

        @register_pipeline("t.locker", registry=pipes.registry)
        def locker(params, ctx):
            threading.Thread(target=_hold_lock, args=(db_url, hold, locked), daemon=True).start()
            locked.wait(5)
            return "locked"

        group = PipelineGroup(
            name="t.lost",
            steps=(PipelineStep("a", "t.ok"), PipelineStep("b", "t.locker", depends_on=("a",)), PipelineStep("c", "t.ok", depends_on=("b",))),
        )
        tuning = StoreTuning(heartbeat_seconds=0.1, lease_seconds=5, lost_after_seconds=0.8)
        try:
            with RunStore.open(db_url) as s, pytest.raises(RunNotRecordedError) as info:
                record_run(s, pipes.plan(group), pipes.runner(), tuning=tuning)
        finally:
            hold.set()
        result = info.value.result
        assert result.status is GroupRunStatus.FAILED and "steps known done: a" in result.message
        assert result.step("c").status is not StepStatus.COMPLETED and "c" not in pipes.steps_called()
        assert info.value.known_done == ["a"]

    def test_a_connection_cut_mid_run_is_reconnected(self, pg_url: str) -> None:
        """PostgreSQL connections terminated mid-run are replaced; the run completes with every row."""
        from spine.store import RunStore

        db_url = pg_url

        pipes = Pipes()

        @register_pipeline("t.cut", registry=pipes.registry)
        def cut(params, ctx):
            kill_pg_connections(db_url)
            time.sleep(0.1)
            return "cut"

        group = PipelineGroup(
            name="t.cut",
            steps=(PipelineStep("a", "t.ok"), PipelineStep("b", "t.cut", depends_on=("a",)), PipelineStep("c", "t.ok", depends_on=("b",))),
        )
        with RunStore.open(db_url) as s:
            result = record_run(s, pipes.plan(group), pipes.runner(), tuning=StoreTuning(heartbeat_seconds=0.1, lease_seconds=10))
            stored = s.result(result.run_id)
        assert result.status is GroupRunStatus.COMPLETED
        assert [x.status for x in stored.step_executions] == [StepStatus.COMPLETED] * 3

    def test_a_database_lost_during_a_long_step_stops_it_in_time(self, db_url: str, short_locks: None) -> None:
        """The database lost while a long step runs: the run fails within seconds (the lease would expire), not when the step returns."""
        from spine.store import RunStore

        pipes = Pipes()
        hold, locked = threading.Event(), threading.Event()

        @register_pipeline("t.long", registry=pipes.registry)
        def long(params, ctx):
            threading.Thread(target=_hold_lock, args=(db_url, hold, locked), daemon=True).start()
            locked.wait(5)
            for _ in range(600):
                if ctx.cancelled:
                    return "stopped"
                time.sleep(0.05)
            return "ran to the end"

        group = PipelineGroup(name="t.long", steps=(PipelineStep("a", "t.long"),))
        tuning = StoreTuning(heartbeat_seconds=0.1, lease_seconds=5, lost_after_seconds=0.8)
        started = time.monotonic()
        try:
            with RunStore.open(db_url) as s, pytest.raises(RunNotRecordedError) as info:
                record_run(s, pipes.plan(group), pipes.runner("threads"), tuning=tuning)
        finally:
            hold.set()
        assert time.monotonic() - started < 20
        step = info.value.result.step("a")
        assert step.status is StepStatus.FAILED and "lost the database" in step.error.message
