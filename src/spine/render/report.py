"""The HTML plan report: built as data (:class:`ReportData`), then rendered, then written.

A report is one self-contained HTML file — inline CSS, JS and SVG, no network request —
that opens from a CI artifact or ``file://``. It shows the header, a summary, the graph,
the generations, a step table with merged params and where each value came from, the
policy, the run params and every finding. Several groups make a small site: an
``index.html`` with each group's verdict and one page per group.

Templates are package data, rendered by one sandboxed Jinja2 environment with autoescape
on; the data the page's script uses travels as one JSON blob escaped with ``tojson``.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path
from typing import Any

from spine.core.findings import Finding, Severity
from spine.orchestration.models import PipelineGroup
from spine.render.view import NodeKind, build_graph_view

_SLUG = re.compile(r"[^A-Za-z0-9_.-]+")


@dataclass(frozen=True, slots=True)
class ParamRow:
    key: str
    value: Any
    layer: str
    template: str | None = None


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


@dataclass(frozen=True, slots=True)
class Graphic:
    """The picture: inline SVG when Graphviz ran, otherwise why not, plus Mermaid text."""

    svg: str | None
    mermaid: str
    dot: str
    note: str | None = None
    layout_reduced: str | None = None


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

    @property
    def widest_generation(self) -> int:
        return max((len(g) for g in self.generations), default=0)


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


def build_report(
    group: PipelineGroup,
    *,
    findings: Sequence[Finding] = (),
    plan: Any = None,
    run_params: Mapping[str, Any] | None = None,
    registry: Any = None,
    svg: bool = True,
    direction: str = "TB",
) -> ReportData:
    """Report data for ``group``; ``plan`` is the resolved plan when resolution succeeded."""
    from spine import __version__
    from spine.orchestration.graph import analyze
    from spine.orchestration.planner import _merge
    from spine.render.dot import layout_effort, to_dot
    from spine.render.mermaid import to_mermaid

    analysis = analyze(group)
    view = build_graph_view(group, analysis)
    ids = {n.name: n.id for n in view.nodes if n.kind is NodeKind.STEP}
    per_step: dict[str, int] = {}
    for f in findings:
        if f.step:
            per_step[f.step] = per_step.get(f.step, 0) + 1
    nodes = {n.id: n for n in view.nodes}
    order = {name: i for i, name in enumerate(analysis.order)}
    rows: list[StepRow] = []
    seen: set[str] = set()
    for step in group.steps:
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
            merged, sources = _merge(group.defaults, run_params or {}, step.params, spec)
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
            )
        )
    rows.sort(key=lambda r: (r.sequence_order is None, r.sequence_order if r.sequence_order is not None else 0))

    effort = layout_effort(len(view.nodes), len(view.edges))
    dot = to_dot(view, direction=direction, effort=effort)
    mermaid = to_mermaid(view, direction=direction)
    graphic = _graphic(dot, mermaid, svg, effort)

    first = {}
    for step in group.steps:
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
        edges=sum(1 for e in view.edges if e.kind.value != "missing"),
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
    )


def _graphic(dot: str, mermaid: str, svg: bool, effort: Any) -> Graphic:
    from spine.core.errors import SpineError
    from spine.render.svg import dot_to_svg

    reduced = effort.reason if effort.reduced else None
    if not svg:
        return Graphic(None, mermaid, dot, "the picture was not drawn (--no-svg); the Mermaid and DOT sources are below", reduced)
    try:
        text = dot_to_svg(dot)
    except SpineError as exc:
        return Graphic(None, mermaid, dot, f"no picture: {exc}", reduced)
    body, why = clean_svg(text)
    if body is None:
        return Graphic(None, mermaid, dot, f"no picture: {why}; the Mermaid and DOT sources are below", reduced)
    return Graphic(body, mermaid, dot, None, reduced)


_ACTIVE = {"script", "foreignobject", "iframe", "object", "embed", "handler", "listener"}


def clean_svg(svg: str) -> tuple[str | None, str]:
    """Graphviz's SVG without prolog and doctype, fit for inlining — or ``None`` and why.

    Graphviz never writes active content; the check parses the SVG and refuses scripts,
    foreign objects, ``on*`` attributes and ``javascript:`` links rather than trusting it.
    """
    import xml.etree.ElementTree as ET

    start = svg.find("<svg")
    if start < 0:
        return None, "Graphviz wrote no <svg> element"
    body = svg[start:]
    try:
        root = ET.fromstring(body)
    except ET.ParseError as exc:
        return None, f"Graphviz wrote SVG that does not parse ({exc})"
    for el in root.iter():
        tag = el.tag.rsplit("}", 1)[-1].lower()
        if tag in _ACTIVE:
            return None, f"the SVG holds a <{tag}> element"
        for key, value in el.attrib.items():
            name = key.rsplit("}", 1)[-1].lower()
            if name.startswith("on"):
                return None, f"the SVG holds an {name} attribute"
            if name == "href" and value.strip().lower().startswith(("javascript:", "data:")):
                return None, "the SVG holds a script link"
    return body, ""


@lru_cache(maxsize=1)
def environment() -> Any:
    """The one sandboxed, autoescaping Jinja2 environment for every HTML page."""
    from jinja2 import PackageLoader, select_autoescape
    from jinja2.sandbox import SandboxedEnvironment

    env = SandboxedEnvironment(
        loader=PackageLoader("spine.render", "templates"),
        autoescape=select_autoescape(default=True, default_for_string=True),
        trim_blocks=True,
        lstrip_blocks=True,
    )
    env.filters["pretty"] = _pretty
    return env


def _pretty(value: Any) -> str:
    import json

    from spine.core.jsonable import jsonable

    return json.dumps(jsonable(value), ensure_ascii=False)


def _script_data(data: ReportData) -> dict[str, Any]:
    return {
        "group": data.name,
        "policy": dict(data.policy),
        "nodes": [dict(x) for x in data.lineage],
    }


def render_report(data: ReportData, *, index_href: str | None = None) -> str:
    """The HTML text of one report page."""
    from markupsafe import Markup

    env = environment()
    template = env.get_template("report.html.j2")
    return template.render(
        r=data,
        svg=Markup(data.graph.svg) if data.graph.svg else None,
        script_data=_script_data(data),
        css=asset("report.css"),
        js=asset("report.js"),
        index_href=index_href,
    )


def render_index(reports: Sequence[ReportData], pages: Sequence[str]) -> str:
    """The HTML text of a site's index page."""
    env = environment()
    return env.get_template("index.html.j2").render(
        items=list(zip(reports, pages, strict=True)), css=asset("report.css"),
        valid=all(r.valid for r in reports),
        spine_version=reports[0].spine_version if reports else "",
    )


@lru_cache(maxsize=4)
def asset(name: str) -> Any:
    """A template asset (CSS or JS) as markup for inlining."""
    from importlib.resources import files

    from markupsafe import Markup

    text = files("spine.render").joinpath(f"templates/{name}").read_text(encoding="utf-8")
    if "</style" in text.lower() or "</script" in text.lower():
        raise AssertionError(f"asset {name} must not close its own tag")
    return Markup(text)


def write_report(path: str | Path, data: ReportData) -> Path:
    """Write one self-contained report page."""
    target = Path(path)
    target.parent.mkdir(parents=True, exist_ok=True)
    target.write_text(render_report(data), encoding="utf-8")
    return target


def write_site(folder: str | Path, reports: Iterable[ReportData]) -> Path:
    """Write ``index.html`` and one page per group into ``folder``; returns the index path."""
    out = Path(folder)
    out.mkdir(parents=True, exist_ok=True)
    taken: set[str] = {"index"}
    items = list(reports)
    pages: list[str] = []
    for data in items:
        page = f"{slug(data.name, taken)}.html"
        (out / page).write_text(render_report(data, index_href="index.html"), encoding="utf-8")
        pages.append(page)
    index = out / "index.html"
    index.write_text(render_index(items, pages), encoding="utf-8")
    return index
