"""``to_mermaid``: golden Mermaid for the examples; every name shows exactly as written.

Two levels. The static tests read spine's own output: labels hold only entity codes and
spine's markup, and decode back to the names. The ``needs_mermaid`` tests hand the charts
to Mermaid itself — the ``mermaid`` npm package (11.x) under Node, with ``jsdom`` as its
DOM, through ``tests/js/mermaid_worker.mjs`` — which parses each chart and renders it with
the code a browser or GitHub runs (entity decoding, sanitising, ``\\n`` line breaks, icons,
KaTeX), then reports what each node's label shows. ``@mermaid-js/mermaid-cli`` is not
used: it downloads a browser of its own.

The packages are project-local: ``npm ci --prefix tests/js`` (``.ci/run`` does it); the
tests find them there and skip, saying so, when they or Node are missing.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from _golden import check_golden
from _tools import MermaidWorker
from hypothesis import given, settings
from hypothesis import strategies as st

from spine.orchestration import PipelineGroup, PipelineStep, load_groups, step_name_problem
from spine.orchestration.nesting import GroupSource
from spine.render import build_graph_view, to_mermaid
from spine.render.mermaid import SPLIT, escape_label
from spine.render.view import NodeKind
from spine.testing import groups, step_names

REPO = Path(__file__).resolve().parents[1]
EXAMPLE_FILES = sorted((REPO / "examples" / "groups").rglob("*.yaml"))

#: Step names that break naive Mermaid writers. All are valid step names.
HOSTILE_NAMES: tuple[str, ...] = (
    '"',
    'say "hi"',
    "'",
    "\\",
    "trailing\\",
    "<script>alert(1)</script>",
    "<img src=x onerror=alert(1)>",
    "a --> b",
    "a -> b",
    "a -.-> b",
    "a ==> b",
    "[x]",
    "(x)",
    "((x))",
    "{x}",
    "{{x}}",
    "a | b",
    "`rm -rf /`",
    "; x",
    "%% comment",
    "#60;",
    "#quot;",
    "&amp;",
    "end",
    "click n0 call alert()",
    "style n0 fill:red",
    "classDef x fill:red",
    ":::cycle",
    "🚀 launch",
    "数据处理",
    "שלום עולם",
    "مرحبا",
    "__proto__",
    "x" * 200,
    # read by Mermaid as syntax after it decodes the entity codes (issue 7):
    "literal \\n not newline",
    "a\\\\nb",
    "ends in \\",
    "fa:fa-car",
    "fab:fa-github logo",
    "$$x^2$$",
    "$$$",
    "ﬂ°°92¶ß",
    "ﬂ°amp¶ß",
    # would be markup in a Mermaid markdown string; spine's labels are plain strings:
    "*emphasis* _under_ **strong** __dunder__ `code`",
    "# heading",
    "- item",
    "1. first",
    "[link](http://x)",
    "a<br>b",
)

#: Characters that must never appear raw inside a label (only as ``#NN;`` codes).
FORBIDDEN = set('<>"[](){}|`;')
SUBGRAPH_LINE = re.compile(r'^    subgraph c\d+ \["[^"]*"\]$')
NODE_LINE = re.compile(r'^    (?P<id>[ng]\d+)\["(?P<label>[^"]*)"\](?::::(?P<cls>\w+))?$')
EDGE_LINE = re.compile(r"^    (?P<src>[ng]\d+) (?P<arrow>-->|==>|-\.->) (?P<dst>[ng]\d+)$")
#: spine's own markup around the pipeline name in a step's label.
PIPELINE_MARKUP = re.compile(r"^(?P<name>.*)<br/><small>(?P<pipeline>.*)</small>$")


def decode(label: str) -> str:
    """Undo :func:`escape_label`: drop each ``SPLIT``, then ``#NN;`` → the character with code point NN."""
    return re.sub(r"#([0-9]+);", lambda m: chr(int(m.group(1))), label.replace(SPLIT, ""))


def node_labels(text: str) -> dict[str, str]:
    """Node id → raw label text, for every node line of a flowchart."""
    out = {}
    for line in text.splitlines():
        m = NODE_LINE.match(line)
        if m:
            out[m["id"]] = m["label"]
    return out


def example_groups() -> list[tuple[str, PipelineGroup]]:
    out = []
    for path in EXAMPLE_FILES:
        groups = load_groups(path)
        stem = str(path.relative_to(REPO / "examples" / "groups").with_suffix(""))
        out.extend((stem if len(groups) == 1 else f"{stem}.{g.name}", g) for g in groups)
    return out


EXAMPLES = example_groups()
#: Where the examples' nested groups are found (market.wide_refresh calls two of them): every example.
NESTED = GroupSource(g for _, g in EXAMPLES)


def hostile_group(name: str) -> PipelineGroup:
    """``ok -> NAME -> after`` with a ghost ``gone NAME``; step NAME calls pipeline NAME."""
    return PipelineGroup(
        name="hostile",
        steps=(
            PipelineStep("ok", "p.ok"),
            PipelineStep(name, name, depends_on=("ok",)),
            PipelineStep("after", "p.after", depends_on=(name, f"gone {name}")),
        ),
    )


class TestExamples:
    @pytest.mark.parametrize(("stem", "group"), EXAMPLES, ids=[s for s, _ in EXAMPLES])
    def test_example_mermaid_matches_golden(self, stem: str, group: PipelineGroup) -> None:
        """The Mermaid of each example equals its golden file."""
        check_golden(f"mermaid/{stem}.mmd", to_mermaid(build_graph_view(group, groups=NESTED)))

    @pytest.mark.parametrize(("stem", "group"), EXAMPLES, ids=[s for s, _ in EXAMPLES])
    def test_every_line_is_a_known_statement(self, stem: str, group: PipelineGroup) -> None:
        """Each line is the header, a node, an edge or a style line — nothing else leaks in."""
        lines = to_mermaid(build_graph_view(group, groups=NESTED)).splitlines()
        assert lines[0] == "flowchart TB"
        for line in lines[1:]:
            line = re.sub(r"^(    )+", "    ", line)  # inside a nested group's subgraph: indented more
            known = NODE_LINE.match(line) or EDGE_LINE.match(line) or SUBGRAPH_LINE.match(line) or line == "    end"
            assert known or line.startswith(("    classDef ", "    linkStyle ")), line


class TestHostileNames:
    @pytest.mark.parametrize("name", HOSTILE_NAMES, ids=repr)
    def test_labels_hold_no_raw_syntax_characters(self, name: str) -> None:
        """Outside spine's own ``<br/><small>`` markup, no label holds a raw ``<>"[](){}|`;``."""
        text = to_mermaid(build_graph_view(hostile_group(name)))
        labels = node_labels(text)
        assert len(labels) == 4, text
        for label in labels.values():
            m = PIPELINE_MARKUP.match(label)
            parts = [m["name"], m["pipeline"]] if m else [label]
            for part in parts:
                raw = re.sub(r"#[0-9]+;", "", part.replace(SPLIT, ""))
                assert not FORBIDDEN & set(raw), part

    @pytest.mark.parametrize("name", HOSTILE_NAMES, ids=repr)
    def test_name_and_pipeline_decode_back_exactly(self, name: str) -> None:
        """The step's label decodes back to its exact name and pipeline; the ghost's to ``missing: gone NAME``."""
        labels = node_labels(to_mermaid(build_graph_view(hostile_group(name))))
        m = PIPELINE_MARKUP.match(labels["n1"])
        assert (decode(m["name"]), decode(m["pipeline"])) == (name, name)
        assert decode(labels["g0"]) == f"missing: gone {name}"

    @pytest.mark.parametrize("name", HOSTILE_NAMES, ids=repr)
    def test_structure_does_not_change(self, name: str) -> None:
        """A hostile name yields the same node and edge lines, ids and arrows as a plain one."""
        def shape(text: str) -> list[str]:
            return [NODE_LINE.sub(r"\g<id>:\g<cls>", line) for line in text.splitlines()]

        assert shape(to_mermaid(build_graph_view(hostile_group(name)))) == shape(
            to_mermaid(build_graph_view(hostile_group("plain")))
        )


class TestEscapeLabel:
    @given(st.text())
    def test_escape_label_is_safe_and_reversible(self, text: str) -> None:
        """For any text, ``escape_label`` uses only letters, digits, space, ``_ . -``,
        ``#NN;`` codes and the empty ``SPLIT`` element (so it can never close a label or
        open other markup), and decoding gives back exactly the original text."""
        out = escape_label(text)
        stripped = re.sub(r"#[0-9]+;", "", out.replace(SPLIT, ""))
        assert all((ch.isalnum() and ch.isprintable()) or ch in " _.-" for ch in stripped), out
        assert decode(out) == text

    def test_plain_names_are_kept_readable(self) -> None:
        """Letters, digits, ``_ . -`` and spaces are not encoded, so the Markdown source stays readable."""
        assert escape_label("finra.otc_transparency ingest-week 2") == "finra.otc_transparency ingest-week 2"

    @pytest.mark.parametrize(
        ("text", "label"),
        [
            ("a\\nb", f"a#92;{SPLIT}nb"),
            ("$$", f"#36;{SPLIT}#36;"),
            ("fa:fa-x", f"fa#58;{SPLIT}fa-x"),
            ("ﬂ°", f"ﬂ{SPLIT}#176;"),
            ("¶ß", f"#182;{SPLIT}ß"),
        ],
        ids=repr,
    )
    def test_pairs_mermaid_would_interpret_are_split(self, text: str, label: str) -> None:
        """A pair Mermaid reads as syntax after decoding (``\\n``, ``$$``, ``:fa-``, its placeholders) gets ``SPLIT`` between its characters."""
        assert escape_label(text) == label

    @pytest.mark.parametrize("text", ["a\\b", "n\\", "$x$", "a:b", "fa-x", "°ﬂ", "ß¶"], ids=repr)
    def test_harmless_neighbours_are_not_split(self, text: str) -> None:
        """The same characters in other orders or company get no ``SPLIT``."""
        assert SPLIT not in escape_label(text)


class TestInvalidGroups:
    def test_cycle_edges_are_styled_red(self) -> None:
        """Both edges of a 2-cycle get a red ``linkStyle`` by their index, and both nodes the cycle class."""
        group = PipelineGroup(name="g", steps=(PipelineStep("a", "p", depends_on=("b",)), PipelineStep("b", "p", depends_on=("a",)), PipelineStep("c", "p")))
        lines = to_mermaid(build_graph_view(group)).splitlines()
        edges = [line.strip() for line in lines if EDGE_LINE.match(line)]
        assert sorted(edges) == ["n0 --> n1", "n1 --> n0"]
        assert "    linkStyle 0,1 stroke:#d1242f,stroke-width:2px" in lines
        classes = {m["id"]: m["cls"] for m in map(NODE_LINE.match, lines) if m}
        assert classes == {"n0": "cycle", "n1": "cycle", "n2": "critical"}

    def test_self_dependency_is_a_red_loop(self) -> None:
        """A self-dependency is an edge from the node to itself, styled red."""
        group = PipelineGroup(name="g", steps=(PipelineStep("a", "p"), PipelineStep("b", "p", depends_on=("a", "b"))))
        lines = to_mermaid(build_graph_view(group)).splitlines()
        edges = [line.strip() for line in lines if EDGE_LINE.match(line)]
        assert "n1 --> n1" in edges
        assert f"    linkStyle {edges.index('n1 --> n1')} stroke:#d1242f,stroke-width:2px" in lines

    def test_missing_dependency_is_a_dotted_ghost(self) -> None:
        """A missing dependency is a ghost node ``g0`` with the ghost class and a dotted edge."""
        group = PipelineGroup(name="g", steps=(PipelineStep("a", "p", depends_on=("nope",)),))
        lines = to_mermaid(build_graph_view(group)).splitlines()
        assert '    g0["missing: nope"]:::ghost' in lines
        assert "    g0 -.-> n0" in lines

    def test_critical_path_edges_are_thick(self) -> None:
        """Critical-path edges use ``==>``, other dependencies ``-->``."""
        group = PipelineGroup(name="g", steps=(PipelineStep("a", "p"), PipelineStep("b", "p", depends_on=("a",)), PipelineStep("c", "p", depends_on=("b",)), PipelineStep("x", "p", depends_on=("a",))))
        lines = to_mermaid(build_graph_view(group)).splitlines()
        assert {"    n0 ==> n1", "    n1 ==> n2", "    n0 --> n3"} <= set(lines)


class TestDirection:
    def test_direction_lr(self) -> None:
        """``direction="LR"`` starts the chart with ``flowchart LR``."""
        group = PipelineGroup(name="g", steps=(PipelineStep("a", "p"),))
        assert to_mermaid(build_graph_view(group), direction="LR").startswith("flowchart LR\n")

    def test_unknown_direction_is_refused(self) -> None:
        """A direction other than TB, LR, BT, RL raises ValueError."""
        group = PipelineGroup(name="g", steps=(PipelineStep("a", "p"),))
        with pytest.raises(ValueError, match="direction"):
            to_mermaid(build_graph_view(group), direction="LR\nclick n0 call x()")


def invalid_group() -> PipelineGroup:
    """A 2-cycle, a self-dependency and a missing dependency."""
    return PipelineGroup(name="g", steps=(PipelineStep("a", "p", depends_on=("b", "a", "nope")), PipelineStep("b", "p", depends_on=("a",))))


#: Elements a label may hold once Mermaid has rendered it: its paragraph, spine's
#: ``<br/><small>`` and the empty ``SPLIT`` spans. Anything else (``i`` for an icon, KaTeX's
#: ``math``/``span.katex``, ``strong``/``em`` from markdown) means a name was interpreted.
RENDERED_TAGS = {"p", "br", "small", "span"}


def shown(group: PipelineGroup) -> dict[str, str]:
    """Node id → what its label must show: ``name`` and ``pipeline`` on two lines for a step, ``missing: name`` for a ghost."""
    return {
        n.id: f"missing: {n.name}" if n.kind is NodeKind.GHOST else f"{n.name}\n{n.pipeline}"
        for n in build_graph_view(group).nodes
    }


def assert_shows_as_written(mermaid: MermaidWorker, group: PipelineGroup) -> None:
    """Mermaid renders ``group``'s chart, each label shows :func:`shown`, with no element but :data:`RENDERED_TAGS`."""
    rendered = mermaid.render(to_mermaid(build_graph_view(group)))
    assert rendered["error"] is None, rendered["error"]
    labels = rendered["labels"]
    assert {nid: label["text"] for nid, label in labels.items()} == shown(group)
    for nid, label in labels.items():
        assert set(label["tags"]) <= RENDERED_TAGS, (nid, label)


#: Valid step names dense in what Mermaid might interpret: backslashes before ``n``,
#: dollars, ``fa:fa-``, its placeholder characters, markdown and HTML pieces.
TRICKY_PIECES = ("\\", "n", "\\n", "$", "$$", ":", "fa-", "fa:fa-", "ﬂ", "°", "ﬂ°°", "¶", "ß", "¶ß", "*", "_", "`", "<br>", "&", "#", ";", " ", "x")
tricky_names = (
    st.lists(st.sampled_from(TRICKY_PIECES), min_size=1, max_size=10).map("".join).filter(lambda n: step_name_problem(n) is None)
)


@pytest.mark.needs_mermaid
class TestMermaidItself:
    @pytest.mark.parametrize(
        "group",
        [g for _, g in EXAMPLES] + [invalid_group()],
        ids=[s for s, _ in EXAMPLES] + ["invalid"],
    )
    @pytest.mark.parametrize("direction", ["TB", "LR"])
    def test_chart_parses_and_renders(self, mermaid: MermaidWorker, group: PipelineGroup, direction: str) -> None:
        """Mermaid parses and renders the chart of each example and of an invalid group, in both directions."""
        rendered = mermaid.render(to_mermaid(build_graph_view(group), direction=direction))
        assert rendered["error"] is None, rendered["error"]
        assert set(rendered["labels"]) == {n.id for n in build_graph_view(group).nodes}

    @pytest.mark.parametrize("name", HOSTILE_NAMES, ids=repr)
    def test_hostile_name_shows_as_written(self, mermaid: MermaidWorker, name: str) -> None:
        """Mermaid shows a hostile step and pipeline name, and a ghost's, exactly as written: no line break, icon, math or markup."""
        assert_shows_as_written(mermaid, hostile_group(name))

    @settings(max_examples=40, deadline=None)
    @given(tricky_names)
    def test_any_tricky_name_shows_as_written(self, mermaid: MermaidWorker, name: str) -> None:
        """For any valid name made of the characters Mermaid might interpret, every label shows exactly as written."""
        assert_shows_as_written(mermaid, hostile_group(name))

    @settings(max_examples=30, deadline=None)
    @given(groups(max_steps=6, names=step_names()))
    def test_any_group_shows_as_written(self, mermaid: MermaidWorker, group: PipelineGroup) -> None:
        """For any valid group with awkward names, Mermaid renders it and each node shows its name and pipeline as written."""
        assert_shows_as_written(mermaid, group)
