"""``spine group graph NAME|FILE [--format dot|svg|mermaid] [--direction] [-o FILE]`` through the real entry point."""

from __future__ import annotations

import os
import re
import subprocess
import sys
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest

from spine.orchestration import load_groups
from spine.render import build_graph_view, to_dot, to_mermaid

REPO = Path(__file__).resolve().parents[1]
FINRA = REPO / "examples" / "groups" / "finra_weekly_refresh.yaml"
SVG = "{http://www.w3.org/2000/svg}"

BROKEN = """\
apiVersion: spine.io/v1
kind: PipelineGroup
metadata:
  name: broken.group
spec:
  pipelines:
    - name: a
      pipeline: p.a
      depends_on: [c]
    - name: b
      pipeline: p.b
      depends_on: [a, nope]
    - name: c
      pipeline: p.c
      depends_on: [b]
"""

HOSTILE = """\
apiVersion: spine.io/v1
kind: PipelineGroup
metadata: {name: hostile.names}
spec:
  pipelines:
    - {name: '<script>alert(1)</script>', pipeline: 'a -> b'}
    - {name: '<img src=x onerror=alert(1)>', pipeline: '{ }', depends_on: ['<script>alert(1)</script>']}
    - {name: 'trailing\\', pipeline: '"quoted"', depends_on: ['<img src=x onerror=alert(1)>']}
"""

TWO = """\
apiVersion: spine.io/v1
kind: PipelineGroup
metadata: {name: first}
spec:
  pipelines: [{name: a, pipeline: p.a}]
---
apiVersion: spine.io/v1
kind: PipelineGroup
metadata: {name: second}
spec:
  pipelines: [{name: x, pipeline: p.x}, {name: y, pipeline: p.y, depends_on: [x]}]
"""


def svg_texts(svg: str) -> list[str]:
    return ["".join(t.itertext()).replace("\xa0", " ") for t in ET.fromstring(svg).iter(f"{SVG}text")]


@pytest.fixture
def finra() -> object:
    return load_groups(FINRA)[0]


class TestFormats:
    def test_dot_is_the_default(self, in_tmp: Path, invoke, finra) -> None:
        """Without ``--format`` the command prints the group's DOT and exits 0."""
        code, out, _ = invoke("group", "graph", str(FINRA))
        assert code == 0
        assert out == to_dot(build_graph_view(finra))

    def test_mermaid(self, in_tmp: Path, invoke, finra) -> None:
        """``--format mermaid`` prints the Mermaid flowchart."""
        code, out, _ = invoke("group", "graph", str(FINRA), "--format", "mermaid")
        assert code == 0
        assert out == to_mermaid(build_graph_view(finra))

    @pytest.mark.needs_dot
    def test_svg(self, in_tmp: Path, invoke, finra) -> None:
        """``--format svg`` prints Graphviz's SVG with every step drawn."""
        code, out, _ = invoke("group", "graph", str(FINRA), "--format", "svg")
        assert code == 0
        texts = svg_texts(out)
        assert {s.name for s in finra.steps} <= set(texts)

    def test_unknown_format_is_a_usage_error(self, in_tmp: Path, invoke) -> None:
        """An unknown ``--format`` exits 2 and names the allowed formats, writing nothing to stdout."""
        code, out, err = invoke("group", "graph", str(FINRA), "--format", "png")
        assert code == 2 and out == ""
        assert "png" in err and "mermaid" in err

    def test_missing_file_is_a_usage_error(self, in_tmp: Path, invoke) -> None:
        """A file that does not exist exits 2."""
        code, out, err = invoke("group", "graph", "nope.yaml")
        assert code == 2 and out == ""
        assert "nope.yaml" in err


class TestOptions:
    @pytest.mark.parametrize("fmt", ["dot", "mermaid", pytest.param("svg", marks=pytest.mark.needs_dot)])
    def test_output_file(self, in_tmp: Path, invoke, fmt: str) -> None:
        """``-o FILE`` writes the graph there (creating folders), prints nothing on stdout and says where on stderr."""
        code, out, err = invoke("group", "graph", str(FINRA), "--format", fmt, "-o", f"out/g.{fmt}")
        assert code == 0 and out == ""
        assert "out/g." in err
        written = (in_tmp / "out" / f"g.{fmt}").read_text(encoding="utf-8")
        code2, stdout_text, _ = invoke("group", "graph", str(FINRA), "--format", fmt)
        assert written.strip() == stdout_text.strip()

    def test_direction_lr_dot(self, in_tmp: Path, invoke) -> None:
        """``--direction LR`` lays the DOT out left to right."""
        code, out, _ = invoke("group", "graph", str(FINRA), "--direction", "LR")
        assert code == 0
        assert re.search(r"\brankdir=LR\b", out) and "rankdir=TB" not in out

    def test_direction_is_case_insensitive(self, in_tmp: Path, invoke) -> None:
        """``--direction lr`` is accepted and gives ``flowchart LR``."""
        code, out, _ = invoke("group", "graph", str(FINRA), "--format", "mermaid", "--direction", "lr")
        assert code == 0 and out.startswith("flowchart LR\n")

    def test_bad_direction_is_a_usage_error(self, in_tmp: Path, invoke) -> None:
        """An unknown ``--direction`` exits 2."""
        code, _, _ = invoke("group", "graph", str(FINRA), "--direction", "diagonal")
        assert code == 2

    def test_group_option_picks_one_of_several(self, in_tmp: Path, invoke) -> None:
        """A file with several groups needs ``--group``: without it exit 2, with it the named group is drawn."""
        (in_tmp / "two.yaml").write_text(TWO)
        code, _, err = invoke("group", "graph", "two.yaml", "--format", "mermaid")
        assert code == 2 and "--group" in err
        code, out, _ = invoke("group", "graph", "two.yaml", "--format", "mermaid", "--group", "second")
        assert code == 0
        assert '["x<br/><small>p.x</small>"]' in out and "n0 ==> n1" in out

    def test_registered_group_by_name(self, monkeypatch: pytest.MonkeyPatch, invoke) -> None:
        """A group name from the configured ``[tool.spine] groups`` is drawn like its file."""
        monkeypatch.chdir(REPO)
        for var in [v for v in os.environ if v.startswith("SPINE_")]:
            monkeypatch.delenv(var)
        code, out, err = invoke("group", "graph", "finra.weekly_refresh", "--format", "mermaid")
        assert code == 0, err
        assert out == to_mermaid(build_graph_view(load_groups(FINRA)[0]))


class TestInvalidGroups:
    @pytest.mark.parametrize("fmt", ["dot", "mermaid", pytest.param("svg", marks=pytest.mark.needs_dot)])
    def test_invalid_group_is_drawn_and_exits_1(self, in_tmp: Path, invoke, fmt: str) -> None:
        """An invalid group is still drawn (cycle and ghost included), and the command exits 1."""
        (in_tmp / "broken.yaml").write_text(BROKEN)
        code, out, _ = invoke("group", "graph", "broken.yaml", "--format", fmt)
        assert code == 1
        if fmt == "svg":
            assert {"a", "b", "c", "missing: nope"} <= set(svg_texts(out))
        else:
            assert "missing: nope" in out and "g0" in out

    def test_findings_go_to_stderr_with_positions(self, in_tmp: Path, invoke) -> None:
        """The findings are printed on stderr, each with ``file:line:column`` and its code; stdout stays clean DOT."""
        (in_tmp / "broken.yaml").write_text(BROKEN)
        code, out, err = invoke("group", "graph", "broken.yaml")
        assert code == 1
        assert "broken.yaml:12:23: error missing-dependency [b]:" in err
        assert re.search(r"broken\.yaml:\d+:\d+: error cycle \[\w\]: dependency cycle: ", err)
        assert out.startswith("digraph spine {") and out.rstrip().endswith("}")
        assert "missing-dependency" not in out

    @pytest.mark.needs_dot
    def test_hostile_names_give_svg(self, in_tmp: Path, invoke) -> None:
        """A group of hostile names is drawn as SVG (exit 0) with every name exactly as text."""
        (in_tmp / "h.yaml").write_text(HOSTILE, encoding="utf-8")
        code, out, err = invoke("group", "graph", "h.yaml", "--format", "svg")
        assert code == 0, err
        texts = svg_texts(out)
        for name in ("<script>alert(1)</script>", "<img src=x onerror=alert(1)>", "trailing\\", "a -> b", "{ }", '"quoted"'):
            assert name in texts


class TestWithoutGraphviz:
    def test_svg_without_dot_exits_2_with_install_hint(self, in_tmp: Path, invoke, monkeypatch: pytest.MonkeyPatch) -> None:
        """With ``dot`` missing, ``--format svg`` exits 2 and says how to install Graphviz."""
        monkeypatch.setenv("SPINE_DOT", "/nonexistent/dot")
        code, out, err = invoke("group", "graph", str(FINRA), "--format", "svg", "-o", "g.svg")
        assert code == 2 and out == ""
        assert "apt-get install graphviz" in err and "brew install graphviz" in err
        assert not (in_tmp / "g.svg").exists()

    @pytest.mark.parametrize("fmt", ["dot", "mermaid"])
    def test_dot_and_mermaid_work_without_dot(self, in_tmp: Path, invoke, monkeypatch: pytest.MonkeyPatch, fmt: str) -> None:
        """With ``dot`` missing, DOT and Mermaid output still work."""
        monkeypatch.setenv("SPINE_DOT", "/nonexistent/dot")
        code, out, _ = invoke("group", "graph", str(FINRA), "--format", fmt)
        assert code == 0 and "ingest" in out


def test_installed_script(tmp_path: Path) -> None:
    """The installed ``spine`` script draws Mermaid from a file, in a subprocess."""
    exe = Path(sys.executable).with_name("spine")
    assert exe.exists(), exe
    env = {k: v for k, v in os.environ.items() if not k.startswith("SPINE_")}
    proc = subprocess.run(
        [str(exe), "group", "graph", str(FINRA), "--format", "mermaid", "--direction", "LR"],
        capture_output=True, text=True, cwd=tmp_path, env=env, timeout=60, check=False,
    )
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.startswith("flowchart LR\n") and "n3" in proc.stdout
