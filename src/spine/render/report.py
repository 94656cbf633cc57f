"""The HTML plan report: built as data (:class:`ReportData`), then rendered, then written.

A report is one self-contained HTML file — inline CSS, JS and SVG, no network request —
that opens from a CI artifact or ``file://``. It shows the header, a summary, the graph,
the generations, a step table with merged params and where each value came from, the
policy, the run params and every finding. Several groups make a small site: an
``index.html`` with each group's verdict, counts and first error, and one page per group.

Nothing here runs Graphviz. The order of work that lets ``dot`` lay the graph out while
the rest of the page is built:

1. :func:`graph_source` — the graph's analysis, view and DOT text (the first thing built);
2. hand ``source.dot`` to :class:`~spine.render.svg.Graphviz` (the one edge that runs ``dot``);
3. :func:`build_report` — everything else, as data (``source=`` reuses step 1's work);
4. :func:`report_shell` — the page rendered but for its picture;
5. when the drawing is done, :meth:`PageShell.fill` puts the picture in.

:func:`write_report` and :func:`write_site` do 4 and 5 for drawings still running.
``render_report(data.with_picture(p))`` is the same page in one call.

Templates are package data, rendered by one sandboxed Jinja2 environment with autoescape
on; the data the page's script uses travels as one JSON blob escaped with ``tojson``.
"""

from __future__ import annotations

import enum
import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

from spine.core.findings import Finding, Severity
from spine.orchestration.models import PipelineGroup, PipelineStep
from spine.render.htmlkit import asset, environment, inline_picture, picture_note
from spine.render.svg import Drawing, Picture
from spine.render.view import ClusterView, EdgeKind, GraphView, NodeKind, build_graph_view

_SLUG = re.compile(r"[^A-Za-z0-9_.-]+")
#: Where a page shell's picture goes; autoescaped text can never produce a ``<!--``.
_SLOT = "<!--spine:picture-->"


@dataclass(frozen=True, slots=True)
class ParamRow:
    key: str
    value: Any
    layer: str
    template: str | None = None


@dataclass(frozen=True, slots=True)
class FoldHead:
    """The heading row of a nested group in the step table (its fold/unfold button)."""

    cluster: ClusterView
    #: The ids of the nested groups around this one, space-separated (folding one hides this heading).
    inside: str
    depth: int


@dataclass(frozen=True, slots=True)
class StepRow:
    id: str
    name: str
    pipeline: str
    depends_on: tuple[str, ...]
    sequence_order: int | None
    generation: int | None
    params: tuple[ParamRow, ...]
    critical: bool = False
    in_cycle: bool = False
    description: str | None = None
    findings: int = 0
    #: The nested groups (cluster ids, outermost first) the step is in.
    clusters: tuple[str, ...] = ()
    #: The nested groups whose first step this is: a fold/unfold heading goes before the row.
    heads: tuple[FoldHead, ...] = ()

    @property
    def inside(self) -> str:
        return " ".join(self.clusters)


class Mark(enum.Enum):
    """A way the picture marks a step; the legend lists only the marks a graph has."""

    #: Blue: the longest chain of dependent steps.
    CRITICAL = "critical"
    #: Red: steps and dependencies caught in a cycle (and self-dependencies).
    CYCLE = "cycle"
    #: Dashed grey: a dependency on a step that does not exist.
    MISSING = "missing"


@dataclass(frozen=True)
class GraphSource:
    """What the picture is drawn from, built before anything else so Graphviz can start.

    ``analysis`` and ``view`` are reused by :func:`build_report` (pass ``source=``).
    """

    group: str
    analysis: Any  # spine.orchestration.graph.GraphAnalysis
    view: GraphView
    dot: str
    direction: str
    layout_reduced: str | None = None
    #: The group with its nested groups expanded (``None``: it has none, or they could not be expanded).
    expanded: PipelineGroup | None = None


@dataclass(frozen=True, slots=True)
class Graphic:
    """The picture and its sources: the SVG (or why there is none), DOT and Mermaid text."""

    dot: str
    mermaid: str
    picture: Picture = field(default_factory=Picture.not_drawn)
    layout_reduced: str | None = None
    #: The marks the picture uses, for the legend.
    marks: tuple[Mark, ...] = ()


#: Next fire times shown per schedule.
NEXT_FIRES = 3


@dataclass(frozen=True)
class ScheduleView:
    """One schedule of the group, with its next fire times (ISO-8601 in its timezone)."""

    name: str
    cron: str
    timezone: str
    catchup: bool
    enabled: bool
    params: Mapping[str, Any]
    next_fires: tuple[str, ...]


def schedule_views(group: PipelineGroup, now: Any = None) -> tuple[ScheduleView, ...]:
    """The group's schedules with their next :data:`NEXT_FIRES` fires after ``now`` (default: the clock)."""
    if not group.schedules:
        return ()
    import datetime as dt

    from spine.core.frozen import thaw
    from spine.orchestration.cron import next_ticks

    now = now or dt.datetime.now(dt.UTC)
    return tuple(
        ScheduleView(s.name, s.cron, s.timezone, s.catchup, s.enabled, thaw(s.params),
                     tuple(t.isoformat() for t in next_ticks(s.cron, s.timezone, now, NEXT_FIRES)) if s.enabled else ())
        for s in group.schedules
    )


@dataclass(frozen=True)
class ReportData:
    """Everything one report page shows, as plain data."""

    name: str
    version: int
    domain: str | None
    description: str | None
    tags: tuple[str, ...]
    file: str | None
    valid: bool
    errors: int
    warnings: int
    steps: tuple[StepRow, ...]
    edges: int
    generations: tuple[tuple[str, ...], ...]
    critical_path: tuple[str, ...]
    policy: Mapping[str, Any]
    run_params: Mapping[str, Any]
    batch_id: str | None
    findings: tuple[Finding, ...]
    graph: Graphic
    #: Node data for the page's script: id, name, deps (ids), generation, order.
    lineage: tuple[Mapping[str, Any], ...] = ()
    defaults: Mapping[str, Any] = field(default_factory=dict)
    spine_version: str = ""
    slug: str = ""
    #: Steps caught in a dependency cycle (they have no generation).
    in_cycle: tuple[str, ...] = ()
    #: Steps outside any cycle that depend on one (no generation either).
    behind_cycle: tuple[str, ...] = ()
    #: ``spec.schedules`` with their next fire times.
    schedules: tuple[ScheduleView, ...] = ()

    @property
    def widest_generation(self) -> int:
        return max((len(g) for g in self.generations), default=0)

    @property
    def first_problem(self) -> Finding | None:
        """The first error in file order, else the first warning, else ``None``."""
        for f in self.findings:
            if f.severity is Severity.ERROR:
                return f
        return self.findings[0] if self.findings else None

    def with_picture(self, picture: Picture) -> ReportData:
        """A copy whose graph has ``picture`` (what Graphviz drew, or why it did not)."""
        return replace(self, graph=replace(self.graph, picture=picture))


def slug(name: str, taken: set[str] | None = None) -> str:
    """A file-name-safe, unique slug for a group name."""
    base = _SLUG.sub("-", name).strip("-.") or "group"
    out = base
    i = 2
    while taken is not None and out in taken:
        out = f"{base}-{i}"
        i += 1
    if taken is not None:
        taken.add(out)
    return out


def graph_source(group: PipelineGroup, *, direction: str = "TB", groups: Any = None) -> GraphSource:
    """The group's graph analysis, view and DOT text: what Graphviz needs, and nothing more.

    A group whose steps call groups is drawn expanded, a cluster per nested group (looked
    up in ``groups``, as the planner does), unless its nesting has a problem."""
    from spine.orchestration.graph import analyze
    from spine.orchestration.nesting import GroupSource, flatten, has_nesting
    from spine.render.dot import layout_effort, to_dot

    flat = flatten(group, GroupSource.of(groups)) if has_nesting(group) else None
    expanded = flat[0] if flat is not None else None
    analysis = analyze(expanded or group)
    view = build_graph_view(expanded or group, analysis, nesting=flat[1] if flat is not None else None)
    effort = layout_effort(len(view.nodes), len(view.edges))
    dot = to_dot(view, direction=direction, effort=effort)
    return GraphSource(group.name, analysis, view, dot, direction, effort.reason if effort.reduced else None, expanded)


def build_report(
    group: PipelineGroup,
    *,
    findings: Sequence[Finding] = (),
    plan: Any = None,
    run_params: Mapping[str, Any] | None = None,
    registry: Any = None,
    direction: str = "TB",
    source: GraphSource | None = None,
    now: Any = None,
) -> ReportData:
    """Report data for ``group``; ``plan`` is the resolved plan when resolution succeeded.

    Pure: the picture is not drawn (``data.graph.picture`` says so); draw
    ``data.graph.dot`` at the edge and use :meth:`ReportData.with_picture`, or hand the
    drawing to :func:`write_report`. ``source`` is :func:`graph_source`'s result when the
    caller built it first (to start Graphviz early); ``direction`` is then its direction.
    ``now`` is the time the schedules' next fires are counted from (default: the clock).
    """
    from spine import __version__
    from spine.orchestration.planner import _merge
    from spine.render.mermaid import to_mermaid

    if source is None:
        source = graph_source(group, direction=direction)
    elif source.group != group.name:
        raise ValueError(f"source was built for group {source.group!r}, not {group.name!r}")
    analysis, view = source.analysis, source.view
    shown = source.expanded or group  # the steps as they run: nested groups expanded
    clusters = {c.id: c for c in view.clusters}
    ids = {n.name: n.id for n in view.nodes if n.kind is NodeKind.STEP}
    per_step: dict[str, int] = {}
    for f in findings:
        if f.step:
            per_step[f.step] = per_step.get(f.step, 0) + 1
    nodes = {n.id: n for n in view.nodes}
    order = {name: i for i, name in enumerate(analysis.order)}
    rows: list[StepRow] = []
    seen: set[str] = set()
    for step in shown.steps:
        if step.name in seen:
            continue
        seen.add(step.name)
        nid = ids[step.name]
        if plan is not None:
            ps = plan.step(step.name)
            params = tuple(
                ParamRow(k, v, ps.param_sources[k].layer.value, ps.param_sources[k].template) for k, v in ps.params.items()
            )
        else:
            spec = registry.get(step.pipeline) if registry is not None else None
            nested = bool(nodes[nid].clusters)  # a nested step's defaults and run params are its group's
            merged, sources = _merge({} if nested else group.defaults, {} if nested else run_params or {}, step.params, spec)
            params = tuple(ParamRow(k, v, sources[k].layer.value, sources[k].template) for k, v in merged.items())
        n = nodes[nid]
        rows.append(
            StepRow(
                id=nid,
                name=step.name,
                pipeline=step.pipeline,
                depends_on=tuple(step.depends_on),
                sequence_order=order.get(step.name),
                generation=n.generation,
                params=params,
                critical=n.critical,
                in_cycle=n.in_cycle,
                description=step.description,
                findings=per_step.get(step.name, 0),
                clusters=n.clusters,
            )
        )
    rows.sort(key=lambda r: (r.sequence_order is None, r.sequence_order if r.sequence_order is not None else 0))
    if clusters:  # a nested group's steps are consecutive in plan order: a heading before its first
        opened: set[str] = set()
        for k, r in enumerate(rows):
            new = tuple(FoldHead(clusters[c], " ".join(r.clusters[:d]), d) for d, c in enumerate(r.clusters) if c not in opened)
            opened.update(r.clusters)
            if new:
                rows[k] = replace(r, heads=new)

    graphic = Graphic(
        dot=source.dot,
        mermaid=to_mermaid(view, direction=source.direction),
        layout_reduced=source.layout_reduced,
        marks=_marks(view),
    )

    first: dict[str, PipelineStep] = {}
    for step in shown.steps:
        first.setdefault(step.name, step)
    lineage = tuple(
        {
            "id": n.id,
            "name": n.name,
            "deps": [ids[d] for d in dict.fromkeys(first[n.name].depends_on) if d in ids and d != n.name] if n.kind is NodeKind.STEP else [],
            "generation": n.generation,
            "order": order.get(n.name),
            "ghost": n.kind is NodeKind.GHOST,
        }
        for n in view.nodes
    )
    findings = sorted(findings, key=lambda f: (f.line is None, f.line or 0, f.column or 0))
    errors = sum(f.severity is Severity.ERROR for f in findings)
    unordered = [r for r in rows if r.generation is None]
    return ReportData(
        name=group.name,
        version=group.version,
        domain=group.domain,
        description=group.description,
        tags=tuple(group.tags),
        file=group.source.file if group.source else None,
        valid=errors == 0,
        errors=errors,
        warnings=len(findings) - errors,
        steps=tuple(rows),
        edges=sum(1 for e in view.edges if e.kind is not EdgeKind.MISSING),
        generations=tuple(tuple(nodes[i].name for i in gen) for gen in view.generations),
        critical_path=tuple(nodes[i].name for i in view.critical_path),
        policy=group.policy.to_dict(),
        run_params=dict(run_params or {}),
        batch_id=plan.batch_id if plan is not None else None,
        findings=tuple(findings),
        graph=graphic,
        lineage=lineage,
        defaults=dict(group.defaults),
        spine_version=__version__,
        in_cycle=tuple(r.name for r in unordered if r.in_cycle),
        behind_cycle=tuple(r.name for r in unordered if not r.in_cycle),
        schedules=schedule_views(group, now),
    )


def _marks(view: GraphView) -> tuple[Mark, ...]:
    steps = [n for n in view.nodes if n.kind is NodeKind.STEP]
    present = {
        Mark.CRITICAL: any(n.critical and not n.in_cycle for n in steps),
        Mark.CYCLE: any(n.in_cycle for n in steps),
        Mark.MISSING: any(n.kind is NodeKind.GHOST for n in view.nodes),
    }
    return tuple(m for m in Mark if present[m])


def _script_data(data: ReportData) -> dict[str, Any]:
    return {
        "group": data.name,
        "policy": dict(data.policy),
        "nodes": [dict(x) for x in data.lineage],
    }


@dataclass(frozen=True, slots=True)
class PageShell:
    """A report page rendered but for its picture: :meth:`fill` puts the picture in."""

    head: str
    tail: str

    def fill(self, picture: Picture) -> str:
        """The whole page with ``picture`` (cleaned for inlining; refused SVG becomes a note)."""
        return self.head + picture_html(picture) + self.tail


def picture_html(picture: Picture) -> str:
    """The graph's picture block: the inline SVG with its zoom controls, or a note saying why not."""
    from markupsafe import Markup

    shown = inline_picture(picture)
    template = environment().get_template("picture.html.j2")
    return template.render(svg=Markup(shown.svg) if shown.svg is not None else None, note=None if shown.drawn else picture_note(shown))


def report_shell(data: ReportData, *, index_href: str | None = None) -> PageShell:
    """The HTML of one report page, but for its picture (rendered while Graphviz still works)."""
    from markupsafe import Markup

    env = environment()
    template = env.get_template("report.html.j2")
    page = template.render(
        r=data,
        picture=Markup(_SLOT),
        script_data=_script_data(data),
        css=asset("report.css"),
        js=asset("report.js"),
        index_href=index_href,
    )
    head, slot, tail = page.partition(_SLOT)
    if not slot or _SLOT in tail:
        raise AssertionError("the report template must hold exactly one picture slot")
    return PageShell(head, tail)


def render_report(data: ReportData, *, index_href: str | None = None) -> str:
    """The HTML text of one report page, with ``data.graph.picture``."""
    return report_shell(data, index_href=index_href).fill(data.graph.picture)


def render_index(reports: Sequence[ReportData], pages: Sequence[str]) -> str:
    """The HTML text of a site's index page."""
    env = environment()
    return env.get_template("index.html.j2").render(
        items=list(zip(reports, pages, strict=True)), css=asset("report.css"),
        valid=all(r.valid for r in reports),
        spine_version=reports[0].spine_version if reports else "",
    )


def _picture(given: Picture | Drawing | None, data: ReportData) -> Picture:
    if given is None:
        return data.graph.picture
    return given.result() if isinstance(given, Drawing) else given


def write_report(path: str | Path, data: ReportData, picture: Picture | Drawing | None = None) -> Path:
    """Write one self-contained page, creating folders.

    ``picture`` (a :class:`Picture`, or a :class:`Drawing` still running) replaces
    ``data.graph.picture``; a drawing is awaited only once the rest of the page is rendered.
    """
    target = Path(path)
    shell = report_shell(data)
    text = shell.fill(_picture(picture, data))
    target.parent.mkdir(parents=True, exist_ok=True)
    target.write_text(text, encoding="utf-8")
    return target


def write_site(
    folder: str | Path,
    reports: Iterable[ReportData],
    pictures: Sequence[Picture | Drawing | None] | None = None,
) -> Path:
    """Write ``index.html`` and one page per group into ``folder``; returns the index path.

    ``pictures`` pairs with ``reports`` as in :func:`write_report`. Every page is rendered
    before any drawing is awaited; pages are written as their drawings finish, in order.
    """
    out = Path(folder)
    items = list(reports)
    if pictures is not None and len(pictures) != len(items):
        raise ValueError(f"{len(pictures)} pictures for {len(items)} reports")
    taken: set[str] = {"index"}
    pages = [f"{slug(data.name, taken)}.html" for data in items]
    shells = [report_shell(data, index_href="index.html") for data in items]
    index = render_index(items, pages)
    out.mkdir(parents=True, exist_ok=True)
    for i, (data, page, shell) in enumerate(zip(items, pages, shells, strict=True)):
        picture = _picture(pictures[i] if pictures is not None else None, data)
        (out / page).write_text(shell.fill(picture), encoding="utf-8")
    target = out / "index.html"
    target.write_text(index, encoding="utf-8")
    return target
