"""Lint rules: warnings about groups that are valid but probably not what their author meant.

``lint_group(group, registry=None, analysis=None) -> list[Finding]`` is pure (data in,
data out, no I/O). Every finding it returns is a :attr:`Severity.WARNING` with a stable
code, the position in the group's YAML when there is one, and a message saying what to
change. ``spine group validate --strict`` turns them into failures. ``docs/lint.md``
documents every code with an example.

=============================  ==================================================  ==========
code                           flags                                               needs
=============================  ==================================================  ==========
``redundant-dependency``       a ``depends_on`` item already implied by another    a DAG
                               path (the edge is not in the transitive reduction)
``duplicate-dependency``       the same name twice in one ``depends_on`` list      —
``parallel-on-chain``          ``execution: parallel`` where no two steps can      a DAG
                               ever run together (widest generation is 1)
``max-concurrency-above-width````max_concurrency`` above the most steps that can   a DAG
                               ever run at once (parallel groups only)
``confusable-step-names``      step names equal after NFKC normalisation and       —
                               case-folding (``Ingest`` / ``ingest`` / ``ｉｎｇｅｓｔ``)
``duplicate-call``             two steps calling the same pipeline with the same   —
                               step params
``unused-default``             a ``spec.defaults`` key that no pipeline the group  a registry
                               calls declares (so no step ever receives it)
=============================  ==================================================  ==========

Rules marked "a DAG" run only when the graph analysis found nothing wrong (no duplicate
names, self or missing dependencies, or cycles): their advice is about a graph that does
not exist yet otherwise. The others run on any group that could be built.

How the graph rules scale (measured on 10,000 steps with ~3 dependencies each; see
``tests/test_lint.py`` and ``docs/lint.md``): ``networkx.transitive_reduction`` takes
50 s to 9 min there, so it is not used. Instead each step's ancestors are one Python
``int`` used as a bitset (bit *k* = the *k*-th step in topological order), built in one
pass in topological order (:class:`Closure`): a dependency ``d`` of step ``s`` is
redundant exactly when ``d`` is an ancestor of another dependency of ``s``. That is a
few big-int ORs per edge — about half a second at 10,000 steps — and n²/8 bytes at most
(12 MB at 10,000 steps). Memory is capped at :data:`CLOSURE_BUDGET_BITS`: past about
23,000 steps each step keeps only the ancestors within the last ``budget // steps``
positions of the topological order, so a redundant dependency whose other path spans
more positions than that is not reported. The rule can miss one there; it never reports
a false one.

The width of a group (the most steps that can ever run at the same time) is the size of
its largest antichain — steps no two of which depend on each other, directly or not.
It can exceed the widest *generation* (a backbone ``s0 -> s1 -> s2 -> s3`` with a leaf
hanging off each of ``s0``, ``s1``, ``s2`` has generations of width 2, but the three
leaves and ``s3`` can all run at once), so ``max-concurrency-above-width`` computes it by
Dilworth's theorem (:meth:`Closure.width_bound`) within a work budget. When the window
or the budget cuts the computation short the figure is an upper bound, so the rule
never asks for a ``max_concurrency`` that would slow a run down.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Mapping, Sequence
from typing import Any

from spine.core.findings import Finding, Severity
from spine.framework.registry import PipelineRegistry
from spine.orchestration.graph import GraphAnalysis, analyze
from spine.orchestration.models import ExecutionMode, ExecutionPolicy, PipelineGroup
from spine.orchestration.params import is_template
from spine.core.suggest import did_you_mean

#: Every code :func:`lint_group` can return, in the order of ``docs/lint.md``.
LINT_CODES = (
    "redundant-dependency",
    "duplicate-dependency",
    "parallel-on-chain",
    "max-concurrency-above-width",
    "confusable-step-names",
    "duplicate-call",
    "unused-default",
)

#: Largest total size (in bits) of the ancestor bitsets (2**29 bits is 64 MiB); past
#: it, each step keeps only a window of its ancestors (see :class:`Closure`).
CLOSURE_BUDGET_BITS = 1 << 29
#: Left vertices the width computation may visit while improving its matching.
WIDTH_WORK = 300_000

_DEFAULT_MAX_CONCURRENCY = ExecutionPolicy().max_concurrency
_STEP_IN_TEMPLATE = re.compile(r"\bstep\b")
_SCALARS = frozenset({str, int, float, bool, type(None)})

Pos = tuple[int | None, int | None]


def lint_group(
    group: PipelineGroup,
    registry: PipelineRegistry | None = None,
    analysis: GraphAnalysis | None = None,
) -> list[Finding]:
    """Every lint warning for ``group``, sorted by position in its file.

    ``registry`` enables ``unused-default`` (only when it holds pipelines);
    ``analysis`` saves re-analysing a group the caller already analysed. Never raises
    for an invalid group: rules that need a valid graph are skipped.
    """
    lint = _Linter(group, registry)
    lint.duplicate_dependencies()
    if lint.graph_typed():
        a = analysis if analysis is not None else analyze(group)
        if a.ok and group.steps and len(a.order) == len(lint.index):
            lint.graph_rules(a)
    lint.confusable_names()
    lint.duplicate_calls()
    lint.unused_defaults()
    big = 1 << 62
    return sorted(
        lint.findings,
        key=lambda f: (f.line if f.line is not None else big, f.column if f.column is not None else big),
    )


class _Linter:
    def __init__(self, group: PipelineGroup, registry: PipelineRegistry | None) -> None:
        self.group = group
        self.registry = registry
        self.src = group.source
        self.findings: list[Finding] = []
        #: First declaration index of each step name (a duplicate is an error elsewhere).
        self.index: dict[str, int] = {}
        for i, step in enumerate(group.steps):
            if isinstance(step.name, str):
                self.index.setdefault(step.name, i)

    # -- helpers -----------------------------------------------------------------------

    def graph_typed(self) -> bool:
        """Names and dependencies are strings (a DSL group may hold anything; the field
        checks report it, and the graph rules stay away from it)."""
        return all(
            isinstance(s.name, str) and type(s.depends_on) is tuple and all(isinstance(d, str) for d in s.depends_on)
            for s in self.group.steps
        )

    def add(self, code: str, message: str, pos: Pos, step: str | None = None) -> None:
        self.findings.append(
            Finding(
                code,
                message,
                severity=Severity.WARNING,
                file=self.src.file if self.src else None,
                line=pos[0],
                column=pos[1],
                group=self.group.name,
                step=step,
            )
        )

    def step_pos(self, i: int, key: str | None = None) -> Pos:
        return self.src.of_step(i, key) if self.src else (None, None)

    def field_pos(self, path: str) -> Pos:
        return self.src.of_field(path) if self.src else (None, None)

    def dep_pos(self, i: int, j: int) -> Pos:
        return self.src.of_dep(i, j) if self.src else (None, None)

    def where(self, i: int, key: str | None = None) -> str:
        line = self.step_pos(i, key)[0]
        return f"line {line}" if line is not None else f"step #{i + 1}"

    # -- duplicate-dependency ------------------------------------------------------------

    def duplicate_dependencies(self) -> None:
        for i, step in enumerate(self.group.steps):
            deps = step.depends_on
            if type(deps) is not tuple and (isinstance(deps, str) or not isinstance(deps, Sequence)):
                continue  # a wrong type: reported by the field checks
            first: dict[Any, int] = {}
            for j, dep in enumerate(deps):
                try:
                    k = first.setdefault(dep, j)
                except TypeError:  # an unhashable item in a DSL group: a field-check error
                    continue
                if k != j:
                    self.add(
                        "duplicate-dependency",
                        f"step {step.name!r} lists {dep!r} twice in depends_on (items {k + 1} and {j + 1}); "
                        f"remove item {j + 1}",
                        self.dep_pos(i, j),
                        step.name,
                    )

    # -- graph rules -------------------------------------------------------------------

    def graph_rules(self, a: GraphAnalysis) -> None:
        closure = Closure(a.graph, a.order, CLOSURE_BUDGET_BITS)
        self.redundant_dependencies(a, closure)
        self.policy_rules(a, closure)

    def redundant_dependencies(self, a: GraphAnalysis, closure: Closure) -> None:
        pred = a.graph._pred  # networkx's adjacency dicts, read only (as graph.py does)
        pos = closure.pos
        for n in a.order:
            ps = pred[n]
            if len(ps) < 2:
                continue
            k = pos[n]
            union = 0
            for p in ps:
                union |= closure.ancestors_at(pos[p], k)
            if not union:
                continue
            i = self.index[n]
            deps = self.group.steps[i].depends_on
            base = closure.base[k]
            for d in dict.fromkeys(deps):  # declaration order, each once
                j = pos[d]
                if j < base or not (union >> (j - base)) & 1:
                    continue
                witness = next(w for w in deps if w != d and closure.has(pos[w], j))
                path = closure.path(pred, d, witness)
                self.add(
                    "redundant-dependency",
                    f"step {n!r} depends on {d!r} both directly and through {witness!r} ({_chain([*path, n])}); "
                    f"remove {d!r} from its depends_on — the order and what may run together stay the same",
                    self.dep_pos(i, deps.index(d)),
                    n,
                )

    def policy_rules(self, a: GraphAnalysis, closure: Closure) -> None:
        policy = self.group.policy
        if policy.execution is not ExecutionMode.PARALLEL:
            return
        if any(s.group is not None for s in self.group.steps):
            return  # a nested group runs several steps where the group shows one: its width is the plan's
        n = len(a.order)
        widest = max((len(g) for g in a.generations), default=0)
        if widest == 1:
            if n == 1:
                why = "the group has a single step"
            else:
                why = f"every step depends, directly or not, on the one before it ({_chain(a.order)})"
            self.add(
                "parallel-on-chain",
                f"execution is parallel, but no two steps can ever run at the same time: {why}; "
                "set execution: sequential, or remove a dependency that is not really needed",
                self.field_pos("spec.policy.execution"),
            )
            return
        m = policy.max_concurrency
        if isinstance(m, bool) or not isinstance(m, int) or m <= widest:
            return
        explicit = m != _DEFAULT_MAX_CONCURRENCY or (
            self.src is not None and "spec.policy.max_concurrency" in self.src.fields
        )
        if not explicit:
            return  # the default is not the author's choice
        width = closure.width_bound(widest, m, WIDTH_WORK)[0]
        if width >= m:
            return
        self.add(
            "max-concurrency-above-width",
            f"max_concurrency is {m}, but at most {width} steps of this group can ever run at the same time "
            f"(no {width + 1} of its steps are independent of each other); set max_concurrency: {width}",
            self.field_pos("spec.policy.max_concurrency"),
        )

    # -- confusable-step-names -----------------------------------------------------------

    def confusable_names(self) -> None:
        first: dict[str, str] = {}
        for name, i in self.index.items():
            key = _fold(name)
            other = first.setdefault(key, name)
            if other == name:
                continue
            if unicodedata.normalize("NFKC", other) == unicodedata.normalize("NFKC", name):
                how = "only in Unicode compatibility form (full-width, ligature or similar characters)"
            elif other.casefold() == name.casefold():
                how = "only in letter case"
            else:
                how = "only in letter case and Unicode compatibility form"
            j = self.index[other]
            self.add(
                "confusable-step-names",
                f"step names {other!r} ({self.where(j, 'name')}) and {name!r} differ {how}; "
                "they are easy to mix up in depends_on, logs and reports — rename one",
                self.step_pos(i, "name"),
                name,
            )

    # -- duplicate-call ------------------------------------------------------------------

    def duplicate_calls(self) -> None:
        defaults = self.group.defaults if isinstance(self.group.defaults, Mapping) else {}
        per_step_default = {k for k, v in defaults.items() if _mentions_step(v)}
        seen: dict[tuple[Any, ...], int] = {}
        for name, i in self.index.items():
            step = self.group.steps[i]
            params = step.params if type(step.params) is dict or isinstance(step.params, Mapping) else None
            if params is None or not isinstance(step.pipeline, str) or step.group is not None:
                continue
            if per_step_default - params.keys() or any(_mentions_step(v) for v in params.values()):
                continue  # a template renders differently for each step
            try:
                key = (step.pipeline, _freeze(params))
                hash(key)
            except (TypeError, RecursionError):  # DSL values we cannot compare safely
                continue
            j = seen.setdefault(key, i)
            if j == i:
                continue
            other = self.group.steps[j].name
            same = "the same step params" if params else "no step params"
            self.add(
                "duplicate-call",
                f"steps {other!r} ({self.where(j)}) and {name!r} both call pipeline {step.pipeline!r} with {same} "
                "(group defaults and run params are the same for every step), so they do the same work; "
                "remove one, or give them different params",
                self.step_pos(i, "pipeline"),
                name,
            )

    # -- unused-default ------------------------------------------------------------------

    def unused_defaults(self) -> None:
        registry = self.registry
        defaults = self.group.defaults
        if registry is None or not len(registry) or not isinstance(defaults, Mapping) or not defaults:
            return
        accepted: dict[str, None] = {}
        pipelines: dict[str, None] = {}
        for step in self.group.steps:
            spec = registry.get(step.pipeline) if isinstance(step.pipeline, str) else None
            if spec is None or spec.allow_extra_params:
                return  # an unknown pipeline (an error) or one that takes any param
            pipelines[spec.name] = None
            for d in spec.params:
                accepted[d.name] = None
        called = ", ".join(list(pipelines)[:3]) + (", …" if len(pipelines) > 3 else "")
        for key in defaults:
            if key in accepted:
                continue
            self.add(
                "unused-default",
                f"default {key!r} is not a param of any pipeline this group calls ({called}), so no step "
                "ever receives it; remove it, or declare it in the pipeline that should take it"
                f"{did_you_mean(str(key), accepted)}",
                self.field_pos(f"spec.defaults.{key}"),
            )


# -- pure helpers ---------------------------------------------------------------------


class Closure:
    """The ancestors of every step as bitsets, within a window of topological positions.

    Step *k* (its position in topological order) keeps the ancestors at positions
    ``base[k] .. k-1`` as the bits of ``rel[k]`` (bit *i* is position ``base[k] + i``),
    where ``base[k] = max(0, k - window)`` and ``window = budget // steps``: memory stays
    under ``budget`` bits. The window is exact for every ancestor it covers (a path from
    an ancestor in the window only passes through steps whose windows cover it too), and
    it covers every ancestor when ``window >= steps`` (up to ~23,000 steps with the
    default budget): then :attr:`exact` is true.
    """

    def __init__(self, graph: Any, order: Sequence[str], budget: int, *, window: int | None = None) -> None:
        n = len(order)
        self.pos: dict[str, int] = {name: k for k, name in enumerate(order)}
        #: Ancestors kept per step (``window`` overrides the one the budget gives).
        self.window = window if window is not None else max(64, budget // max(n, 1))
        self.exact = self.window >= n
        pred = graph._pred
        pos = self.pos
        self.base: list[int] = []
        self.rel: list[int] = []
        for k, name in enumerate(order):
            b = k - self.window if k > self.window else 0
            a = 0
            for p in pred[name]:
                j = pos[p]
                if j >= b:  # an earlier step outside the window has all its ancestors outside too
                    a |= self.ancestors_at(j, k, b) | (1 << (j - b))
            self.base.append(b)
            self.rel.append(a)

    def ancestors_at(self, k: int, at: int, base: int | None = None) -> int:
        """The ancestors of step ``k`` that fall in the window of step ``at``, relative to it."""
        b = self.base[at] if base is None else base
        shift = self.base[k] - b
        return self.rel[k] << shift if shift >= 0 else self.rel[k] >> -shift

    def has(self, k: int, j: int) -> bool:
        """Whether step ``j`` is a (windowed) ancestor of step ``k``."""
        b = self.base[k]
        return j >= b and bool((self.rel[k] >> (j - b)) & 1)

    def absolute(self, k: int) -> int:
        """The windowed ancestors of step ``k`` with bit *i* = position *i*."""
        return self.rel[k] << self.base[k]

    def path(self, pred: Any, start: str, end: str, limit: int = 8) -> list[str]:
        """A dependency path ``start -> … -> end`` (``…`` in the middle when it is long)."""
        j = self.pos[start]
        path = [end]
        cur = end
        for _ in range(limit):
            ps = pred[cur]
            if start in ps:
                return [start, *reversed(path)]
            cur = next(p for p in ps if self.has(self.pos[p], j))
            path.append(cur)
        return [start, "…", *reversed(path)]

    def width_bound(self, lower: int, target: int, work: int) -> tuple[int, bool]:
        """(an upper bound on the width, whether it is exact); gives up once it is ≥ ``target``.

        Dilworth: the width (largest set of steps no two of which depend on each other)
        is steps − |maximum matching| in the bipartite graph with an edge x → y for every
        ancestor x of y. A greedy matching (each step to its latest free ancestor) is
        improved by breadth-first augmenting paths (Kuhn's algorithm, iterative): a free
        step with no augmenting path never gets one later, so the failures count towards
        the width. Fewer edges (a window, a spent ``work`` budget) only make the matching
        smaller, so the figure returned is always an upper bound.
        """
        n = len(self.rel)
        anc = self.absolute
        match_l: dict[int, int] = {}
        match_r = [-1] * n
        used = 0
        for y in range(n):
            cand = anc(y) & ~used
            if cand:
                x = cand.bit_length() - 1
                used |= 1 << x
                match_l[x] = y
                match_r[y] = x
        size = len(match_l)
        if n - size <= lower:
            return n - size, True
        failures = 0
        for y in range(n):
            if match_r[y] != -1:
                continue
            seen = 0
            parent: dict[int, int] = {}
            queue = [y]
            found = -1
            qi = 0
            while qi < len(queue) and found < 0:
                r = queue[qi]
                qi += 1
                cand = anc(r) & ~seen
                seen |= cand
                while cand:
                    x = cand.bit_length() - 1
                    cand ^= 1 << x
                    parent[x] = r
                    work -= 1
                    if x not in match_l:
                        found = x
                        break
                    queue.append(match_l[x])
                if work <= 0:
                    return n - size, False
            if found < 0:
                failures += 1
                if failures >= target:
                    return n - size, False  # the width is ≥ target: nothing to report
                continue
            x = found
            while True:
                r = parent[x]
                previous = match_r[r]
                match_r[r] = x
                match_l[x] = r
                if r == y:
                    break
                x = previous
            size += 1
        return n - size, self.exact


def _chain(names: Sequence[str], keep: int = 5) -> str:
    if len(names) > 2 * keep + 1:
        names = [*names[:keep], "…", *names[-keep:]]
    return " -> ".join(names)


def _fold(name: str) -> str:
    """NFKC case-folded form (Unicode's NFKC_Casefold, near enough for names)."""
    return unicodedata.normalize("NFKC", unicodedata.normalize("NFKC", name).casefold())


def _mentions_step(value: Any) -> bool:
    """True when a template in ``value`` uses the ``step`` context (renders per step)."""
    stack = [value]
    while stack:
        v = stack.pop()
        if type(v) is str:
            if is_template(v) and _STEP_IN_TEMPLATE.search(v):
                return True
        elif type(v) in _SCALARS:
            continue
        elif isinstance(v, Mapping):
            stack.extend(v.values())
        elif isinstance(v, (list, tuple)):
            stack.extend(v)
    return False


def _freeze(value: Any) -> Any:
    """A hashable, type-aware form of a param value (``1``, ``1.0`` and ``True`` differ)."""
    kind = type(value)
    if kind in _SCALARS:
        return (kind, value)
    if kind is dict or isinstance(value, Mapping):
        return (dict, frozenset((_freeze(k), _freeze(v)) for k, v in value.items()))
    if kind is list or kind is tuple or isinstance(value, (list, tuple)):
        return (list, tuple(_freeze(v) for v in value))
    return (kind, value)


__all__ = ["CLOSURE_BUDGET_BITS", "LINT_CODES", "WIDTH_WORK", "Closure", "lint_group"]
