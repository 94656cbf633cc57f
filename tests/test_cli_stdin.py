"""``-`` as a path: validate, plan, graph, show and report read YAML from stdin."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from click.testing import CliRunner

GROUP = """\
apiVersion: spine.io/v1
kind: PipelineGroup
metadata:
  name: demo.piped
spec:
  pipelines:
    - name: a
      pipeline: x.a
    - name: b
      pipeline: x.b
      depends_on: [a]
"""

BROKEN = GROUP.replace("depends_on: [a]", "depends_on: [nowhere]")
TWO = GROUP + "---\n" + GROUP.replace("demo.piped", "demo.other")


class _Run:
    """:func:`spine.cli.app.run` as CliRunner wants it (a command with ``main``)."""

    name = "spine"

    def main(self, args: list[str] | None = None, **_: object) -> None:
        from spine.cli.app import run

        raise SystemExit(run(list(args or [])))


@pytest.fixture
def piped(in_tmp: Path):
    """``piped(stdin_text, *args) -> (exit_code, stdout, stderr)`` with no configuration."""

    def _invoke(stdin: str | bytes, *args: str) -> tuple[int, str, str]:
        result = CliRunner().invoke(_Run(), ["--config", "/dev/null", *args], input=stdin, catch_exceptions=False)
        return result.exit_code, result.stdout, result.stderr

    return _invoke


class TestStdin:
    def test_validate_reads_stdin(self, piped) -> None:
        """validate - checks the group piped in and names it <stdin>."""
        code, out, err = piped(GROUP, "group", "validate", "-")
        assert code == 0, err
        assert out.startswith("<stdin>\n")
        assert "demo.piped" in out

    def test_findings_name_stdin_with_line_and_column(self, piped) -> None:
        """A finding in piped YAML is located as <stdin>:LINE:COLUMN."""
        code, out, _ = piped(BROKEN, "group", "validate", "-", "--format", "json")
        assert code == 1
        (finding,) = [f for f in json.loads(out)["findings"] if f["code"] == "missing-dependency"]
        assert (finding["file"], finding["line"], finding["column"]) == ("<stdin>", 11, 20)

    def test_stdin_among_files(self, piped, in_tmp: Path) -> None:
        """validate a.yaml - keeps the order of the arguments: the file, then stdin."""
        (in_tmp / "a.yaml").write_text(GROUP.replace("demo.piped", "demo.file"))
        code, out, _ = piped(GROUP, "group", "validate", "a.yaml", "-", "--format", "json")
        assert code == 0
        assert [(g["file"], g["name"]) for g in json.loads(out)["groups"]] == [("a.yaml", "demo.file"), ("<stdin>", "demo.piped")]

    def test_stdin_twice_is_a_usage_error(self, piped) -> None:
        """Giving - twice is a usage error (stdin can be read once)."""
        code, _, err = piped(GROUP, "group", "validate", "-", "-")
        assert code == 2
        assert "only once" in err

    def test_plan_reads_stdin(self, piped) -> None:
        """plan - resolves the piped group."""
        code, out, err = piped(GROUP, "group", "plan", "-", "--json")
        assert code == 0, err
        assert [s["name"] for s in json.loads(out)["steps"]] == ["a", "b"]

    def test_plan_several_groups_need_group(self, piped) -> None:
        """plan - with two groups piped in asks for --group, and --group picks one."""
        code, _, err = piped(TWO, "group", "plan", "-")
        assert code == 2 and "--group" in err
        code, out, _ = piped(TWO, "group", "plan", "-", "--group", "demo.other", "--json")
        assert code == 0
        assert json.loads(out)["group"]["name"] == "demo.other"

    def test_graph_reads_stdin(self, piped) -> None:
        """graph - --format mermaid draws the piped group."""
        code, out, _ = piped(GROUP, "group", "graph", "-", "--format", "mermaid")
        assert code == 0
        assert out.startswith("flowchart TB")

    def test_graph_of_invalid_stdin_names_stdin(self, piped) -> None:
        """graph - of an invalid group exits 1 with findings located in <stdin>."""
        code, _, err = piped(BROKEN, "group", "graph", "-")
        assert code == 1
        assert "<stdin>:11:20: error missing-dependency" in err

    def test_show_reads_stdin(self, piped) -> None:
        """show - --format json prints the piped group."""
        code, out, _ = piped(GROUP, "group", "show", "-", "--format", "json")
        assert code == 0
        assert json.loads(out)["metadata"]["name"] == "demo.piped"

    def test_report_reads_stdin(self, piped, in_tmp: Path) -> None:
        """report - -o page.html writes the page of the piped group."""
        code, _, err = piped(GROUP, "group", "report", "-", "-o", "page.html", "--no-svg")
        assert code == 0, err
        assert "demo.piped" in (in_tmp / "page.html").read_text()

    def test_yaml_syntax_error_on_stdin(self, piped) -> None:
        """Broken YAML on stdin is a located finding (exit 1), not a traceback."""
        code, out, _ = piped("a:\n\tb: 1\n", "group", "validate", "-")
        assert code == 1
        assert "<stdin>:2:1: error yaml-syntax" in out

    def test_empty_stdin_is_a_finding(self, piped) -> None:
        """Nothing on stdin is an empty-file finding (exit 1)."""
        code, out, _ = piped("", "group", "validate", "-")
        assert code == 1
        assert "<stdin>:1:1: error empty-file" in out

    def test_stdin_over_the_size_limit(self, piped) -> None:
        """Piped YAML over --max-file-size is refused as file-too-large."""
        code, out, _ = piped(GROUP, "group", "validate", "-", "--max-file-size", "50")
        assert code == 1
        assert "file-too-large" in out

    def test_a_terminal_on_stdin_is_a_usage_error(self, in_tmp: Path, monkeypatch: pytest.MonkeyPatch) -> None:
        """- with a terminal on stdin stops with a usage error instead of waiting for typing."""
        from spine.cli.workspace import UsageProblem, Workspace
        from spine.config import load_settings

        class _Tty:
            def isatty(self) -> bool:
                return True

        monkeypatch.setattr("sys.stdin", _Tty())
        with pytest.raises(UsageProblem, match="stdin is a terminal"):
            Workspace(load_settings(config_file=Path("/dev/null"))).read_stdin()
