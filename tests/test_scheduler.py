"""The scheduler against a real store (SQLite and PostgreSQL): what fires, when, once; faults.

Pipelines live in a private registry and record every call; runs are real recorded runs
(the inline executor). Times are fixed (``run_once(now)``), never the clock.
"""

# ruff: noqa: F811 - the fixtures imported from _db are parameters of the tests below

from __future__ import annotations

import datetime as dt
import threading
from dataclasses import replace
from typing import Any

import pytest
from _db import db_url, store  # noqa: F401 - fixtures

from spine.core.findings import Code, Finding
from spine.framework import Dispatcher, ParamDef, PipelineRegistry, register_pipeline
from spine.orchestration import PipelineGroup, PipelineStep, Schedule
from spine.orchestration.models import ExecutionPolicy, GroupRunStatus
from spine.runner import GroupRunner
from spine.scheduler import FireAction, ScheduledGroup, Scheduler
from spine.store import FireOrigin, FireStatus, Owner, RunStore, ScheduleFires, StoreTuning

NY = "America/New_York"
TUNING = StoreTuning(heartbeat_seconds=0.1, lease_seconds=2.0)


def utc(*args: int) -> dt.datetime:
    return dt.datetime(*args, tzinfo=dt.UTC)


class Calls:
    """A registry whose pipelines record (step, params) of every call; ``fail_on`` days fail."""

    def __init__(self) -> None:
        self.calls: list[tuple[str, dict[str, Any]]] = []
        self.fail_on: set[str] = set()
        self.lock = threading.Lock()
        self.reg = PipelineRegistry()

        @register_pipeline("t.echo", registry=self.reg, allow_extra_params=True)
        def echo(params: dict[str, Any], ctx: Any) -> Any:
            with self.lock:
                self.calls.append((ctx.step, dict(params)))
            if str(params.get("day")) in self.fail_on:
                raise RuntimeError(f"no data for {params.get('day')}")
            return {"day": str(params.get("day"))}

        @register_pipeline("t.strict", registry=self.reg, params=[ParamDef("day", "date", required=True)])
        def strict(params: dict[str, Any], ctx: Any) -> Any:
            return {"day": params["day"].isoformat()}

    def days(self) -> list[str]:
        return [str(p.get("day")) for step, p in self.calls if step == "a"]


def weekly(*, catchup: bool = False, max_catchup: int = 100, name: str = "s.weekly", **policy: Any) -> PipelineGroup:
    return PipelineGroup(
        name=name,
        steps=(PipelineStep("a", "t.echo"), PipelineStep("b", "t.echo", depends_on=("a",))),
        defaults={"day": "{{ params.day }}"},
        policy=ExecutionPolicy(**policy),
        schedules=(Schedule("monday", "0 6 * * 1", NY, {"day": "{{ (schedule.logical_date - timedelta(days=3)).date() }}"},
                            catchup=catchup, max_catchup=max_catchup),),
    )


def scheduler(store: RunStore, calls: Calls, *groups: PipelineGroup | ScheduledGroup, **kw: Any) -> Scheduler:
    entries = [g if isinstance(g, ScheduledGroup) else ScheduledGroup(g) for g in groups]
    return Scheduler(store, lambda: entries, calls.reg, lambda: GroupRunner("inline", dispatcher=Dispatcher(calls.reg)), tuning=TUNING, **kw)


@pytest.fixture
def calls() -> Calls:
    return Calls()


class TestFiring:
    def test_a_first_pass_fires_the_latest_tick_once_with_rendered_params(self, store: RunStore, calls: Calls) -> None:
        """Monday 06:00 New York fires with the Friday before as its day; the run is tagged with schedule and logical date."""
        [out] = scheduler(store, calls, weekly()).run_once(utc(2024, 1, 8, 12))
        assert (out.action, out.status) == (FireAction.FIRED, FireStatus.COMPLETED)
        assert out.logical_date.isoformat() == "2024-01-08T06:00:00-05:00"
        assert calls.days() == ["2024-01-05"]
        run = store.run(out.run_id)
        assert (run.schedule, run.logical_date, run.status) == ("monday", utc(2024, 1, 8, 11), GroupRunStatus.COMPLETED)

    def test_a_later_pass_fires_only_what_came_due_since(self, store: RunStore, calls: Calls) -> None:
        """The same time again fires nothing; a week later fires the next Monday."""
        s = scheduler(store, calls, weekly())
        s.run_once(utc(2024, 1, 8, 12))
        assert s.run_once(utc(2024, 1, 8, 13)) == []
        assert s.run_once(utc(2024, 1, 14, 12)) == []
        [out] = s.run_once(utc(2024, 1, 15, 11, 0))
        assert out.logical_date.isoformat() == "2024-01-15T06:00:00-05:00"
        assert calls.days() == ["2024-01-05", "2024-01-12"]

    def test_without_catchup_only_the_latest_missed_tick_fires(self, store: RunStore, calls: Calls) -> None:
        """After four missed Mondays, catchup: false fires the latest one only."""
        s = scheduler(store, calls, weekly())
        s.run_once(utc(2024, 1, 8, 12))
        outs = s.run_once(utc(2024, 2, 6, 12))
        assert [o.logical_date.date().isoformat() for o in outs] == ["2024-02-05"]

    def test_with_catchup_each_missed_tick_fires_oldest_first(self, store: RunStore, calls: Calls) -> None:
        """catchup: true fires every missed Monday in order."""
        s = scheduler(store, calls, weekly(catchup=True))
        s.run_once(utc(2024, 1, 8, 12))
        outs = s.run_once(utc(2024, 2, 6, 12))
        assert [o.logical_date.date().isoformat() for o in outs] == ["2024-01-15", "2024-01-22", "2024-01-29", "2024-02-05"]
        assert calls.days()[1:] == ["2024-01-12", "2024-01-19", "2024-01-26", "2024-02-02"]

    def test_catchup_is_bounded_by_max_catchup(self, store: RunStore, calls: Calls) -> None:
        """With max_catchup: 2 only the newest two missed ticks fire."""
        s = scheduler(store, calls, weekly(catchup=True, max_catchup=2))
        s.run_once(utc(2024, 1, 8, 12))
        outs = s.run_once(utc(2024, 2, 6, 12))
        assert [o.logical_date.date().isoformat() for o in outs] == ["2024-01-29", "2024-02-05"]

    def test_a_paused_schedule_fires_nothing_until_resumed(self, store: RunStore, calls: Calls) -> None:
        """pause stops fires; resume fires the latest missed tick."""
        s = scheduler(store, calls, weekly())
        s.run_once(utc(2024, 1, 8, 12))
        ScheduleFires(store).set_paused("s.weekly", "monday", True)
        assert s.run_once(utc(2024, 1, 22, 12)) == []
        ScheduleFires(store).set_paused("s.weekly", "monday", False)
        assert [o.logical_date.date().isoformat() for o in s.run_once(utc(2024, 1, 23, 12))] == ["2024-01-22"]

    def test_a_disabled_schedule_never_fires(self, store: RunStore, calls: Calls) -> None:
        """enabled: false fires nothing."""
        g = weekly()
        g = replace(g, schedules=(replace(g.schedules[0], enabled=False),))
        assert scheduler(store, calls, g).run_once(utc(2024, 1, 8, 12)) == []

    def test_a_clock_jumping_back_fires_nothing_twice(self, store: RunStore, calls: Calls) -> None:
        """After a pass at 5 February, passes at earlier times (and the same time again) fire nothing."""
        s = scheduler(store, calls, weekly(catchup=True))
        s.run_once(utc(2024, 2, 5, 12))
        for back in (utc(2024, 1, 10), utc(2024, 2, 5, 11, 30), utc(2024, 2, 5, 12)):
            assert s.run_once(back) == []
        assert calls.days() == ["2024-02-02"]
        assert ScheduleFires(store).state("s.weekly", "monday").last_fire == utc(2024, 2, 5, 11)

    def test_daylight_saving_days_fire_exactly_once(self, store: RunStore, calls: Calls) -> None:
        """A daily 01:30 New York schedule with catchup fires once on the fall-back day (01:30 happens twice)."""
        g = replace(weekly(catchup=True), schedules=(Schedule("nightly", "30 1 * * *", NY, {"day": "{{ schedule.logical_date.date() }}"}, catchup=True),))
        s = scheduler(store, calls, g)
        s.run_once(utc(2024, 11, 2, 12))
        outs = s.run_once(utc(2024, 11, 4, 12))
        assert [o.logical_date.isoformat() for o in outs] == ["2024-11-03T01:30:00-04:00", "2024-11-04T01:30:00-05:00"]

    def test_the_templates_see_the_data_interval(self, store: RunStore, calls: Calls) -> None:
        """schedule.data_interval_start/end are the tick before and the tick; group is the group."""
        g = replace(weekly(), schedules=(Schedule("monday", "0 6 * * 1", NY, {
            "day": "{{ schedule.data_interval_start.date() }}..{{ schedule.data_interval_end.date() }} {{ group.name }}/{{ schedule.name }}"}),))
        scheduler(store, calls, g).run_once(utc(2024, 1, 8, 12))
        assert calls.days() == ["2024-01-01..2024-01-08 s.weekly/monday"]


class TestFaults:
    def test_an_invalid_group_records_a_failed_fire_with_its_findings(self, store: RunStore, calls: Calls) -> None:
        """The broken group's fire is failed with its findings; the other group still fires."""
        broken = ScheduledGroup(weekly(name="s.broken"), (Finding(Code.MISSING_DEPENDENCY, "step 'b' depends on 'zz'", file="g.yaml", line=7),))
        outs = scheduler(store, calls, broken, weekly()).run_once(utc(2024, 1, 8, 12))
        by = {o.group: o for o in outs}
        assert (by["s.broken"].action, by["s.broken"].status) == (FireAction.INVALID, FireStatus.FAILED)
        assert by["s.weekly"].status is FireStatus.COMPLETED
        [fire] = ScheduleFires(store).fires(group="s.broken")
        assert fire.status is FireStatus.FAILED and fire.run_id is None
        assert fire.findings[0]["code"] == "missing-dependency" and fire.findings[0]["line"] == 7

    def test_a_group_that_cannot_be_planned_records_a_failed_fire(self, store: RunStore, calls: Calls) -> None:
        """A param the pipeline refuses (not a date) is a failed fire with the planner's finding, not a crash."""
        g = PipelineGroup("s.strict", steps=(PipelineStep("a", "t.strict"),), defaults={"day": "{{ params.day }}"},
                          schedules=(Schedule("monday", "0 6 * * 1", NY, {"day": "not a date"}),))
        [out] = scheduler(store, calls, g).run_once(utc(2024, 1, 8, 12))
        assert out.action == FireAction.INVALID and out.findings and out.findings[0].code == Code.INVALID_PARAM
        assert ScheduleFires(store).last("s.strict", "monday").status is FireStatus.FAILED

    def test_a_failing_template_is_a_failed_fire(self, store: RunStore, calls: Calls) -> None:
        """A template that fails when rendered (a missing key) is a schedule-template finding on a failed fire."""
        g = replace(weekly(), schedules=(Schedule("monday", "0 6 * * 1", NY, {"day": "{{ schedule.logical_day }}"}),))
        [out] = scheduler(store, calls, g).run_once(utc(2024, 1, 8, 12))
        assert out.status is FireStatus.FAILED and out.findings[0].code == Code.SCHEDULE_TEMPLATE

    def test_a_failed_run_is_a_failed_fire(self, store: RunStore, calls: Calls) -> None:
        """A run that fails records the fire as failed, with its run id."""
        calls.fail_on.add("2024-01-05")
        [out] = scheduler(store, calls, weekly()).run_once(utc(2024, 1, 8, 12))
        assert out.status is FireStatus.FAILED and store.run(out.run_id).status is GroupRunStatus.FAILED

    def test_a_claim_held_by_a_live_scheduler_is_left_alone(self, store: RunStore, calls: Calls) -> None:
        """A tick another (live) scheduler claimed is not fired here."""
        other = Owner.here(60)
        ScheduleFires(store).claim("s.weekly", "monday", utc(2024, 1, 8, 11), other, origin=FireOrigin.SCHEDULER)
        [out] = scheduler(store, calls, weekly()).run_once(utc(2024, 1, 8, 12))
        assert out.action == FireAction.HELD and calls.calls == []

    def test_a_stale_claim_without_a_run_is_fired_by_the_next_scheduler(self, store: RunStore, calls: Calls) -> None:
        """A scheduler that died after claiming (before its run started) loses nothing: the next fires the tick, once."""
        fires = ScheduleFires(store)
        dead = Owner("dead", "elsewhere", 1, 0.001)
        claim = fires.claim("s.weekly", "monday", utc(2024, 1, 8, 11), dead, origin=FireOrigin.SCHEDULER)
        fires.attach(claim.fire, dead, "run_never_started")
        fires.advance("s.weekly", "monday", utc(2024, 1, 8, 11))
        outs = scheduler(store, calls, weekly()).run_once(utc(2024, 1, 8, 12))
        assert [(o.action, o.status) for o in outs] == [(FireAction.FIRED, FireStatus.COMPLETED)]
        [fire] = fires.fires()
        assert fire.takeovers == 1 and fire.status is FireStatus.COMPLETED and len(store.runs()) == 1
        assert calls.days() == ["2024-01-05"]

    def test_a_stale_claim_whose_run_ended_is_only_recorded(self, store: RunStore, calls: Calls) -> None:
        """A scheduler that died after its run ended: the next records the run's end and runs nothing."""
        s = scheduler(store, calls, weekly())
        [out] = s.run_once(utc(2024, 1, 8, 12))
        fires = ScheduleFires(store)

        def reopen(conn: Any) -> None:
            from spine.store.schema import schedule_fires

            conn.execute(schedule_fires.update().values(status="running", finished_at=None, claimed_by="dead",
                                                        lease_expires_at=utc(2020, 1, 1)))

        store.write(reopen)
        outs = scheduler(store, calls, weekly()).run_once(utc(2024, 1, 8, 12))
        assert [(o.action, o.status, o.run_id) for o in outs] == [(FireAction.RECORDED, FireStatus.COMPLETED, out.run_id)]
        assert len(calls.days()) == 1 and fires.fires()[0].status is FireStatus.COMPLETED

    def test_racing_claims_on_one_tick_have_exactly_one_winner(self, store: RunStore) -> None:
        """Guarantee: of eight threads claiming one tick at once, exactly one gets it."""
        fires = ScheduleFires(store)
        barrier = threading.Barrier(8)
        won: list[Any] = []

        def go() -> None:
            barrier.wait()
            got = fires.claim("s.race", "tick", utc(2024, 1, 8, 11), Owner.here(30), origin=FireOrigin.SCHEDULER)
            if got is not None:
                won.append(got)

        threads = [threading.Thread(target=go) for _ in range(8)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        assert len(won) == 1 and len(fires.fires()) == 1

    def test_max_active_runs_makes_a_fire_wait_for_a_place(self, store: RunStore, calls: Calls) -> None:
        """With max_active_runs: 1 and another run active, the fire waits; it runs once that run ends."""
        from spine.orchestration.planner import PlanResolver

        g = weekly()
        plan = PlanResolver(calls.reg).resolve(g, {"day": "2024-01-01"})
        holder = Owner.here(30)
        store.start_run(plan, run_id="run_blocking", owner=holder, options={}, executor="inline", max_active_runs=1)
        s = scheduler(store, calls, g)
        done = threading.Event()
        result: list[Any] = []
        t = threading.Thread(target=lambda: (result.extend(s.run_once(utc(2024, 1, 8, 12))), done.set()))
        t.start()
        assert not done.wait(1.0)  # waiting for a place
        assert calls.calls == []

        def finish(conn: Any) -> None:
            from spine.store.schema import group_runs

            conn.execute(group_runs.update().where(group_runs.c.run_id == "run_blocking").values(status="completed"))

        store.write(finish)
        assert done.wait(30)
        t.join()
        assert [o.status for o in result] == [FireStatus.COMPLETED]


class TestBackfill:
    def test_dates_come_from_the_schedule_with_its_params(self, calls: Calls) -> None:
        """--schedule: its ticks in the range, each with the schedule's params rendered for that date."""
        from spine.scheduler import plan_backfill

        plan = plan_backfill(weekly(), dt.date(2023, 12, 1), dt.date(2023, 12, 31), schedule="monday")
        assert [d.to_dict()["logical_date"] for d in plan.dates] == [
            "2023-12-04T06:00:00-05:00", "2023-12-11T06:00:00-05:00", "2023-12-18T06:00:00-05:00", "2023-12-25T06:00:00-05:00"]
        assert [d.to_dict()["params"] for d in plan.dates][0] == {"day": "2023-12-01"}

    def test_dates_at_a_fixed_interval(self) -> None:
        """--every 7d: from the first day at 00:00 UTC; --param templates see the logical date."""
        from spine.scheduler import plan_backfill

        plan = plan_backfill(weekly(), dt.date(2024, 1, 1), dt.date(2024, 1, 15), every="7d", params={"day": "{{ schedule.logical_date.date() }}"})
        assert plan.key == "every:7d"
        assert [d.to_dict()["params"]["day"] for d in plan.dates] == ["2024-01-01", "2024-01-08", "2024-01-15"]

    @pytest.mark.parametrize(("kw", "says"), [
        ({"schedule": "mondy"}, "did you mean 'monday'"),
        ({"every": "7x"}, "--every '7x'"),
        ({}, "choose the dates"),
        ({"schedule": "monday", "every": "7d"}, "not both"),
    ])
    def test_bad_requests_are_clear_errors(self, kw: dict[str, str], says: str) -> None:
        """An unknown schedule, a bad interval, or neither/both is a BackfillError saying what to change."""
        from spine.scheduler.backfill import BackfillError, plan_backfill

        with pytest.raises(BackfillError, match=says.replace("(", r"\(")):
            plan_backfill(weekly(), dt.date(2024, 1, 1), dt.date(2024, 1, 31), **kw)

    def test_a_backfill_run_again_skips_completed_dates_and_resumes_failed_ones(self, store: RunStore, calls: Calls) -> None:
        """The failed date's run is resumed (same run id, completed steps not run again); completed dates are skipped."""
        from spine.scheduler import plan_backfill, run_backfill

        plan = plan_backfill(weekly(), dt.date(2023, 12, 1), dt.date(2023, 12, 20), schedule="monday")
        calls.fail_on.add("2023-12-08")
        first = run_backfill(scheduler(store, calls), plan)
        assert [(o.action, o.status.value) for o in first] == [("ran", "completed"), ("ran", "failed"), ("ran", "completed")]
        calls.fail_on.clear()
        calls.calls.clear()
        again = run_backfill(scheduler(store, calls), plan)
        assert [o.action for o in again] == ["skipped", "resumed", "skipped"]
        assert again[1].run_id == first[1].run_id and again[1].status is FireStatus.COMPLETED
        assert calls.days() == ["2023-12-08"]  # only the failed date's step ran again
        assert len(store.runs()) == 3

    def test_rerun_runs_completed_dates_again_as_new_runs(self, store: RunStore, calls: Calls) -> None:
        """--rerun: every date runs again, each as a new run."""
        from spine.scheduler import plan_backfill, run_backfill

        plan = plan_backfill(weekly(), dt.date(2023, 12, 1), dt.date(2023, 12, 12), schedule="monday")
        first = run_backfill(scheduler(store, calls), plan)
        again = run_backfill(scheduler(store, calls), plan, rerun=True)
        assert [o.action for o in again] == ["ran", "ran"]
        assert {o.run_id for o in again}.isdisjoint({o.run_id for o in first}) and len(store.runs()) == 4

    def test_the_scheduler_does_not_fire_a_tick_a_backfill_ran(self, store: RunStore, calls: Calls) -> None:
        """Backfill and scheduler claim the same ticks: a Monday backfilled is not fired again."""
        from spine.scheduler import plan_backfill, run_backfill

        run_backfill(scheduler(store, calls), plan_backfill(weekly(), dt.date(2024, 1, 8), dt.date(2024, 1, 8), schedule="monday"))
        [out] = scheduler(store, calls, weekly()).run_once(utc(2024, 1, 8, 12))
        assert out.action == FireAction.HELD and len(calls.days()) == 1

    def test_max_active_is_capped_by_max_active_runs(self, store: RunStore, calls: Calls) -> None:
        """Guarantee: with max_active 4 but max_active_runs 2, no more than two dates' runs overlap."""
        import time

        from spine.scheduler import plan_backfill, run_backfill

        live = [0]
        peak = [0]
        lock = threading.Lock()

        @register_pipeline("t.slow", registry=calls.reg, allow_extra_params=True)
        def slow(params: dict[str, Any], ctx: Any) -> Any:
            with lock:
                live[0] += 1
                peak[0] = max(peak[0], live[0])
            time.sleep(0.2)
            with lock:
                live[0] -= 1
            return {}

        g = replace(weekly(max_active_runs=2), steps=(PipelineStep("a", "t.slow"),))
        plan = plan_backfill(g, dt.date(2023, 10, 1), dt.date(2023, 12, 31), schedule="monday")
        outs = run_backfill(scheduler(store, calls), plan, max_active=4)
        assert all(o.status is FireStatus.COMPLETED for o in outs) and len(outs) == 13
        assert peak[0] == 2


def test_a_stale_backfill_claim_is_left_to_the_backfill(store: RunStore, calls: Calls) -> None:
    """The scheduler does not complete a backfill's open claim (it would lose the backfill's --param values); running the backfill again does."""
    from spine.scheduler import plan_backfill, run_backfill

    fires = ScheduleFires(store)
    dead = Owner("dead", "elsewhere", 1, 0.001)
    fires.claim("s.weekly", "every:7d", utc(2024, 1, 1), dead, origin=FireOrigin.BACKFILL)
    fires.advance("s.weekly", "monday", utc(2024, 1, 8, 11))  # nothing of the schedule is due
    assert scheduler(store, calls, weekly()).run_once(utc(2024, 1, 8, 12)) == []
    plan = plan_backfill(weekly(), dt.date(2024, 1, 1), dt.date(2024, 1, 1), every="7d", params={"day": "from-the-backfill"})
    [out] = run_backfill(scheduler(store, calls), plan)
    assert (out.action, out.status) == ("ran", FireStatus.COMPLETED) and calls.days() == ["from-the-backfill"]
    assert fires.fires(schedule="every:7d")[0].takeovers == 1
