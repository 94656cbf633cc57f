"""The planner's expansion of nested groups, on random compositions of random groups."""

from __future__ import annotations

from dataclasses import replace

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from spine.orchestration import PipelineGroup, PipelineStep, PlanResolver
from spine.orchestration.nesting import GroupSource, NestedIn, flatten
from spine.testing import groups
from spine.testing._values import identifiers

PROPERTY = settings(max_examples=30, deadline=None, suppress_health_check=[HealthCheck.too_slow])
BATCH = "group_g_20240105T000000_test"
NAMES = identifiers(8)


@st.composite
def compositions(draw: st.DrawFn) -> tuple[PipelineGroup, dict[str, PipelineGroup]]:
    """An outer group some of whose steps call one of up to three inner groups; inner group
    ``i`` may itself call inner group ``j > i`` (nested in nested, acyclic by construction)."""
    k = draw(st.integers(1, 3))
    inner: list[PipelineGroup] = []
    for i in reversed(range(k)):
        g = draw(groups(max_steps=5, names=NAMES))
        g = replace(g, name=f"inner.g{i}", source=None)
        callable_ = [f"inner.g{j}" for j in range(i + 1, k)]
        g = _some_steps_call(draw, g, callable_)
        inner.append(g)
    outer = replace(draw(groups(max_steps=6, names=NAMES)), name="outer.g", source=None)
    outer = _some_steps_call(draw, outer, [g.name for g in inner])
    return outer, {g.name: g for g in inner}


def _some_steps_call(draw: st.DrawFn, g: PipelineGroup, callable_: list[str]) -> PipelineGroup:
    if not callable_:
        return g
    steps = []
    for s in g.steps:
        target = draw(st.none() | st.sampled_from(callable_))
        steps.append(s if target is None else PipelineStep(s.name, params=s.params, depends_on=s.depends_on, group=target))
    return replace(g, steps=tuple(steps))


def _expanded(step: PipelineStep, plan_names: list[str]) -> list[str]:
    """The planned names a step of the outer group became: itself, or its nested group's steps."""
    if step.group is None:
        return [step.name]
    return [n for n in plan_names if n.startswith(step.name + "/")]


@PROPERTY
@given(compositions())
def test_order_respects_every_outer_edge(comp: tuple[PipelineGroup, dict[str, PipelineGroup]]) -> None:
    """For every outer edge ``d -> s``, every step ``d`` expanded to comes before every step ``s`` expanded to,
    and every planned step comes after its own dependencies."""
    outer, inner = comp
    plan = PlanResolver(groups=inner).resolve(outer, batch_id=BATCH)
    names = plan.order
    pos = {n: i for i, n in enumerate(names)}
    by_name = {s.name: s for s in outer.steps}
    for s in outer.steps:
        for d in s.depends_on:
            assert max(pos[x] for x in _expanded(by_name[d], names)) < min(pos[x] for x in _expanded(s, names))
    for p in plan.steps:
        assert all(pos[d] < pos[p.name] for d in p.depends_on)
        assert all(plan.step(d).generation < p.generation for d in p.depends_on)


@PROPERTY
@given(compositions())
def test_names_are_unique_and_counted(comp: tuple[PipelineGroup, dict[str, PipelineGroup]]) -> None:
    """Expanded names are unique, each nested step is ``<calling step>/<inner name>`` under its
    recorded nesting, and the plan has as many steps as the composition's pipeline steps."""
    outer, inner = comp
    plan = PlanResolver(groups=inner).resolve(outer, batch_id=BATCH)
    assert len(set(plan.order)) == len(plan.order)

    def size(g: PipelineGroup) -> int:
        return sum(1 if s.group is None else size(inner[s.group]) for s in g.steps)

    assert len(plan.steps) == size(outer)
    for p in plan.steps:
        if p.nesting:
            last = p.nesting[-1]
            assert p.name.startswith(last.step + "/")
            assert p.name[len(last.step) + 1 :] in inner[last.group].step_names
            assert all(a.step.startswith(b.step + "/") for a, b in zip(p.nesting[1:], p.nesting, strict=False))
    assert sorted(g for gen in plan.generations for g in gen) == sorted(plan.order)


@PROPERTY
@given(groups(max_steps=8, names=NAMES))
def test_a_group_without_nesting_is_planned_as_it_is(group: PipelineGroup) -> None:
    """Expansion of a group with no nesting is the identity: same steps, dependencies and order, no nesting."""
    plan = PlanResolver(groups={}).resolve(group, batch_id=BATCH)
    assert sorted(plan.order) == sorted(group.step_names)
    assert {s.name: set(s.depends_on) for s in plan.steps} == {s.name: set(s.depends_on) for s in group.steps}
    assert all(s.nesting == () for s in plan.steps)
    flat = flatten(group, GroupSource())
    assert flat is not None and flat[0].step_names == plan.order


@PROPERTY
@given(groups(max_steps=8, names=NAMES), NAMES)
def test_a_group_called_alone_is_the_group_renamed(group: PipelineGroup, step: str) -> None:
    """A composition of one step calling ``H`` plans ``H``'s steps, params and order, each name under ``step/``."""
    group = replace(group, name="inner.only", source=None)
    alone = PlanResolver(groups={}).resolve(group, batch_id=BATCH)
    wrapped = PlanResolver(groups={group.name: group}).resolve(PipelineGroup(name="outer.g").add_group(step, group.name), batch_id=BATCH)
    assert [s.name for s in wrapped.steps] == [f"{step}/{s.name}" for s in alone.steps]
    for w, a in zip(wrapped.steps, alone.steps, strict=True):
        assert w.depends_on == tuple(f"{step}/{d}" for d in a.depends_on)
        assert (w.params, w.pipeline, w.generation) == (a.params, a.pipeline, a.generation)
        assert w.nesting == (NestedIn(step, group.name, group.version),)


@PROPERTY
@given(compositions())
def test_drawing_expands_as_the_planner_does(comp: tuple[PipelineGroup, dict[str, PipelineGroup]]) -> None:
    """``flatten`` (what the drawings use, no params) gives the plan's names, dependencies and nesting."""
    outer, inner = comp
    plan = PlanResolver(groups=inner).resolve(outer, batch_id=BATCH)
    flat, nesting = flatten(outer, GroupSource.of(inner))
    assert [(s.name, s.depends_on) for s in flat.steps] == [(s.name, s.depends_on) for s in plan.steps]
    assert nesting == {s.name: s.nesting for s in plan.steps}
