"""The dashboard's pages as data: frozen view models built by pure functions.

Inputs are what the library already returns — a :class:`~spine.check.GroupCheck` per
group, :class:`~spine.store.RunSummary` rows, a run's
:class:`~spine.runner.GroupExecutionResult`, an :class:`~spine.orchestration.planner.ExecutionPlan`
— and outputs are the dataclasses below, which the templates render. Nothing here reads
the store, the workspace or the clock, and Graphviz runs in the router (its SVG is handed
in): so every page is testable without a server.

Names are never trusted: templates autoescape, and the text shown here passes through
:func:`spine.core.escape.visible` so control and bidi characters are shown, not obeyed.
Node ids (``n0``, ``n1`` …) come from :func:`spine.render.view.build_graph_view`; they are
how the page's script finds a step in the graph, so a step name never becomes a selector.
"""

from __future__ import annotations

import datetime as dt
import enum
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from spine.core.escape import visible
from spine.orchestration.models import GroupRunStatus, StepStatus
from spine.render.run_report import RUN_COLOURS, STATUS_COLOURS, format_seconds

if TYPE_CHECKING:
    from spine.check import GroupCheck
    from spine.orchestration.models import PipelineGroup
    from spine.orchestration.planner import ExecutionPlan
    from spine.render.run_report import RunReportData
    from spine.runner.results import GroupExecutionResult
    from spine.store.records import DeadLetter, RunSummary

#: Run statuses after which nothing changes any more (a page stops polling).
FINISHED = frozenset({GroupRunStatus.COMPLETED, GroupRunStatus.FAILED, GroupRunStatus.PARTIAL, GroupRunStatus.CANCELLED})
#: The colour of an orphaned run's badge (running in the store, its owner gone).
ORPHANED_COLOUR = "#bc4c00"
#: Runs a list shows when the filter does not say.
DEFAULT_LIMIT = 50
#: The most runs one list shows.
MAX_LIMIT = 500
#: Statuses the runs filter accepts (a run status, or ``orphaned``).
RUN_FILTER_STATUSES = (*(s.value for s in GroupRunStatus), "orphaned")


def when(t: dt.datetime | None) -> str:
    """A time for a table cell: ``2026-11-30 02:49:39 UTC`` (empty for ``None``)."""
    if t is None:
        return ""
    if t.tzinfo is None:
        t = t.replace(tzinfo=dt.UTC)
    return t.astimezone(dt.UTC).strftime("%Y-%m-%d %H:%M:%S UTC")


# -- verdicts -----------------------------------------------------------------------------


class VerdictKind(enum.Enum):
    """What checking a group found, in one word."""

    VALID = "valid"  #: no error, no warning
    WARNINGS = "warnings"  #: usable, with warnings
    INVALID = "invalid"  #: errors: it cannot be planned or run


@dataclass(frozen=True, slots=True)
class Verdict:
    kind: VerdictKind
    label: str
    errors: int = 0
    warnings: int = 0


def verdict_of(check: GroupCheck) -> Verdict:
    """``valid``, ``2 warnings`` or ``invalid: 3 errors`` for one checked group."""
    errors, warnings = check.errors, check.warnings
    if not check.valid or check.group is None:
        n = max(errors, 1)
        return Verdict(VerdictKind.INVALID, f"invalid: {n} error{'s' if n != 1 else ''}", errors, warnings)
    if warnings:
        return Verdict(VerdictKind.WARNINGS, f"{warnings} warning{'s' if warnings != 1 else ''}", errors, warnings)
    return Verdict(VerdictKind.VALID, "valid", errors, warnings)


# -- runs ---------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class RunCell:
    """A run in one line: its id, what people call its status, and when."""

    run_id: str
    group: str
    #: The run's status, or ``orphaned``.
    state: str
    colour: str
    started: str
    finished: str
    duration: str
    #: Still changing: pending or running with a live owner.
    active: bool

    def to_dict(self) -> dict[str, Any]:
        return {
            "run_id": self.run_id, "group": self.group, "status": self.state, "colour": self.colour,
            "started": self.started, "finished": self.finished, "duration": self.duration, "active": self.active,
        }


def run_cell(summary: RunSummary) -> RunCell:
    colour = ORPHANED_COLOUR if summary.orphaned else RUN_COLOURS[summary.status]
    return RunCell(
        run_id=summary.run_id, group=visible(summary.group), state=summary.state, colour=colour,
        started=when(summary.started_at), finished=when(summary.finished_at), duration=format_seconds(summary.duration_s),
        active=summary.status not in FINISHED and not summary.orphaned,
    )


@dataclass(frozen=True, slots=True)
class RunRow:
    """One row of the runs list."""

    cell: RunCell
    kind: str
    group_version: int
    executor: str
    steps: int
    resumes: int
    parent_run_id: str | None
    message: str | None


def run_rows(summaries: Sequence[RunSummary]) -> tuple[RunRow, ...]:
    return tuple(
        RunRow(
            cell=run_cell(s), kind=s.kind.value, group_version=s.group_version, executor=visible(s.executor), steps=s.step_count,
            resumes=s.resumes, parent_run_id=s.parent_run_id, message=visible(s.message) if s.message else None,
        )
        for s in summaries
    )


@dataclass(frozen=True, slots=True)
class RunFilters:
    """The runs list's filters, as given in the query string (checked)."""

    group: str | None = None
    status: str | None = None
    #: Runs started at or after this time (UTC).
    since: dt.datetime | None = None
    limit: int = DEFAULT_LIMIT

    def query(self) -> dict[str, str]:
        """The filters as query parameters (only those set), to build links and live updates."""
        out: dict[str, str] = {}
        if self.group:
            out["group"] = self.group
        if self.status:
            out["status"] = self.status
        if self.since is not None:
            out["since"] = self.since.strftime("%Y-%m-%dT%H:%M")
        if self.limit != DEFAULT_LIMIT:
            out["limit"] = str(self.limit)
        return out

    @property
    def since_text(self) -> str:
        return self.since.strftime("%Y-%m-%dT%H:%M") if self.since is not None else ""


def parse_run_filters(query: Mapping[str, str]) -> tuple[RunFilters, tuple[str, ...]]:
    """The filters in ``query`` and, for each one that makes no sense, what to change.

    A bad filter is dropped (the list still shows) and said in the page: ``status`` must
    be a run status or ``orphaned``, ``since`` an ISO date or date-time (UTC unless it says
    otherwise), ``limit`` a whole number from 1 to :data:`MAX_LIMIT`.
    """
    problems: list[str] = []
    group = (query.get("group") or "").strip() or None
    status = (query.get("status") or "").strip() or None
    if status is not None and status not in RUN_FILTER_STATUSES:
        problems.append(f"status {visible(status)!r} is not one of {', '.join(RUN_FILTER_STATUSES)}; showing every status")
        status = None
    since = None
    raw_since = (query.get("since") or "").strip()
    if raw_since:
        try:
            since = dt.datetime.fromisoformat(raw_since)
        except ValueError:
            problems.append(f"since {visible(raw_since)!r} is not a date or time like 2026-01-31 or 2026-01-31T08:00; showing runs of any time")
        else:
            since = since.replace(tzinfo=dt.UTC) if since.tzinfo is None else since.astimezone(dt.UTC)
    limit = DEFAULT_LIMIT
    raw_limit = (query.get("limit") or "").strip()
    if raw_limit:
        if raw_limit.isdigit() and 1 <= int(raw_limit) <= MAX_LIMIT:
            limit = int(raw_limit)
        else:
            problems.append(f"limit {visible(raw_limit)!r} is not a whole number from 1 to {MAX_LIMIT}; showing {DEFAULT_LIMIT}")
    return RunFilters(group, status, since, limit), tuple(problems)


# -- groups -------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class GroupRow:
    """One group of the groups list: what it is, whether it checks, how it last ran."""

    name: str
    version: int | None
    domain: str | None
    description: str | None
    tags: tuple[str, ...]
    steps: int | None
    verdict: Verdict
    last_run: RunCell | None
    file: str | None


def group_rows(checks: Sequence[GroupCheck], last_runs: Mapping[str, RunSummary]) -> tuple[GroupRow, ...]:
    """The groups list, sorted by name; ``last_runs`` maps a group name to its newest run."""
    rows = []
    for c in checks:
        g = c.group
        name = c.name or c.label
        last = last_runs.get(name)
        rows.append(
            GroupRow(
                name=visible(name), version=g.version if g is not None else None,
                domain=visible(g.domain) if g is not None and g.domain else None,
                description=visible(g.description) if g is not None and g.description else None,
                tags=tuple(visible(t) for t in g.tags) if g is not None else (), steps=c.steps, verdict=verdict_of(c),
                last_run=run_cell(last) if last is not None else None, file=visible(c.file) if c.file else None,
            )
        )
    return tuple(sorted(rows, key=lambda r: r.name))


def unreadable_notes(documents: Sequence[Any]) -> tuple[str, ...]:
    """One line per group-file document too broken to name a group (a ``LoadedGroup``):
    where, how many errors, the first one."""
    notes = []
    for lg in documents:
        from spine.core.findings import Severity

        errors = [f for f in lg.findings if f.severity is Severity.ERROR] or list(lg.findings)
        first = f": {visible(errors[0].location)}: {visible(errors[0].message)}" if errors else ""
        where = visible(lg.file) if lg.file else "a group file"
        notes.append(f"{where} (document {lg.document + 1}) could not be read as a group, so it is not listed; "
                     f"{len(errors)} error(s){first}")
    return tuple(notes)


@dataclass(frozen=True, slots=True)
class FindingRow:
    severity: str
    code: str
    location: str
    message: str
    step: str | None


@dataclass(frozen=True, slots=True)
class ParamField:
    """A run param the group reads: one field of the Run form."""

    name: str
    required: bool
    steps: tuple[str, ...]
    #: The value given in the page's query (``?param=k=v``), shown in the field.
    value: str = ""


@dataclass(frozen=True, slots=True)
class PlanParam:
    key: str
    value: Any
    source: str


@dataclass(frozen=True, slots=True)
class PlanRow:
    """One step of the plan, in execution order."""

    id: str
    order: int
    generation: int
    name: str
    pipeline: str
    depends_on: tuple[str, ...]
    params: tuple[PlanParam, ...]
    retries: int
    timeout_seconds: float | None
    pool: str | None


@dataclass(frozen=True, slots=True)
class GraphPanel:
    """The group's graph: inline SVG (cleaned) when Graphviz drew it, else why not; the sources."""

    svg: str | None
    mermaid: str
    dot: str
    note: str | None = None


@dataclass(frozen=True, slots=True)
class StepChip:
    """A step in the status list beside the graph (the only picture when Graphviz is missing)."""

    id: str
    name: str
    pipeline: str
    status: StepStatus | None


@dataclass(frozen=True)
class GroupPage:
    name: str
    version: int | None
    domain: str | None
    description: str | None
    tags: tuple[str, ...]
    file: str | None
    verdict: Verdict
    findings: tuple[FindingRow, ...]
    params: tuple[ParamField, ...]
    #: Extra run params given in the query that the group does not read as named params.
    extra_params: Mapping[str, str]
    plan: tuple[PlanRow, ...]
    #: Why there is no plan (invalid group, a run param missing), in words.
    plan_note: str | None
    critical_path: tuple[str, ...]
    graph: GraphPanel
    chips: tuple[StepChip, ...]
    latest: RunCell | None
    #: The latest run's statuses by node id (what the page's script starts from).
    live: Mapping[str, Any]
    can_run: bool

    @property
    def runnable(self) -> bool:
        return self.verdict.kind is not VerdictKind.INVALID


def _finding_row(f: Any) -> FindingRow:
    return FindingRow(
        severity=f.severity.value, code=visible(str(f.code)), location=visible(f.location), message=visible(f.message),
        step=visible(f.step) if f.step else None,
    )


def _source(source: Any) -> str:
    """``step``, ``default`` … or ``default: {{ params.tier }}`` for a template."""
    if source is None:
        return ""
    layer = getattr(source.layer, "value", str(source.layer))
    return f"{layer}: {visible(source.template)}" if source.template else str(layer)


def _plan_rows(plan: ExecutionPlan, ids: Mapping[str, str]) -> tuple[PlanRow, ...]:
    return tuple(
        PlanRow(
            id=ids.get(p.name, ""), order=p.sequence_order, generation=p.generation, name=visible(p.name), pipeline=visible(p.pipeline),
            depends_on=tuple(visible(d) for d in p.depends_on),
            params=tuple(PlanParam(visible(k), v, _source(p.param_sources.get(k))) for k, v in p.params.items()),
            retries=p.retries, timeout_seconds=p.timeout_seconds, pool=visible(p.pool) if p.pool else None,
        )
        for p in plan.steps
    )


def step_ids(group: PipelineGroup) -> dict[str, str]:
    """Step name → node id in the group's graph (``n0`` …), as every renderer numbers them."""
    from spine.render.view import NodeKind, build_graph_view

    return {n.name: n.id for n in build_graph_view(group).nodes if n.kind is NodeKind.STEP}


def group_sources(group: PipelineGroup, result: GroupExecutionResult | None, *, direction: str = "TB") -> tuple[str, str]:
    """``(DOT, Mermaid)`` of ``group`` coloured by the step statuses of ``result`` (its latest run, if any)."""
    from spine.render.dot import to_dot
    from spine.render.run_report import status_decorations, status_mermaid, status_view

    view = status_view(group)
    return (
        to_dot(view, direction=direction, decorations=status_decorations(view, result, links=False)),
        status_mermaid(view, result, direction=direction),
    )


def live_status(result: GroupExecutionResult | None, ids: Mapping[str, str], summary: RunSummary | None = None) -> dict[str, Any]:
    """What the group page's script polls for: the latest run (or ``None``) and each step's
    status by node id — ids only, so the script never handles a step name."""
    if result is None:
        return {"run": None, "steps": {}}
    cell = run_cell(summary) if summary is not None else RunCell(
        run_id=result.run_id, group=visible(result.group), state=result.status.value, colour=RUN_COLOURS[result.status],
        started=when(result.started_at), finished=when(result.finished_at), duration=format_seconds(result.duration_s),
        active=result.status not in FINISHED,
    )
    steps = {ids[s.name]: s.status.value for s in result.step_executions if s.name in ids}
    return {"run": cell.to_dict(), "steps": steps}


def group_page(
    check: GroupCheck,
    *,
    plan: ExecutionPlan | None,
    plan_note: str | None,
    given: Mapping[str, str],
    latest: RunSummary | None,
    latest_result: GroupExecutionResult | None,
    svg: str | None,
    svg_note: str | None,
    can_run: bool,
    registry: Any = None,
) -> GroupPage:
    """The page of one group. ``svg`` is Graphviz's drawing of :func:`group_sources`'s DOT
    (or ``None`` and ``svg_note`` saying why); ``given`` are the run params in the query."""
    from spine.check import run_params_of
    from spine.render.htmlkit import clean_svg

    group = check.group
    findings = tuple(_finding_row(f) for f in check.findings)
    if group is None:
        return GroupPage(
            name=visible(check.label), version=None, domain=None, description=None, tags=(), file=visible(check.file) if check.file else None,
            verdict=verdict_of(check), findings=findings, params=(), extra_params={}, plan=(),
            plan_note=plan_note or "The group could not be built; fix the errors below.", critical_path=(),
            graph=GraphPanel(None, "", "", "No graph: the group could not be built."), chips=(), latest=None,
            live={"run": None, "steps": {}}, can_run=False,
        )
    ids = step_ids(group)
    uses = run_params_of(group, registry)
    fields = tuple(ParamField(visible(p.name), p.required, tuple(visible(s) for s in p.steps), given.get(p.name, "")) for p in uses.params)
    named = {p.name for p in uses.params}
    dot, mermaid = group_sources(group, latest_result)
    body, why = clean_svg(svg) if svg is not None else (None, svg_note or "no picture: Graphviz did not draw this graph")
    note = None if body is not None else (why if svg is None else f"no picture: {why}")
    by_name = {s.name: s.status for s in latest_result.step_executions} if latest_result is not None else {}
    chips = tuple(StepChip(ids[s.name], visible(s.name), visible(s.pipeline), by_name.get(s.name)) for s in group.steps if s.name in ids)
    return GroupPage(
        name=visible(group.name), version=group.version, domain=visible(group.domain) if group.domain else None,
        description=visible(group.description) if group.description else None, tags=tuple(visible(t) for t in group.tags),
        file=visible(check.file) if check.file else None, verdict=verdict_of(check), findings=findings, params=fields,
        extra_params={k: v for k, v in given.items() if k not in named},
        plan=_plan_rows(plan, ids) if plan is not None else (), plan_note=plan_note,
        critical_path=tuple(visible(n) for n in plan.critical_path) if plan is not None else (),
        graph=GraphPanel(body, mermaid, dot, note), chips=chips, latest=run_cell(latest) if latest is not None else None,
        live=live_status(latest_result, ids, latest), can_run=can_run,
    )


# -- a run --------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Replay:
    """An open dead letter of the run: a step that failed for good and may be replayed."""

    id: int
    step: str
    attempts: int


@dataclass(frozen=True)
class RunPage:
    report: RunReportData
    cell: RunCell
    kind: str
    parent_run_id: str | None
    cancel_requested: bool
    can_cancel: bool
    can_resume: bool
    replays: tuple[Replay, ...]
    #: The signed-in role may operate (run, cancel, resume, replay).
    can_operate: bool

    @property
    def active(self) -> bool:
        return self.cell.active


def run_page(report: RunReportData, summary: RunSummary, letters: Sequence[DeadLetter], *, can_operate: bool) -> RunPage:
    """The page of one run: its report (:func:`spine.render.run_report.build_run_report`)
    with the buttons the signed-in role may use and the run's state allows.

    Cancel: a pending or running run whose owner is alive and that nobody asked to cancel
    yet. Resume: a run (not a replay) that failed, is partial or cancelled, or was
    orphaned. Replay: each open dead letter of the run.
    """
    from spine.store.records import DeadLetterStatus, RunKind

    cell = run_cell(summary)
    cancellable = cell.active and summary.cancel_requested_at is None
    resumable = summary.kind is RunKind.RUN and (
        summary.orphaned or summary.status in (GroupRunStatus.FAILED, GroupRunStatus.PARTIAL, GroupRunStatus.CANCELLED)
    )
    replays = tuple(Replay(d.id, visible(d.step), d.attempts) for d in letters if d.status is DeadLetterStatus.OPEN and d.run_id == summary.run_id)
    return RunPage(
        report=report, cell=cell, kind=summary.kind.value, parent_run_id=summary.parent_run_id,
        cancel_requested=summary.cancel_requested_at is not None, can_cancel=can_operate and cancellable,
        can_resume=can_operate and resumable, replays=replays if can_operate else (), can_operate=can_operate,
    )


#: Step status → (fill, border), for the page's stylesheet (the run report's colours).
def status_styles() -> list[tuple[str, str, str]]:
    return [(st.value, *STATUS_COLOURS[st]) for st in StepStatus]


__all__ = [
    "DEFAULT_LIMIT",
    "FINISHED",
    "MAX_LIMIT",
    "RUN_FILTER_STATUSES",
    "FindingRow",
    "GraphPanel",
    "GroupPage",
    "GroupRow",
    "ParamField",
    "PlanParam",
    "PlanRow",
    "Replay",
    "RunCell",
    "RunFilters",
    "RunPage",
    "RunRow",
    "StepChip",
    "Verdict",
    "VerdictKind",
    "group_page",
    "group_rows",
    "group_sources",
    "live_status",
    "parse_run_filters",
    "run_cell",
    "run_page",
    "run_rows",
    "status_styles",
    "step_ids",
    "unreadable_notes",
    "verdict_of",
    "when",
]
