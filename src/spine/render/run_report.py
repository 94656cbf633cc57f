"""The HTML run report: what ran, when, and why something failed — built as data, then rendered.

``build_run_report(result, plan, svg)`` turns a :class:`~spine.runner.GroupExecutionResult`
and the plan it ran into :class:`RunReportData` (frozen view models, no I/O);
``render_run_report(data)`` renders the one template with the plan report's sandboxed,
autoescaping Jinja2 environment; ``write_run_report(path, html)`` writes the file.
Graphviz runs at one edge only: :func:`status_svg` (``dot_with_status`` → SVG), whose
output the caller hands to ``build_run_report``. :func:`write_run_report_for` does all of
it in one call (``spine group run --report``).

The page is one self-contained file, in the plan report's family (its CSS, plus
``run_report.css``): a summary, failures first (error, traceback, output tail, what was
skipped because of it), a Gantt timeline drawn here as inline SVG (one row per step in
plan order, one bar per attempt), the graph coloured by step status, a durations table,
and each completed step's result. It holds no script at all (its Content-Security-Policy
forbids one): hover titles and ``#anchor`` links need none, so a step name can never run.

The timeline's x coordinates are percentages of the run's span, so the SVG fills any
width without scaling its text; step names sit beside it in HTML rows of the same height.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import json
import os
from collections import Counter
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace
from pathlib import Path
from typing import TYPE_CHECKING, Any

from spine.core.errors import SpineError
from spine.orchestration.models import GroupRunStatus, StepStatus
from spine.render.dot import NodeDecoration, layout_effort, to_dot
from spine.render.mermaid import to_mermaid
from spine.render.view import EdgeKind, GraphView, NodeKind, build_graph_view

if TYPE_CHECKING:
    from spine.orchestration.models import PipelineGroup
    from spine.orchestration.planner import ExecutionPlan, PlannedStep
    from spine.runner.results import AttemptRecord, GroupExecutionResult, StepExecution

#: Characters of a completed step's result JSON shown (the rest is counted, not shown).
RESULT_CHARS = 20_000
#: Characters of a step's captured output shown (the tail).
OUTPUT_CHARS = 20_000
#: Characters of a traceback shown (the tail: the innermost frames and the error).
TRACEBACK_CHARS = 50_000
#: Characters of an error message shown.
MESSAGE_CHARS = 4_000

#: Step status → (fill, border) in the graph, the legend and the tables.
STATUS_COLOURS: Mapping[StepStatus, tuple[str, str]] = {
    StepStatus.COMPLETED: ("#dafbe1", "#1a7f37"),
    StepStatus.FAILED: ("#ffebe9", "#d1242f"),
    StepStatus.SKIPPED: ("#fff8c5", "#9a6700"),
    StepStatus.CANCELLED: ("#eaeef2", "#6e7781"),
    StepStatus.RUNNING: ("#ddf4ff", "#0969da"),
    StepStatus.PENDING: ("#ffffff", "#8c959f"),
}
#: Attempt status → the solid colour of its bar on the timeline.
BAR_COLOURS: Mapping[StepStatus, str] = {
    StepStatus.COMPLETED: "#2da44e",
    StepStatus.FAILED: "#cf222e",
    StepStatus.CANCELLED: "#8c959f",
    StepStatus.RUNNING: "#0969da",
    StepStatus.SKIPPED: "#bf8700",
    StepStatus.PENDING: "#d0d7de",
}
#: Run status → the colour of its badge.
RUN_COLOURS: Mapping[GroupRunStatus, str] = {
    GroupRunStatus.COMPLETED: "#1a7f37",
    GroupRunStatus.FAILED: "#d1242f",
    GroupRunStatus.PARTIAL: "#9a6700",
    GroupRunStatus.CANCELLED: "#6e7781",
    GroupRunStatus.RUNNING: "#0969da",
    GroupRunStatus.PENDING: "#6e7781",
}

#: Timeline geometry in CSS pixels (rows of names and bars share the row height).
ROW_HEIGHT = 26
BAR_HEIGHT = 16
AXIS_HEIGHT = 28
#: The narrowest bar, in percent of the span: an instant attempt stays visible.
MIN_BAR_PERCENT = 0.25
#: Why there is no picture when the caller drew none and did not say why.
NO_PICTURE = (
    "no picture: Graphviz did not draw this graph. To get one, install Graphviz (Debian/Ubuntu: "
    "`sudo apt-get install graphviz`, macOS: `brew install graphviz`, conda: `conda install graphviz`)"
)
_TICK_STEPS = (
    0.001, 0.002, 0.005, 0.01, 0.02, 0.05, 0.1, 0.2, 0.5, 1, 2, 5, 10, 15, 30,
    60, 120, 300, 600, 900, 1800, 3600, 7200, 10800, 21600, 43200, 86400,
)
_MAX_TICKS = 8


class RunReportWriteError(SpineError):
    """The run report could not be written (the path and the operating system's reason)."""

    def __init__(self, path: Path, reason: str) -> None:
        super().__init__(f"cannot write the run report to {path}: {reason}; choose a writable path for --report")
        self.path = path
        self.reason = reason


# -- view models ------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Bar:
    """One attempt on the timeline: where it starts and how wide it is, in percent of the span."""

    attempt: int
    status: StepStatus
    x: float
    width: float
    colour: str
    #: Hover text: the attempt, its times and its error.
    title: str
    #: Shown inside the bar when a step had several attempts.
    label: str | None = None


@dataclass(frozen=True, slots=True)
class TimelineRow:
    id: str
    name: str
    status: StepStatus
    bars: tuple[Bar, ...]
    #: Said in the row when the step has no bar (skipped, never started).
    note: str | None = None


@dataclass(frozen=True, slots=True)
class Tick:
    x: float
    label: str
    anchor: str = "middle"


@dataclass(frozen=True, slots=True)
class Timeline:
    rows: tuple[TimelineRow, ...]
    ticks: tuple[Tick, ...]
    span_s: float
    row_height: int = ROW_HEIGHT
    bar_height: int = BAR_HEIGHT
    axis_height: int = AXIS_HEIGHT

    @property
    def height(self) -> int:
        return self.axis_height + self.row_height * len(self.rows) + 4

    @property
    def bar_statuses(self) -> tuple[StepStatus, ...]:
        """The statuses of the bars drawn, in lifecycle order (the timeline's legend)."""
        present = {b.status for row in self.rows for b in row.bars}
        return tuple(st for st in StepStatus if st in present)


@dataclass(frozen=True, slots=True)
class AttemptRow:
    attempt: int
    status: StepStatus
    started: str
    finished: str
    duration: str
    error: str | None = None


@dataclass(frozen=True, slots=True)
class Clipped:
    """Text cut to a sane size, and what was left out."""

    text: str
    note: str | None = None


@dataclass(frozen=True, slots=True)
class SkippedStep:
    id: str
    name: str
    reason: str


@dataclass(frozen=True, slots=True)
class StepRow:
    """One step of the run, everything the page says about it."""

    id: str
    name: str
    pipeline: str
    status: StepStatus
    attempts: int
    #: Attempts the plan allowed (1 + its ``retries``); 0 when the plan does not know the step.
    allowed: int
    #: Offset of the first attempt's start from the run's start (``+1.2 s``), or "".
    start: str
    duration: str
    duration_s: float | None
    #: The step's duration as a percentage of the run's (for the durations table's bar).
    share: float
    reason: str | None
    depends_on: tuple[str, ...]
    history: tuple[AttemptRow, ...]
    error_type: str | None = None
    error_message: Clipped | None = None
    traceback: Clipped | None = None
    output: Clipped | None = None
    result: Clipped | None = None
    #: Steps skipped because this one failed (its dependents, transitively).
    skipped: tuple[SkippedStep, ...] = ()
    #: Nested groups that start at this step: ``(calling step, group and version, depth)``,
    #: shown as headings before its row (names made visible, escaped by the template).
    heads: tuple[tuple[str, str, int], ...] = ()
    #: How many nested groups the step is in (its row is indented that much).
    depth: int = 0

    @property
    def retried(self) -> bool:
        return self.attempts > 1

    @property
    def attempts_text(self) -> str:
        """``2 of 3`` when the plan allowed retries, else the bare count."""
        return f"{self.attempts} of {self.allowed}" if self.allowed > 1 else str(self.attempts)


@dataclass(frozen=True, slots=True)
class RunGraphic:
    """The graph: inline SVG when Graphviz ran, otherwise why not; Mermaid and DOT sources."""

    svg: str | None
    mermaid: str
    dot: str
    note: str | None = None
    layout_reduced: str | None = None


@dataclass(frozen=True, slots=True)
class StatusCount:
    status: StepStatus
    count: int
    fill: str
    border: str


@dataclass(frozen=True)
class RunReportData:
    """Everything the run report shows, as plain data."""

    group: str
    group_version: int
    run_id: str
    batch_id: str
    status: GroupRunStatus
    status_colour: str
    executor: str
    started: str
    finished: str
    duration: str
    params: Mapping[str, Any]
    message: str | None
    resumed_from: str | None
    policy: Mapping[str, Any]
    #: Statuses present in the run, in lifecycle order (the legend and the summary cards).
    counts: tuple[StatusCount, ...]
    steps: tuple[StepRow, ...]
    timeline: Timeline
    graph: RunGraphic
    #: Steps of the plan the run does not know, or the reverse (a report of an old run).
    mismatch: str | None = None
    spine_version: str = ""

    @property
    def failed(self) -> tuple[StepRow, ...]:
        return tuple(s for s in self.steps if s.status is StepStatus.FAILED)

    @property
    def completed(self) -> tuple[StepRow, ...]:
        return tuple(s for s in self.steps if s.status is StepStatus.COMPLETED)


# -- formatting -------------------------------------------------------------------------


def format_seconds(seconds: float | None) -> str:
    """A duration for people: ``0.4 ms``, ``120 ms``, ``1.25 s``, ``2 min 03 s``, ``1 h 02 min``."""
    if seconds is None:
        return ""
    s = max(0.0, seconds)
    if s < 0.001:
        return f"{s * 1000:.2f} ms"
    if s < 1:
        return f"{s * 1000:.0f} ms"
    if s < 60:
        return f"{s:.2f} s"
    if s < 3600:
        m, rest = divmod(round(s), 60)
        return f"{m} min {rest:02d} s"
    h, rest = divmod(round(s), 3600)
    return f"{h} h {rest // 60:02d} min"


def _tick_label(seconds: float, step: float) -> str:
    if step < 1:
        return f"{seconds * 1000:.0f} ms"
    if step < 60:
        return f"{seconds:g} s"
    if step < 3600:
        return f"{seconds / 60:g} min"
    return f"{seconds / 3600:g} h"


def _when(t: dt.datetime | None) -> str:
    if t is None:
        return ""
    return t.astimezone(dt.UTC).strftime("%Y-%m-%d %H:%M:%S.%f")[:-3] + " UTC"


def _offset(t: dt.datetime | None, t0: dt.datetime) -> str:
    if t is None:
        return ""
    return "+" + format_seconds((t - t0).total_seconds())


def visible(text: str) -> str:
    """``text`` with every invisible or control character but newline and tab shown as a
    ``\\u…`` escape: what a pipeline printed or raised may hold ANSI colours, bidi
    overrides or NULs, and the page shows them rather than being rearranged by them.
    Line ends become newlines (``\\r`` progress lines each get their own line)."""
    if text.isprintable():
        return text
    text = text.replace("\r\n", "\n").replace("\r", "\n")
    return "".join(ch if ch.isprintable() or ch in "\n\t" else f"\\u{ord(ch):04x}" for ch in text)


def clip_head(text: str, limit: int, what: str) -> Clipped:
    """The first ``limit`` characters of ``text`` (made :func:`visible`) and a note of how much was left out."""
    text = visible(text)
    if len(text) <= limit:
        return Clipped(text)
    return Clipped(text[:limit], f"showing the first {limit:,} of {len(text):,} characters of {what}")


def clip_tail(text: str, limit: int, what: str) -> Clipped:
    """The last ``limit`` characters of ``text`` (made :func:`visible`) and a note of how much was left out."""
    text = visible(text)
    if len(text) <= limit:
        return Clipped(text)
    return Clipped(text[-limit:], f"showing the last {limit:,} of {len(text):,} characters of {what}")


def _result_json(value: Any) -> str:
    from spine.core.jsonable import jsonable

    return json.dumps(jsonable(value), indent=2, ensure_ascii=False)


# -- the graph ---------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class _PlanIndex:
    """What the report needs of a plan, computed once: its graph view, node ids, steps and
    dependents by name."""

    view: GraphView
    ids: Mapping[str, str]
    steps: Mapping[str, PlannedStep]
    children: Mapping[str, Sequence[str]]
    order: Sequence[str]


def status_view(group: PipelineGroup, plan: ExecutionPlan | None = None) -> GraphView:
    """``group``'s graph view for colouring by status: without the critical-path emphasis,
    because where colour means status a blue path would read as "running". When ``plan``
    (of ``group``) calls nested groups, its expanded steps are drawn instead, clustered, so
    the run's step names (``prices/ingest``) have nodes to colour."""
    if plan is not None and any(p.nesting for p in plan.steps):
        from spine.orchestration.models import PipelineGroup as Group, PipelineStep

        flat = Group(name=plan.group.name, steps=tuple(PipelineStep(p.name, p.pipeline, depends_on=p.depends_on) for p in plan.steps))
        view = build_graph_view(flat, nesting={p.name: p.nesting for p in plan.steps})
    else:
        view = build_graph_view(group)
    return replace(
        view,
        nodes=tuple(replace(n, critical=False) for n in view.nodes),
        edges=tuple(replace(e, kind=EdgeKind.NORMAL) if e.kind is EdgeKind.CRITICAL else e for e in view.edges),
    )


def status_decorations(view: GraphView, result: GroupExecutionResult | None, *, links: bool = True) -> dict[str, NodeDecoration]:
    """Each step node of ``view`` filled by its status in ``result`` (none without a run);
    ``links`` makes each node link to its row of the run report (``#row-n3``)."""
    if result is None:
        return {}
    out = _decorations(view, result)
    return out if links else {k: replace(d, href=None) for k, d in out.items()}


def _index(plan: ExecutionPlan) -> _PlanIndex:
    view = status_view(plan.group, plan)
    children: dict[str, list[str]] = {}
    for p in plan.steps:
        for d in p.depends_on:
            children.setdefault(d, []).append(p.name)
    return _PlanIndex(
        view=view,
        ids={n.name: n.id for n in view.nodes if n.kind is NodeKind.STEP},
        steps={p.name: p for p in plan.steps},
        children=children,
        order=[p.name for p in plan.steps],
    )


def _decorations(view: GraphView, result: GroupExecutionResult) -> dict[str, NodeDecoration]:
    by_name = {s.name: s for s in result.step_executions}
    out: dict[str, NodeDecoration] = {}
    for n in view.nodes:
        s = by_name.get(n.name) if n.kind is NodeKind.STEP else None
        if s is None:
            continue
        fill, border = STATUS_COLOURS[s.status]
        note = s.status.value
        if s.attempts > 1:
            note += f" · {s.attempts} attempts"
        if s.duration_s is not None:
            note += f" · {format_seconds(s.duration_s)}"
        tooltip = f"{s.name} — {note}"
        if s.error is not None:
            tooltip += f" — {s.error.type}: {s.error.message[:200]}"
        elif s.reason:
            tooltip += f" — {s.reason}"
        out[n.id] = NodeDecoration(fill=fill, border=border, css_class=f"status-{s.status.value}", note=note, tooltip=tooltip, href=f"#row-{n.id}")
    return out


def dot_with_status(plan: ExecutionPlan, result: GroupExecutionResult, *, direction: str = "TB") -> str:
    """DOT of ``plan``'s graph with each step filled by its status in ``result``.

    Each node also says its status, attempts and duration, hovers with its error or why
    it did not run, and links to its row of the run report (``#row-n3``).
    """
    return _dot(_index(plan), result, direction)


def _dot(index: _PlanIndex, result: GroupExecutionResult, direction: str) -> str:
    return to_dot(index.view, direction=direction, decorations=_decorations(index.view, result))


def mermaid_with_status(plan: ExecutionPlan, result: GroupExecutionResult, *, direction: str = "TB") -> str:
    """Mermaid of ``plan``'s graph with a class per step status (``st_failed`` …)."""
    return _mermaid(_index(plan), result, direction)


def _mermaid(index: _PlanIndex, result: GroupExecutionResult, direction: str) -> str:
    return status_mermaid(index.view, result, direction=direction)


def status_mermaid(view: GraphView, result: GroupExecutionResult | None, *, direction: str = "TB") -> str:
    """Mermaid of ``view`` (see :func:`status_view`) with a class per step status in ``result`` (``st_failed`` …)."""
    ids = {n.name: n.id for n in view.nodes if n.kind is NodeKind.STEP}
    lines = [to_mermaid(view, direction=direction).rstrip("\n")]
    groups: dict[StepStatus, list[str]] = {}
    for s in result.step_executions if result is not None else ():
        if s.name in ids:
            groups.setdefault(s.status, []).append(ids[s.name])
    for status in StepStatus:
        if status in groups:
            fill, border = STATUS_COLOURS[status]
            lines.append(f"    classDef st_{status.value} fill:{fill},stroke:{border},stroke-width:2px")
            lines.append(f"    class {','.join(groups[status])} st_{status.value}")
    return "\n".join(lines) + "\n"


def status_svg(plan: ExecutionPlan, result: GroupExecutionResult, *, direction: str = "TB", dot: str = "dot") -> tuple[str | None, str | None]:
    """``(svg, None)`` from the Graphviz program ``dot``, or ``(None, why not)`` when it is missing or fails."""
    from spine.render.svg import draw_svg

    picture = draw_svg(dot_with_status(plan, result, direction=direction), dot)
    return (picture.svg, None) if picture.svg is not None else (None, f"no picture: {picture.reason}")


# -- the timeline ------------------------------------------------------------------------


def _ticks(span: float) -> tuple[Tick, ...]:
    step = next((s for s in _TICK_STEPS if span / s <= _MAX_TICKS), None)
    if step is None:
        step = _TICK_STEPS[-1] * -(-span // (_TICK_STEPS[-1] * _MAX_TICKS))
    out = []
    k = 0
    while k * step <= span * (1 + 1e-9):
        x = 100.0 * k * step / span
        anchor = "start" if k == 0 else "end" if x > 97 else "middle"
        out.append(Tick(round(x, 4), _tick_label(k * step, step), anchor))
        k += 1
    return tuple(out)


def _bar(record: AttemptRecord, step: StepExecution, t0: dt.datetime, end: dt.datetime, span: float, many: bool) -> Bar:
    status = record.status
    finished = record.finished_at
    if finished is None:  # still in flight (a live run): drawn up to the report's end
        status = StepStatus.RUNNING
        finished = end
    x = max(0.0, (record.started_at - t0).total_seconds()) / span * 100
    width = max(MIN_BAR_PERCENT, (finished - record.started_at).total_seconds() / span * 100)
    x = min(x, 100 - MIN_BAR_PERCENT)
    width = min(width, 100 - x)
    if record.finished_at is None:
        width = 100 - x  # to the chart's end, also when the span was rounded up to its minimum
    lines = [
        visible(f"{step.name} — attempt {record.attempt}: {status.value}"),
        f"started {_when(record.started_at)} ({_offset(record.started_at, t0)})",
        f"finished {_when(record.finished_at)} after {format_seconds(record.duration_s)}" if record.finished_at else "not finished",
    ]
    if record.error is not None:
        lines.append(visible(f"{record.error.type}: {record.error.message[:MESSAGE_CHARS]}"))
    return Bar(
        attempt=record.attempt, status=status, x=round(x, 4), width=round(width, 4), colour=BAR_COLOURS[status],
        title="\n".join(lines), label=f"#{record.attempt}" if many else None,
    )


def _timeline(steps: Sequence[StepExecution], ids: Mapping[str, str], t0: dt.datetime, end: dt.datetime) -> Timeline:
    span = max((end - t0).total_seconds(), 0.001)
    rows = []
    for s in steps:
        many = len(s.history) > 1
        bars = tuple(_bar(r, s, t0, end, span, many) for r in s.history)
        note = None
        if not bars:
            note = visible(f"{s.status.value}: {s.reason}") if s.reason else s.status.value
        rows.append(TimelineRow(ids.get(s.name, ""), visible(s.name), s.status, bars, note))
    return Timeline(tuple(rows), _ticks(span), span)


# -- the report --------------------------------------------------------------------------


def _descendants(children: Mapping[str, Sequence[str]], name: str) -> set[str]:
    seen: set[str] = set()
    stack = list(children.get(name, ()))
    while stack:
        n = stack.pop()
        if n not in seen:
            seen.add(n)
            stack.extend(children.get(n, ()))
    return seen


def _attempt_rows(s: StepExecution) -> tuple[AttemptRow, ...]:
    return tuple(
        AttemptRow(
            attempt=r.attempt, status=r.status, started=_when(r.started_at), finished=_when(r.finished_at),
            duration=format_seconds(r.duration_s), error=visible(f"{r.error.type}: {r.error.message[:MESSAGE_CHARS]}") if r.error else None,
        )
        for r in s.history
    )


def _step_row(
    s: StepExecution, sid: str, index: _PlanIndex, by_name: Mapping[str, StepExecution],
    ids: Mapping[str, str], t0: dt.datetime, run_span: float,
) -> StepRow:
    error_type = message = tb = None
    skipped: tuple[SkippedStep, ...] = ()
    if s.status is StepStatus.FAILED and s.error is not None:
        error_type = visible(s.error.type)
        message = clip_head(s.error.message, MESSAGE_CHARS, "the message")
        tb = clip_tail(s.error.traceback, TRACEBACK_CHARS, "the traceback") if s.error.traceback else None
    if s.status is StepStatus.FAILED and s.name in index.steps:
        down = _descendants(index.children, s.name)
        skipped = tuple(
            SkippedStep(ids.get(n, ""), visible(n), visible(by_name[n].reason or ""))
            for n in index.order
            if n in down and n in by_name and by_name[n].status is StepStatus.SKIPPED
        )
    result = None
    if s.status is StepStatus.COMPLETED:
        result = clip_head(_result_json(s.result), RESULT_CHARS, "the result")
    planned = index.steps.get(s.name)
    depends = tuple(planned.depends_on) if planned is not None else ()
    return StepRow(
        id=sid, name=visible(s.name), pipeline=visible(s.pipeline), status=s.status, attempts=s.attempts,
        allowed=1 + planned.retries if planned is not None else 0,
        start=_offset(s.started_at, t0), duration=format_seconds(s.duration_s), duration_s=s.duration_s,
        share=round(min(100.0, 100.0 * (s.duration_s or 0.0) / run_span), 2) if run_span > 0 else 0.0,
        reason=visible(s.reason) if s.reason else None, depends_on=depends, history=_attempt_rows(s),
        error_type=error_type, error_message=message, traceback=tb,
        output=clip_tail(s.output, OUTPUT_CHARS, "the output") if s.output else None,
        result=result, skipped=skipped, depth=len(s.nesting),
    )


def _with_heads(rows: Sequence[StepRow], steps: Sequence[StepExecution]) -> list[StepRow]:
    """``rows`` with a heading before the first step of each nested group (its steps are
    consecutive in plan order)."""
    out: list[StepRow] = []
    shown: tuple[Any, ...] = ()
    for row, s in zip(rows, steps, strict=True):
        common = 0
        while common < min(len(shown), len(s.nesting)) and shown[common] == s.nesting[common]:
            common += 1
        shown = s.nesting
        heads = tuple((visible(n.step), visible(f"group {n.group} v{n.version}"), d) for d, n in enumerate(s.nesting[common:], start=common))
        out.append(replace(row, heads=heads) if heads else row)
    return out


def _mismatch(plan_names: Sequence[str], run_names: Sequence[str]) -> str | None:
    in_run, in_plan = set(run_names), set(plan_names)
    missing = [n for n in plan_names if n not in in_run]
    extra = [n for n in run_names if n not in in_plan]
    parts = []
    if missing:
        parts.append(f"{len(missing)} step(s) of the plan are not in this run: {', '.join(missing[:10])}")
    if extra:
        parts.append(f"{len(extra)} step(s) of this run are not in the plan: {', '.join(extra[:10])}")
    return "; ".join(parts) or None


def build_run_report(
    result: GroupExecutionResult,
    plan: ExecutionPlan,
    svg: str | None,
    *,
    svg_note: str | None = None,
    direction: str = "TB",
) -> RunReportData:
    """The run report of ``result`` (a run of ``plan``) as data; ``svg`` is the picture of
    :func:`dot_with_status` (from :func:`status_svg`), or ``None`` with ``svg_note`` saying why."""
    from spine import __version__
    from spine.render.htmlkit import clean_svg

    index = _index(plan)
    view, ids = index.view, index.ids
    steps = list(result.step_executions)
    by_name = {s.name: s for s in steps}

    t0 = result.started_at
    ends = [r.finished_at or r.started_at for s in steps for r in s.history]
    end = max([result.finished_at or t0, *ends])
    run_span = (end - t0).total_seconds()

    extra_ids = {s.name: f"x{i}" for i, s in enumerate(s for s in steps if s.name not in ids)}
    all_ids = {**ids, **extra_ids}
    rows = tuple(_step_row(s, all_ids[s.name], index, by_name, all_ids, t0, run_span) for s in steps)
    if any(s.nesting for s in steps):
        rows = tuple(_with_heads(rows, steps))

    tally = Counter(s.status for s in steps)
    counts = tuple(StatusCount(st, tally[st], *STATUS_COLOURS[st]) for st in StepStatus if tally[st])

    body, why = clean_svg(svg) if svg is not None else (None, svg_note or NO_PICTURE)
    note = None if body is not None else (why if svg is None else f"no picture: {why}")
    effort = layout_effort(len(view.nodes), len(view.edges))
    graphic = RunGraphic(
        svg=body,
        mermaid=_mermaid(index, result, direction),
        dot=_dot(index, result, direction),
        note=note,
        layout_reduced=effort.reason if effort.reduced else None,
    )
    return RunReportData(
        group=result.group,
        group_version=result.group_version,
        run_id=result.run_id,
        batch_id=result.batch_id,
        status=result.status,
        status_colour=RUN_COLOURS[result.status],
        executor=result.executor,
        started=_when(result.started_at),
        finished=_when(result.finished_at) or "not finished",
        duration=format_seconds(result.duration_s),
        params=dict(result.params),
        message=visible(result.message) if result.message else None,
        resumed_from=result.resumed_from,
        policy=plan.group.policy.to_dict(),
        counts=counts,
        steps=rows,
        timeline=_timeline(steps, all_ids, t0, end),
        graph=graphic,
        mismatch=_mismatch(index.order, [s.name for s in steps]),
        spine_version=__version__,
    )


def render_run_report(data: RunReportData) -> str:
    """The HTML text of the run report (the plan report's sandboxed, autoescaping environment)."""
    from markupsafe import Markup

    from spine.render.htmlkit import asset, environment

    return environment().get_template("run_report.html.j2").render(
        r=data,
        svg=Markup(data.graph.svg) if data.graph.svg else None,
        css=asset("report.css"),
        run_css=asset("run_report.css"),
        colours=[(st, *STATUS_COLOURS[st], BAR_COLOURS[st]) for st in StepStatus],
    )


def write_run_report(path: str | os.PathLike[str], html: str) -> Path:
    """Write ``html`` to ``path`` (folders made as needed) all at once: a reader never sees half a file."""
    target = Path(path)
    tmp = target.with_name(f".{target.name}.{os.getpid()}.tmp")
    try:
        target.parent.mkdir(parents=True, exist_ok=True)
        tmp.write_text(html, encoding="utf-8")
        os.replace(tmp, target)
    except OSError as exc:  # unwritable folder, a folder in the way, disk full
        with contextlib.suppress(OSError):
            tmp.unlink(missing_ok=True)
        raise RunReportWriteError(target, exc.strerror or str(exc)) from exc
    return target


def write_run_report_for(
    path: str | os.PathLike[str], result: GroupExecutionResult, plan: ExecutionPlan, settings: Any = None, *, direction: str = "TB"
) -> Path:
    """Draw, build, render and write the run report of ``result`` in one call (the CLI's).

    ``settings`` (the workspace's :class:`~spine.config.Settings`) names the Graphviz
    program (``settings.dot``: ``[tool.spine] dot`` or ``SPINE_DOT``); without it, ``dot``
    on ``PATH``.
    """
    svg, why_not = status_svg(plan, result, direction=direction, dot=settings.dot if settings is not None else "dot")
    return write_run_report(path, render_run_report(build_run_report(result, plan, svg, svg_note=why_not, direction=direction)))
