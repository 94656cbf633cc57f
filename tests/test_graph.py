"""``analyze``: stable order, generations, critical path, and every graph finding with its position."""

from __future__ import annotations

import itertools
from collections.abc import Mapping, Sequence

from spine.orchestration import PipelineGroup, PipelineStep, analyze, load_group_from_text


def group_of(deps: Mapping[str, Sequence[str]], name: str = "g") -> PipelineGroup:
    """A group with one step per key (in the mapping's order) depending on its values."""
    return PipelineGroup(
        name=name, steps=tuple(PipelineStep(n, f"p.{n}", depends_on=tuple(d)) for n, d in deps.items())
    )


def assert_real_cycle(group: PipelineGroup, cycle: Sequence[str]) -> None:
    """``cycle`` is closed and each hop ``x -> y`` is a dependency edge (``y`` depends on ``x``)."""
    assert cycle[0] == cycle[-1] and len(cycle) >= 3
    deps = {s.name: set(s.depends_on) for s in group.steps}
    for x, y in itertools.pairwise(cycle):
        assert x in deps[y], f"{y} does not depend on {x}"


def codes(analysis) -> list[str]:
    return [f.code for f in analysis.findings]


class TestOrder:
    def test_declared_in_topological_order_keeps_order(self) -> None:
        """A group already declared in topological order keeps its order."""
        group = group_of({"a": [], "c": ["a"], "b": ["a"], "e": [], "d": ["b", "c"]})
        assert analyze(group).order == ["a", "c", "b", "e", "d"]

    def test_reverse_declared_diamond_ties_to_declaration(self) -> None:
        """On a diamond declared bottom-up, ready steps come out in declaration order."""
        group = group_of({"d": ["b", "c"], "c": ["a"], "b": ["a"], "a": []})
        assert analyze(group).order == ["a", "c", "b", "d"]

    def test_order_respects_every_edge(self) -> None:
        """Every dependency comes before its dependent."""
        group = group_of({"z": ["y"], "y": ["x"], "x": [], "w": ["x", "z"]})
        order = analyze(group).order
        for step in group.steps:
            for dep in step.depends_on:
                assert order.index(dep) < order.index(step.name)

    def test_independent_steps_keep_declaration_order(self) -> None:
        """Steps without dependencies are ordered as declared, not alphabetically."""
        assert analyze(group_of({"zeta": [], "alpha": [], "mid": []})).order == ["zeta", "alpha", "mid"]

    def test_graph_has_edge_dep_to_step(self) -> None:
        """The networkx graph has a node per step and an edge dep -> step."""
        graph = analyze(group_of({"a": [], "b": ["a"]})).graph
        assert set(graph.nodes) == {"a", "b"}
        assert list(graph.edges) == [("a", "b")]


class TestGenerations:
    def test_roots_are_generation_zero(self) -> None:
        """Steps with no dependencies are in generation 0."""
        analysis = analyze(group_of({"a": [], "b": [], "c": ["a"]}))
        assert analysis.generation["a"] == analysis.generation["b"] == 0

    def test_generation_is_one_plus_max_of_dependencies(self) -> None:
        """A step's generation is 1 + the largest generation of its dependencies."""
        analysis = analyze(group_of({"a": [], "b": ["a"], "c": ["b"], "d": ["a", "c"]}))
        assert analysis.generation == {"a": 0, "b": 1, "c": 2, "d": 3}

    def test_generations_list(self) -> None:
        """generations groups the steps by generation, in order."""
        analysis = analyze(group_of({"ingest": [], "ref": [], "norm": ["ingest"], "agg": ["norm"], "share": ["norm", "ref"]}))
        assert analysis.generations == [["ingest", "ref"], ["norm"], ["agg", "share"]]


class TestCriticalPath:
    def test_longest_chain(self) -> None:
        """The critical path is the longest chain of dependencies."""
        group = group_of({"a": [], "e": ["a"], "b": ["a"], "c": ["b"], "d": ["c"], "f": ["e"]})
        assert analyze(group).critical_path == ["a", "b", "c", "d"]

    def test_single_step(self) -> None:
        """A one-step group's critical path is that step."""
        assert analyze(group_of({"only": []})).critical_path == ["only"]

    def test_tie_goes_to_earliest_declared(self) -> None:
        """Between two equally long chains the earliest declared wins."""
        group = group_of({"a": [], "x": ["a"], "y": ["a"], "end": ["y", "x"]})
        assert analyze(group).critical_path == ["a", "x", "end"]


class TestDuplicates:
    def test_duplicate_reported_on_second(self) -> None:
        """A repeated step name gives one duplicate-step finding on the second occurrence."""
        group = group_of({"a": []}).add("a", "p.other")
        analysis = analyze(group)
        assert codes(analysis) == ["duplicate-step"]
        assert analysis.duplicates == ["a"]

    def test_duplicate_points_at_second_and_names_first_line(self) -> None:
        """From YAML, the finding is at the second name and mentions the line of the first."""
        text = """\
apiVersion: spine.io/v1
kind: PipelineGroup
metadata: {name: g}
spec:
  pipelines:
    - name: ingest
      pipeline: p.a
    - name: other
      pipeline: p.b
    - name: ingest
      pipeline: p.c
"""
        (finding,) = analyze(load_group_from_text(text, file="g.yaml")).findings
        assert finding.code == "duplicate-step"
        assert (finding.file, finding.line, finding.column) == ("g.yaml", 10, 13)
        assert "line 6" in finding.message


class TestDependencies:
    def test_self_dependency(self) -> None:
        """A step depending on itself gives a self-dependency finding and no cycle."""
        analysis = analyze(group_of({"a": ["a"]}))
        assert codes(analysis) == ["self-dependency"]
        assert analysis.self_dependencies == ["a"]
        assert analysis.cycles == []

    def test_missing_dependency_pairs(self) -> None:
        """Every (step, missing) pair is reported."""
        analysis = analyze(group_of({"a": ["x"], "b": ["a", "y", "z"]}))
        assert analysis.missing == [("a", "x"), ("b", "y"), ("b", "z")]
        assert codes(analysis) == ["missing-dependency"] * 3

    def test_missing_dependency_suggests_closest(self) -> None:
        """A misspelt dependency suggests the closest existing step name."""
        (finding,) = analyze(group_of({"ingest": [], "normalize": ["ingset"]})).findings
        assert "did you mean 'ingest'?" in finding.message
        assert finding.step == "normalize"

    def test_missing_dependency_without_close_name_has_no_suggestion(self) -> None:
        """A dependency unlike any step name gets no suggestion."""
        (finding,) = analyze(group_of({"ingest": [], "b": ["qqqqqqqq"]})).findings
        assert "did you mean" not in finding.message


class TestCycles:
    def test_two_cycle(self) -> None:
        """a <-> b is reported as one closed cycle path."""
        group = group_of({"a": ["b"], "b": ["a"]})
        analysis = analyze(group)
        assert codes(analysis) == ["cycle"]
        (cycle,) = analysis.cycles
        assert_real_cycle(group, cycle)
        assert set(cycle) == {"a", "b"}

    def test_three_cycle(self) -> None:
        """a -> b -> c -> a is reported once, as a closed path over the three steps."""
        group = group_of({"a": ["c"], "b": ["a"], "c": ["b"]})
        (cycle,) = analyze(group).cycles
        assert_real_cycle(group, cycle)
        assert cycle == ["a", "b", "c", "a"]
        assert "a -> b -> c -> a" in analyze(group).findings[0].message

    def test_long_cycle_no_recursion_error(self) -> None:
        """A 30,000-step cycle is found without RecursionError and its message is abbreviated."""
        n = 30_000
        steps = tuple(PipelineStep(f"s{i}", "p", depends_on=(f"s{(i - 1) % n}",)) for i in range(n))
        group = PipelineGroup(name="big", steps=steps)
        analysis = analyze(group)
        (cycle,) = analysis.cycles
        assert len(cycle) == n + 1
        assert_real_cycle(group, cycle)
        (finding,) = analysis.findings
        assert "…" in finding.message
        assert len(finding.message) < 500

    def test_two_separate_cycles(self) -> None:
        """Two independent cycles are both reported, in declaration order."""
        group = group_of({"a": ["b"], "b": ["a"], "ok": [], "c": ["e"], "d": ["c"], "e": ["d"]})
        analysis = analyze(group)
        assert len(analysis.cycles) == 2
        for cycle in analysis.cycles:
            assert_real_cycle(group, cycle)
        assert {frozenset(c) for c in analysis.cycles} == {frozenset("ab"), frozenset("cde")}
        assert codes(analysis) == ["cycle", "cycle"]

    def test_blocked_downstream_not_reported(self) -> None:
        """A step blocked behind a cycle is not reported itself; only the cycle is."""
        group = group_of({"root": [], "a": ["b", "root"], "b": ["a"], "down": ["b"]})
        analysis = analyze(group)
        assert codes(analysis) == ["cycle"]
        assert all(f.step != "down" for f in analysis.findings)
        assert analysis.order == ["root"]


GROUP_WITH_BAD_DEPS = """\
apiVersion: spine.io/v1
kind: PipelineGroup
metadata: {name: g}
spec:
  pipelines:
    - name: ingest
      pipeline: p.i
    - name: normalize
      pipeline: p.n
      depends_on:
        - ingest
        - ingset
    - name: agg
      pipeline: p.a
      depends_on: [normalize,   agg]
"""


class TestPositions:
    def test_missing_dependency_points_at_block_item(self) -> None:
        """A missing dependency in a block list points at that item's line and column."""
        group = load_group_from_text(GROUP_WITH_BAD_DEPS, file="g.yaml")
        (finding,) = [f for f in analyze(group).findings if f.code == "missing-dependency"]
        assert (finding.file, finding.line, finding.column) == ("g.yaml", 12, 11)

    def test_self_dependency_points_at_flow_item(self) -> None:
        """A self-dependency in a flow list points at that item, not at the list."""
        group = load_group_from_text(GROUP_WITH_BAD_DEPS, file="g.yaml")
        (finding,) = [f for f in analyze(group).findings if f.code == "self-dependency"]
        assert (finding.line, finding.column) == (15, 33)

    def test_cycle_points_at_a_dependency_of_the_cycle(self) -> None:
        """A cycle finding points at a depends_on item that closes the cycle."""
        text = """\
apiVersion: spine.io/v1
kind: PipelineGroup
metadata: {name: g}
spec:
  pipelines:
    - {name: a, pipeline: p, depends_on: [b]}
    - {name: b, pipeline: p, depends_on: [a]}
"""
        (finding,) = analyze(load_group_from_text(text, file="g.yaml")).findings
        assert finding.code == "cycle"
        assert (finding.line, finding.column) == (6, 43)

    def test_dsl_findings_have_no_position(self) -> None:
        """Findings of a group built in Python have no file, line or column."""
        (finding,) = analyze(group_of({"a": ["x"]})).findings
        assert (finding.file, finding.line, finding.column) == (None, None, None)
        assert finding.location == "<python>"
