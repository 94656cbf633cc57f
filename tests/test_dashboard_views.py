"""The dashboard's view models (``spine.api.dashboard.views``): pure functions over real
checks, real runs and store records, and the templates rendered from them."""

from __future__ import annotations

import datetime as dt
import re

import pytest
from _runs import ARROW, QUOTED, UNICODE, XSS, mixed_group, mixed_run, registry

from spine.api.dashboard import views
from spine.check import CheckSettings, check_groups
from spine.orchestration import PipelineGroup, PipelineStep
from spine.orchestration.models import GroupRunStatus, StepStatus
from spine.render.run_report import build_run_report
from spine.store.records import DeadLetter, DeadLetterStatus, RunKind, RunSummary

T0 = dt.datetime(2026, 1, 5, 8, 0, tzinfo=dt.UTC)


def summary(run_id: str = "r1", *, status: GroupRunStatus = GroupRunStatus.COMPLETED, orphaned: bool = False,
            kind: RunKind = RunKind.RUN, finished: bool = True, cancel: bool = False, group: str = "report.mixed") -> RunSummary:
    return RunSummary(
        run_id=run_id, group=group, group_version=3, kind=kind, status=status, orphaned=orphaned, started_at=T0,
        finished_at=T0 + dt.timedelta(seconds=2.5) if finished else None, batch_id="b", params={}, executor="threads",
        step_count=7, host="h", pid=1, heartbeat_at=T0, lease_expires_at=T0, cancel_requested_at=T0 if cancel else None,
    )


def check_of(group: PipelineGroup, **settings: object):
    return check_groups([group], CheckSettings(registry=registry(), **settings)).groups[0]  # type: ignore[arg-type]


class TestVerdict:
    def test_a_clean_group_is_valid(self) -> None:
        """A group without findings is ``valid``."""
        v = views.verdict_of(check_of(PipelineGroup(name="g", steps=(PipelineStep("a", "p.ok"),))))
        assert (v.kind, v.label) == (views.VerdictKind.VALID, "valid")

    def test_errors_make_it_invalid_and_are_counted(self) -> None:
        """Two missing dependencies are an invalid group with two errors."""
        g = PipelineGroup(name="g", steps=(PipelineStep("a", "p.ok", depends_on=("x", "y")),))
        v = views.verdict_of(check_of(g))
        assert v.kind is views.VerdictKind.INVALID
        assert v.label == "invalid: 2 errors"

    def test_an_unknown_pipeline_is_an_error(self) -> None:
        """With pipelines registered, an unknown pipeline makes the group invalid."""
        v = views.verdict_of(check_of(PipelineGroup(name="g", steps=(PipelineStep("a", "p.nope"),))))
        assert v.kind is views.VerdictKind.INVALID


class TestRuns:
    def test_an_orphaned_run_says_so_and_is_not_active(self) -> None:
        """A running row whose lease expired shows ``orphaned`` and is not polled as live."""
        cell = views.run_cell(summary(status=GroupRunStatus.RUNNING, orphaned=True, finished=False))
        assert (cell.state, cell.active, cell.colour) == ("orphaned", False, views.ORPHANED_COLOUR)

    def test_a_running_run_is_active(self) -> None:
        cell = views.run_cell(summary(status=GroupRunStatus.RUNNING, finished=False))
        assert cell.active and cell.state == "running" and cell.finished == ""

    def test_times_and_duration_are_for_people(self) -> None:
        cell = views.run_cell(summary())
        assert (cell.started, cell.duration) == ("2026-01-05 08:00:00 UTC", "2.50 s")

    def test_rows_keep_the_store_order_and_show_a_replay_parent(self) -> None:
        rows = views.run_rows([summary("r2"), summary("r1", kind=RunKind.REPLAY)])
        assert [r.cell.run_id for r in rows] == ["r2", "r1"]
        assert rows[1].kind == "replay"


class TestFilters:
    def test_good_filters_are_kept_and_round_trip_as_a_query(self) -> None:
        f, problems = views.parse_run_filters({"group": "g", "status": "failed", "since": "2026-01-05T08:00", "limit": "10"})
        assert problems == ()
        assert f == views.RunFilters("g", "failed", T0, 10)
        assert views.parse_run_filters(f.query())[0] == f

    def test_a_date_alone_is_midnight_utc(self) -> None:
        f, _ = views.parse_run_filters({"since": "2026-01-05"})
        assert f.since == dt.datetime(2026, 1, 5, tzinfo=dt.UTC)

    @pytest.mark.parametrize(("key", "value", "says"), [
        ("status", "done", "is not one of pending"),
        ("since", "last tuesday", "is not a date or time"),
        ("limit", "0", "from 1 to 500"),
        ("limit", "-3", "from 1 to 500"),
        ("limit", "many", "from 1 to 500"),
    ])
    def test_a_bad_filter_is_dropped_and_said(self, key: str, value: str, says: str) -> None:
        """The list still shows (without that filter) and the page says what to change."""
        f, problems = views.parse_run_filters({key: value})
        assert f == views.RunFilters()
        assert len(problems) == 1 and says in problems[0] and repr(value) in problems[0]

    def test_an_empty_filter_is_no_filter(self) -> None:
        assert views.parse_run_filters({"group": " ", "status": "", "since": "", "limit": ""}) == (views.RunFilters(), ())


class TestGroupRows:
    def test_rows_are_sorted_with_verdict_and_last_run(self) -> None:
        checks = check_groups(
            [PipelineGroup(name="zeta", steps=(PipelineStep("a", "p.ok"),)), mixed_group()], CheckSettings(registry=registry())
        ).groups
        rows = views.group_rows(checks, {"report.mixed": summary(status=GroupRunStatus.PARTIAL)})
        assert [r.name for r in rows] == ["report.mixed", "zeta"]
        assert rows[0].last_run is not None and rows[0].last_run.state == "partial"
        assert rows[1].last_run is None and rows[1].steps == 1


class TestGroupPage:
    def _page(self, *, with_run: bool, can_run: bool = True, svg: str | None = None):
        plan, result = mixed_run()
        check = check_of(mixed_group(), run_params={"tier": "x"})
        return views.group_page(
            check, plan=check.plan, plan_note=check.plan_note, given={"tier": "x"}, latest=summary(status=result.status) if with_run else None,
            latest_result=result if with_run else None, svg=svg, svg_note="no picture: no dot here", can_run=can_run, registry=registry(),
        ), result

    def test_live_statuses_are_keyed_by_node_id_never_by_name(self) -> None:
        """The script gets ids and statuses only: a hostile step name never reaches it."""
        page, result = self._page(with_run=True)
        ids = views.step_ids(mixed_group())
        assert page.live["steps"] == {ids[s.name]: s.status.value for s in result.step_executions}
        assert all(re.fullmatch(r"n\d+", k) for k in page.live["steps"])
        assert XSS not in repr(page.live)

    def test_chips_carry_each_steps_latest_status(self) -> None:
        page, result = self._page(with_run=True)
        by_name = {c.name: c.status for c in page.chips}
        assert by_name[XSS] is StepStatus.FAILED and by_name["ingest"] is StepStatus.COMPLETED
        assert set(by_name) == {"ingest", QUOTED, XSS, ARROW, UNICODE, "report", "big"}

    def test_without_a_run_nothing_is_coloured(self) -> None:
        page, _ = self._page(with_run=False)
        assert page.live == {"run": None, "steps": {}} and all(c.status is None for c in page.chips)
        assert page.latest is None
        assert "status-" not in page.graph.dot

    def test_the_graph_is_coloured_by_the_latest_run(self) -> None:
        page, _ = self._page(with_run=True)
        assert "status-failed" in page.graph.dot and "st_failed" in page.graph.mermaid
        assert "href" not in page.graph.dot  # no links to a report's rows on this page

    def test_no_picture_says_why(self) -> None:
        page, _ = self._page(with_run=False)
        assert page.graph.svg is None and page.graph.note == "no picture: no dot here"

    def test_the_plan_is_in_order_with_param_sources(self) -> None:
        page, _ = self._page(with_run=False)
        assert [r.order for r in page.plan] == list(range(7))
        assert page.plan[0].name == "ingest"

    def test_run_params_become_form_fields_with_the_given_values(self) -> None:
        g = PipelineGroup(name="g", steps=(PipelineStep("a", "p.ok", params={"day": "{{ params.day }}"}),))
        check = check_of(g)
        page = views.group_page(check, plan=None, plan_note="needs day", given={"day": "2026-01-05", "other": "1"}, latest=None,
                                latest_result=None, svg=None, svg_note=None, can_run=True, registry=registry())
        assert [(p.name, p.required, p.value) for p in page.params] == [("day", True, "2026-01-05")]
        assert page.extra_params == {"other": "1"}

    def test_an_invalid_group_cannot_run(self) -> None:
        g = PipelineGroup(name="g", steps=(PipelineStep("a", "p.ok", depends_on=("ghost",)),))
        check = check_of(g)
        page = views.group_page(check, plan=None, plan_note=None, given={}, latest=None, latest_result=None, svg=None, svg_note=None, can_run=True)
        assert not page.runnable and page.findings and page.findings[0].severity == "error"


class TestRunPage:
    def _report(self):
        plan, result = mixed_run()
        return build_run_report(result, plan, None)

    def letter(self, run_id: str = "r1", status: DeadLetterStatus = DeadLetterStatus.OPEN) -> DeadLetter:
        return DeadLetter(id=4, run_id=run_id, group="report.mixed", step=XSS, pipeline="p.boom", params={}, error=None, attempts=1,
                          status=status, created_at=T0)

    @pytest.mark.parametrize(("status", "orphaned", "cancel", "resume"), [
        (GroupRunStatus.RUNNING, False, True, False),
        (GroupRunStatus.RUNNING, True, False, True),
        (GroupRunStatus.PENDING, False, True, False),
        (GroupRunStatus.FAILED, False, False, True),
        (GroupRunStatus.PARTIAL, False, False, True),
        (GroupRunStatus.CANCELLED, False, False, True),
        (GroupRunStatus.COMPLETED, False, False, False),
    ])
    def test_buttons_follow_the_runs_state(self, status: GroupRunStatus, orphaned: bool, cancel: bool, resume: bool) -> None:
        s = summary(status=status, orphaned=orphaned, finished=status not in (GroupRunStatus.RUNNING, GroupRunStatus.PENDING))
        page = views.run_page(self._report(), s, [], can_operate=True)
        assert (page.can_cancel, page.can_resume) == (cancel, resume)

    def test_a_viewer_gets_no_buttons(self) -> None:
        """Neither cancel, resume nor replay is offered to a role that may not use them."""
        for status in GroupRunStatus:
            page = views.run_page(self._report(), summary(status=status, finished=False), [self.letter()], can_operate=False)
            assert not page.can_cancel and not page.can_resume and page.replays == ()

    def test_cancel_is_not_offered_twice(self) -> None:
        page = views.run_page(self._report(), summary(status=GroupRunStatus.RUNNING, finished=False, cancel=True), [], can_operate=True)
        assert not page.can_cancel and page.cancel_requested

    def test_a_replay_is_not_resumable(self) -> None:
        page = views.run_page(self._report(), summary(status=GroupRunStatus.FAILED, kind=RunKind.REPLAY), [], can_operate=True)
        assert not page.can_resume

    def test_open_letters_of_this_run_are_replayable(self) -> None:
        letters = [self.letter(), self.letter(status=DeadLetterStatus.RESOLVED), self.letter(run_id="other")]
        page = views.run_page(self._report(), summary(status=GroupRunStatus.PARTIAL), letters, can_operate=True)
        assert [(r.id, r.step) for r in page.replays] == [(4, XSS)]


class TestTemplates:
    """The pages rendered from these models: names stay text, scripts come from this origin only."""

    def test_the_run_page_escapes_every_name(self) -> None:
        from spine.api.dashboard.routes import render

        plan, result = mixed_run()
        page = views.run_page(build_run_report(result, plan, None), summary(status=result.status), [], can_operate=True)
        html = render("dashboard/run.html.j2", principal={"name": "n", "role": "operator"}, csrf="c", p=page, r=page.report, svg=None,
                      api_url="/api/v1/runs/r1", body_url="/dashboard/runs/r1/body")
        assert XSS not in html and "&lt;script&gt;alert(1)&lt;/script&gt;" in html
        assert re.findall(r"<script\b[^>]*>", html) == ['<script src="/dashboard/static/dashboard.js" defer>']
        assert 'id="resume-button"' in html and 'id="cancel-button"' not in html

    def test_the_group_page_escapes_every_name(self) -> None:
        from spine.api.dashboard.routes import render

        plan, result = mixed_run()
        check = check_of(mixed_group(), run_params={"tier": "x"})
        page = views.group_page(check, plan=check.plan, plan_note=None, given={}, latest=summary(), latest_result=result, svg=None,
                                svg_note="no picture: test", can_run=False, registry=registry())
        html = render("dashboard/group.html.j2", principal={"name": "n", "role": "viewer"}, csrf="c", g=page, svg=None, executors=("threads",),
                      live_url="/dashboard/groups/report.mixed/live", runs_url="/api/v1/groups/report.mixed/runs")
        assert XSS not in html and 'id="run-form"' not in html and 'id="run-viewer"' in html
        assert re.findall(r"<script\b[^>]*>", html) == ['<script src="/dashboard/static/dashboard.js" defer>']
