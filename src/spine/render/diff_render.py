"""A :class:`~spine.diff.compare.DiffReport` as text, markdown, JSON or HTML.

Data in, strings out; nothing here reads files or prints. Every name a user wrote is
escaped for the syntax it lands in:

* **text** — through the ``escape`` callable the caller passes (the CLI passes its
  terminal escaping); the default shows invisible characters as ``\\u…``;
* **markdown** — :func:`spine.core.escape.markdown_text` (the one Markdown escaping, as in
  ``spine group validate --format markdown``): HTML-significant characters as entities,
  markdown punctuation backslash-escaped, ``@name`` and ``#123`` unable to mention or
  link, so a name can neither break a table nor inject markup nor ping anyone; Mermaid
  labels through :func:`spine.core.escape.mermaid_label`;
* **DOT** — HTML-like labels, XML-escaped, exactly as :mod:`.dot` does;
* **HTML** — the sandboxed, autoescaping Jinja2 environment of the plan report.

The merged graph shows both sides at once: added steps and edges green, removed ones red
and dashed, renamed steps blue and labelled ``old → new``, changed steps amber, and
dependencies on steps that exist on neither side grey and dashed.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Sequence
from typing import Any

from spine.core.escape import dot_html, markdown_text
from spine.core.jsonable import jsonable
from spine.diff.compare import Change, DiffNode, DiffReport, GroupDiff, KeyChange
from spine.render.mermaid import escape_label
from spine.render.svg import Picture
from spine.render.view import Direction, display

ADDED_COLOUR = "#1a7f37"
REMOVED_COLOUR = "#d1242f"
RENAMED_COLOUR = "#1f6feb"
CHANGED_COLOUR = "#9a6700"
GHOST_COLOUR = "#8c959f"

_FILL = {
    Change.ADDED: "#dafbe1",
    Change.REMOVED: "#ffebe9",
    Change.RENAMED: "#ddf4ff",
    Change.CHANGED: "#fff8c5",
    Change.UNCHANGED: "#f6f8fa",
}
_STROKE = {
    Change.ADDED: ADDED_COLOUR,
    Change.REMOVED: REMOVED_COLOUR,
    Change.RENAMED: RENAMED_COLOUR,
    Change.CHANGED: CHANGED_COLOUR,
    Change.UNCHANGED: "#57606a",
}
_MARK = {Change.ADDED: "+", Change.REMOVED: "-", Change.CHANGED: "~", Change.RENAMED: "R", Change.UNCHANGED: "="}


def value_text(value: Any) -> str:
    """A param or field value as compact JSON (``"x"``, ``4``, ``[1, 2]``)."""
    return json.dumps(jsonable(value), ensure_ascii=False)


def key_change_text(c: KeyChange, prefix: str = "") -> str:
    """``key: old → new``, ``key = new`` (added) or ``key (was old)`` (removed), unescaped."""
    if c.change is Change.ADDED:
        return f"{prefix}{c.key} = {value_text(c.new)}"
    if c.change is Change.REMOVED:
        return f"{prefix}{c.key} (was {value_text(c.old)})"
    return f"{prefix}{c.key}: {value_text(c.old)} → {value_text(c.new)}"


def pipeline_of(d: GroupDiff, step: str) -> str:
    """The NEW pipeline of a step of ``d`` (from the merged graph)."""
    for n in d.graph.nodes:
        if n.name == step and not n.ghost:
            return n.pipeline or ""
    return ""


def summary_text(d: GroupDiff) -> str:
    """``1 step added, 2 edges removed, policy changed`` — what changed, in words."""
    n = d.counts()
    parts = []
    steps = [f"{n[k]} {w}" for k, w in (("added_steps", "added"), ("removed_steps", "removed"), ("renamed_steps", "renamed"), ("changed_steps", "changed")) if n[k]]
    if steps:
        parts.append(f"steps: {', '.join(steps)}")
    edges = [f"{n[k]} {w}" for k, w in (("added_edges", "added"), ("removed_edges", "removed")) if n[k]]
    if edges:
        parts.append(f"edges: {', '.join(edges)}")
    parts.extend(f"{k} changed" for k in ("metadata", "policy", "defaults") if n[k])
    if d.order_changed:
        parts.append("declaration order changed")
    return "; ".join(parts) if parts else "no change"


def report_summary(report: DiffReport) -> str:
    """``1 group changed, 0 added, 0 removed, 2 unchanged``."""
    count = {c: sum(g.change is c for g in report.groups) for c in Change}
    changed = count[Change.CHANGED]
    return (
        f"{changed} group{'s' if changed != 1 else ''} changed, {count[Change.ADDED]} added, "
        f"{count[Change.REMOVED]} removed, {count[Change.UNCHANGED]} unchanged"
    )


# -- text -------------------------------------------------------------------------------


def render_text(
    report: DiffReport,
    *,
    escape: Callable[[str], str] = display,
    style: Callable[[str, Change], str] | None = None,
) -> str:
    """A readable summary, like ``git diff --stat`` with the details of each change.

    ``escape`` is applied to every user string (names, values, labels); ``style`` may
    colour a line by its change.
    """
    paint = style or (lambda text, _change: text)
    e = escape
    out = [paint(f"--- {e(report.old)}", Change.REMOVED), paint(f"+++ {e(report.new)}", Change.ADDED)]
    for d in report.groups:
        if not d.changed:
            continue
        title = e(d.name) if d.old_name is None else f"{e(d.old_name)} → {e(d.name)}"
        out.append("")
        out.append(paint(f"{_MARK[d.change]} group {title}  [{d.change.value}] {summary_text(d)}", d.change))
        out.extend(_text_sections(d, e, paint))
    out.append("")
    out.append(report_summary(report) if report.changed else "no changes")
    return "\n".join(out) + "\n"


def _text_sections(d: GroupDiff, e: Callable[[str], str], paint: Callable[[str, Change], str]) -> list[str]:
    out: list[str] = []
    for title, changes in (("metadata", d.metadata), ("policy", d.policy), ("defaults", d.defaults)):
        if changes:
            out.append(f"  {title}")
            out.extend(paint(f"    {_MARK[c.change]} {e(key_change_text(c))}", c.change) for c in changes)
    if d.added_steps or d.removed_steps or d.renamed_steps or d.changed_steps:
        out.append("  steps")
        out.extend(paint(f"    + {e(s.name)}  [{e(s.pipeline)}]", Change.ADDED) for s in d.added_steps)
        out.extend(paint(f"    - {e(s.name)}  [{e(s.pipeline)}]", Change.REMOVED) for s in d.removed_steps)
        out.extend(paint(f"    R {e(r.old)} → {e(r.new)}  [{e(r.pipeline)}]", Change.RENAMED) for r in d.renamed_steps)
        for s in d.changed_steps:
            out.append(paint(f"    ~ {e(s.name)}", Change.CHANGED))
            if s.pipeline is not None:
                out.append(f"        {e(key_change_text(s.pipeline))}")
            out.extend(f"        {e(key_change_text(p, 'params.'))}" for p in s.params)
            if s.description is not None:
                out.append(f"        {e(key_change_text(s.description))}")
            out.extend(f"        {e(key_change_text(r))}" for r in s.run_keys)
    if d.added_edges or d.removed_edges:
        out.append("  edges (dependency -> step)")
        out.extend(paint(f"    + {e(x.source)} -> {e(x.target)}", Change.ADDED) for x in d.added_edges)
        out.extend(paint(f"    - {e(x.source)} -> {e(x.target)}", Change.REMOVED) for x in d.removed_edges)
    if d.order_changed:
        out.append("  steps are declared in another order (ties in the plan order may resolve differently)")
    return out


# -- json -------------------------------------------------------------------------------


def render_json(report: DiffReport) -> str:
    """``report.to_dict()`` as indented JSON."""
    return json.dumps(report.to_dict(), indent=2, ensure_ascii=False) + "\n"


# -- mermaid and markdown -----------------------------------------------------------------


def _mermaid_label(n: DiffNode) -> str:
    if n.ghost:
        return f"missing: {escape_label(n.name)}"
    title = escape_label(n.name) if n.old_name is None else f"{escape_label(n.old_name)} #8594; {escape_label(n.name)}"
    return f"{title}<br/><small>{escape_label(n.pipeline or '')}</small>"


def diff_mermaid(d: GroupDiff, *, direction: str = "TB") -> str:
    """A Mermaid flowchart of the merged graph, additions and removals marked."""
    direction = Direction.of(direction)
    lines = [f"flowchart {direction}"]
    for n in d.graph.nodes:
        cls = "ghost" if n.ghost and n.change is Change.UNCHANGED else n.change.value
        suffix = "" if cls == "unchanged" else f":::{cls}"
        lines.append(f'    {n.id}["{_mermaid_label(n)}"]{suffix}')
    added: list[str] = []
    removed: list[str] = []
    for i, x in enumerate(d.graph.edges):
        arrow = "-.->" if x.change is Change.REMOVED else "-->"
        lines.append(f"    {x.source} {arrow} {x.target}")
        if x.change is Change.ADDED:
            added.append(str(i))
        elif x.change is Change.REMOVED:
            removed.append(str(i))
    lines.append(f"    classDef added stroke:{ADDED_COLOUR},stroke-width:2px,fill:{_FILL[Change.ADDED]}")
    lines.append(f"    classDef removed stroke:{REMOVED_COLOUR},stroke-width:2px,stroke-dasharray:5 4,fill:{_FILL[Change.REMOVED]},color:{REMOVED_COLOUR}")
    lines.append(f"    classDef renamed stroke:{RENAMED_COLOUR},stroke-width:2px,fill:{_FILL[Change.RENAMED]}")
    lines.append(f"    classDef changed stroke:{CHANGED_COLOUR},stroke-width:2px,fill:{_FILL[Change.CHANGED]}")
    lines.append(f"    classDef ghost stroke:{GHOST_COLOUR},stroke-dasharray:4 3,fill:#fff,color:{GHOST_COLOUR}")
    if added:
        lines.append(f"    linkStyle {','.join(added)} stroke:{ADDED_COLOUR},stroke-width:2px")
    if removed:
        lines.append(f"    linkStyle {','.join(removed)} stroke:{REMOVED_COLOUR},stroke-width:2px,stroke-dasharray:5 4")
    return "\n".join(lines) + "\n"




def _md_change(c: KeyChange) -> tuple[str, str]:
    old = "" if c.change is Change.ADDED else markdown_text(value_text(c.old))
    new = "" if c.change is Change.REMOVED else markdown_text(value_text(c.new))
    return old, new


def render_markdown(report: DiffReport, *, direction: str = "TB") -> str:
    """A markdown summary for pull requests: a table per kind of change and the merged graph."""
    m = markdown_text
    out = ["## Plan diff", "", f"**old:** {m(report.old)}  ", f"**new:** {m(report.new)}", ""]
    if not report.changed:
        out += [f"No changes ({len(report.groups)} group{'s' if len(report.groups) != 1 else ''} compared).", ""]
        return "\n".join(out)
    out += [report_summary(report) + ".", ""]
    out += ["| group | change | what changed |", "|---|---|---|"]
    for d in report.groups:
        if d.changed:
            out.append(f"| {m(d.name)} | {d.change.value} | {m(summary_text(d))} |")
    for d in report.groups:
        if d.changed:
            out += ["", *_markdown_group(d, direction)]
    return "\n".join(out) + "\n"


def _markdown_group(d: GroupDiff, direction: str) -> list[str]:
    m = markdown_text
    title = m(d.name) if d.old_name is None else f"{m(d.old_name)} → {m(d.name)}"
    out = [f"### {title} ({d.change.value})", ""]
    if d.added_steps or d.removed_steps or d.renamed_steps or d.changed_steps:
        out += ["| change | step | pipeline | details |", "|---|---|---|---|"]
        out += [f"| added | {m(s.name)} | {m(s.pipeline)} | |" for s in d.added_steps]
        out += [f"| removed | {m(s.name)} | {m(s.pipeline)} | |" for s in d.removed_steps]
        out += [f"| renamed | {m(r.old)} → {m(r.new)} | {m(r.pipeline)} | |" for r in d.renamed_steps]
        for s in d.changed_steps:
            details = []
            if s.pipeline is not None:
                details.append(m(key_change_text(s.pipeline)))
            details += [m(key_change_text(p, "params.")) for p in s.params]
            if s.description is not None:
                details.append(m(key_change_text(s.description)))
            details += [m(key_change_text(r)) for r in s.run_keys]
            out.append(f"| changed | {m(s.name)} | {m(pipeline_of(d, s.name))} | {'<br>'.join(details)} |")
        out.append("")
    if d.added_edges or d.removed_edges:
        out += ["| change | dependency | step |", "|---|---|---|"]
        out += [f"| added | {m(x.source)} | {m(x.target)} |" for x in d.added_edges]
        out += [f"| removed | {m(x.source)} | {m(x.target)} |" for x in d.removed_edges]
        out.append("")
    settings = [("metadata", c) for c in d.metadata] + [("policy", c) for c in d.policy] + [("defaults", c) for c in d.defaults]
    if settings:
        out += ["| section | key | change | old | new |", "|---|---|---|---|---|"]
        for section, c in settings:
            old, new = _md_change(c)
            out.append(f"| {section} | {m(c.key)} | {c.change.value} | {old} | {new} |")
        out.append("")
    if d.order_changed:
        out += ["Steps are declared in another order (ties in the plan order may resolve differently).", ""]
    out += [
        "Merged graph — green: added, red dashed: removed, blue: renamed (old → new), amber: changed.",
        "",
        "```mermaid",
        diff_mermaid(d, direction=direction).rstrip("\n"),
        "```",
    ]
    return out


# -- DOT and HTML -------------------------------------------------------------------------


def _quoted(text: str) -> Any:
    # Tooltips and the graph label: the escString escaping of dot.py, shared.
    from spine.render.dot import escstring

    return escstring(text, tooltip=True)


def _html_text(text: str) -> str:
    # Text inside an HTML-like label, escaped as dot.py's labels are.
    return dot_html(text)


def _dot_label(n: DiffNode) -> str:
    if n.ghost:
        return f"<<i>missing: {_html_text(n.name)}</i>>"
    title = f"<b>{_html_text(n.name)}</b>" if n.old_name is None else f"<s>{_html_text(n.old_name)}</s> → <b>{_html_text(n.name)}</b>"
    return f'<{title}<br/><font point-size="9" color="#57606a">{_html_text(n.pipeline or "")}</font>>'


def diff_dot(d: GroupDiff, *, direction: str = "TB") -> str:
    """DOT text of the merged graph (built with the ``graphviz`` package), changes marked."""
    import graphviz

    from spine.render.dot import escstring, layout_effort

    direction = Direction.of(direction)
    effort = layout_effort(len(d.graph.nodes), len(d.graph.edges))
    g = graphviz.Digraph(
        name="spine_diff",
        graph_attr={"rankdir": direction, "fontname": "Helvetica", "label": escstring(d.name), "labelloc": "t", "nodesep": "0.3", "ranksep": "0.5", **effort.attrs},
        node_attr={"shape": "box", "style": "rounded,filled", "fontname": "Helvetica", "fontsize": "11"},
        edge_attr={"color": "#57606a", "arrowsize": "0.7"},
    )
    for n in d.graph.nodes:
        attrs = {"label": _dot_label(n), "tooltip": _quoted(n.name), "id": f"node-{n.id}", "class": f"{'ghost' if n.ghost else 'step'} {n.change.value}"}
        if n.ghost:
            attrs.update(style="dashed", color=GHOST_COLOUR, fontcolor=GHOST_COLOUR, fillcolor="white")
            if n.change is not Change.UNCHANGED:
                attrs["color"] = _STROKE[n.change]
        else:
            attrs.update(color=_STROKE[n.change], fillcolor=_FILL[n.change])
            if n.change is not Change.UNCHANGED:
                attrs["penwidth"] = "2"
            if n.change is Change.REMOVED:
                attrs.update(style="rounded,filled,dashed", fontcolor=REMOVED_COLOUR)
        g.node(n.id, **attrs)
    for x in d.graph.edges:
        attrs = {"id": f"edge-{x.source}-{x.target}", "class": x.change.value}
        if x.change is Change.ADDED:
            attrs.update(color=ADDED_COLOUR, penwidth="2")
        elif x.change is Change.REMOVED:
            attrs.update(color=REMOVED_COLOUR, penwidth="2", style="dashed")
        g.edge(x.source, x.target, **attrs)
    return g.source


def html_sources(report: DiffReport, *, direction: str = "TB") -> list[str]:
    """The DOT text of each changed group's merged graph: what :func:`render_html` shows, to draw first."""
    return [diff_dot(d, direction=direction) for d in report.groups if d.changed]


def render_html(report: DiffReport, *, direction: str = "TB", pictures: Sequence[Picture] | None = None) -> str:
    """One self-contained HTML page: summary, tables and each changed group's merged graph.

    ``pictures`` are Graphviz's drawings of :func:`html_sources`, in that order (drawn at
    the edge, e.g. with :class:`~spine.render.svg.Graphviz`); without them each group shows
    its Mermaid source and says the picture was not drawn.
    """
    from markupsafe import Markup

    from spine import __version__
    from spine.render.htmlkit import asset, environment, inline_picture, picture_note

    changed = [d for d in report.groups if d.changed]
    if pictures is not None and len(pictures) != len(changed):
        raise ValueError(f"{len(pictures)} pictures for {len(changed)} changed groups")
    groups = []
    for i, d in enumerate(changed):
        pic = inline_picture(pictures[i]) if pictures is not None else Picture.not_drawn()
        groups.append(
            {
                "diff": d,
                "svg": Markup(pic.svg) if pic.svg is not None else None,
                "note": None if pic.drawn else picture_note(pic),
                "mermaid": diff_mermaid(d, direction=direction),
                "marks": _diff_marks(d),
                "summary": summary_text(d),
            }
        )
    return environment().get_template("diff.html.j2").render(
        report=report,
        groups=groups,
        summary=report_summary(report),
        unchanged=[d.name for d in report.groups if not d.changed],
        css=asset("report.css"),
        spine_version=__version__,
        key_change_text=key_change_text,
        value_text=value_text,
        pipeline_of=pipeline_of,
        Change=Change,
    )


def _diff_marks(d: GroupDiff) -> list[str]:
    """The legend entries the merged graph uses: kinds of change present, and missing steps."""
    present = {n.change for n in d.graph.nodes if not n.ghost} | {x.change for x in d.graph.edges}
    marks = [c.value for c in (Change.ADDED, Change.REMOVED, Change.RENAMED, Change.CHANGED) if c in present]
    if any(n.ghost for n in d.graph.nodes):
        marks.append("ghost")
    return marks


__all__ = [
    "ADDED_COLOUR",
    "CHANGED_COLOUR",
    "GHOST_COLOUR",
    "REMOVED_COLOUR",
    "RENAMED_COLOUR",
    "diff_dot",
    "diff_mermaid",
    "html_sources",
    "key_change_text",
    "pipeline_of",
    "render_html",
    "render_json",
    "render_markdown",
    "render_text",
    "report_summary",
    "summary_text",
    "value_text",
]
