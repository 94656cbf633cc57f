"""``GraphView`` → Graphviz DOT text, built with the ``graphviz`` package.

Every user string goes into an HTML-like label, XML-escaped, or into a quoted string with
backslashes and quotes escaped, so no step name — quotes, ``<``, braces, ``->``,
backslashes, unicode — can break the DOT syntax. Node ids are generated.

Layout effort scales with size (see :func:`layout_effort`): Graphviz's default network
simplex and crossing minimisation take tens of seconds on a dense 1,000-node DAG; its own
limits bring that down to a few seconds with a slightly less tidy picture.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from spine.core.escape import dot_html, dot_string
from spine.render.view import EdgeKind, GraphView, NodeKind

CRITICAL_COLOUR = "#1f6feb"
CYCLE_COLOUR = "#d1242f"
GHOST_COLOUR = "#8c959f"


@dataclass(frozen=True, slots=True)
class LayoutEffort:
    """Graphviz attributes that bound layout time, and whether they reduce quality."""

    attrs: dict[str, str] = field(default_factory=dict)
    reduced: bool = False
    reason: str = ""


@dataclass(frozen=True, slots=True)
class NodeDecoration:
    """Extra drawing for one node, applied over the defaults (a run report colours by status).

    ``note`` is a third label line and ``tooltip`` replaces the name as the hover text;
    both are escaped like names. ``href`` links the node (``#anchor`` within a report).
    """

    fill: str | None = None
    border: str | None = None
    css_class: str | None = None
    note: str | None = None
    tooltip: str | None = None
    href: str | None = None


def layout_effort(nodes: int, edges: int) -> LayoutEffort:
    """Layout limits for a graph of this size (none for small graphs)."""
    size = nodes + edges
    if size <= 400:
        return LayoutEffort()
    if size <= 1500:
        return LayoutEffort({"mclimit": "0.5", "nslimit": "2", "nslimit1": "2"}, True, "medium graph: crossing minimisation limited")
    return LayoutEffort(
        {"mclimit": "0.01", "nslimit": "0.2", "nslimit1": "0.2", "searchsize": "5", "remincross": "false", "splines": "line"},
        True,
        f"large graph ({nodes} steps, {edges} edges): crossing minimisation and network simplex limited, straight edges",
    )


def escstring(text: str, *, tooltip: bool = False) -> Any:
    """A DOT escString holding ``text`` literally.

    ``nohtml`` stops the graphviz package from passing ``<…>`` through as an HTML label;
    ``&`` becomes ``&amp;`` and backslashes are doubled so Graphviz expands neither an
    entity nor ``\\N``/``\\G``/``\\L``; tooltips are unescaped once more on the way into
    SVG, hence four backslashes there.
    """
    import graphviz

    return graphviz.nohtml(dot_string(text, tooltip=tooltip))


def _html_text(text: str) -> str:
    # the escaping of HTML-like labels, "]" as an entity included: spine.core.escape.dot_html
    return dot_html(text)


def _label(name: str, pipeline: str | None, ghost: bool, note: str | None = None) -> str:
    title = _html_text(name)
    if ghost:
        return f'<<i>missing: {title}</i>>'
    sub = _html_text(pipeline or "")
    extra = f'<br/><font point-size="9">{_html_text(note)}</font>' if note else ""
    return f'<<b>{title}</b><br/><font point-size="9" color="#57606a">{sub}</font>{extra}>'


def to_dot(
    view: GraphView,
    *,
    direction: str = "TB",
    effort: LayoutEffort | None = None,
    decorations: Mapping[str, NodeDecoration] | None = None,
) -> str:
    """DOT text for ``view``: generations as ranks, critical path in blue, cycles in red.

    ``decorations`` (node id → :class:`NodeDecoration`) draw over those defaults.
    """
    import graphviz

    if direction not in ("TB", "LR", "BT", "RL"):
        raise ValueError(f"direction must be TB, LR, BT or RL, got {direction!r}")
    effort = effort or layout_effort(len(view.nodes), len(view.edges))
    g = graphviz.Digraph(
        name="spine",
        graph_attr={
            "rankdir": direction,
            "fontname": "Helvetica",
            "label": escstring(view.group),
            "labelloc": "t",
            "nodesep": "0.3",
            "ranksep": "0.5",
            **effort.attrs,
        },
        node_attr={"shape": "box", "style": "rounded,filled", "fillcolor": "#f6f8fa", "color": "#57606a", "fontname": "Helvetica", "fontsize": "11"},
        edge_attr={"color": "#57606a", "arrowsize": "0.7"},
    )
    for n in view.nodes:
        attrs = {"label": _label(n.name, n.pipeline, n.kind is NodeKind.GHOST), "tooltip": escstring(n.name, tooltip=True), "id": f"node-{n.id}"}
        classes = ["step"]
        if n.kind is NodeKind.GHOST:
            attrs.update(style="dashed", color=GHOST_COLOUR, fontcolor=GHOST_COLOUR, fillcolor="white")
            classes = ["ghost"]
        elif n.in_cycle:
            attrs.update(color=CYCLE_COLOUR, penwidth="2", fillcolor="#ffebe9")
            classes.append("cycle")
        elif n.critical:
            attrs.update(color=CRITICAL_COLOUR, penwidth="2", fillcolor="#ddf4ff")
            classes.append("critical")
        deco = decorations.get(n.id) if decorations else None
        if deco is not None:
            _decorate(attrs, classes, n, deco)
        attrs["class"] = " ".join(classes)
        g.node(n.id, **attrs)
    for gen in view.generations:
        if len(gen) > 1:
            with g.subgraph() as s:
                s.attr(rank="same")
                for nid in gen:
                    s.node(nid)
    for e in view.edges:
        attrs = {"id": f"edge-{e.source}-{e.target}", "class": e.kind.value}
        if e.kind is EdgeKind.CRITICAL:
            attrs.update(color=CRITICAL_COLOUR, penwidth="2")
        elif e.kind is EdgeKind.CYCLE:
            attrs.update(color=CYCLE_COLOUR, penwidth="2")
        elif e.kind is EdgeKind.MISSING:
            attrs.update(style="dashed", color=GHOST_COLOUR)
        g.edge(e.source, e.target, **attrs)
    return g.source


def _decorate(attrs: dict[str, Any], classes: list[str], node: Any, deco: NodeDecoration) -> None:
    if deco.fill:
        attrs["fillcolor"] = deco.fill
    if deco.border:
        attrs["color"] = deco.border
    if deco.css_class:
        classes.append(deco.css_class)
    if deco.note:
        attrs["label"] = _label(node.name, node.pipeline, node.kind is NodeKind.GHOST, deco.note)
    if deco.tooltip is not None:
        attrs["tooltip"] = escstring(deco.tooltip, tooltip=True)
    if deco.href:
        attrs["href"] = escstring(deco.href)
