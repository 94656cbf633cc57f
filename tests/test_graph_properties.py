"""spine.orchestration.graph.analyze: the dependency-graph guarantees, on random DAGs and groups."""

from __future__ import annotations

import networkx as nx
from hypothesis import HealthCheck, given, settings

from spine.orchestration import PipelineGroup, PipelineStep, analyze
from spine.testing import cyclic_groups, dags, groups_with_missing_dependencies, step_names

PROPERTY = settings(max_examples=30, deadline=None, suppress_health_check=[HealthCheck.too_slow])


def group_of(dag: list[tuple[str, tuple[str, ...]]]) -> PipelineGroup:
    """A group with one step per DAG node, in the DAG's declaration order."""
    return PipelineGroup(name="g", steps=tuple(PipelineStep(n, "p", depends_on=deps) for n, deps in dag))


def graph_of(group: PipelineGroup) -> nx.DiGraph:
    """The reference graph, built here and not by spine: edge ``dep -> step``."""
    g = nx.DiGraph()
    g.add_nodes_from(group.step_names)
    g.add_edges_from((d, s.name) for s in group.steps for d in s.depends_on)
    return g


# -- order ---------------------------------------------------------------------------------


@PROPERTY
@given(dags(max_steps=20, names=step_names()))
def test_order_is_a_permutation_that_respects_every_edge(dag):
    """The order holds every step exactly once, and every dependency comes before its dependent."""
    group = group_of(dag)
    order = analyze(group).order
    assert sorted(order) == sorted(group.step_names)
    position = {n: i for i, n in enumerate(order)}
    for name, deps in dag:
        for d in deps:
            assert position[d] < position[name], (d, name)


@PROPERTY
@given(dags(max_steps=30))
def test_order_is_the_smallest_topological_order_by_declaration(dag):
    """Ties go to the step declared first: the order is networkx's lexicographical topological sort keyed by declaration index."""
    group = group_of(dag)
    index = {n: i for i, n in enumerate(group.step_names)}
    expected = list(nx.lexicographical_topological_sort(graph_of(group), key=index.__getitem__))
    assert analyze(group).order == expected


@PROPERTY
@given(dags(max_steps=20, shuffle=False, names=step_names()))
def test_a_group_declared_in_topological_order_keeps_its_order(dag):
    """Stability: when every dependency is declared before its dependent, the order is the declaration order."""
    group = group_of(dag)
    assert analyze(group).order == group.step_names


@PROPERTY
@given(dags(max_steps=20, names=step_names()))
def test_analysis_is_deterministic(dag):
    """The same group, analysed twice or rebuilt from fresh step objects, gives the same order, generations and critical path."""
    group = group_of(dag)
    rebuilt = PipelineGroup(
        name="g", steps=[PipelineStep(str(n), "p", depends_on=list(deps)) for n, deps in dag]
    )
    first, second, third = analyze(group), analyze(group), analyze(rebuilt)
    for other in (second, third):
        assert other.order == first.order
        assert other.generations == first.generations
        assert other.critical_path == first.critical_path
        assert other.findings == first.findings


# -- generations ---------------------------------------------------------------------------


@PROPERTY
@given(dags(max_steps=20, names=step_names()))
def test_generations_partition_the_steps_by_longest_dependency_depth(dag):
    """Generations partition the steps; a root is in generation 0, any other step in 1 + the largest generation of its dependencies; no edge joins two steps of one generation."""
    group = group_of(dag)
    result = analyze(group)
    flat = [n for gen in result.generations for n in gen]
    assert sorted(flat) == sorted(group.step_names)
    assert all(result.generations), "no empty generation"
    deps = dict(dag)
    for i, gen in enumerate(result.generations):
        members = set(gen)
        for name in gen:
            assert result.generation[name] == i
            expected = 1 + max((result.generation[d] for d in deps[name]), default=-1)
            assert i == expected, name
            assert not members & set(deps[name])


# -- critical path ---------------------------------------------------------------------------


@PROPERTY
@given(dags(max_steps=30))
def test_critical_path_is_a_longest_chain(dag):
    """The critical path is a chain of dependency edges as long as the longest path of the DAG (in steps)."""
    group = group_of(dag)
    path = analyze(group).critical_path
    g = graph_of(group)
    for a, b in zip(path, path[1:]):
        assert g.has_edge(a, b), (a, b)
    if dag:
        assert len(path) == nx.dag_longest_path_length(g) + 1
    else:
        assert path == []


# -- cycles ----------------------------------------------------------------------------------


@PROPERTY
@given(cyclic_groups())
def test_every_reported_cycle_is_a_real_closed_path(pair):
    """Each reported cycle starts and ends on the same step and each consecutive pair is a declared dependency edge (``dep -> step``)."""
    group, _ = pair
    result = analyze(group)
    assert result.cycles
    deps = {s.name: set(s.depends_on) for s in group.steps}
    for cycle in result.cycles:
        assert len(cycle) >= 3 and cycle[0] == cycle[-1]
        assert len(set(cycle[:-1])) == len(cycle) - 1, "a simple cycle"
        for a, b in zip(cycle, cycle[1:]):
            assert a in deps[b], f"{b!r} does not depend on {a!r}"


@PROPERTY
@given(cyclic_groups())
def test_every_strongly_connected_component_gets_one_cycle(pair):
    """Exactly one cycle (and one ``cycle`` finding) per non-trivial strongly connected component, lying inside it."""
    group, expected = pair
    result = analyze(group)
    assert len(result.cycles) == len(expected.cycles)
    for comp in expected.cycles:
        inside = [c for c in result.cycles if set(c) <= comp]
        assert len(inside) == 1, comp
    assert [f.code for f in result.findings] == ["cycle"] * len(expected.cycles)


@PROPERTY
@given(cyclic_groups())
def test_order_holds_exactly_the_steps_no_cycle_blocks(pair):
    """With cycles, the order holds exactly the steps with no cycle among themselves and their ancestors, and still respects every edge."""
    group, expected = pair
    g = graph_of(group)
    blocked = set(expected.cycle_nodes)
    for n in expected.cycle_nodes:
        blocked |= nx.descendants(g, n)
    order = analyze(group).order
    assert set(order) == set(group.step_names) - blocked
    position = {n: i for i, n in enumerate(order)}
    for a, b in g.edges:
        if a in position and b in position:
            assert position[a] < position[b]


# -- missing dependencies --------------------------------------------------------------------


@PROPERTY
@given(groups_with_missing_dependencies())
def test_exactly_the_missing_dependencies_are_reported(pair):
    """Every (step, missing) pair is reported, as data and as a ``missing-dependency`` finding naming the step, and nothing else."""
    group, expected = pair
    result = analyze(group)
    assert set(result.missing) == expected.missing
    assert len(result.missing) == len(expected.missing)
    assert {f.code for f in result.findings} == {"missing-dependency"}
    assert sorted(f.step for f in result.findings) == sorted(s for s, _ in expected.missing)
    for f in result.findings:
        assert any(repr(dep) in f.message for s, dep in expected.missing if s == f.step)
    # The steps that remain still form a DAG and are all ordered.
    assert sorted(result.order) == sorted(group.step_names)


# -- scale (plain tests) ---------------------------------------------------------------------


N = 20_000


def test_a_20000_step_chain_is_analysed_without_recursion():
    """A 20,000-step chain is ordered, in one generation per step, with the whole chain as critical path."""
    steps = [PipelineStep("s0", "p")] + [PipelineStep(f"s{i}", "p", depends_on=(f"s{i - 1}",)) for i in range(1, N)]
    result = analyze(PipelineGroup(name="chain", steps=tuple(reversed(steps))))
    assert result.order == [f"s{i}" for i in range(N)]
    assert len(result.generations) == N
    assert len(result.critical_path) == N


def test_a_20000_step_cycle_is_reported_without_recursion():
    """A cycle through 20,000 steps is reported as one closed path through all of them."""
    steps = [PipelineStep("s0", "p", depends_on=(f"s{N - 1}",))] + [
        PipelineStep(f"s{i}", "p", depends_on=(f"s{i - 1}",)) for i in range(1, N)
    ]
    result = analyze(PipelineGroup(name="cycle", steps=tuple(steps)))
    assert len(result.cycles) == 1
    cycle = result.cycles[0]
    assert len(cycle) == N + 1 and cycle[0] == cycle[-1]
    assert result.order == []
