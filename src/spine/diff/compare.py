"""What a change does to a group: ``diff_groups(old, new) -> GroupDiff`` — pure, no I/O.

A diff compares two *definitions*, not two plans: no params are rendered and no pipeline
is looked up, so both sides may be invalid and still be compared.

How two groups are compared:

* **steps** are matched by name. A removed step and an added step that call the same
  pipeline with equal params and have similar neighbours are paired as a **rename**
  (``old → new``), not reported as a removal plus an addition. "Similar neighbours": the
  Jaccard similarity of their dependencies and dependents — old names translated through
  the renames found so far — is at least :data:`RENAME_THRESHOLD` (two isolated steps
  count as similar). Two neighbours that could themselves be a rename count as equal, so
  a chain of renamed steps is found too. Pairs are chosen greedily, best score first
  (ties by declaration order), in rounds until no new pair is found;
* **edges** are ``dep -> step`` pairs taken from ``depends_on`` (dependencies on missing
  steps included). An old edge is compared after renaming its ends, so renaming a step
  does not also report its edges as changed;
* **values** (params, defaults, policy, metadata) are compared strictly: ``1``, ``1.0``
  and ``true`` are different values, as they are different YAML.

``diff_sets(old_groups, new_groups)`` matches groups by name and reports added and removed
groups too. Every result is a frozen dataclass with a ``to_dict`` (the one JSON shape),
and each :class:`GroupDiff` carries the *merged graph* — every step and edge of both
sides, each marked unchanged, added, removed, renamed or changed — for the renderers in
:mod:`spine.render.diff_render`.
"""

from __future__ import annotations

import enum
import math
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from spine.core.jsonable import Record, encode, jsonable
from spine.orchestration.models import RUN_KEYS, PipelineGroup, PipelineStep

#: A removed and an added step pair as a rename when their neighbourhoods are this similar.
RENAME_THRESHOLD = 0.5
#: At most this many (removed, added) look-alike pairs are scored as possible renames.
MAX_RENAME_CANDIDATES = 20_000

_METADATA_FIELDS = ("name", "version", "domain", "description", "tags")
_POLICY_FIELDS = ("execution", "max_concurrency", "on_failure", "timeout_minutes", *RUN_KEYS, "max_active_runs", "pool", "queue")
#: A step's own keys compared as run keys: the RUN_KEYS, its pool and its queue.
_STEP_RUN_KEYS = (*RUN_KEYS, "pool", "queue", "group")  # ``group``: the group a step calls instead of a pipeline


class Change(enum.Enum):
    """What happened to a group, a step, an edge or a key between OLD and NEW."""

    #: The same on both sides.
    UNCHANGED = "unchanged"
    #: Only in NEW.
    ADDED = "added"
    #: Only in OLD.
    REMOVED = "removed"
    #: On both sides, different.
    CHANGED = "changed"
    #: A step that looks renamed: same pipeline and params, similar neighbours.
    RENAMED = "renamed"


@dataclass(frozen=True, slots=True)
class KeyChange:
    """One key of params, defaults, policy or metadata that was added, removed or changed."""

    key: str
    change: Change
    #: The OLD value (``None`` when added).
    old: Any = None
    #: The NEW value (``None`` when removed).
    new: Any = None

    def to_dict(self) -> dict[str, Any]:
        data: dict[str, Any] = {"key": self.key, "change": self.change.value}
        if self.change is not Change.ADDED:
            data["old"] = jsonable(self.old)
        if self.change is not Change.REMOVED:
            data["new"] = jsonable(self.new)
        return data


@dataclass(frozen=True, slots=True)
class StepRef(Record):
    """An added or removed step."""

    name: str
    pipeline: str


@dataclass(frozen=True, slots=True)
class StepRename(Record):
    """A removed and an added step paired as a rename."""

    old: str
    new: str
    pipeline: str
    #: How similar their neighbourhoods are, 0..1.
    similarity: float

    def to_dict(self) -> dict[str, Any]:
        return {**encode(self), "similarity": round(self.similarity, 3)}


@dataclass(frozen=True, slots=True)
class StepChange(Record):
    """A step on both sides (by name, or paired as a rename) whose definition changed."""

    #: The NEW name.
    name: str
    #: The OLD name when the step was renamed, else ``None``.
    old_name: str | None = None
    #: ``key="pipeline"`` when the pipeline changed.
    pipeline: KeyChange | None = None
    params: tuple[KeyChange, ...] = ()
    #: ``key="description"`` when the description changed.
    description: KeyChange | None = None
    #: The step's own ``retries``, ``retry_delay_seconds`` and ``timeout_seconds`` that changed.
    run_keys: tuple[KeyChange, ...] = ()

    _omit_defaults = ("old_name", "pipeline", "params", "description", "run_keys")


@dataclass(frozen=True, slots=True)
class Edge(Record):
    """A dependency ``source -> target`` (the step ``target`` depends on ``source``)."""

    source: str
    target: str


@dataclass(frozen=True, slots=True)
class DiffNode(Record):
    """A node of the merged graph: a step of either side, or a dependency naming no step."""

    #: Generated id (``n0``, ``n1`` …); names only ever appear in escaped labels.
    id: str
    #: The NEW name (the OLD one for removed steps).
    name: str
    #: The NEW pipeline (the OLD one for removed steps); ``None`` for ghosts.
    pipeline: str | None
    change: Change
    #: The OLD name of a renamed step.
    old_name: str | None = None
    #: A dependency that is not a step on either side.
    ghost: bool = False

    _omit_defaults = ("old_name", "ghost")


@dataclass(frozen=True, slots=True)
class DiffEdge(Record):
    """An edge of the merged graph, between node ids."""

    source: str
    target: str
    change: Change


@dataclass(frozen=True, slots=True)
class MergedGraph(Record):
    """Both sides in one picture: every step and edge, each marked with its change."""

    nodes: tuple[DiffNode, ...] = ()
    edges: tuple[DiffEdge, ...] = ()


@dataclass(frozen=True, slots=True)
class GroupDiff:
    """Everything that differs between two versions of one group."""

    #: The NEW name (the OLD one when the group was removed).
    name: str
    #: ``ADDED``, ``REMOVED``, ``CHANGED`` or ``UNCHANGED``.
    change: Change
    #: Metadata fields (``name``, ``version``, ``domain``, ``description``, ``tags``).
    metadata: tuple[KeyChange, ...] = ()
    policy: tuple[KeyChange, ...] = ()
    defaults: tuple[KeyChange, ...] = ()
    added_steps: tuple[StepRef, ...] = ()
    removed_steps: tuple[StepRef, ...] = ()
    renamed_steps: tuple[StepRename, ...] = ()
    changed_steps: tuple[StepChange, ...] = ()
    #: Edges in NEW names.
    added_edges: tuple[Edge, ...] = ()
    #: Edges in OLD names (as the old definition wrote them).
    removed_edges: tuple[Edge, ...] = ()
    #: The steps on both sides are declared in another order (plan ties may resolve differently).
    order_changed: bool = False
    graph: MergedGraph = MergedGraph()
    #: The OLD name when it differs from ``name`` (a renamed group), else ``None``.
    old_name: str | None = None

    @property
    def changed(self) -> bool:
        return self.change is not Change.UNCHANGED

    def counts(self) -> dict[str, int]:
        """How many of each kind of change (for summaries)."""
        return {
            "added_steps": len(self.added_steps),
            "removed_steps": len(self.removed_steps),
            "renamed_steps": len(self.renamed_steps),
            "changed_steps": len(self.changed_steps),
            "added_edges": len(self.added_edges),
            "removed_edges": len(self.removed_edges),
            "metadata": len(self.metadata),
            "policy": len(self.policy),
            "defaults": len(self.defaults),
        }

    def to_dict(self) -> dict[str, Any]:
        data: dict[str, Any] = {"name": self.name, "change": self.change.value, "changed": self.changed}
        if self.old_name is not None:
            data["old_name"] = self.old_name
        data.update(
            {
                "counts": self.counts(),
                "metadata": [c.to_dict() for c in self.metadata],
                "policy": [c.to_dict() for c in self.policy],
                "defaults": [c.to_dict() for c in self.defaults],
                "added_steps": [s.to_dict() for s in self.added_steps],
                "removed_steps": [s.to_dict() for s in self.removed_steps],
                "renamed_steps": [r.to_dict() for r in self.renamed_steps],
                "changed_steps": [s.to_dict() for s in self.changed_steps],
                "added_edges": [e.to_dict() for e in self.added_edges],
                "removed_edges": [e.to_dict() for e in self.removed_edges],
                "order_changed": self.order_changed,
                "graph": self.graph.to_dict(),
            }
        )
        return data


@dataclass(frozen=True, slots=True)
class DiffReport:
    """A whole diff: what was compared (labels such as file names) and one diff per group."""

    old: str
    new: str
    groups: tuple[GroupDiff, ...]

    @property
    def changed(self) -> bool:
        return any(g.changed for g in self.groups)

    def to_dict(self) -> dict[str, Any]:
        return {
            "old": self.old,
            "new": self.new,
            "changed": self.changed,
            "summary": {c.value: sum(g.change is c for g in self.groups) for c in (Change.ADDED, Change.REMOVED, Change.CHANGED, Change.UNCHANGED)},
            "groups": [g.to_dict() for g in self.groups],
        }


# -- comparing values ------------------------------------------------------------------


def same(a: Any, b: Any) -> bool:
    """Equality as YAML sees it: scalar types must match (``1``, ``1.0`` and ``true`` differ),
    any mapping equals any mapping with the same items, a list equals a tuple, NaN equals NaN."""
    stack = [(a, b)]
    while stack:
        x, y = stack.pop()
        if isinstance(x, Mapping) and isinstance(y, Mapping):
            if x.keys() != y.keys():
                return False
            stack.extend((x[k], y[k]) for k in x)
        elif isinstance(x, (list, tuple)) and isinstance(y, (list, tuple)):
            if len(x) != len(y):
                return False
            stack.extend(zip(x, y, strict=True))
        elif type(x) is not type(y):
            return False
        elif isinstance(x, float):
            if not (x == y or (math.isnan(x) and math.isnan(y))):
                return False
        elif x != y:
            return False
    return True


def diff_mappings(old: Mapping[str, Any], new: Mapping[str, Any]) -> tuple[KeyChange, ...]:
    """Keys removed (old order), then changed and added (new order)."""
    out = [KeyChange(str(k), Change.REMOVED, old=v) for k, v in old.items() if k not in new]
    for k, v in new.items():
        if k not in old:
            out.append(KeyChange(str(k), Change.ADDED, new=v))
        elif not same(old[k], v):
            out.append(KeyChange(str(k), Change.CHANGED, old=old[k], new=v))
    return tuple(out)


def _field_changes(fields: Sequence[str], old: Mapping[str, Any], new: Mapping[str, Any]) -> tuple[KeyChange, ...]:
    out = []
    for f in fields:
        a, b = old.get(f), new.get(f)
        if same(a, b):
            continue
        change = Change.ADDED if a is None else Change.REMOVED if b is None else Change.CHANGED
        out.append(KeyChange(f, change, old=a, new=b))
    return tuple(out)


def _metadata(g: PipelineGroup) -> dict[str, Any]:
    return {"name": g.name, "version": g.version, "domain": g.domain, "description": g.description, "tags": list(g.tags) or None}


def _policy(g: PipelineGroup) -> dict[str, Any]:
    p = g.policy
    return {
        "execution": p.execution.value,
        "max_concurrency": p.max_concurrency,
        "on_failure": p.on_failure.value,
        "timeout_minutes": p.timeout_minutes,
        **{k: getattr(p, k) for k in RUN_KEYS},
        "max_active_runs": p.max_active_runs,
        "pool": p.pool,
        "queue": p.queue,
    }


# -- steps and renames ------------------------------------------------------------------


def _steps(group: PipelineGroup | None) -> dict[str, PipelineStep]:
    """Steps by name, in declaration order; the first of duplicate names wins (as when drawn)."""
    out: dict[str, PipelineStep] = {}
    for s in group.steps if group is not None else ():
        out.setdefault(s.name, s)
    return out


def _edges(steps: Mapping[str, PipelineStep]) -> dict[tuple[str, str], None]:
    """``(dep, step)`` pairs in declaration order (an ordered set)."""
    out: dict[tuple[str, str], None] = {}
    for s in steps.values():
        for d in s.depends_on:
            out[(d, s.name)] = None
    return out


def _neighbours(edges: Iterable[tuple[str, str]]) -> dict[str, set[tuple[str, str]]]:
    out: dict[str, set[tuple[str, str]]] = {}
    for u, v in edges:
        out.setdefault(v, set()).add(("dep", u))
        out.setdefault(u, set()).add(("dependent", v))
    return out


def _canonical(value: Any) -> Any:
    """A hashable form of a value: equal exactly when :func:`same` says so."""
    if isinstance(value, Mapping):
        return ("map", frozenset((_canonical(k), _canonical(v)) for k, v in value.items()))
    if isinstance(value, (list, tuple)):
        return ("seq", tuple(_canonical(v) for v in value))
    if isinstance(value, float) and math.isnan(value):
        return ("nan",)
    try:
        hash(value)
    except TypeError:
        return ("repr", type(value).__name__, repr(value))
    return (type(value).__name__, value)


def _look_alike(step: PipelineStep) -> Any:
    """Steps that could be renames of each other share this key: pipeline and params."""
    return (step.pipeline, step.group, _canonical(step.params))


def find_renames(
    old: Mapping[str, PipelineStep],
    new: Mapping[str, PipelineStep],
    removed: Sequence[str],
    added: Sequence[str],
) -> list[StepRename]:
    """Pair removed with added steps that look renamed (see the module docstring)."""
    if not removed or not added:
        return []
    old_nb = _neighbours(_edges(old))
    new_nb = _neighbours(_edges(new))
    rank_old = {n: i for i, n in enumerate(removed)}
    rank_new = {n: i for i, n in enumerate(added)}
    # Look-alikes: same pipeline, same params. Bound the work: the largest classes of
    # look-alikes (hundreds of removed and added steps calling one pipeline with the same
    # params) are left unpaired once MAX_RENAME_CANDIDATES pairs are reached.
    added_by: dict[Any, list[str]] = {}
    for a in added:
        added_by.setdefault(_look_alike(new[a]), []).append(a)
    removed_by: dict[Any, list[str]] = {}
    for r in removed:
        removed_by.setdefault(_look_alike(old[r]), []).append(r)
    classes = [(len(rs) * len(added_by[k]), k) for k, rs in removed_by.items() if k in added_by]
    candidates: list[tuple[str, str]] = []
    for size, k in sorted(classes, key=lambda c: c[0]):
        if len(candidates) + size > MAX_RENAME_CANDIDATES:
            break
        candidates.extend((r, a) for r in removed_by[k] for a in added_by[k])
    candidates.sort(key=lambda p: (rank_old[p[0]], rank_new[p[1]]))
    old_sorted = {r: sorted(old_nb.get(r, ())) for r, _ in candidates}
    new_sets = {a: new_nb.get(a, set()) for _, a in candidates}
    renames: dict[str, str] = {}
    found: list[StepRename] = []
    while candidates:
        pending = set(candidates)
        open_old = {r for r, _ in candidates}

        def score(r: str, a: str) -> float:
            # Jaccard similarity of the neighbourhoods, where an old neighbour matches a
            # new one when it is the same step (through the renames found so far) or when
            # the two are themselves a pending rename candidate (so chains are found).
            olds, news_set = old_sorted[r], new_sets[a]
            if not olds and not news_set:
                return 1.0
            news = sorted(news_set)
            used: set[tuple[str, str]] = set()
            for kind, x in olds:
                y = (kind, renames.get(x, x))
                if y in news_set and y not in used:
                    used.add(y)
                elif x in open_old:  # noqa: B023 - called within this iteration
                    for k2, n2 in news:
                        if k2 == kind and (k2, n2) not in used and (x, n2) in pending:  # noqa: B023
                            used.add((k2, n2))
                            break
            return len(used) / (len(olds) + len(news_set) - len(used))

        scored = sorted(
            ((score(r, a), r, a) for r, a in candidates),
            key=lambda t: (-t[0], rank_old[t[1]], rank_new[t[2]]),
        )
        taken_old: set[str] = set()
        taken_new: set[str] = set()
        for similarity, r, a in scored:
            if similarity < RENAME_THRESHOLD:
                break
            if r in taken_old or a in taken_new:
                continue
            taken_old.add(r)
            taken_new.add(a)
            renames[r] = a
            found.append(StepRename(r, a, new[a].pipeline, similarity))
        if not taken_old:
            break
        # Next round: the pairs left may now look similar through the renames just found.
        paired = set(renames.values())
        candidates = [(r, a) for r, a in candidates if r not in renames and a not in paired]
    found.sort(key=lambda x: rank_new[x.new])
    return found


def _step_change(old: PipelineStep, new: PipelineStep) -> StepChange | None:
    pipeline = None if old.pipeline == new.pipeline else KeyChange("pipeline", Change.CHANGED, old.pipeline, new.pipeline)
    params = diff_mappings(old.params, new.params)
    description = None
    if old.description != new.description:
        kind = Change.ADDED if old.description is None else Change.REMOVED if new.description is None else Change.CHANGED
        description = KeyChange("description", kind, old.description, new.description)
    run_keys = _field_changes(_STEP_RUN_KEYS, {k: getattr(old, k) for k in _STEP_RUN_KEYS}, {k: getattr(new, k) for k in _STEP_RUN_KEYS})
    if pipeline is None and not params and description is None and not run_keys:
        return None
    return StepChange(new.name, old.name if old.name != new.name else None, pipeline, params, description, run_keys)


# -- groups -----------------------------------------------------------------------------


def diff_groups(old: PipelineGroup | None, new: PipelineGroup | None) -> GroupDiff:
    """Every difference between two versions of a group (``None``: the group is absent there)."""
    if old is None and new is None:
        raise ValueError("diff_groups needs at least one group")
    old_steps, new_steps = _steps(old), _steps(new)
    removed = [n for n in old_steps if n not in new_steps]
    added = [n for n in new_steps if n not in old_steps]
    renames = find_renames(old_steps, new_steps, removed, added)
    rename_map = {r.old: r.new for r in renames}
    removed = [n for n in removed if n not in rename_map]
    renamed_new = set(rename_map.values())
    added = [n for n in added if n not in renamed_new]

    changed_steps: list[StepChange] = []
    for name, step in new_steps.items():
        before = old_steps.get(name)
        if before is None:
            before = next((old_steps[r.old] for r in renames if r.new == name), None)
        if before is not None:
            sc = _step_change(before, step)
            if sc is not None:
                changed_steps.append(sc)

    old_edges = _edges(old_steps)
    new_edges = _edges(new_steps)
    translated = {(rename_map.get(u, u), rename_map.get(v, v)): (u, v) for u, v in old_edges}
    removed_edges = tuple(Edge(*orig) for t, orig in translated.items() if t not in new_edges)
    added_edges = tuple(Edge(u, v) for u, v in new_edges if (u, v) not in translated)

    common_old = [rename_map.get(n, n) for n in old_steps if rename_map.get(n, n) in new_steps]
    common = set(common_old)
    common_new = [n for n in new_steps if n in common]
    order_changed = common_old != common_new

    metadata: tuple[KeyChange, ...] = ()
    policy: tuple[KeyChange, ...] = ()
    defaults: tuple[KeyChange, ...] = ()
    if old is not None and new is not None:
        metadata = _field_changes(_METADATA_FIELDS, _metadata(old), _metadata(new))
        policy = _field_changes(_POLICY_FIELDS, _policy(old), _policy(new))
        defaults = diff_mappings(old.defaults, new.defaults)

    graph = _merged_graph(old_steps, new_steps, rename_map, {c.name for c in changed_steps}, translated, new_edges)

    if old is None:
        change = Change.ADDED
    elif new is None:
        change = Change.REMOVED
    elif metadata or policy or defaults or added or removed or renames or changed_steps or removed_edges or added_edges or order_changed:
        change = Change.CHANGED
    else:
        change = Change.UNCHANGED
    name = new.name if new is not None else old.name  # type: ignore[union-attr]
    return GroupDiff(
        name=name,
        change=change,
        metadata=metadata,
        policy=policy,
        defaults=defaults,
        added_steps=tuple(StepRef(n, new_steps[n].pipeline) for n in added),
        removed_steps=tuple(StepRef(n, old_steps[n].pipeline) for n in removed),
        renamed_steps=tuple(renames),
        changed_steps=tuple(changed_steps),
        added_edges=added_edges,
        removed_edges=removed_edges,
        order_changed=order_changed,
        graph=graph,
        old_name=old.name if old is not None and new is not None and old.name != new.name else None,
    )


def _merged_graph(
    old_steps: Mapping[str, PipelineStep],
    new_steps: Mapping[str, PipelineStep],
    rename_map: Mapping[str, str],
    changed: set[str],
    old_edges: Mapping[tuple[str, str], tuple[str, str]],
    new_edges: Mapping[tuple[str, str], None],
) -> MergedGraph:
    """Nodes in NEW declaration order, then removed steps, then ghosts; edges likewise."""
    back = {v: k for k, v in rename_map.items()}
    nodes: dict[str, DiffNode] = {}

    def add(name: str, **kw: Any) -> None:
        nodes[name] = DiffNode(id=f"n{len(nodes)}", name=name, **kw)

    for name, step in new_steps.items():
        if name in back:
            add(name, old_name=back[name], pipeline=step.pipeline, change=Change.RENAMED)
        elif name not in old_steps:
            add(name, old_name=None, pipeline=step.pipeline, change=Change.ADDED)
        else:
            add(name, old_name=None, pipeline=step.pipeline, change=Change.CHANGED if name in changed else Change.UNCHANGED)
    for name, step in old_steps.items():
        if name not in new_steps and name not in rename_map:
            add(name, old_name=None, pipeline=step.pipeline, change=Change.REMOVED)
    edges: dict[tuple[str, str], Change] = {}
    for e in old_edges:
        edges[e] = Change.UNCHANGED if e in new_edges else Change.REMOVED
    for e in new_edges:
        edges.setdefault(e, Change.ADDED)
    # A dependency on a step that exists on neither side becomes a ghost node, marked by
    # the side(s) whose edges name it. (Targets are always steps.)
    in_old = {u for (u, _), c in edges.items() if c is not Change.ADDED}
    in_new = {u for (u, _), c in edges.items() if c is not Change.REMOVED}
    for u, _ in edges:
        if u not in nodes:
            change = Change.UNCHANGED if u in in_old and u in in_new else Change.ADDED if u in in_new else Change.REMOVED
            add(u, old_name=None, pipeline=None, change=change, ghost=True)
    return MergedGraph(
        nodes=tuple(nodes.values()),
        edges=tuple(DiffEdge(nodes[u].id, nodes[v].id, c) for (u, v), c in edges.items()),
    )


def diff_sets(
    old_groups: Iterable[PipelineGroup],
    new_groups: Iterable[PipelineGroup],
    *,
    pair_single: bool = False,
) -> list[GroupDiff]:
    """One diff per group name on either side: OLD's order first, then groups only in NEW.

    The first of several groups with one name on a side is compared. With
    ``pair_single``, when each side holds exactly one group they are compared even if
    their names differ (a renamed group: ``metadata`` shows the name change).
    """
    old_by: dict[str, PipelineGroup] = {}
    for g in old_groups:
        old_by.setdefault(g.name, g)
    new_by: dict[str, PipelineGroup] = {}
    for g in new_groups:
        new_by.setdefault(g.name, g)
    if pair_single and len(old_by) == 1 and len(new_by) == 1:
        return [diff_groups(next(iter(old_by.values())), next(iter(new_by.values())))]
    names = list(dict.fromkeys([*old_by, *new_by]))
    return [diff_groups(old_by.get(n), new_by.get(n)) for n in names]


__all__ = [
    "MAX_RENAME_CANDIDATES",
    "RENAME_THRESHOLD",
    "Change",
    "DiffEdge",
    "DiffNode",
    "DiffReport",
    "Edge",
    "GroupDiff",
    "KeyChange",
    "MergedGraph",
    "StepChange",
    "StepRef",
    "StepRename",
    "diff_groups",
    "diff_mappings",
    "diff_sets",
    "find_renames",
    "same",
]
