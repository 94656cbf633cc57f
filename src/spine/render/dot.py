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

import graphviz
from graphviz.quoting import quote

from spine.core.escape import dot_html, dot_string
from spine.render.view import Direction, EdgeKind, GraphView, NodeKind

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

    Written line by line in the exact shape the ``graphviz`` package writes — its own
    ``quote`` does the quoting, and a property test compares the text with what
    ``graphviz.Digraph`` gives — without building a ``Digraph``: this runs before Graphviz
    can start, so its time is in series with the layout.
    """
    direction = Direction.of(direction)
    effort = effort or layout_effort(len(view.nodes), len(view.edges))
    graph_attr = {
        "rankdir": direction,
        "fontname": "Helvetica",
        "label": escstring(view.group),
        "labelloc": "t",
        "nodesep": "0.3",
        "ranksep": "0.5",
        **effort.attrs,
    }
    node_attr = {"shape": "box", "style": "rounded,filled", "fillcolor": "#f6f8fa", "color": "#57606a", "fontname": "Helvetica", "fontsize": "11"}
    edge_attr = {"color": "#57606a", "arrowsize": "0.7"}
    out = ["digraph spine {\n", f"\tgraph [{_a_list(graph_attr)}]\n", f"\tnode [{_a_list(node_attr)}]\n", f"\tedge [{_a_list(edge_attr)}]\n"]
    node_lines: dict[str, str] = {}
    for n in view.nodes:
        if n.kind is NodeKind.GHOST:
            kind = "ghost"
        elif n.in_cycle:
            kind = "cycle"
        elif n.critical:
            kind = "critical"
        else:
            kind = "step"
        attrs = {**_NODE_STYLE[kind], "id": f"node-{n.id}", "tooltip": escstring(n.name, tooltip=True)}
        label = _label(n.name, n.pipeline, n.kind is NodeKind.GHOST)
        deco = decorations.get(n.id) if decorations else None
        if deco is not None:
            classes = attrs["class"].split(" ")
            attrs["label"] = label
            _decorate(attrs, classes, n, deco)
            attrs["class"] = " ".join(classes)
            label = attrs.pop("label")
        if n.clusters:
            attrs["class"] += "".join(f" in-{c}" for c in n.clusters)
        node_lines[n.id] = f"\t{_quote(n.id)} [{_a_list(attrs, label=label)}]\n"
    if view.clusters:
        out.extend(_clustered(view, node_lines))
    else:
        out.extend(node_lines.values())
    for gen in view.generations if not view.clusters else ():  # rank=same across clusters upsets dot's layout
        if len(gen) > 1:
            out.append("\t{\n\t\trank=same\n")
            out.extend(f"\t\t{_quote(nid)}\n" for nid in gen)
            out.append("\t}\n")
    inside = {n.id: n.clusters for n in view.nodes} if view.clusters else {}
    for e in view.edges:
        attrs = {**_EDGE_STYLE[e.kind], "id": f"edge-{e.source}-{e.target}"}
        shared = [c for c in inside.get(e.source, ()) if c in inside.get(e.target, ())]
        if shared:  # an edge inside a nested group folds with it
            attrs["class"] += "".join(f" in-{c}" for c in shared)
        out.append(f"\t{_quote(e.source)} -> {_quote(e.target)} [{_a_list(attrs)}]\n")
    out.append("}\n")
    return "".join(out)


def _clustered(view: GraphView, node_lines: Mapping[str, str]) -> list[str]:
    """The node lines with each nested group's nodes inside ``subgraph cluster_<id>``,
    clusters nested as the groups are; the label says the calling step and the group."""
    members: dict[str | None, list[str]] = {}
    for n in view.nodes:
        members.setdefault(n.clusters[-1] if n.clusters else None, []).append(n.id)
    children: dict[str | None, list[Any]] = {}
    for c in view.clusters:
        children.setdefault(c.parent, []).append(c)
    out: list[str] = []

    def emit(cid: str | None, indent: str) -> None:
        for nid in members.get(cid, ()):
            out.append(indent + node_lines[nid][1:])
        for c in children.get(cid, ()):
            label = f'<<b>{_html_text(c.step)}</b><br/><font point-size="9" color="#57606a">group {_html_text(c.group)} v{c.version}</font>>'
            attrs = {"id": f"cluster-{c.id}", "style": "rounded,dashed", "color": "#8c959f", "fontsize": "11", "labeljust": "l", "tooltip": escstring(f"{c.step}: group {c.group} v{c.version}", tooltip=True)}
            out.append(f"{indent}subgraph {_quote('cluster_' + c.id)} {{\n")
            out.append(f"{indent}\tgraph [{_a_list(attrs, label=label)}]\n")
            emit(c.id, indent + "\t")
            out.append(f"{indent}}}\n")

    emit(None, "\t")
    return out


_NODE_STYLE: dict[str, dict[str, str]] = {
    "step": {"class": "step"},
    "ghost": {"class": "ghost", "style": "dashed", "color": GHOST_COLOUR, "fontcolor": GHOST_COLOUR, "fillcolor": "white"},
    "cycle": {"class": "step cycle", "color": CYCLE_COLOUR, "penwidth": "2", "fillcolor": "#ffebe9"},
    "critical": {"class": "step critical", "color": CRITICAL_COLOUR, "penwidth": "2", "fillcolor": "#ddf4ff"},
}
_EDGE_STYLE: dict[EdgeKind, dict[str, str]] = {
    EdgeKind.NORMAL: {"class": "normal"},
    EdgeKind.CRITICAL: {"class": "critical", "color": CRITICAL_COLOUR, "penwidth": "2"},
    EdgeKind.CYCLE: {"class": "cycle", "color": CYCLE_COLOUR, "penwidth": "2"},
    EdgeKind.MISSING: {"class": "missing", "style": "dashed", "color": GHOST_COLOUR},
}
_QUOTED: dict[str, str] = {}


def _quote(value: str) -> str:
    """The ``graphviz`` package's quoting; plain strings (not ``nohtml`` ones) are remembered."""
    if type(value) is not str:
        return quote(value)
    done = _QUOTED.get(value)
    if done is None:
        done = quote(value)
        if len(_QUOTED) < 4096:
            _QUOTED[value] = done
    return done


def _a_list(attrs: dict[str, Any], *, label: str | None = None) -> str:
    """``label=… key=value …`` with the keys sorted, as ``graphviz.quoting.a_list`` writes it."""
    parts = [f"label={_quote(label)}"] if label is not None else []
    parts += [f"{k}={_quote(attrs[k])}" for k in sorted(attrs)]
    return " ".join(parts)


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
