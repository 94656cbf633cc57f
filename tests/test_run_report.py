"""The run report (``spine.render.run_report``): data built from real runs, and the HTML it renders.

Results come from real plans run by the real runner (``inline``, and ``threads`` for a
cancelled attempt; see ``_runs.py``). The page is parsed back: the timeline SVG as XML,
the rest with regular expressions over sections. The browser tests are in
``test_run_report_browser.py``.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import html
import json
import re
import xml.etree.ElementTree as ET
from pathlib import Path

import _tools
import pytest
from _runs import (
    ARROW,
    BIG_CHARS,
    BOOM_MESSAGE,
    QUOTED,
    UNICODE,
    XSS,
    XSS_IMG,
    cancelled_run,
    mixed_group,
    mixed_run,
    registry,
    stop_run,
)
from hypothesis import given
from hypothesis import strategies as st

from spine.orchestration import PlanResolver
from spine.orchestration.models import GroupRunStatus, StepStatus
from spine.render.run_report import (
    BAR_COLOURS,
    MIN_BAR_PERCENT,
    RESULT_CHARS,
    RUN_COLOURS,
    STATUS_COLOURS,
    RunReportWriteError,
    _bar,
    _ticks,
    build_run_report,
    dot_with_status,
    format_seconds,
    mermaid_with_status,
    render_run_report,
    status_svg,
    visible,
    write_run_report,
)
from spine.runner import AttemptRecord, GroupExecutionResult, StepExecution

DOT = _tools.find_dot()
needs_dot = pytest.mark.needs_dot
SVG = "{http://www.w3.org/2000/svg}"
XLINK = "{http://www.w3.org/1999/xlink}"


@dataclasses.dataclass(frozen=True)
class Report:
    plan: object
    result: GroupExecutionResult
    data: object
    page: str


def _report(run, *, draw: bool = True) -> Report:
    plan, result = run
    svg, note = status_svg(plan, result, dot=DOT or "/nonexistent/dot") if draw else (None, None)
    data = build_run_report(result, plan, svg, svg_note=note)
    return Report(plan, result, data, render_run_report(data))


@pytest.fixture(scope="module")
def mixed_pair():
    return mixed_run()


@pytest.fixture(scope="module")
def mixed(mixed_pair) -> Report:
    """The partial run with a retry, a failure, skips and hostile names, drawn with Graphviz when present."""
    return _report(mixed_pair, draw=DOT is not None)


@pytest.fixture(scope="module")
def mixed_nosvg(mixed_pair) -> Report:
    """The same run, without a picture."""
    return _report(mixed_pair, draw=False)


@pytest.fixture(scope="module")
def stopped() -> Report:
    return _report(stop_run(), draw=False)


@pytest.fixture(scope="module")
def cancelled() -> Report:
    return _report(cancelled_run(), draw=False)


# -- helpers ------------------------------------------------------------------------------


def section(page: str, sid: str) -> str:
    """The raw HTML of ``<section id="sid">`` up to its closing tag."""
    m = re.search(rf'<section id="{sid}"[^>]*>(.*?)</section>', page, re.S)
    assert m, f"no section #{sid}"
    return m.group(1)


def text(fragment: str) -> str:
    """Visible text of an HTML fragment, tags dropped and entities decoded, spaces collapsed."""
    return re.sub(r"\s+", " ", html.unescape(re.sub(r"<[^>]+>", " ", fragment))).strip()


def by_id(page: str, eid: str, tag: str = r"\w+") -> str:
    """The inner HTML of the element with id ``eid``."""
    m = re.search(rf'<({tag})\b[^>]*\bid="{re.escape(eid)}"[^>]*>(.*?)</\1>', page, re.S)
    assert m, f"no element #{eid}"
    return m.group(2)


def gantt(page: str) -> ET.Element:
    """The timeline SVG, parsed as XML."""
    m = re.search(r'<svg id="gantt".*?</svg>', page, re.S)
    assert m, "no timeline"
    return ET.fromstring(m.group(0))


def gantt_rows(page: str) -> list[ET.Element]:
    return [g for g in gantt(page).iter(f"{SVG}g") if "gantt-row" in (g.get("class") or "").split()]


def bars(row: ET.Element) -> list[ET.Element]:
    return [g for g in row.iter(f"{SVG}g") if "bar" in (g.get("class") or "").split()]


def pct(value: str) -> float:
    assert value.endswith("%"), value
    return float(value[:-1])


def row_of(report: Report, name: str) -> ET.Element:
    i = [s.name for s in report.result.step_executions].index(name)
    return gantt_rows(report.page)[i]


def node_id(report: Report, name: str) -> str:
    return next(s.id for s in report.data.steps if s.name == name)


# -- the summary --------------------------------------------------------------------------


class TestSummary:
    def test_header_names_the_run(self, mixed: Report) -> None:
        """The header shows the group, its version, the run id, the batch id and the executor."""
        r = mixed.result
        assert text(by_id(mixed.page, "group-name")) == "report.mixed"
        assert text(by_id(mixed.page, "run-id")) == r.run_id
        assert text(by_id(mixed.page, "batch-id")) == r.batch_id
        assert text(by_id(mixed.page, "executor")) == "inline"
        assert "v3" in text(by_id(mixed.page, "run-meta", "dl")) or "<small>v3</small>" in mixed.page

    def test_times_are_utc_with_milliseconds(self, mixed: Report) -> None:
        """Start and finish are shown as UTC with milliseconds, the duration in people's units."""
        started = mixed.result.started_at.astimezone(dt.UTC).strftime("%Y-%m-%d %H:%M:%S.%f")[:-3] + " UTC"
        assert text(by_id(mixed.page, "started")) == started
        assert re.fullmatch(r"\d{4}-\d\d-\d\d \d\d:\d\d:\d\d\.\d{3} UTC", text(by_id(mixed.page, "finished")))
        assert text(by_id(mixed.page, "duration")) == format_seconds(mixed.result.duration_s)

    def test_status_badge_has_the_status_colour(self, mixed: Report) -> None:
        """A partial run's badge says ``partial`` on the partial colour."""
        m = re.search(r'<span class="verdict run-status" id="run-status" style="background: ([^"]+)">([^<]+)</span>', mixed.page)
        assert m and (m.group(1), m.group(2)) == (RUN_COLOURS[GroupRunStatus.PARTIAL], "partial")

    def test_params_are_shown_escaped(self, mixed: Report) -> None:
        """The run params are listed, a hostile value as text."""
        params = by_id(mixed.page, "params", "table")
        assert "week_ending" in params and "2024-01-05" in params
        assert XSS not in params and "&lt;script&gt;alert(1)&lt;/script&gt;" in params
        assert text(params) == f'week_ending "2024-01-05" tier "{XSS}"'

    def test_run_message_is_shown(self, stopped: Report) -> None:
        """A run stopped by a failure says why in the header."""
        assert text(by_id(stopped.page, "run-message")) == "stopped: step 'a' failed and on_failure is stop"

    def test_counts_list_only_statuses_present(self, mixed: Report) -> None:
        """The summary cards count completed, failed and skipped steps — no card for absent statuses."""
        cards = re.findall(r'<li class="status-card status-(\w+)"><b>(\d+)</b>', mixed.page)
        assert cards == [("completed", "4"), ("failed", "1"), ("skipped", "2")]


# -- the timeline -------------------------------------------------------------------------


class TestTimeline:
    def test_one_row_per_step_in_plan_order(self, mixed: Report) -> None:
        """The timeline has one SVG row and one name per step, in plan order."""
        names = [html.unescape(n) for n in re.findall(r'<li class="gantt-name[^"]*" title="([^"]*)"', mixed.page)]
        assert names == [s.name for s in mixed.plan.steps]
        assert len(gantt_rows(mixed.page)) == len(mixed.plan.steps)

    def test_one_bar_per_attempt(self, mixed: Report) -> None:
        """Every row has exactly as many bars as its step had attempts."""
        assert [len(bars(r)) for r in gantt_rows(mixed.page)] == [s.attempts for s in mixed.result.step_executions]

    def test_retry_is_a_second_bar_after_the_first(self, mixed: Report) -> None:
        """The retried step's row holds a red bar for attempt 1 and a green one for attempt 2, side by side in time."""
        first, second = bars(row_of(mixed, QUOTED))
        assert (first.get("data-attempt"), second.get("data-attempt")) == ("1", "2")
        r1, r2 = first.find(f"{SVG}rect"), second.find(f"{SVG}rect")
        assert (r1.get("fill"), r2.get("fill")) == (BAR_COLOURS[StepStatus.FAILED], BAR_COLOURS[StepStatus.COMPLETED])
        assert pct(r2.get("x")) >= pct(r1.get("x")) + pct(r1.get("width")) - MIN_BAR_PERCENT

    def test_failed_step_bar_is_red(self, mixed: Report) -> None:
        """The failed step has one red bar."""
        (bar,) = bars(row_of(mixed, XSS))
        assert bar.find(f"{SVG}rect").get("fill") == BAR_COLOURS[StepStatus.FAILED]

    def test_skipped_step_has_no_bar_and_says_why(self, mixed: Report) -> None:
        """A skipped step's row has no bar and says it was skipped and why."""
        row = row_of(mixed, ARROW)
        assert bars(row) == []
        assert "".join(row.find(f"{SVG}text").itertext()) == f"skipped: upstream step '{XSS}' failed"

    def test_cancelled_attempt_is_grey(self, cancelled: Report) -> None:
        """An attempt given up after a cancel is a grey bar."""
        (bar,) = bars(row_of(cancelled, "slow"))
        assert bar.find(f"{SVG}rect").get("fill") == BAR_COLOURS[StepStatus.CANCELLED]
        assert "attempt 1: cancelled" in bar.find(f"{SVG}title").text

    def test_never_started_step_is_cancelled_with_reason(self, stopped: Report) -> None:
        """Under ``on_failure: stop`` an independent step that never started has no bar and says why."""
        row = row_of(stopped, "b")
        assert bars(row) == []
        assert "".join(row.find(f"{SVG}text").itertext()) == "cancelled: not started: step 'a' failed and on_failure is stop"

    def test_bar_titles_hold_times_and_errors(self, mixed: Report) -> None:
        """Hovering the failed attempt shows the step, the attempt, its start and finish, and its error."""
        title = bars(row_of(mixed, QUOTED))[0].find(f"{SVG}title").text
        lines = title.split("\n")
        assert lines[0] == f"{QUOTED} — attempt 1: failed"
        assert re.fullmatch(r"started \d{4}-\d\d-\d\d \d\d:\d\d:\d\d\.\d{3} UTC \(\+.+\)", lines[1])
        assert lines[2].startswith("finished ") and " after " in lines[2]
        assert lines[3] == "ConnectionError: upstream API timed out"

    def test_attempt_numbers_label_retried_bars_only(self, mixed: Report) -> None:
        """Only a step with several attempts numbers its bars (``#1``, ``#2``) when they are wide enough."""
        labelled = {g.get("data-attempt") for r in gantt_rows(mixed.page) for g in bars(r) if g.find(f"{SVG}text") is not None}
        assert labelled <= {"1", "2"}
        for row in gantt_rows(mixed.page):
            if len(bars(row)) == 1:
                assert bars(row)[0].find(f"{SVG}text") is None

    def test_legend_lists_only_bar_statuses_drawn(self, mixed: Report, cancelled: Report) -> None:
        """The timeline's legend names the statuses of the bars drawn: no cancelled key without a cancelled attempt."""
        def keys(report: Report) -> list[str]:
            return re.findall(r'<span class="k status-(\w+)">', by_id(report.page, "timeline-legend", "p"))

        assert keys(mixed) == ["completed", "failed"]
        assert keys(cancelled) == ["completed", "cancelled"]

    def test_axis_starts_at_zero_and_increases(self, mixed: Report) -> None:
        """The axis has ticks from 0 to the end of the run, left to right, each with a label."""
        svg = gantt(mixed.page)
        xs = [pct(t.get("x1")) for t in svg.iter(f"{SVG}line") if t.get("class") == "tick"]
        labels = ["".join(t.itertext()) for t in svg.iter(f"{SVG}text") if t.get("class") == "tick-label"]
        assert xs[0] == 0 and xs == sorted(xs) and xs[-1] <= 100
        assert len(labels) == len(xs) >= 2
        assert re.fullmatch(r"0 (ms|s|min|h)", labels[0])

    def test_unfinished_attempt_is_drawn_running(self, mixed: Report) -> None:
        """An attempt with no finish (a live run) is a blue bar up to the end of the chart."""
        s = mixed.result.step_executions[0]
        live = dataclasses.replace(s, status=StepStatus.RUNNING, history=(dataclasses.replace(s.history[0], status=StepStatus.RUNNING, finished_at=None),))
        result = dataclasses.replace(mixed.result, status=GroupRunStatus.RUNNING, step_executions=(live, *mixed.result.step_executions[1:]))
        data = build_run_report(result, mixed.plan, None)
        (bar,) = data.timeline.rows[0].bars
        assert bar.status is StepStatus.RUNNING and bar.colour == BAR_COLOURS[StepStatus.RUNNING]
        assert bar.x + bar.width == pytest.approx(100, abs=0.01)
        assert "not finished" in bar.title


@given(st.floats(min_value=1e-4, max_value=3e6, allow_nan=False))
def test_ticks_cover_any_span(span: float) -> None:
    """For any span, ticks start at 0, strictly increase, stay within the chart, and number 2 to 9."""
    ticks = _ticks(span)
    xs = [t.x for t in ticks]
    assert xs[0] == 0
    assert all(a < b for a, b in zip(xs, xs[1:]))
    assert xs[-1] <= 100.0001
    assert 2 <= len(ticks) <= 9 or span < 0.001


_T0 = dt.datetime(2024, 1, 5, tzinfo=dt.UTC)


@given(
    start=st.floats(min_value=0, max_value=1000),
    length=st.floats(min_value=0, max_value=1000),
    tail=st.floats(min_value=0, max_value=1000),
)
def test_bars_stay_inside_the_chart(start: float, length: float, tail: float) -> None:
    """Any attempt inside a run is a bar that starts in the chart, ends in it, and is at least the minimum width."""
    begin = _T0 + dt.timedelta(seconds=start)
    end = begin + dt.timedelta(seconds=length)
    run_end = end + dt.timedelta(seconds=tail)
    span = max((run_end - _T0).total_seconds(), 0.001)
    step = StepExecution("s", "p", StepStatus.COMPLETED, 1)
    bar = _bar(AttemptRecord(1, StepStatus.COMPLETED, begin, end), step, _T0, run_end, span, False)
    assert 0 <= bar.x <= 100 - MIN_BAR_PERCENT + 1e-9
    assert bar.width >= MIN_BAR_PERCENT - 1e-9
    assert bar.x + bar.width <= 100 + 1e-6


# -- the graph ----------------------------------------------------------------------------


def svg_nodes(page: str) -> dict[str, ET.Element]:
    m = re.search(r'<div class="svg-wrap" id="svg">(.*?)</div>', page, re.S)
    assert m, "no picture"
    root = ET.fromstring(m.group(1))
    return {g.get("id"): g for g in root.iter(f"{SVG}g") if (g.get("class") or "").startswith("node")}


@needs_dot
class TestGraph:
    def test_nodes_are_filled_by_status(self, mixed: Report) -> None:
        """Each step's node carries its status class and is filled with that status's colour."""
        nodes = svg_nodes(mixed.page)
        for s in mixed.result.step_executions:
            g = nodes[f"node-{node_id(mixed, s.name)}"]
            assert f"status-{s.status.value}" in g.get("class").split()
            shape = next(e for e in g.iter() if e.tag in (f"{SVG}path", f"{SVG}polygon"))
            assert shape.get("fill") == STATUS_COLOURS[s.status][0]
            assert shape.get("stroke") == STATUS_COLOURS[s.status][1]

    def test_nodes_say_status_attempts_and_duration(self, mixed: Report) -> None:
        """The retried step's node has a third line: completed, 2 attempts, its duration."""
        g = svg_nodes(mixed.page)[f"node-{node_id(mixed, QUOTED)}"]
        texts = ["".join(t.itertext()).replace("\xa0", " ") for t in g.iter(f"{SVG}text")]
        assert texts[0] == QUOTED
        assert re.fullmatch(r"completed · 2 attempts · .+", texts[-1])

    def test_hostile_names_are_drawn_exactly(self, mixed: Report) -> None:
        """Every hostile step name comes back from Graphviz as exact text."""
        texts = {"".join(t.itertext()).replace("\xa0", " ") for g in svg_nodes(mixed.page).values() for t in g.iter(f"{SVG}text")}
        for name in (XSS, QUOTED, ARROW, UNICODE):
            assert name in texts

    def test_nodes_link_to_their_row(self, mixed: Report) -> None:
        """Clicking a node goes to its row of the durations table (an in-page link, no script)."""
        for nid, g in svg_nodes(mixed.page).items():
            links = [a.get(f"{XLINK}href") for a in g.iter(f"{SVG}a")]
            assert links and set(links) == {f"#row-{nid.removeprefix('node-')}"}

    def test_failed_node_tooltip_has_the_error(self, mixed: Report) -> None:
        """Hovering the failed node shows its status and the error."""
        g = svg_nodes(mixed.page)[f"node-{node_id(mixed, XSS)}"]
        title = next(a.get(f"{XLINK}title") for a in g.iter(f"{SVG}a"))
        assert title.replace("\xa0", " ").startswith(f"{XSS} — failed · ")
        assert "ValueError: bad row 7" in title

    def test_legend_lists_only_statuses_present(self, mixed: Report) -> None:
        """The legend names exactly the statuses of the run's steps, in lifecycle order."""
        assert re.findall(r'<span class="k status-(\w+)">', by_id(mixed.page, "legend", "p")) == ["completed", "failed", "skipped"]

    def test_critical_path_is_not_emphasised(self, mixed: Report) -> None:
        """No edge or node is drawn in the plan report's critical-path blue: colour means status here."""
        dot = dot_with_status(mixed.plan, mixed.result)
        assert "#1f6feb" not in dot and "critical" not in dot


class TestGraphWithoutGraphviz:
    def test_no_picture_says_how_to_get_one(self, mixed_nosvg: Report) -> None:
        """Without a picture the graph section says Graphviz is needed and how to install it."""
        note = text(by_id(mixed_nosvg.page, "no-svg", "p"))
        assert "Graphviz" in note and "apt-get install graphviz" in note
        assert "<svg" not in section(mixed_nosvg.page, "graph")

    def test_mermaid_source_is_coloured_by_status(self, mixed_nosvg: Report) -> None:
        """The Mermaid source carries a class per status, applied to exactly the nodes with that status."""
        src = html.unescape(by_id(mixed_nosvg.page, "mermaid-src", "pre"))
        for status in (StepStatus.COMPLETED, StepStatus.FAILED, StepStatus.SKIPPED):
            fill, border = STATUS_COLOURS[status]
            assert f"classDef st_{status.value} fill:{fill},stroke:{border}" in src
            ids = sorted(s.id for s in mixed_nosvg.data.steps if s.status is status)
            (line,) = [ln for ln in src.splitlines() if ln.strip().startswith("class ") and ln.endswith(f" st_{status.value}")]
            assert sorted(line.split()[1].split(",")) == ids
        assert "st_cancelled" not in src

    def test_mermaid_class_lines_hold_only_generated_ids(self, mixed: Report) -> None:
        """The status lines added to Mermaid name nodes by generated id only: no step name reaches the syntax."""
        src = mermaid_with_status(mixed.plan, mixed.result)
        for line in src.splitlines():
            if line.strip().startswith("class "):
                assert re.fullmatch(r"    class n\d+(,n\d+)* st_\w+", line)

    def test_status_svg_without_dot_says_why(self, mixed: Report) -> None:
        """``status_svg`` with a Graphviz path that names nothing gives no picture and the reason."""
        svg, note = status_svg(mixed.plan, mixed.result, dot="/nonexistent/dot")
        assert svg is None and "cannot run Graphviz `dot` as '/nonexistent/dot'" in note

    def test_svg_with_active_content_is_refused(self, mixed: Report) -> None:
        """An SVG handed in with a script is not inlined; the page says why."""
        data = build_run_report(mixed.result, mixed.plan, '<svg xmlns="http://www.w3.org/2000/svg"><script>alert(1)</script></svg>')
        assert data.graph.svg is None and "<script>" in data.graph.note
        assert "<script>alert(1)" not in render_run_report(data)


# -- failures -----------------------------------------------------------------------------


class TestFailures:
    def failure(self, report: Report, name: str) -> str:
        return by_id(report.page, f"failure-{node_id(report, name)}", "article")

    def test_one_article_per_failed_step(self, mixed: Report) -> None:
        """The failures section has one article per failed step and says how many."""
        assert re.findall(r'<article class="failure" id="failure-(\w+)"', mixed.page) == [node_id(mixed, XSS)]
        assert "Failures (1)" in mixed.page

    def test_error_type_and_message(self, mixed: Report) -> None:
        """The failed step shows its error type and message, as text."""
        f = self.failure(mixed, XSS)
        assert text(re.search(r'<b class="error-type">(.*?)</b>', f).group(1)) == "ValueError"
        assert text(re.search(r'<span class="error-message">(.*?)</span>', f).group(1)) == visible(BOOM_MESSAGE)

    def test_traceback_is_in_an_open_pre_escaped(self, mixed: Report) -> None:
        """The traceback is shown (open) in a ``<pre>``, with the pipeline's frame and the markup escaped."""
        f = self.failure(mixed, XSS)
        assert '<details class="traceback" open>' in f
        tb = html.unescape(re.search(r'<pre class="traceback">(.*?)</pre>', f, re.S).group(1))
        assert tb.startswith("Traceback (most recent call last):")
        assert "raise ValueError(BOOM_MESSAGE)" in tb and tb.rstrip().endswith(f"ValueError: {visible(BOOM_MESSAGE)}")
        assert XSS_IMG not in f

    def test_output_tail_is_collapsed(self, mixed: Report) -> None:
        """What the step printed is in a closed ``<details>``."""
        f = self.failure(mixed, XSS)
        m = re.search(r'<details class="output">.*?<pre class="output">(.*?)</pre>', f, re.S)
        assert m and html.unescape(m.group(1)).startswith("reading rows\n")

    def test_control_and_bidi_characters_are_shown_as_escapes(self, mixed: Report) -> None:
        """An ANSI escape, a NUL and a right-to-left override from a pipeline appear as ``\\u`` text, never raw."""
        f = html.unescape(self.failure(mixed, XSS))
        assert "\\u001b[31mred alert\\u001b[0m\\u0000" in f
        assert "\\u202egnp.exe" in f
        assert not {"\x1b", "\x00", "\u202e"} & set(mixed.page)

    def test_skipped_because_of_it_lists_dependents_and_reasons(self, mixed: Report) -> None:
        """Under the failure, the steps skipped because of it are listed in plan order, with their reason."""
        items = re.findall(r'<li><a href="#row-(\w+)" class="name">(.*?)</a> <span class="muted">— (.*?)</span></li>', self.failure(mixed, XSS))
        assert [(html.unescape(n), html.unescape(r)) for _, n, r in items] == [
            (ARROW, f"upstream step '{XSS}' failed"),
            ("report", f"upstream step '{XSS}' failed"),
        ]
        assert [i for i, _, _ in items] == [node_id(mixed, ARROW), node_id(mixed, "report")]

    def test_failure_without_dependents_says_nothing_was_skipped(self, stopped: Report) -> None:
        """A failed step that no step depends on says nothing was skipped because of it."""
        assert "Nothing: no step depends on it." in self.failure(stopped, "a")

    def test_no_failures_section_when_nothing_failed(self, cancelled: Report) -> None:
        """A run without a failed step has no failures section."""
        assert '<section id="failures">' not in cancelled.page

    def test_long_message_is_clipped_with_a_note(self, mixed: Report) -> None:
        """A megabyte error message is cut to a readable size and the page says how much was left out."""
        s = mixed.result.step(XSS)
        huge = dataclasses.replace(s, error=dataclasses.replace(s.error, message="m" * 1_000_000))
        result = dataclasses.replace(mixed.result, step_executions=tuple(huge if x.name == XSS else x for x in mixed.result.step_executions))
        row = next(r for r in build_run_report(result, mixed.plan, None).steps if r.name == XSS)
        assert len(row.error_message.text) < 10_000
        assert "of 1,000,000 characters of the message" in row.error_message.note


# -- durations and results ----------------------------------------------------------------


class TestDurations:
    def test_a_row_per_step_in_plan_order(self, mixed: Report) -> None:
        """The durations table has a row per step in plan order, with status, attempts and duration."""
        rows = re.findall(
            r'<tr class="step status-(\w+)" id="row-\w+">\s*<td>\d+</td>\s*<td class="name">(.*?)</td>.*?<td class="num">(\d+(?: of \d+)?)</td>\s*<td class="num">(.*?)</td>\s*<td class="num">(.*?)</td>',
            section(mixed.page, "durations"),
            re.S,
        )
        allowed = {QUOTED: " of 2"}
        expected = [(s.status.value, s.name, f"{s.attempts}{allowed.get(s.name, '')}", format_seconds(s.duration_s)) for s in mixed.result.step_executions]
        assert [(st_, html.unescape(n), a, html.unescape(d)) for st_, n, a, _, d in rows] == expected

    def test_failed_row_links_to_its_failure(self, mixed: Report) -> None:
        """The failed step's row names its error type and links to its failure article."""
        nid = node_id(mixed, XSS)
        assert f'<a href="#failure-{nid}">ValueError</a>' in by_id(mixed.page, f"row-{nid}", "tr")

    def test_share_bar_only_for_steps_that_ran(self, mixed: Report) -> None:
        """A step that ran has a duration bar; a skipped one has none."""
        assert 'class="share status-completed"' in by_id(mixed.page, f"row-{node_id(mixed, 'ingest')}", "tr")
        assert 'class="share status' not in by_id(mixed.page, f"row-{node_id(mixed, ARROW)}", "tr")


class TestResults:
    def test_completed_steps_have_collapsed_result_json(self, mixed: Report) -> None:
        """Each completed step has a closed ``<details>`` with its result as JSON."""
        ids = re.findall(r'<details class="result" id="result-(\w+)">', mixed.page)
        assert ids == [s.id for s in mixed.data.steps if s.status is StepStatus.COMPLETED]
        body = by_id(mixed.page, f"result-{node_id(mixed, 'ingest')}", "details")
        assert '"rows": 3' in html.unescape(body)

    def test_large_result_is_truncated_with_a_note(self, mixed: Report) -> None:
        """A result larger than the limit is cut, and the page says how many characters it had."""
        body = html.unescape(by_id(mixed.page, f"result-{node_id(mixed, 'big')}", "details"))
        pre = re.search(r'<pre class="result-json">(.*?)</pre>', body, re.S).group(1)
        assert len(pre) == RESULT_CHARS
        size = len(json.dumps({"blob": "x" * BIG_CHARS}, indent=2))
        assert f"showing the first {RESULT_CHARS:,} of {size:,} characters of the result" in body

    def test_retried_step_lists_its_failed_attempt(self, mixed: Report) -> None:
        """A step completed on its second attempt shows both attempts, the first with its error."""
        body = html.unescape(by_id(mixed.page, f"result-{node_id(mixed, QUOTED)}", "details"))
        assert "completed on attempt 2" in body
        rows = re.findall(r'<tr class="status-(\w+)"><td>(\d)</td>.*?<td>([^<]*)</td></tr>', body, re.S)
        assert [(s, a, e) for s, a, e in rows] == [("failed", "1", "ConnectionError: upstream API timed out"), ("completed", "2", "")]

    def test_no_result_for_failed_or_skipped_steps(self, mixed: Report) -> None:
        """Failed and skipped steps have no result block."""
        for name in (XSS, ARROW, "report"):
            assert f'id="result-{node_id(mixed, name)}"' not in mixed.page


# -- the page as a whole ------------------------------------------------------------------


class TestPage:
    @pytest.mark.parametrize("fixture", ["mixed", "mixed_nosvg", "stopped", "cancelled"])
    def test_no_script_at_all(self, fixture: str, request: pytest.FixtureRequest) -> None:
        """The page holds no ``<script>`` element and its policy allows none."""
        page = request.getfixturevalue(fixture).page
        assert "<script" not in page.lower()
        csp = re.search(r'<meta http-equiv="Content-Security-Policy" content="([^"]+)">', page).group(1)
        assert "default-src 'none'" in csp and "script-src" not in csp

    def test_hostile_names_never_appear_raw(self, mixed: Report) -> None:
        """The hostile names and the error's markup appear only escaped."""
        assert XSS not in mixed.page and XSS_IMG not in mixed.page
        assert html.escape(XSS) in mixed.page

    def test_self_contained(self, mixed: Report) -> None:
        """No link, external source or network URL: links are in-page anchors only."""
        assert not re.search(r"<(link|iframe|object|embed|base|img)\b", mixed.page)
        for value in re.findall(r'(?:href|src)="([^"]*)"', mixed.page):
            assert value.startswith("#"), value
        assert "@import" not in mixed.page and "url(" not in mixed.page

    def test_data_is_frozen(self, mixed: Report) -> None:
        """The view model cannot be changed after it is built."""
        with pytest.raises(dataclasses.FrozenInstanceError):
            mixed.data.status = GroupRunStatus.COMPLETED  # type: ignore[misc]
        with pytest.raises(dataclasses.FrozenInstanceError):
            mixed.data.steps[0].name = "x"  # type: ignore[misc]

    def test_report_from_a_json_round_trip_matches(self, mixed: Report) -> None:
        """A result read back from its ``--json`` form gives the same rows, statuses, bars and errors."""
        again = build_run_report(GroupExecutionResult.from_dict(mixed.result.to_dict()), mixed.plan, None)
        first = build_run_report(mixed.result, mixed.plan, None)

        def shape(d):
            return [(s.name, s.status, s.attempts, s.error_type, len(r.bars)) for s, r in zip(d.steps, d.timeline.rows)]

        assert shape(again) == shape(first)

    def test_plan_and_run_that_differ_are_reported(self, mixed: Report) -> None:
        """A run drawn with a plan that has another step still renders, and says which step the run lacks."""
        group = mixed_group().add("later", "p.ok")
        plan = PlanResolver(registry()).resolve(group, {"tier": "x"})
        data = build_run_report(mixed.result, plan, None)
        assert data.mismatch == "1 step(s) of the plan are not in this run: later"
        assert "The plan and the run differ" in render_run_report(data)

    def test_run_with_unknown_step_still_renders(self, mixed: Report) -> None:
        """A step of the run that the plan lacks gets its own row and no node."""
        extra = StepExecution("gone", "p.gone", StepStatus.SKIPPED, reason="renamed since")
        result = dataclasses.replace(mixed.result, step_executions=(*mixed.result.step_executions, extra))
        data = build_run_report(result, mixed.plan, None)
        assert data.steps[-1].name == "gone" and data.steps[-1].id == "x0"
        assert "1 step(s) of this run are not in the plan: gone" in data.mismatch


# -- writing ------------------------------------------------------------------------------


class TestWrite:
    def test_writes_the_page(self, mixed: Report, tmp_path: Path) -> None:
        """The page is written as UTF-8 to the path, folders made as needed."""
        path = write_run_report(tmp_path / "a" / "b" / "run.html", mixed.page)
        assert path.read_text(encoding="utf-8") == mixed.page

    def test_no_temporary_file_is_left(self, mixed: Report, tmp_path: Path) -> None:
        """Only the report itself is in the folder after writing."""
        write_run_report(tmp_path / "run.html", mixed.page)
        assert [p.name for p in tmp_path.iterdir()] == ["run.html"]

    def test_unwritable_path_raises_an_error_naming_it(self, mixed: Report, tmp_path: Path) -> None:
        """A file where a folder should be gives a ``RunReportWriteError`` naming the path, and writes nothing."""
        (tmp_path / "file").write_text("x")
        target = tmp_path / "file" / "run.html"
        with pytest.raises(RunReportWriteError) as info:
            write_run_report(target, mixed.page)
        assert info.value.path == target and str(target) in str(info.value)
        assert "choose a writable path" in str(info.value)

    def test_existing_report_is_replaced(self, mixed: Report, stopped: Report, tmp_path: Path) -> None:
        """Writing over an earlier report replaces it whole."""
        path = tmp_path / "run.html"
        write_run_report(path, mixed.page)
        write_run_report(path, stopped.page)
        assert path.read_text(encoding="utf-8") == stopped.page


@pytest.mark.parametrize(
    ("seconds", "shown"),
    [(None, ""), (0.0004, "0.40 ms"), (0.12, "120 ms"), (1.25, "1.25 s"), (123, "2 min 03 s"), (3720, "1 h 02 min")],
)
def test_format_seconds(seconds: float | None, shown: str) -> None:
    """Durations are shown in the unit that reads best."""
    assert format_seconds(seconds) == shown


@pytest.mark.parametrize(
    ("raw", "shown"),
    [("plain", "plain"), ("a\r\nb", "a\nb"), ("50%\r60%", "50%\n60%"), ("tab\there", "tab\there"), ("\u202e", "\\u202e"), ("\x1b[0m", "\\u001b[0m")],
)
def test_visible(raw: str, shown: str) -> None:
    """Newlines and tabs stay; carriage returns become newlines; other invisible characters become ``\\u`` text."""
    assert visible(raw) == shown


# -- through the CLI ----------------------------------------------------------------------

CLI_PIPES = """\
from spine.framework import register_pipeline

@register_pipeline("cli.ok")
def ok(params, ctx):
    return {"step": ctx.step}

@register_pipeline("cli.boom")
def boom(params, ctx):
    raise RuntimeError("the warehouse said no")
"""

CLI_GROUP = """\
apiVersion: spine.io/v1
kind: PipelineGroup
metadata: {name: cli.report}
spec:
  pipelines:
    - {name: load, pipeline: cli.ok}
    - {name: check, pipeline: cli.boom, depends_on: [load]}
    - {name: publish, pipeline: cli.ok, depends_on: [check]}
"""


@pytest.fixture
def cli_project(in_tmp: Path, monkeypatch: pytest.MonkeyPatch):
    """A project folder whose spine.toml names a pipeline module and a group file."""
    import sys

    (in_tmp / "spine.toml").write_text('pipelines = ["cli_report_pipes"]\ngroups = ["group.yaml"]\n')
    (in_tmp / "cli_report_pipes.py").write_text(CLI_PIPES)
    (in_tmp / "group.yaml").write_text(CLI_GROUP)
    monkeypatch.syspath_prepend(str(in_tmp))
    yield in_tmp
    sys.modules.pop("cli_report_pipes", None)


def test_cli_run_writes_the_report(cli_project: Path, invoke) -> None:
    """``spine group run --report`` of a failing run exits 1 and writes a report with the failure, its skip and the timeline."""
    code, _, err = invoke("group", "run", "cli.report", "--executor", "inline", "--report", "out/run.html")
    assert code == 1, err
    page = (cli_project / "out" / "run.html").read_text(encoding="utf-8")
    assert text(by_id(page, "run-status", "span")) == "failed"
    failure = by_id(page, "failure-n1", "article")
    assert "RuntimeError" in failure and "the warehouse said no" in failure
    assert re.findall(r'<a href="#row-(\w+)" class="name">publish</a>', failure) == ["n2"]
    assert [len(bars(r)) for r in gantt_rows(page)] == [1, 1, 0]
