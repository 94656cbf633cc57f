"""``to_mermaid``: golden Mermaid for the examples; no name can break the flowchart syntax.

Validation with Mermaid's own parser: ``@mermaid-js/mermaid-cli`` needs a headless browser
download (puppeteer), which is not allowed here, so it is not used. The ``mermaid`` npm
package itself installs without a browser and its ``mermaid.parse`` runs under Node with
``jsdom`` providing the DOM, but it needs a network install (~180 MB) and ~5 s to start,
so that test is opt-in: install once with
``npm install --prefix DIR --ignore-scripts mermaid@11 jsdom`` and run with
``SPINE_MERMAID_NODE_MODULES=DIR/node_modules``; otherwise it is skipped.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
from pathlib import Path

import pytest
from _golden import check_golden
from hypothesis import given
from hypothesis import strategies as st

from spine.orchestration import PipelineGroup, PipelineStep, load_groups
from spine.render import build_graph_view, to_mermaid
from spine.render.mermaid import escape_label

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
)

#: Characters that must never appear raw inside a label (only as ``#NN;`` codes).
FORBIDDEN = set('<>"[](){}|`;')
NODE_LINE = re.compile(r'^    (?P<id>[ng]\d+)\["(?P<label>[^"]*)"\](?::::(?P<cls>\w+))?$')
EDGE_LINE = re.compile(r"^    (?P<src>[ng]\d+) (?P<arrow>-->|==>|-\.->) (?P<dst>[ng]\d+)$")
#: spine's own markup around the pipeline name in a step's label.
PIPELINE_MARKUP = re.compile(r"^(?P<name>.*)<br/><small>(?P<pipeline>.*)</small>$")


def decode(label: str) -> str:
    """Undo :func:`escape_label`: ``#NN;`` → the character with code point NN."""
    return re.sub(r"#([0-9]+);", lambda m: chr(int(m.group(1))), label)


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
        check_golden(f"mermaid/{stem}.mmd", to_mermaid(build_graph_view(group)))

    @pytest.mark.parametrize(("stem", "group"), EXAMPLES, ids=[s for s, _ in EXAMPLES])
    def test_every_line_is_a_known_statement(self, stem: str, group: PipelineGroup) -> None:
        """Each line is the header, a node, an edge or a style line — nothing else leaks in."""
        lines = to_mermaid(build_graph_view(group)).splitlines()
        assert lines[0] == "flowchart TB"
        for line in lines[1:]:
            assert NODE_LINE.match(line) or EDGE_LINE.match(line) or line.startswith(("    classDef ", "    linkStyle ")), line


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
                raw = re.sub(r"#[0-9]+;", "", part)
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
        """For any text, ``escape_label`` uses only letters, digits, space, ``_ . -`` and
        ``#NN;`` codes (so it can never close a label or open markup), and decoding the
        codes gives back exactly the original text."""
        out = escape_label(text)
        stripped = re.sub(r"#[0-9]+;", "", out)
        assert all((ch.isalnum() and ch.isprintable()) or ch in " _.-" for ch in stripped), out
        assert decode(out) == text

    def test_plain_names_are_kept_readable(self) -> None:
        """Letters, digits, ``_ . -`` and spaces are not encoded, so the Markdown source stays readable."""
        assert escape_label("finra.otc_transparency ingest-week 2") == "finra.otc_transparency ingest-week 2"


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


_MERMAID_MODULES = os.environ.get("SPINE_MERMAID_NODE_MODULES")
_PARSE_JS = r"""
import { createRequire } from "module";
const require = createRequire(process.env.SPINE_MERMAID_NODE_MODULES + "/");
const { JSDOM } = require("jsdom");
const dom = new JSDOM("<!DOCTYPE html><body></body>");
globalThis.window = dom.window; globalThis.document = dom.window.document;
const { default: mermaid } = await import(require.resolve("mermaid"));
mermaid.initialize({ startOnLoad: false });
let text = "";
for await (const chunk of process.stdin) text += chunk;
let bad = 0;
for (const doc of text.split("\n%%----\n")) {
  try { await mermaid.parse(doc); } catch (e) { bad++; console.log(String(e.message || e)); console.log(doc); }
}
process.exit(bad ? 1 : 0);
"""


@pytest.mark.skipif(
    not (_MERMAID_MODULES and shutil.which("node")),
    reason="opt-in: set SPINE_MERMAID_NODE_MODULES to a node_modules with mermaid@11 and jsdom (see module docstring)",
)
def test_mermaid_parser_accepts_every_chart(tmp_path: Path) -> None:
    """Mermaid's own parser accepts the charts of the examples, of every hostile name, and of invalid groups."""
    charts = [to_mermaid(build_graph_view(g)) for _, g in EXAMPLES]
    charts += [to_mermaid(build_graph_view(hostile_group(n))) for n in HOSTILE_NAMES]
    cyc = PipelineGroup(name="g", steps=(PipelineStep("a", "p", depends_on=("b", "a", "nope")), PipelineStep("b", "p", depends_on=("a",))))
    charts.append(to_mermaid(build_graph_view(cyc), direction="LR"))
    script = tmp_path / "parse.mjs"
    script.write_text(_PARSE_JS)
    proc = subprocess.run(
        ["node", str(script)], input="\n%%----\n".join(charts), capture_output=True, text=True, timeout=60, check=False
    )
    assert proc.returncode == 0, proc.stdout + proc.stderr
