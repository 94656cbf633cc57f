"""``to_dot``: golden DOT for the examples, and every DOT produced here through the real Graphviz.

Each DOT text this module builds — the examples, groups whose step and pipeline names
are hostile (quotes, backslashes, markup, DOT syntax and keywords, unicode), invalid
groups, a 1,000-step graph — is laid out by the real ``dot -Tsvg``: it must exit 0 with no
syntax error, and every name must come back byte for byte as the text of an SVG
``<text>`` element. ``dot`` is required (``.ci/run`` installs Debian ``graphviz``).
"""

from __future__ import annotations

import functools
import subprocess
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest
from _golden import check_golden
from _tools import find_dot
from hypothesis import given, settings
from hypothesis import strategies as st

from spine.orchestration import PipelineGroup, PipelineStep, load_groups
from spine.orchestration.nesting import GroupSource
from spine.render import NodeDecoration, build_graph_view, layout_effort, to_dot
from spine.testing import cyclic_groups, groups, groups_with_missing_dependencies, step_names

REPO = Path(__file__).resolve().parents[1]
EXAMPLE_FILES = sorted((REPO / "examples" / "groups").rglob("*.yaml"))
SVG = "{http://www.w3.org/2000/svg}"
XLINK = "{http://www.w3.org/1999/xlink}"

DOT = find_dot()
pytestmark = pytest.mark.needs_dot

#: Step names that break naive DOT writers. All are valid step names.
HOSTILE_NAMES: tuple[str, ...] = (
    '"',
    'say "hi"',
    "'",
    "it's",
    "\\",
    "trailing\\",
    "C:\\temp\\new",
    "\\N",
    "\\G and \\L",
    "<script>alert(1)</script>",
    "<img src=x onerror=alert(1)>",
    "</td><td>",
    "<>",
    "a -> b",
    "a -- b",
    "{ }",
    "[ ]",
    "]",
    "]] x",
    ";",
    "//",
    "/* not a comment */",
    "#",
    "a & b",
    "&amp;",
    "🚀 launch",
    "数据处理",
    "שלום עולם",
    "مرحبا",
    "__proto__",
    "x" * 200,
    "node",
    "edge",
    "graph",
    "subgraph",
    "strict",
    "digraph",
)


def name_id(name: str) -> str:
    """A short, readable test id for a name."""
    return repr(name if len(name) < 30 else f"{name[:10]}…({len(name)})")


def run_dot(dot: str) -> str:
    """Lay ``dot`` out with the real Graphviz; assert it was accepted and return the SVG."""
    proc = subprocess.run([DOT, "-Tsvg"], input=dot.encode("utf-8"), capture_output=True, timeout=120, check=False)
    err = proc.stderr.decode("utf-8", "replace")
    assert proc.returncode == 0, f"dot exited {proc.returncode}: {err}\n--- DOT ---\n{dot}"
    assert "syntax error" not in err, err
    return proc.stdout.decode("utf-8")


def svg_texts(svg: str) -> list[str]:
    """The text of every SVG ``<text>`` element.

    Graphviz writes the second of two adjacent spaces as U+00A0 so SVG keeps it; valid step
    names never hold U+00A0 (it is not printable), so it is read back as a space.
    """
    root = ET.fromstring(svg)
    return ["".join(t.itertext()).replace("\xa0", " ") for t in root.iter(f"{SVG}text")]


def svg_node(svg: str, node_id: str) -> ET.Element:
    """The ``<g>`` of the node whose DOT id attribute is ``node-<node_id>``."""
    root = ET.fromstring(svg)
    for g in root.iter(f"{SVG}g"):
        if g.get("id") == f"node-{node_id}":
            return g
    raise AssertionError(f"no node-{node_id} in the SVG")


def hostile_group(name: str) -> PipelineGroup:
    """``ok -> NAME -> after``: step NAME calls a pipeline called NAME, and ``after`` also
    depends on a missing step called ``gone NAME`` (a ghost node)."""
    return PipelineGroup(
        name="hostile",
        steps=(
            PipelineStep("ok", "p.ok"),
            PipelineStep(name, name, depends_on=("ok",)),
            PipelineStep("after", "p.after", depends_on=(name, f"gone {name}")),
        ),
    )


@functools.cache
def hostile_svg(name: str) -> str:
    """The SVG Graphviz draws for :func:`hostile_group` (laid out once per name)."""
    return run_dot(to_dot(build_graph_view(hostile_group(name))))


def example_groups() -> list[tuple[str, PipelineGroup]]:
    """``(golden stem, group)`` for every group of every example file."""
    out = []
    for path in EXAMPLE_FILES:
        groups = load_groups(path)
        stem = str(path.relative_to(REPO / "examples" / "groups").with_suffix(""))
        for g in groups:
            out.append((stem if len(groups) == 1 else f"{stem}.{g.name}", g))
    return out


EXAMPLES = example_groups()
#: Where the examples' nested groups are found (market.wide_refresh calls two of them): every example.
NESTED = GroupSource(g for _, g in EXAMPLES)


class TestExamples:
    def test_examples_are_found(self) -> None:
        """The examples folder holds the FINRA, market-data and public examples."""
        stems = {stem for stem, _ in EXAMPLES}
        assert {"finra_weekly_refresh", "market_data_daily_prices", "public/airflow_tutorial"} <= stems

    @pytest.mark.parametrize(("stem", "group"), EXAMPLES, ids=[s for s, _ in EXAMPLES])
    def test_example_dot_matches_golden(self, stem: str, group: PipelineGroup) -> None:
        """The DOT of each example equals its golden file."""
        check_golden(f"dot/{stem}.dot", to_dot(build_graph_view(group, groups=NESTED)))

    @pytest.mark.parametrize(("stem", "group"), EXAMPLES, ids=[s for s, _ in EXAMPLES])
    def test_example_dot_lays_out_with_every_name(self, stem: str, group: PipelineGroup) -> None:
        """Graphviz accepts each example's DOT and draws every step and pipeline name."""
        view = build_graph_view(group, groups=NESTED)  # a composition is drawn expanded
        texts = svg_texts(run_dot(to_dot(view)))
        for node in view.nodes:
            assert node.name in texts
            assert node.pipeline in texts


class TestHostileNames:
    @pytest.mark.parametrize("name", HOSTILE_NAMES, ids=name_id)
    def test_dot_accepts_hostile_name(self, name: str) -> None:
        """A step and pipeline with a hostile name give DOT that Graphviz lays out without error."""
        hostile_svg(name)

    @pytest.mark.parametrize("name", HOSTILE_NAMES, ids=name_id)
    def test_hostile_name_survives_byte_for_byte(self, name: str) -> None:
        """The step name and the pipeline name come back exactly as SVG text."""
        texts = svg_texts(hostile_svg(name))
        assert texts.count(name) == 2, texts

    @pytest.mark.parametrize("name", HOSTILE_NAMES, ids=name_id)
    def test_hostile_name_tooltip_is_exact(self, name: str) -> None:
        """The node's tooltip (SVG ``xlink:title``, what a reader sees on hover) is the step name."""
        links = [a.get(f"{XLINK}title").replace("\xa0", " ") for a in svg_node(hostile_svg(name), "n1").iter(f"{SVG}a")]
        assert links == [name]

    @pytest.mark.parametrize("name", HOSTILE_NAMES, ids=name_id)
    def test_hostile_missing_dependency_is_drawn(self, name: str) -> None:
        """A missing dependency with a hostile name is drawn as ``missing: NAME``."""
        assert f"missing: gone {name}" in svg_texts(hostile_svg(name))

    @pytest.mark.parametrize("name", ['<b>', "<a>>", 'x"y', "trailing\\", "\\N", "&amp;"], ids=name_id)
    def test_hostile_group_name_is_the_graph_label(self, name: str) -> None:
        """An (invalid) hostile group name is still drawn, exactly, as the graph's label."""
        group = PipelineGroup(name=name, steps=(PipelineStep("a", "p.a"),))
        assert name in svg_texts(run_dot(to_dot(build_graph_view(group))))

    def test_all_hostile_names_in_one_cycle(self) -> None:
        """Every hostile name in one invalid group (a cycle through all of them) still lays out."""
        names = list(HOSTILE_NAMES)
        steps = tuple(PipelineStep(n, n, depends_on=(names[i - 1],)) for i, n in enumerate(names))
        view = build_graph_view(PipelineGroup(name="all", steps=steps))
        assert not view.valid
        texts = svg_texts(run_dot(to_dot(view)))
        assert [n for n in names if n not in texts] == []


class TestInvalidGroups:
    def test_cycle_edges_are_red(self) -> None:
        """A 2-cycle lays out, and both of its edges are drawn in the cycle colour."""
        group = PipelineGroup(name="g", steps=(PipelineStep("a", "p", depends_on=("b",)), PipelineStep("b", "p", depends_on=("a",))))
        root = ET.fromstring(run_dot(to_dot(build_graph_view(group))))
        edges = {g.get("id"): g for g in root.iter(f"{SVG}g") if "edge" in (g.get("class") or "").split()}
        assert set(edges) == {"edge-n0-n1", "edge-n1-n0"}
        for g in edges.values():
            assert "cycle" in g.get("class").split()
            assert g.find(f"{SVG}path").get("stroke") == "#d1242f"

    def test_self_dependency_is_a_loop(self) -> None:
        """A self-dependency lays out as a red loop edge from the node to itself."""
        group = PipelineGroup(name="g", steps=(PipelineStep("a", "p", depends_on=("a",)),))
        root = ET.fromstring(run_dot(to_dot(build_graph_view(group))))
        loops = [g for g in root.iter(f"{SVG}g") if g.get("id") == "edge-n0-n0"]
        assert len(loops) == 1 and loops[0].find(f"{SVG}path").get("stroke") == "#d1242f"

    def test_missing_dependency_is_a_dashed_ghost(self) -> None:
        """A missing dependency is a dashed ghost node joined by a dashed edge."""
        group = PipelineGroup(name="g", steps=(PipelineStep("a", "p", depends_on=("nope",)),))
        svg = run_dot(to_dot(build_graph_view(group)))
        ghost = svg_node(svg, "g0")
        assert "ghost" in ghost.get("class").split()
        assert any(el.get("stroke-dasharray") for el in ghost.iter() if el.tag in (f"{SVG}polygon", f"{SVG}path"))
        edge = next(g for g in ET.fromstring(svg).iter(f"{SVG}g") if g.get("id") == "edge-g0-n0")
        assert edge.find(f"{SVG}path").get("stroke-dasharray")

    def test_duplicates_cycles_and_missing_together_lay_out(self) -> None:
        """A group with every graph problem at once is still accepted by Graphviz."""
        steps = (
            PipelineStep("a", "p", depends_on=("c", "ghost")),
            PipelineStep("b", "p", depends_on=("a", "b")),
            PipelineStep("c", "p", depends_on=("b",)),
            PipelineStep("a", "p.dup"),
            PipelineStep("d", "p", depends_on=("c", "ghost", "other")),
        )
        texts = svg_texts(run_dot(to_dot(build_graph_view(PipelineGroup(name="g", steps=steps)))))
        assert {"a", "b", "c", "d", "missing: ghost", "missing: other"} <= set(texts)


class TestLayout:
    def test_direction_lr_lays_out_left_to_right(self) -> None:
        """With ``direction="LR"`` the DOT says ``rankdir=LR`` and a dependent is drawn right of its dependency."""
        group = PipelineGroup(name="g", steps=(PipelineStep("a", "p"), PipelineStep("b", "p", depends_on=("a",))))
        dot = to_dot(build_graph_view(group), direction="LR")
        assert "rankdir=LR" in dot
        svg = run_dot(dot)

        def centre(node_id: str) -> tuple[float, float]:
            t = svg_node(svg, node_id).find(f".//{SVG}text")
            return float(t.get("x")), float(t.get("y"))

        (ax, ay), (bx, by) = centre("n0"), centre("n1")
        assert bx > ax and abs(by - ay) < 1

    def test_unknown_direction_is_refused(self) -> None:
        """A direction other than TB, LR, BT, RL raises ValueError instead of writing bad DOT."""
        group = PipelineGroup(name="g", steps=(PipelineStep("a", "p"),))
        with pytest.raises(ValueError, match="direction"):
            to_dot(build_graph_view(group), direction="LR; x=1")

    def test_small_graph_gets_no_layout_limits(self) -> None:
        """A small graph is laid out with Graphviz's defaults: no limits in its DOT."""
        group = PipelineGroup(name="g", steps=(PipelineStep("a", "p"), PipelineStep("b", "p", depends_on=("a",))))
        assert not layout_effort(2, 1).reduced
        dot = to_dot(build_graph_view(group))
        for attr in ("mclimit", "nslimit", "searchsize", "remincross", "splines"):
            assert attr not in dot

    def test_thousand_step_graph_gets_reduced_layout_and_lays_out(self) -> None:
        """A 1,000-step graph carries reduced layout attributes, and Graphviz lays it out with every node."""
        steps = tuple(PipelineStep(f"s{i}", "p", depends_on=(f"s{(i - 1) // 2}",) if i else ()) for i in range(1000))
        view = build_graph_view(PipelineGroup(name="big", steps=steps))
        effort = layout_effort(len(view.nodes), len(view.edges))
        assert effort.reduced and effort.reason
        dot = to_dot(view)
        for key, value in effort.attrs.items():
            assert f"{key}={value}" in dot
        assert {"mclimit", "nslimit", "searchsize"} <= set(effort.attrs)
        texts = set(svg_texts(run_dot(dot)))
        assert {f"s{i}" for i in range(1000)} <= texts


def _digraph_dot(view, direction: str = "TB", decorations=None) -> str:
    """The oracle: the same graph built with ``graphviz.Digraph``, as ``to_dot`` was written before it wrote lines itself."""
    import graphviz

    from spine.render.dot import CRITICAL_COLOUR, CYCLE_COLOUR, GHOST_COLOUR, _decorate, _label, escstring
    from spine.render.view import EdgeKind, NodeKind

    effort = layout_effort(len(view.nodes), len(view.edges))
    g = graphviz.Digraph(
        name="spine",
        graph_attr={"rankdir": direction, "fontname": "Helvetica", "label": escstring(view.group), "labelloc": "t", "nodesep": "0.3", "ranksep": "0.5", **effort.attrs},
        node_attr={"shape": "box", "style": "rounded,filled", "fillcolor": "#f6f8fa", "color": "#57606a", "fontname": "Helvetica", "fontsize": "11"},
        edge_attr={"color": "#57606a", "arrowsize": "0.7"},
    )
    for n in view.nodes:
        attrs = {"label": _label(n.name, n.pipeline, n.kind is NodeKind.GHOST), "tooltip": escstring(n.name, tooltip=True), "id": f"node-{n.id}"}
        classes = ["step"]
        if n.kind is NodeKind.GHOST:
            attrs.update(style="dashed", color=GHOST_COLOUR, fontcolor=GHOST_COLOUR, fillcolor="white")
            classes = ["ghost"]
        elif n.in_cycle:
            attrs.update(color=CYCLE_COLOUR, penwidth="2", fillcolor="#ffebe9")
            classes.append("cycle")
        elif n.critical:
            attrs.update(color=CRITICAL_COLOUR, penwidth="2", fillcolor="#ddf4ff")
            classes.append("critical")
        deco = (decorations or {}).get(n.id)
        if deco is not None:
            _decorate(attrs, classes, n, deco)
        attrs["class"] = " ".join(classes)
        g.node(n.id, **attrs)
    for gen in view.generations:
        if len(gen) > 1:
            with g.subgraph() as s:
                s.attr(rank="same")
                for nid in gen:
                    s.node(nid)
    for e in view.edges:
        attrs = {"id": f"edge-{e.source}-{e.target}", "class": e.kind.value}
        if e.kind is EdgeKind.CRITICAL:
            attrs.update(color=CRITICAL_COLOUR, penwidth="2")
        elif e.kind is EdgeKind.CYCLE:
            attrs.update(color=CYCLE_COLOUR, penwidth="2")
        elif e.kind is EdgeKind.MISSING:
            attrs.update(style="dashed", color=GHOST_COLOUR)
        g.edge(e.source, e.target, **attrs)
    return g.source


_DECORATIONS = st.builds(
    NodeDecoration,
    fill=st.sampled_from([None, "#dafbe1"]),
    border=st.sampled_from([None, "#1a7f37"]),
    css_class=st.sampled_from([None, "st_failed"]),
    note=st.one_of(st.none(), step_names()),
    tooltip=st.one_of(st.none(), step_names()),
    href=st.sampled_from([None, "#step-n0", 'a "b" <c>']),
)


@settings(max_examples=60)
@given(
    st.one_of(
        groups(max_steps=8, names=step_names()),
        cyclic_groups(max_steps=6).map(lambda pair: pair[0]),
        groups_with_missing_dependencies(max_steps=6).map(lambda pair: pair[0]),
    ),
    st.sampled_from(["TB", "LR"]),
    st.data(),
)
def test_to_dot_writes_what_graphviz_digraph_writes(group, direction, data) -> None:
    """For any group, hostile names, cycles and node decorations included, ``to_dot`` is byte for byte the text ``graphviz.Digraph`` builds."""
    view = build_graph_view(group)
    decorations = {n.id: data.draw(_DECORATIONS) for n in view.nodes if data.draw(st.booleans())}
    assert to_dot(view, direction=direction, decorations=decorations) == _digraph_dot(view, direction, decorations)
