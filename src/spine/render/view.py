"""The graph as data, for every renderer: nodes, edges and what is wrong with them.

An *invalid* group is still drawn, so a person can see the problem: edges inside a
dependency cycle (and self-dependencies) are ``CYCLE`` edges, a dependency on a step that
does not exist becomes a ``GHOST`` node joined by a ``MISSING`` edge. A nested group is a
:class:`ClusterView` around its steps. Node ids are
generated (``n0``, ``n1``, ``g0`` …): names never appear in a renderer's syntax, only in
escaped labels.
"""

from __future__ import annotations

import enum
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from spine.orchestration.graph import GraphAnalysis, analyze
from spine.orchestration.models import PipelineGroup
from spine.orchestration.nesting import GroupSource, NestedIn, flatten, has_nesting


class NodeKind(enum.Enum):
    """What a node stands for."""

    #: A step of the group.
    STEP = "step"
    #: A dependency that names no step (drawn dashed).
    GHOST = "ghost"


class Direction(enum.StrEnum):
    """Which way a drawn graph flows: Graphviz's ``rankdir``, Mermaid's flowchart direction."""

    #: Top to bottom (the default).
    TB = "TB"
    #: Left to right.
    LR = "LR"
    #: Bottom to top.
    BT = "BT"
    #: Right to left.
    RL = "RL"

    @classmethod
    def of(cls, value: str) -> Direction:
        """``value`` as a direction; raises ``ValueError`` naming the four."""
        try:
            return cls(value)
        except ValueError:
            *first, last = (d.value for d in cls)
            raise ValueError(f"direction must be {', '.join(first)} or {last}, got {value!r}") from None


class EdgeKind(enum.Enum):
    """How an edge is drawn."""

    #: An ordinary dependency.
    NORMAL = "normal"
    #: A dependency on the critical path.
    CRITICAL = "critical"
    #: A dependency inside a cycle, or a self-dependency.
    CYCLE = "cycle"
    #: A dependency on a step that does not exist.
    MISSING = "missing"


@dataclass(frozen=True, slots=True)
class NodeView:
    id: str
    name: str
    pipeline: str | None
    kind: NodeKind
    #: 0-based generation; ``None`` for ghosts and steps blocked by a cycle.
    generation: int | None
    critical: bool = False
    in_cycle: bool = False
    index: int = -1
    #: The ids of the nested-group clusters the node is in, outermost first.
    clusters: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class ClusterView:
    """A nested group drawn as a box around its steps (DOT cluster, Mermaid subgraph)."""

    id: str
    #: The calling step's planned name: the prefix of the steps inside.
    step: str
    group: str
    version: int
    #: The id of the cluster this one is inside (``None`` at the top level).
    parent: str | None = None


@dataclass(frozen=True, slots=True)
class EdgeView:
    source: str
    target: str
    kind: EdgeKind


@dataclass(frozen=True, slots=True)
class GraphView:
    group: str
    nodes: tuple[NodeView, ...]
    edges: tuple[EdgeView, ...]
    #: Node ids per generation.
    generations: tuple[tuple[str, ...], ...]
    critical_path: tuple[str, ...]
    valid: bool
    #: Nested groups, parents before children (empty for a group without ``group:`` steps).
    clusters: tuple[ClusterView, ...] = ()

    @property
    def widest_generation(self) -> int:
        return max((len(g) for g in self.generations), default=0)


def display(text: str) -> str:
    """``text`` with invisible and control characters shown as ``\\u…`` escapes.

    Valid step names never hold them, but an invalid group is still drawn, and a
    renderer must never pass a raw control or bidi character to its output.
    """
    from spine.core.escape import visible

    return visible(text)


def build_graph_view(
    group: PipelineGroup,
    analysis: GraphAnalysis | None = None,
    *,
    groups: Any = None,
    nesting: Mapping[str, tuple[NestedIn, ...]] | None = None,
) -> GraphView:
    """The view of ``group`` (analysed now unless ``analysis`` is given).

    A group whose steps call groups is drawn expanded, each nested group a cluster
    (nested groups are looked up in ``groups``, as the planner does), unless the nesting
    has a problem: then it is drawn as written. ``nesting`` says the group is expanded
    already (a plan's steps) and where each step came from.
    """
    import networkx as nx

    if nesting is None and has_nesting(group):
        flat = flatten(group, GroupSource.of(groups))
        if flat is not None:
            group, nesting = flat
            analysis = None
    a = analysis or analyze(group)
    index: dict[str, int] = {}
    for i, s in enumerate(group.steps):
        index.setdefault(s.name, i)
    ids = {name: f"n{i}" for i, name in enumerate(index)}
    critical = set(a.critical_path)
    crit_edges = set(zip(a.critical_path, a.critical_path[1:], strict=False))

    in_cycle: set[str] = set()
    cycle_edges: set[tuple[str, str]] = set()
    if a.cycles or a.self_dependencies:
        blocked = a.graph.subgraph(n for n in a.graph if n not in a.generation)
        for comp in nx.strongly_connected_components(blocked):
            if len(comp) > 1:
                in_cycle |= comp
        cycle_edges = {(u, v) for u, v in a.graph.edges if u in in_cycle and v in in_cycle}
        in_cycle |= set(a.self_dependencies)

    cluster_of: dict[str, ClusterView] = {}  # by calling step
    for levels in (nesting or {}).values():
        parent = None
        for level in levels:
            c = cluster_of.get(level.step)
            if c is None:
                c = cluster_of[level.step] = ClusterView(f"c{len(cluster_of)}", level.step, level.group, level.version, parent)
            parent = c.id
    nodes: list[NodeView] = []
    for name, i in index.items():
        step = group.steps[i]
        levels = nesting.get(name, ()) if nesting else ()
        nodes.append(
            NodeView(
                id=ids[name],
                name=name,
                pipeline=step.pipeline if step.group is None else f"group {step.group}",
                kind=NodeKind.STEP,
                generation=a.generation.get(name),
                critical=name in critical,
                in_cycle=name in in_cycle,
                index=i,
                clusters=tuple(cluster_of[lv.step].id for lv in levels),
            )
        )
    edges: list[EdgeView] = []
    for u, v in a.graph.edges:
        if (u, v) in cycle_edges:
            kind = EdgeKind.CYCLE
        elif (u, v) in crit_edges:
            kind = EdgeKind.CRITICAL
        else:
            kind = EdgeKind.NORMAL
        edges.append(EdgeView(ids[u], ids[v], kind))
    for name in dict.fromkeys(a.self_dependencies):
        edges.append(EdgeView(ids[name], ids[name], EdgeKind.CYCLE))
    ghosts: dict[str, str] = {}
    for step_name, missing in a.missing:
        gid = ghosts.get(missing)
        if gid is None:
            gid = ghosts[missing] = f"g{len(ghosts)}"
            nodes.append(NodeView(id=gid, name=missing, pipeline=None, kind=NodeKind.GHOST, generation=None))
        edges.append(EdgeView(gid, ids[step_name], EdgeKind.MISSING))
    generations = tuple(tuple(ids[n] for n in gen) for gen in a.generations)
    return GraphView(
        group=group.name,
        nodes=tuple(nodes),
        edges=tuple(edges),
        generations=generations,
        critical_path=tuple(ids[n] for n in a.critical_path),
        valid=a.ok,
        clusters=tuple(cluster_of.values()),
    )
