"""Small edits of a real group, each paired with the finding it must cause."""

from __future__ import annotations

from dataclasses import replace
from typing import Any

from hypothesis import strategies as st
from hypothesis.errors import InvalidArgument

from spine.framework.registry import PipelineRegistry
from spine.orchestration.models import PipelineGroup, PipelineStep
from spine.testing._groups import ExpectedFindings, _components
from spine.testing._names import step_names
from spine.testing._params import _wrong_values, breakable

#: Every kind of edit :func:`mutations` makes.
MUTATION_KINDS: tuple[str, ...] = (
    "back-edge",
    "drop-depended-step",
    "rename-depended-step",
    "duplicate-step",
    "self-dependency",
    "template-unknown-name",
    "unknown-pipeline",
    "perturb-param",
)


def _with_steps(group: PipelineGroup, steps: list[PipelineStep]) -> PipelineGroup:
    return replace(group, steps=tuple(steps), source=None)


def _with_deps(step: PipelineStep, deps: list[str]) -> PipelineStep:
    return replace(step, depends_on=tuple(deps))


def mutations(
    group: PipelineGroup, registry: PipelineRegistry | None = None
) -> st.SearchStrategy[tuple[PipelineGroup, ExpectedFindings]]:
    """Small edits of a valid ``group``, each paired with the findings it must cause.

    * ``back-edge`` — a step's dependency also depends on it: ``cycle``;
    * ``drop-depended-step`` — a step others depend on is removed: ``missing-dependency``
      (``expected.missing`` lists every dangling pair);
    * ``rename-depended-step`` — such a step is renamed, its dependents are not:
      ``missing-dependency``;
    * ``duplicate-step`` — a copy of a step is inserted: ``duplicate-step``;
    * ``self-dependency`` — a step depends on itself: ``self-dependency``;
    * ``template-unknown-name`` — a step param becomes ``"{{ nowhere_defined }}"``:
      ``template-error``;
    * with a ``registry``: ``unknown-pipeline`` (a step calls an unregistered pipeline)
      and ``perturb-param`` (a step param gets a value its ParamDef rejects:
      ``invalid-param``).

    ``expected.codes`` is exactly what ``validate_group(mutated, registry)`` reports as
    errors. Kinds that do not apply (no dependencies to reverse, no typed params) are not
    drawn. Shrinks towards ``back-edge`` on the first dependency.
    """
    if not isinstance(group, PipelineGroup):
        raise InvalidArgument(f"group must be a PipelineGroup, got {type(group).__name__}")
    if not group.steps:
        raise InvalidArgument(f"group {group.name!r} has no steps to mutate")
    if registry is not None and not isinstance(registry, PipelineRegistry):
        raise InvalidArgument(f"registry must be a PipelineRegistry or None, got {type(registry).__name__}")
    edges = [(d, s.name) for s in group.steps for d in s.depends_on]
    depended = sorted({d for d, _ in edges}, key=[s.name for s in group.steps].index)
    typed: list[tuple[int, str, Any]] = []
    if registry is not None:
        for i, s in enumerate(group.steps):
            spec = registry.get(s.pipeline)
            if spec is not None:
                typed.extend((i, d.name, d) for d in spec.params if breakable(d))
    # (step index, key) pairs a template may go to without an unknown-param finding.
    slots: list[tuple[int, str]] = []
    for i, s in enumerate(group.steps):
        spec = registry.get(s.pipeline) if registry is not None else None
        keys = set(s.params)
        if spec is None or spec.allow_extra_params:
            keys.add("mutated")
        else:
            keys.update(d.name for d in spec.params)
        slots.extend((i, k) for k in sorted(keys))
    calls_pipelines = [i for i, s in enumerate(group.steps) if s.group is None]  # a group step has no pipeline to break
    kinds = [
        k
        for k in MUTATION_KINDS
        if (k not in ("back-edge",) or edges)
        and (k not in ("drop-depended-step", "rename-depended-step") or depended)
        and (k != "unknown-pipeline" or (registry is not None and calls_pipelines))
        and (k != "perturb-param" or typed)
        and (k != "template-unknown-name" or slots)
    ]
    names = [s.name for s in group.steps]
    steps = list(group.steps)
    index = {n: i for i, n in enumerate(names)}

    def dependents_of(name: str) -> frozenset[tuple[str, str]]:
        return frozenset((s.name, name) for s in steps if name in s.depends_on)

    @st.composite
    def build(draw: st.DrawFn) -> tuple[PipelineGroup, ExpectedFindings]:
        kind = draw(st.sampled_from(kinds))
        new = list(steps)
        if kind == "back-edge":
            dep, step = draw(st.sampled_from(edges))
            j = index[dep]
            new[j] = _with_deps(new[j], [*new[j].depends_on, step])
            out = _with_steps(group, new)
            comps = _components([(s.name, list(s.depends_on)) for s in new])
            return out, ExpectedFindings(kind, frozenset({"cycle"}), cycles=comps)
        if kind == "drop-depended-step":
            name = draw(st.sampled_from(depended))
            del new[index[name]]
            return _with_steps(group, new), ExpectedFindings(
                kind, frozenset({"missing-dependency"}), missing=dependents_of(name)
            )
        if kind == "rename-depended-step":
            name = draw(st.sampled_from(depended))
            fresh = draw(step_names().filter(lambda n: n not in index))
            new[index[name]] = replace(new[index[name]], name=fresh)
            return _with_steps(group, new), ExpectedFindings(
                kind, frozenset({"missing-dependency"}), missing=dependents_of(name)
            )
        if kind == "duplicate-step":
            copy = steps[draw(st.integers(0, len(steps) - 1))]
            new.insert(draw(st.integers(0, len(new))), copy)
            return _with_steps(group, new), ExpectedFindings(kind, frozenset({"duplicate-step"}))
        if kind == "self-dependency":
            i = draw(st.integers(0, len(steps) - 1))
            deps = list(new[i].depends_on)
            deps.insert(draw(st.integers(0, len(deps))), new[i].name)
            new[i] = _with_deps(new[i], deps)
            return _with_steps(group, new), ExpectedFindings(kind, frozenset({"self-dependency"}))
        if kind == "template-unknown-name":
            i, key = draw(st.sampled_from(slots))
            new[i] = replace(new[i], params={**new[i].params, key: "{{ nowhere_defined }}"})
            return _with_steps(group, new), ExpectedFindings(kind, frozenset({"template-error"}))
        if kind == "unknown-pipeline":
            assert registry is not None
            i = draw(st.sampled_from(calls_pipelines))
            bad = draw(st.sampled_from(["no.such.pipeline", new[i].pipeline + "_v2", "x"]).filter(lambda p: p not in registry))
            new[i] = replace(new[i], pipeline=bad)
            return _with_steps(group, new), ExpectedFindings(kind, frozenset({"unknown-pipeline"}))
        i, key, definition = draw(st.sampled_from(typed))
        new[i] = replace(new[i], params={**new[i].params, key: draw(_wrong_values(definition))})
        return _with_steps(group, new), ExpectedFindings(kind, frozenset({"invalid-param"}))

    return build()
