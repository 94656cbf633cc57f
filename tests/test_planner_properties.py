"""PlanResolver.resolve: the planner's guarantees, on random groups and params."""

from __future__ import annotations

import json
import os
import subprocess
import sys

import networkx as nx
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from spine.core.errors import CycleDetectedError, DependencyError, PlanResolutionError
from spine.core.frozen import freeze
from spine.orchestration import (
    ParamLayer,
    PipelineGroup,
    PipelineStep,
    PlanResolver,
)
from spine.testing import (
    cyclic_groups,
    dags,
    groups,
    groups_with_missing_dependencies,
    param_values,
    run_params,
)
from spine.testing._values import identifiers

PROPERTY = settings(max_examples=20, deadline=None, suppress_health_check=[HealthCheck.too_slow])
BATCH = "group_g_20240105T000000_test"


def graph_of(group: PipelineGroup) -> nx.DiGraph:
    g = nx.DiGraph()
    g.add_nodes_from(group.step_names)
    g.add_edges_from((d, s.name) for s in group.steps for d in s.depends_on)
    return g


def resolve(group: PipelineGroup, params=None):
    return PlanResolver().resolve(group, params, batch_id=BATCH)


# -- order ---------------------------------------------------------------------------------


@PROPERTY
@given(groups(max_steps=8))
def test_plan_order_respects_every_edge_and_numbers_steps_0_to_n_minus_1(group):
    """The plan holds every step once, after all its dependencies, with sequence_order 0..n-1 in plan order."""
    plan = resolve(group)
    assert sorted(plan.order) == sorted(group.step_names)
    assert [s.sequence_order for s in plan.steps] == list(range(len(group.steps)))
    position = {s.name: s.sequence_order for s in plan.steps}
    for step in group.steps:
        for dep in step.depends_on:
            assert position[dep] < position[step.name]


@PROPERTY
@given(groups(max_steps=8))
def test_plan_order_breaks_ties_by_declaration(group):
    """The plan order is the lexicographically smallest topological order by declaration index."""
    index = {n: i for i, n in enumerate(group.step_names)}
    expected = list(nx.lexicographical_topological_sort(graph_of(group), key=index.__getitem__))
    assert resolve(group).order == expected


@PROPERTY
@given(groups(max_steps=8, shuffle=False))
def test_a_group_declared_in_topological_order_plans_in_declaration_order(group):
    """Stability: a group whose dependencies are all declared before their dependents keeps its declaration order."""
    assert resolve(group).order == group.step_names


@PROPERTY
@given(groups(max_steps=8))
def test_resolution_is_deterministic(group):
    """Resolving twice, or resolving the group rebuilt from fresh step objects, gives the same plan."""
    rebuilt = PipelineGroup(
        name=group.name,
        steps=[
            PipelineStep(
                s.name, s.pipeline, dict(s.params), list(s.depends_on), s.description,
                s.retries, s.retry_delay_seconds, s.timeout_seconds,
            )
            for s in group.steps
        ],
        version=group.version,
        domain=group.domain,
        description=group.description,
        tags=list(group.tags),
        defaults=dict(group.defaults),
        policy=group.policy,
    )
    first = resolve(group).to_dict()
    assert resolve(group).to_dict() == first
    assert resolve(rebuilt).to_dict() == first


_HASH_SEED_SCRIPT = """
import json, random
from spine.orchestration import PipelineGroup, PipelineStep, PlanResolver
rng = random.Random(7)
steps = []
for i in range(300):
    deps = rng.sample(range(i), min(i, rng.randint(0, 3)))
    steps.append(PipelineStep(f"step-{i}-{rng.random()}", "p", depends_on=tuple(steps[j].name for j in deps)))
rng.shuffle(steps)
plan = PlanResolver().resolve(PipelineGroup(name="g", steps=steps), batch_id="b")
print(json.dumps([plan.order, [list(g) for g in plan.generations], list(plan.critical_path)]))
"""


def test_plan_does_not_change_with_the_hash_seed():
    """The same group plans identically under different PYTHONHASHSEED values (no set-order leaks)."""
    outputs = []
    for seed in ("0", "12345"):
        env = {**os.environ, "PYTHONHASHSEED": seed}
        done = subprocess.run([sys.executable, "-c", _HASH_SEED_SCRIPT], env=env, capture_output=True, text=True, check=True)
        outputs.append(json.loads(done.stdout))
    assert outputs[0] == outputs[1]


# -- generations and critical path -----------------------------------------------------------


@PROPERTY
@given(groups(max_steps=8))
def test_plan_generations_partition_the_steps(group):
    """The plan's generations partition its steps, each step's generation is 1 + the largest of its dependencies' (roots 0), and equals its index in generations."""
    plan = resolve(group)
    flat = [n for gen in plan.generations for n in gen]
    assert sorted(flat) == sorted(group.step_names)
    gen_of = {s.name: s.generation for s in plan.steps}
    for i, gen in enumerate(plan.generations):
        for name in gen:
            assert gen_of[name] == i
            step = group.step(name)
            assert i == 1 + max((gen_of[d] for d in step.depends_on), default=-1)
            assert not set(gen) & set(step.depends_on)


@PROPERTY
@given(groups(max_steps=8))
def test_plan_critical_path_is_a_longest_chain(group):
    """The plan's critical path is a chain of dependency edges as long as the DAG's longest path."""
    plan = resolve(group)
    g = graph_of(group)
    path = list(plan.critical_path)
    assert all(g.has_edge(a, b) for a, b in zip(path, path[1:]))
    assert len(path) == nx.dag_longest_path_length(g) + 1


# -- invalid graphs ----------------------------------------------------------------------------


@PROPERTY
@given(cyclic_groups())
def test_cycles_raise_cycle_detected_error_with_real_cycles(pair):
    """A cyclic group raises CycleDetectedError carrying one closed path of real edges per non-trivial strongly connected component."""
    group, expected = pair
    with pytest.raises(CycleDetectedError) as info:
        resolve(group)
    err = info.value
    assert len(err.cycles) == len(expected.cycles)
    deps = {s.name: set(s.depends_on) for s in group.steps}
    for cycle in err.cycles:
        assert cycle[0] == cycle[-1]
        assert all(a in deps[b] for a, b in zip(cycle, cycle[1:]))
        assert any(set(cycle) <= comp for comp in expected.cycles)
    assert {f.code for f in err.findings} == {"cycle"}


@PROPERTY
@given(groups_with_missing_dependencies())
def test_missing_dependencies_raise_dependency_error_with_exactly_the_pairs(pair):
    """A group with missing dependencies raises DependencyError whose ``missing`` is exactly the missing (step, dep) pairs, with one ``missing-dependency`` finding each and nothing else."""
    group, expected = pair
    with pytest.raises(DependencyError) as info:
        resolve(group)
    err = info.value
    assert set(err.missing) == expected.missing and len(err.missing) == len(expected.missing)
    assert [f.code for f in err.findings] == ["missing-dependency"] * len(expected.missing)
    assert sorted(f.step for f in err.findings) == sorted(s for s, _ in expected.missing)


# -- params ----------------------------------------------------------------------------------

_KEYS = st.sampled_from(["a", "b", "c", "tier", "on", "<<", "", "x y"])


@st.composite
def layered(draw):
    """A DAG group whose defaults, steps and run params set overlapping keys to values naming their layer."""
    dag = draw(dags(max_steps=5))
    defaults = {k: f"default:{k}" for k in draw(st.sets(_KEYS))}
    run = {k: f"run:{k}" for k in draw(st.sets(_KEYS))}
    steps = []
    for name, deps in dag:
        params = {k: f"step:{name}:{k}" for k in draw(st.sets(_KEYS))}
        steps.append(PipelineStep(name, "p", params=params, depends_on=deps))
    return PipelineGroup(name="g", steps=steps, defaults=defaults), run


@PROPERTY
@given(layered())
def test_params_merge_defaults_then_run_then_step(case):
    """Each step's params are defaults < run params < step params, and param_sources names the layer each value came from."""
    group, run = case
    plan = resolve(group, run)
    for planned in plan.steps:
        step = group.step(planned.name)
        assert dict(planned.params) == {**group.defaults, **run, **step.params}
        for key in planned.params:
            layer = ParamLayer.STEP if key in step.params else ParamLayer.RUN if key in run else ParamLayer.DEFAULT
            assert planned.param_sources[key].layer is layer, key
            assert planned.param_sources[key].template is None


#: Run param names: identifiers, including names of dict methods (``values``, ``items`` …)
#: that a user may well pick.
_RUN_NAMES = st.one_of(identifiers(), st.sampled_from(["values", "items", "keys", "get", "update", "copy"]))
_SINGLE = ["{{ params.%s }}", "{{params.%s}}", "  {{ params.%s }}  ", "{{ params['%s'] }}"]


@PROPERTY
@given(_RUN_NAMES, param_values(), st.sampled_from(_SINGLE), st.booleans())
def test_a_lone_template_keeps_the_native_type(name, value, form, in_defaults):
    """A param that is exactly one ``{{ params.x }}`` becomes the run param's value itself, with its type (int, bool …; a list frozen to a tuple), from defaults or step params."""
    template = form % name
    step = PipelineStep("s", "p", params={} if in_defaults else {"t": template})
    group = PipelineGroup(name="g", steps=[step], defaults={"t": template} if in_defaults else {})
    planned = resolve(group, {name: value}).steps[0]
    assert planned.params["t"] == freeze(value) and type(planned.params["t"]) is type(freeze(value))
    source = planned.param_sources["t"]
    assert source.layer is (ParamLayer.DEFAULT if in_defaults else ParamLayer.STEP)
    assert source.template == template


@PROPERTY
@given(st.data())
def test_templated_groups_render_every_template(data):
    """Every template of a templated group renders with its run params: no template text is left in the plan."""
    group = data.draw(groups(templates=True, max_steps=6))
    params = data.draw(run_params(group))
    plan = resolve(group, params)
    # A run param's own value may hold "{{" (it is data, rendered once, never re-parsed):
    # what must not survive is the template text itself.
    for planned in plan.steps:
        for key, source in planned.param_sources.items():
            if source.template is not None:
                value = planned.params[key]
                assert value != source.template, (key, value)
                if isinstance(value, str) and "{{" in value:
                    assert any("{{" in repr(v) for v in params.values()), (key, value)


@PROPERTY
@given(groups(max_steps=5), identifiers(), st.data())
def test_an_undefined_name_is_an_error_naming_step_key_and_name(group, missing, data):
    """A template using a run param that was not given raises PlanResolutionError with a ``template-undefined`` finding per affected step, naming the step, the key and the name."""
    key = "__spine_test_key"
    template = "{{ params.%s }}" % missing
    in_defaults = data.draw(st.booleans(), label="in_defaults")
    if in_defaults:
        group = group.with_defaults(**{key: template})
        affected = group.step_names
    else:
        i = data.draw(st.integers(0, len(group.steps) - 1), label="step")
        steps = list(group.steps)
        steps[i] = PipelineStep(steps[i].name, steps[i].pipeline, {**steps[i].params, key: template}, steps[i].depends_on)
        group = PipelineGroup(name=group.name, steps=steps, defaults={k: v for k, v in group.defaults.items() if k != key})
        affected = [steps[i].name]
    with pytest.raises(PlanResolutionError) as info:
        resolve(group, {})
    findings = [f for f in info.value.findings if f.code == "template-undefined"]
    assert sorted(f.step for f in findings) == sorted(affected)
    assert {f.code for f in info.value.findings} == {"template-undefined"}
    for f in findings:
        assert repr(key) in f.message and repr(missing) in f.message, f.message


# -- scale (plain tests) ---------------------------------------------------------------------

N = 20_000


def test_a_20000_step_cycle_raises_cycle_detected_error():
    """A 20,000-step cycle raises CycleDetectedError (not RecursionError) with the whole cycle."""
    steps = [PipelineStep("s0", "p", depends_on=(f"s{N - 1}",))] + [
        PipelineStep(f"s{i}", "p", depends_on=(f"s{i - 1}",)) for i in range(1, N)
    ]
    with pytest.raises(CycleDetectedError) as info:
        resolve(PipelineGroup(name="cycle", steps=steps))
    assert [len(c) for c in info.value.cycles] == [N + 1]
