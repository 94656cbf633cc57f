"""Groups made of groups: where nested groups come from, and the checks on the nesting.

A step with ``group: NAME`` calls a group instead of a pipeline. The planner expands it
inline (see :mod:`spine.orchestration.planner`): the nested group's steps are planned as
``<step>/<inner step>``, its first steps wait for the step's own ``depends_on``, and
whatever depends on the step waits for all of its last steps. Each planned step keeps
where it came from as a tuple of :class:`NestedIn` (outermost first).

This module holds what the expansion needs before any params are rendered:

* :class:`GroupSource` — nested group names → groups: the groups read with the file
  being checked first, then a registry (``spine group list``'s groups);
* :func:`check_nesting` — unknown groups (with did-you-mean), cycles across groups (the
  whole path, each reference with its ``file:line``), nesting deeper than
  :data:`~spine.core.limits.MAX_GROUP_NESTING`, and compositions that would expand to
  more than :data:`MAX_EXPANDED_STEPS` steps. Linear in the group references: each group
  is walked once however often it is nested.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING

from spine.core.findings import Code, Finding
from spine.core.jsonable import Record
from spine.core.limits import MAX_GROUP_NESTING
from spine.core.suggest import did_you_mean
from spine.orchestration.models import PipelineGroup

if TYPE_CHECKING:
    from spine.orchestration.registry import GroupRegistry

#: Most steps a composition may expand to (a bound on memory, as the YAML reader's limits are).
MAX_EXPANDED_STEPS = 1_000_000


@dataclass(frozen=True, slots=True)
class NestedIn(Record):
    """One level of nesting of a planned step: the step that called a group, and that group.

    ``step`` is the calling step's *planned* name (``prices``, or ``market/prices`` two
    levels down), so it is also the prefix of every step the group expanded to.
    """

    step: str
    group: str
    version: int = 1


class GroupSource:
    """Looks nested groups up by name: the given groups first, then ``fallback``.

    ``fallback`` is a :class:`~spine.orchestration.registry.GroupRegistry` or a mapping of
    names to groups (``None``: nothing more).
    """

    def __init__(
        self,
        groups: Iterable[PipelineGroup] = (),
        fallback: GroupSource | GroupRegistry | Mapping[str, PipelineGroup] | Callable[[], GroupRegistry] | None = None,
    ) -> None:
        self._own = {g.name: g for g in groups}
        self._fallback_or_maker = fallback

    @property
    def _fallback(self) -> GroupSource | GroupRegistry | Mapping[str, PipelineGroup] | None:
        # a callable is called once, at the first name not among the given groups (the CLI
        # loads the configured group files only when a nested group is not in the file checked)
        fb = self._fallback_or_maker
        if callable(fb) and not isinstance(fb, Mapping) and not hasattr(fb, "get"):
            fb = self._fallback_or_maker = fb()
        return fb  # type: ignore[return-value]

    @classmethod
    def of(cls, groups: GroupSource | GroupRegistry | Mapping[str, PipelineGroup] | Iterable[PipelineGroup] | None) -> GroupSource:
        """``groups`` as a source; ``None`` means the default group registry."""
        if isinstance(groups, GroupSource):
            return groups
        if groups is None:
            from spine.orchestration.registry import default_group_registry

            return cls(fallback=default_group_registry)
        from spine.orchestration.registry import GroupRegistry

        if isinstance(groups, (GroupRegistry, Mapping)) or callable(groups):
            return cls(fallback=groups)
        return cls(groups)

    def get(self, name: str) -> PipelineGroup | None:
        found = self._own.get(name)
        if found is not None:
            return found
        fb = self._fallback
        if isinstance(fb, GroupSource):
            return fb.get(name)
        if fb is None or name not in fb:
            return None
        return fb.get(name)

    def names(self) -> list[str]:
        """Every name this source knows (for did-you-mean)."""
        names = set(self._own)
        fb = self._fallback
        if isinstance(fb, GroupSource):
            names.update(fb.names())
        elif isinstance(fb, Mapping):
            names.update(fb)
        elif fb is not None:
            names.update(g.name for g in fb)
        return sorted(names)


def has_nesting(group: PipelineGroup) -> bool:
    """Whether any step of ``group`` calls a group."""
    return any(s.group is not None for s in group.steps)


@dataclass(frozen=True, slots=True)
class _Ref:
    """A step that calls a group: the calling group, the step, and where the call is written."""

    caller: PipelineGroup
    index: int

    @property
    def step(self) -> str:
        return self.caller.steps[self.index].name

    @property
    def target(self) -> str:
        return self.caller.steps[self.index].group or ""

    @property
    def pos(self) -> tuple[int | None, int | None]:
        src = self.caller.source
        return src.of_step(self.index, "group") if src else (None, None)

    @property
    def where(self) -> str:
        src = self.caller.source
        file = (src.file if src else None) or "<python>"
        line = self.pos[0]
        return f"{file}:{line}" if line is not None else file

    def text(self) -> str:
        return f"{self.caller.name} (step {self.step!r} at {self.where})"


def check_nesting(
    group: PipelineGroup, groups: GroupSource | None = None, *, max_depth: int = MAX_GROUP_NESTING
) -> list[Finding]:
    """Every problem with the groups ``group``'s steps call, located at ``group``'s step.

    Unknown groups are reported for ``group``'s own steps (a nested group's own unknown
    groups are its findings, and fail its expansion). Cycles and depth are followed
    through every level: a cycle is reported once, with its whole path.
    """
    if not has_nesting(group):
        return []
    source = groups if groups is not None else GroupSource.of(None)
    src = group.source
    file = src.file if src else None
    findings: list[Finding] = []

    def add(code: str, message: str, ref: _Ref) -> None:
        line, column = ref.pos
        findings.append(Finding(code, message, file=file, line=line, column=column, group=group.name, step=ref.step))

    known: list[str] | None = None
    for i, step in enumerate(group.steps):
        if step.group is None or step.group == group.name:
            continue
        if source.get(step.group) is None:
            if known is None:
                known = source.names()
            add(
                Code.UNKNOWN_GROUP,
                f"step {step.name!r} calls group {step.group!r}, which is not registered or loaded"
                f"{did_you_mean(step.group, known)} (see `spine group list`, or add its file to [tool.spine] groups)",
                _Ref(group, i),
            )

    # One depth-first walk over group names: ON_STACK finds cycles, the memo bounds the work.
    height: dict[str, int] = {}  # levels of nesting below a finished group
    size: dict[str, int] = {}  # steps a finished group expands to
    deepest: dict[str, list[_Ref]] = {}  # the chain that gives its height
    stack: list[_Ref] = []
    on_stack: dict[str, int] = {group.name: 0}
    reported: set[frozenset[str]] = set()
    too_deep = False

    def visit(g: PipelineGroup) -> None:
        nonlocal too_deep
        h, n, chain = 0, 0, []
        for i, step in enumerate(g.steps):
            if step.group is None:
                n += 1
                continue
            ref = _Ref(g, i)
            inner = g if step.group == g.name else source.get(step.group)
            if inner is None:
                n += 1  # reported where it is written; counted as one step
                continue
            if inner.name in on_stack:
                path = [*stack[on_stack[inner.name]:], ref]
                key = frozenset(r.caller.name for r in path)
                if key not in reported:
                    reported.add(key)
                    names = " → ".join([*(r.caller.name for r in path), inner.name])
                    hops = "; ".join(r.text() for r in path)
                    via = f", reached from step {stack[0].step!r}" if path[0].caller is not group else ""
                    add(
                        Code.GROUP_CYCLE,
                        f"groups call each other in a cycle: {names} ({hops}{via}); a group cannot contain itself, "
                        "directly or through other groups — remove one of these steps",
                        stack[0] if stack else ref,
                    )
                continue
            if inner.name not in height:
                if len(stack) >= max_depth:
                    too_deep = True
                    if not any(f.code == Code.NESTING_TOO_DEEP for f in findings):
                        chain_text = " → ".join([*(r.caller.name for r in stack), g.name, inner.name])
                        add(
                            Code.NESTING_TOO_DEEP,
                            f"groups nest more than {max_depth} levels deep: {chain_text} "
                            f"(from {stack[0].text()}); flatten some of them into their callers",
                            stack[0],
                        )
                    continue
                stack.append(ref)
                on_stack[inner.name] = len(stack)  # the next reference pushed is made by ``inner``
                visit(inner)
                stack.pop()
                del on_stack[inner.name]
            if inner.name in height:
                if height[inner.name] + 1 > h:
                    h, chain = height[inner.name] + 1, [ref, *deepest[inner.name]]
                n += size[inner.name]
        height[g.name], size[g.name], deepest[g.name] = h, min(n, MAX_EXPANDED_STEPS + 1), chain

    visit(group)
    total = size.get(group.name, 0)
    if not too_deep and total > MAX_EXPANDED_STEPS:
        first = next(_Ref(group, i) for i, s in enumerate(group.steps) if s.group is not None)
        add(
            Code.NESTING_TOO_DEEP,
            f"group {group.name!r} expands to more than {MAX_EXPANDED_STEPS:,} steps through its nested groups; "
            "split it into groups that run separately",
            first,
        )
    return findings


def flatten(group: PipelineGroup, groups: GroupSource | None = None) -> tuple[PipelineGroup, dict[str, tuple[NestedIn, ...]]] | None:
    """``group`` with its nested groups expanded as the planner expands them — names,
    pipelines and dependencies only, no params rendered (for drawing a group without run
    params) — and each expanded step's nesting. ``None`` when the nesting or a graph of
    the composition has a problem (the checks report it; a drawing then shows ``group``
    as written)."""
    from dataclasses import replace

    from spine.orchestration.graph import analyze
    from spine.orchestration.models import PipelineStep

    source = groups if groups is not None else GroupSource.of(None)
    if check_nesting(group, source):
        return None
    nesting: dict[str, tuple[NestedIn, ...]] = {}

    def expand(g: PipelineGroup, prefix: str, levels: tuple[NestedIn, ...]) -> list[PipelineStep] | None:
        a = analyze(g)
        if not a.ok:
            return None
        index = {s.name: s for s in g.steps}
        leaves: dict[str, tuple[str, ...]] = {}
        out: list[PipelineStep] = []
        for name in a.order:
            step = index[name]
            deps = tuple(dict.fromkeys(x for d in step.depends_on for x in leaves.get(d, (prefix + d,))))
            if step.group is None:
                out.append(PipelineStep(prefix + name, step.pipeline, step.params, deps, step.description))
                nesting[prefix + name] = levels
                continue
            inner = source.get(step.group)
            if inner is None or inner.name == g.name:
                return None
            sub = expand(inner, f"{prefix}{name}/", (*levels, NestedIn(prefix + name, inner.name, inner.version)))
            if sub is None:
                return None
            depended = {d for s in sub for d in s.depends_on}
            out.extend(s if s.depends_on else replace(s, depends_on=deps) for s in sub)
            leaves[name] = tuple(s.name for s in sub if s.name not in depended)
        return out

    steps = expand(group, "", ())
    if steps is None or len({s.name for s in steps}) != len(steps):
        return None
    flat = PipelineGroup(
        name=group.name, steps=tuple(steps), version=group.version, domain=group.domain,
        description=group.description, tags=group.tags, defaults=group.defaults, policy=group.policy,
    )
    return flat, nesting


__all__ = ["MAX_EXPANDED_STEPS", "GroupSource", "NestedIn", "check_nesting", "flatten", "has_nesting"]
