"""``build_graph_view``: the graph as data for every renderer, invalid groups included."""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence

from spine.orchestration import PipelineGroup, PipelineStep
from spine.render import EdgeKind, EdgeView, GraphView, NodeKind, build_graph_view, display


def group_of(deps: Mapping[str, Sequence[str]], name: str = "g") -> PipelineGroup:
    """A group with one step per key (in the mapping's order) depending on its values."""
    return PipelineGroup(
        name=name, steps=tuple(PipelineStep(n, f"p.{n}", depends_on=tuple(d)) for n, d in deps.items())
    )


def by_name(view: GraphView) -> dict[str, str]:
    """Node name → node id (steps and ghosts)."""
    return {n.name: n.id for n in view.nodes}


def edge_kinds(view: GraphView) -> dict[tuple[str, str], EdgeKind]:
    """``(source name, target name) → kind`` for every edge."""
    names = {n.id: n.name for n in view.nodes}
    return {(names[e.source], names[e.target]): e.kind for e in view.edges}


class TestValidGroup:
    def test_one_node_per_step_and_one_edge_per_dependency(self) -> None:
        """A valid diamond has a STEP node per step and a dependency edge per ``depends_on`` entry."""
        view = build_graph_view(group_of({"a": [], "b": ["a"], "c": ["a"], "d": ["b", "c"]}))
        assert view.valid
        assert [(n.name, n.kind) for n in view.nodes] == [(s, NodeKind.STEP) for s in "abcd"]
        assert set(edge_kinds(view)) == {("a", "b"), ("a", "c"), ("b", "d"), ("c", "d")}

    def test_critical_path_edges_are_critical_and_others_normal(self) -> None:
        """Edges along the critical path are CRITICAL; every other dependency is NORMAL."""
        view = build_graph_view(group_of({"a": [], "b": ["a"], "c": ["b"], "x": ["a"]}))
        ids = by_name(view)
        assert view.critical_path == (ids["a"], ids["b"], ids["c"])
        assert edge_kinds(view) == {
            ("a", "b"): EdgeKind.CRITICAL,
            ("b", "c"): EdgeKind.CRITICAL,
            ("a", "x"): EdgeKind.NORMAL,
        }
        assert {n.name for n in view.nodes if n.critical} == {"a", "b", "c"}

    def test_generations_are_node_ids_per_generation(self) -> None:
        """Generations hold node ids, roots first, and each node knows its generation."""
        view = build_graph_view(group_of({"a": [], "b": [], "c": ["a", "b"], "d": ["c"], "e": ["a"]}))
        ids = by_name(view)
        assert view.generations == ((ids["a"], ids["b"]), (ids["c"], ids["e"]), (ids["d"],))
        assert {n.name: n.generation for n in view.nodes} == {"a": 0, "b": 0, "c": 1, "d": 2, "e": 1}
        assert view.widest_generation == 2

    def test_node_ids_are_generated_never_names(self) -> None:
        """Node ids are ``n0``, ``n1`` … in declaration order, even for steps named like ids or syntax."""
        names = ["n1", "a -> b", 'say "hi"', "<b>", "n0"]
        steps = [PipelineStep(n, "p.x", depends_on=(names[i - 1],) if i else ()) for i, n in enumerate(names)]
        view = build_graph_view(PipelineGroup(name="g", steps=tuple(steps)))
        assert [n.id for n in view.nodes] == ["n0", "n1", "n2", "n3", "n4"]
        assert [n.name for n in view.nodes] == names
        for e in view.edges:
            assert re.fullmatch(r"n\d+", e.source) and re.fullmatch(r"n\d+", e.target)

    def test_duplicate_step_names_make_one_node(self) -> None:
        """A duplicated step name is one node, with the first declaration's id and pipeline."""
        group = PipelineGroup(name="g", steps=(PipelineStep("a", "p.first"), PipelineStep("a", "p.second")))
        view = build_graph_view(group)
        assert [(n.id, n.name, n.pipeline) for n in view.nodes] == [("n0", "a", "p.first")]
        assert not view.valid


class TestInvalidGroupIsStillDrawn:
    def test_two_cycle_edges_are_cycle_in_both_directions(self) -> None:
        """In a 2-cycle ``a <-> b`` both edges are CYCLE and both nodes are marked in_cycle."""
        view = build_graph_view(group_of({"a": ["b"], "b": ["a"]}))
        assert not view.valid
        assert edge_kinds(view) == {("b", "a"): EdgeKind.CYCLE, ("a", "b"): EdgeKind.CYCLE}
        assert all(n.in_cycle for n in view.nodes)

    def test_self_dependency_is_a_cycle_loop(self) -> None:
        """A step that depends on itself gets a CYCLE loop edge from its node to itself."""
        view = build_graph_view(group_of({"a": [], "b": ["a", "b"]}))
        ids = by_name(view)
        assert not view.valid
        assert [e for e in view.edges if e.source == e.target] == [EdgeView(ids["b"], ids["b"], EdgeKind.CYCLE)]
        assert edge_kinds(view)[("a", "b")] is not EdgeKind.CYCLE
        assert [n.name for n in view.nodes if n.in_cycle] == ["b"]

    def test_edges_leaving_a_cycle_are_not_cycle_edges(self) -> None:
        """Only edges inside the cycle are CYCLE; an edge from the cycle to a dependent is not."""
        view = build_graph_view(group_of({"a": ["c"], "b": ["a"], "c": ["b"], "d": ["c"], "ok": []}))
        kinds = edge_kinds(view)
        assert {k for k, v in kinds.items() if v is EdgeKind.CYCLE} == {("c", "a"), ("a", "b"), ("b", "c")}
        assert kinds[("c", "d")] is EdgeKind.NORMAL
        assert {n.name for n in view.nodes if n.in_cycle} == {"a", "b", "c"}

    def test_steps_blocked_by_a_cycle_have_no_generation(self) -> None:
        """Steps in or downstream of a cycle have generation None; the rest keep theirs."""
        view = build_graph_view(group_of({"a": ["b"], "b": ["a"], "d": ["a"], "ok": []}))
        assert {n.name: n.generation for n in view.nodes} == {"a": None, "b": None, "d": None, "ok": 0}
        assert view.generations == ((by_name(view)["ok"],),)

    def test_missing_dependency_is_a_ghost_node_with_a_missing_edge(self) -> None:
        """A dependency on an unknown step becomes a GHOST node ``g0`` joined by a MISSING edge."""
        view = build_graph_view(group_of({"a": [], "b": ["a", "nope"]}))
        ghost = [n for n in view.nodes if n.kind is NodeKind.GHOST]
        assert [(n.id, n.name, n.pipeline, n.generation) for n in ghost] == [("g0", "nope", None, None)]
        assert edge_kinds(view) == {("a", "b"): EdgeKind.CRITICAL, ("nope", "b"): EdgeKind.MISSING}
        assert not view.valid

    def test_one_ghost_per_missing_name(self) -> None:
        """Two steps missing the same dependency share one ghost; a different name gets ``g1``."""
        view = build_graph_view(group_of({"a": ["x"], "b": ["x", "y"]}))
        ghosts = {n.name: n.id for n in view.nodes if n.kind is NodeKind.GHOST}
        assert ghosts == {"x": "g0", "y": "g1"}
        missing = sorted((e.source, e.target) for e in view.edges if e.kind is EdgeKind.MISSING)
        assert missing == [("g0", "n0"), ("g0", "n1"), ("g1", "n1")]


class TestDisplay:
    def test_printable_text_is_unchanged(self) -> None:
        """Printable text, markup and unicode included, is returned as is."""
        for text in ['<script>"', "数据 🚀", "שלום", "a\\b"]:
            assert display(text) == text

    def test_control_and_bidi_characters_become_escapes(self) -> None:
        """Control and bidi-override characters are shown as ``\\uXXXX`` escapes, never passed through."""
        assert display("a\nb\u202ec\x00") == "a\\u000ab\\u202ec\\u0000"
