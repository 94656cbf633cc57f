"""The run history: recording a run, reading it back, listing, orphans, cancel requests."""

# ruff: noqa: F811 - the fixtures imported from _db are parameters of the tests below

from __future__ import annotations

import datetime as dt

import pytest
import sqlalchemy as sa
from _db import Pipes, chain_group, db_url, store  # noqa: F401 - fixtures

from spine.orchestration import PipelineGroup, PipelineStep
from spine.orchestration.models import ExecutionMode, ExecutionPolicy, FailurePolicy, GroupRunStatus, StepStatus
from spine.store import Owner, RunNotFoundError, RunStateError, record_run
from spine.store.schema import group_run_executions, group_runs, pipeline_groups


def _expire(store, run_id: str) -> None:
    """Make ``run_id``'s lease look long expired (its owner died an hour ago)."""
    past = dt.datetime.now(dt.UTC) - dt.timedelta(hours=1)
    store.write(lambda c: c.execute(group_runs.update().where(group_runs.c.run_id == run_id).values(lease_expires_at=past, heartbeat_at=past)))


def _start_only(store, pipes: Pipes, group, run_id: str) -> Owner:
    """A run claimed in the store by a process that then did nothing (as if killed at once)."""
    owner = Owner.here(30.0)
    store.start_run(pipes.plan(group), run_id=run_id, owner=owner, options={}, executor="inline")
    return owner


class TestRecording:
    def test_a_run_is_recorded_with_its_status_and_times(self, store) -> None:
        """A recorded run's row has the result's status, group, version and a finish time."""
        pipes = Pipes()
        result = record_run(store, pipes.plan(chain_group()), pipes.runner())
        summary = store.run(result.run_id)
        assert (summary.status, summary.group, summary.group_version, summary.orphaned) == (GroupRunStatus.COMPLETED, "t.chain", 1, False)
        assert summary.finished_at is not None and summary.finished_at >= summary.started_at

    def test_result_from_the_store_matches_the_runners(self, store) -> None:
        """store.result() gives the run's steps, statuses, attempts and results as the runner returned them."""
        pipes = Pipes()
        pipes.failing.add("s1")
        result = record_run(store, pipes.plan(chain_group(on_failure=FailurePolicy.CONTINUE)), pipes.runner())
        stored = store.result(result.run_id)
        shape = lambda r: [(s.name, s.status, s.attempts, s.result, s.error.type if s.error else None, s.reason) for s in r.step_executions]  # noqa: E731
        assert shape(stored) == shape(result)
        assert stored.status is result.status is GroupRunStatus.PARTIAL

    def test_result_json_has_the_group_run_json_keys(self, store) -> None:
        """The stored result's to_dict has exactly the keys of spine group run --json, run and step."""
        pipes = Pipes()
        result = record_run(store, pipes.plan(chain_group()), pipes.runner())
        mine, theirs = store.result(result.run_id).to_dict(), result.to_dict()
        assert set(mine) == set(theirs)
        assert set(mine["steps"][0]) == set(theirs["steps"][0])

    def test_every_attempt_is_a_row(self, store) -> None:
        """A step retried twice has three execution rows, numbered 1, 2, 3."""
        pipes = Pipes()
        pipes.failing.add("s0")
        group = PipelineGroup(name="t.retry", steps=(PipelineStep("s0", "t.maybe", retries=2),))
        result = record_run(store, pipes.plan(group), pipes.runner())
        e = group_run_executions.c
        rows = store.read(lambda c: c.execute(sa.select(e.attempt, e.status).where(e.run_id == result.run_id).order_by(e.id)).all())
        assert [tuple(r) for r in rows] == [(1, "failed"), (2, "failed"), (3, "failed")]

    def test_skipped_and_never_started_steps_have_rows_with_reasons(self, store) -> None:
        """A step skipped after a failure and one never started (on_failure: stop) are stored with their reasons."""
        pipes = Pipes()
        pipes.failing.add("a")
        group = PipelineGroup(
            name="t.stop",
            steps=(PipelineStep("a", "t.maybe"), PipelineStep("b", "t.ok", depends_on=("a",)), PipelineStep("c", "t.ok")),
        )
        result = record_run(store, pipes.plan(group), pipes.runner())
        stored = store.result(result.run_id)
        assert stored.step("b").status is StepStatus.SKIPPED and "failed" in stored.step("b").reason
        assert stored.step("c").status is StepStatus.CANCELLED and stored.step("c").reason.startswith("not started")

    def test_params_keep_their_types(self, store) -> None:
        """A date run param comes back from the store as a date, not a string."""
        pipes = Pipes()
        result = record_run(store, pipes.plan(chain_group(), {"day": dt.date(2024, 1, 5)}), pipes.runner())
        assert store.run(result.run_id).params == {"day": dt.date(2024, 1, 5)}

    def test_results_with_nul_and_unicode_survive(self, store) -> None:
        """A result holding NUL, bidi and emoji characters reads back equal (PostgreSQL TEXT refuses raw NUL)."""
        from spine.framework import register_pipeline

        pipes = Pipes()
        weird = {"text": "a\x00b \u202e שלום 🚀", "n": [1, 2.5, None, True]}

        @register_pipeline("t.weird", registry=pipes.registry)
        def weird_pipeline(params, ctx):
            print("out\x00put")
            return weird

        group = PipelineGroup(name="t.weird", steps=(PipelineStep("w", "t.weird"),))
        result = record_run(store, pipes.plan(group), pipes.runner())
        step = store.result(result.run_id).step("w")
        assert (step.result, step.output) == (weird, "out\x00put\n")

    def test_one_definition_row_per_distinct_definition(self, store) -> None:
        """Two runs of the same definition share one pipeline_groups row; a changed definition gets another."""
        pipes = Pipes()
        record_run(store, pipes.plan(chain_group()), pipes.runner())
        record_run(store, pipes.plan(chain_group()), pipes.runner())
        record_run(store, pipes.plan(chain_group(n=4)), pipes.runner())
        rows = store.read(lambda c: c.execute(sa.select(pipeline_groups.c.name, pipeline_groups.c.hash)).all())
        assert len(rows) == 2 and len({h for _, h in rows}) == 2


class TestListing:
    def test_newest_first(self, store) -> None:
        """runs() lists the newest run first."""
        pipes = Pipes()
        ids = [record_run(store, pipes.plan(chain_group()), pipes.runner()).run_id for _ in range(3)]
        assert [r.run_id for r in store.runs()] == ids[::-1]

    def test_filters_by_group_and_status(self, store) -> None:
        """group= and status= select the matching runs only."""
        pipes = Pipes()
        ok = record_run(store, pipes.plan(chain_group("g.one")), pipes.runner()).run_id
        pipes.failing.add("s0")
        bad = record_run(store, pipes.plan(chain_group("g.two")), pipes.runner()).run_id
        assert [r.run_id for r in store.runs(group="g.one")] == [ok]
        assert [r.run_id for r in store.runs(status="failed")] == [bad]

    def test_since_and_limit(self, store) -> None:
        """since= drops older runs and limit= caps the page."""
        pipes = Pipes()
        record_run(store, pipes.plan(chain_group()), pipes.runner())
        cut = dt.datetime.now(dt.UTC)
        later = [record_run(store, pipes.plan(chain_group()), pipes.runner()).run_id for _ in range(3)]
        assert [r.run_id for r in store.runs(since=cut)] == later[::-1]
        assert len(store.runs(limit=2)) == 2

    def test_a_listed_run_is_the_same_summary_as_the_run_read_alone(self, store) -> None:
        """runs() reads only the summary's columns, yet each summary equals run(id)'s (completed, failed and running runs)."""
        pipes = Pipes()
        ids = [record_run(store, pipes.plan(chain_group("g.ok")), pipes.runner()).run_id]
        pipes.failing.add("s0")
        ids.append(record_run(store, pipes.plan(chain_group("g.bad")), pipes.runner()).run_id)
        _start_only(store, pipes, chain_group("g.live"), "run_live")
        listed = store.runs()
        assert len(listed) == 3
        assert listed == [store.run(r.run_id) for r in listed]
        assert {r.status for r in listed} == {GroupRunStatus.COMPLETED, GroupRunStatus.FAILED, GroupRunStatus.RUNNING}

    def test_unknown_run_suggests_a_close_id(self, store) -> None:
        """Asking for a mistyped run id raises RunNotFoundError that suggests the real one."""
        pipes = Pipes()
        run_id = record_run(store, pipes.plan(chain_group()), pipes.runner()).run_id
        with pytest.raises(RunNotFoundError, match=run_id):
            store.run(run_id[:-1] + ("0" if run_id[-1] != "0" else "1"))


class TestOrphans:
    def test_a_run_with_a_live_lease_is_running(self, store) -> None:
        """A running run whose lease has not expired is running, not orphaned."""
        pipes = Pipes()
        _start_only(store, pipes, chain_group(), "run_live")
        assert store.run("run_live").state == "running"

    def test_an_expired_lease_makes_it_orphaned(self, store) -> None:
        """A running run whose lease expired shows as orphaned, and status filters agree."""
        pipes = Pipes()
        _start_only(store, pipes, chain_group(), "run_dead")
        _expire(store, "run_dead")
        assert store.run("run_dead").state == "orphaned"
        assert [r.run_id for r in store.runs(status="orphaned")] == ["run_dead"]
        assert store.runs(status="running") == []

    def test_an_orphans_result_says_how_to_resume(self, store) -> None:
        """The stored result of an orphaned run is running, with a message naming spine runs resume."""
        pipes = Pipes()
        _start_only(store, pipes, chain_group(), "run_dead")
        _expire(store, "run_dead")
        result = store.result("run_dead")
        assert result.status is GroupRunStatus.RUNNING and "spine runs resume run_dead" in result.message


class TestCancelRequests:
    def test_cancel_of_a_live_run_is_a_request_its_heartbeat_sees(self, store) -> None:
        """request_cancel on a live run leaves it running; the owner's next heartbeat carries the reason."""
        pipes = Pipes()
        owner = _start_only(store, pipes, chain_group(), "run_live")
        after = store.request_cancel("run_live", "cancelled by the test")
        assert after.status is GroupRunStatus.RUNNING
        assert store.heartbeat("run_live", owner).cancel_reason == "cancelled by the test"

    def test_cancel_of_an_orphan_marks_it_cancelled(self, store) -> None:
        """request_cancel on an orphaned run marks it cancelled at once (nobody else would)."""
        pipes = Pipes()
        _start_only(store, pipes, chain_group(), "run_dead")
        _expire(store, "run_dead")
        assert store.request_cancel("run_dead").status is GroupRunStatus.CANCELLED

    def test_cancel_of_a_finished_run_is_refused(self, store) -> None:
        """request_cancel on a completed run raises RunStateError saying it already finished."""
        pipes = Pipes()
        run_id = record_run(store, pipes.plan(chain_group()), pipes.runner()).run_id
        with pytest.raises(RunStateError, match="already finished"):
            store.request_cancel(run_id)

    def test_a_heartbeat_after_a_takeover_is_not_owned(self, store) -> None:
        """Once another owner took the run over, the old owner's heartbeat says it is not its run any more."""
        pipes = Pipes()
        old = _start_only(store, pipes, chain_group(), "run_x")
        _expire(store, "run_x")
        store.claim_resume("run_x", Owner.here(30.0))
        assert store.heartbeat("run_x", old).owned is False


class TestParallel:
    def test_a_wide_parallel_run_records_every_step(self, store) -> None:
        """200 independent steps on threads: every step has exactly one completed row."""
        pipes = Pipes()
        steps = tuple(PipelineStep(f"w{i}", "t.ok") for i in range(200))
        group = PipelineGroup(name="t.wide", steps=steps, policy=ExecutionPolicy(execution=ExecutionMode.PARALLEL, max_concurrency=8))
        result = record_run(store, pipes.plan(group), pipes.runner("threads"))
        e = group_run_executions.c
        rows = store.read(lambda c: c.execute(sa.select(e.step, e.status).where(e.run_id == result.run_id)).all())
        assert sorted(rows) == sorted((f"w{i}", "completed") for i in range(200))


class TestLastRuns:
    @staticmethod
    def _runs(store) -> list[str]:
        """Runs of four groups: g.a three at distinct times, g.b three of which two tie on the
        newest time (the greater id inserted first), g.c one; g.none has none."""
        pipes = Pipes()
        base = dt.datetime(2024, 1, 5, 12, 0, tzinfo=dt.UTC)
        at = {"run_a1": 0, "run_a2": 2, "run_a3": 1, "run_b9": 5, "run_b1": 5, "run_b0": 4, "run_c1": 3}
        for run_id, minutes in at.items():
            _start_only(store, pipes, chain_group(f"g.{run_id[4]}"), run_id)
            when = base + dt.timedelta(minutes=minutes)
            store.write(lambda c, r=run_id, t=when: c.execute(group_runs.update().where(group_runs.c.run_id == r).values(started_at=t)))
        return ["g.a", "g.b", "g.c", "g.none"]

    def test_equals_the_newest_run_of_each_group(self, store) -> None:
        """last_runs() gives each group the summary runs(group=, limit=1) gives, ties going to the greater run id; a group without runs is absent."""
        names = self._runs(store)
        expected = {n: found[0] for n in names if (found := store.runs(group=n, limit=1))}
        assert {n: r.run_id for n, r in expected.items()} == {"g.a": "run_a2", "g.b": "run_b9", "g.c": "run_c1"}
        assert store.last_runs(names) == expected
        assert store.last_runs(["g.b", "g.none"]) == {"g.b": expected["g.b"]}
        assert store.last_runs([]) == {}

    def test_one_query_however_many_groups(self, store) -> None:
        """last_runs() sends one statement to the database for all the groups it is asked about."""
        names = self._runs(store)
        statements: list[str] = []

        def seen(conn: object, cursor: object, sql: str, *rest: object) -> None:
            statements.append(sql)

        sa.event.listen(store.engine, "before_cursor_execute", seen)
        try:
            store.last_runs(names + [f"g.more{i}" for i in range(300)])
        finally:
            sa.event.remove(store.engine, "before_cursor_execute", seen)
        selects = [s for s in statements if s.lstrip().upper().startswith("SELECT")]
        assert len(selects) == 1, statements

    def test_past_the_in_list_bound_every_group_is_read_and_filtered(self, store, monkeypatch: pytest.MonkeyPatch) -> None:
        """With more names than LAST_RUNS_IN_LIST the answer is the same (read without IN, filtered after)."""
        from spine.store import store as store_module

        names = self._runs(store)
        expected = store.last_runs(names)
        monkeypatch.setattr(store_module, "LAST_RUNS_IN_LIST", 1)
        assert store.last_runs(names) == expected
        assert store.last_runs(["g.c", "g.none"]) == {"g.c": expected["g.c"]}
