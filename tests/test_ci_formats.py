"""CI formats of ``spine group validate``: JUnit (read back by junitparser), GitHub commands, Markdown."""

from __future__ import annotations

import re
from collections.abc import Sequence
from pathlib import Path

import pytest
import yaml
from junitparser import Failure, JUnitXml

from spine.check import CheckSettings, FileCheck, GroupCheck, ValidationReport, check_paths
from spine.core.escape import github_data, github_property, markdown_code, markdown_text
from spine.core.findings import Finding, Severity
from spine.render.github import github_commands, to_github
from spine.render.junit import to_junit
from spine.render.markdown import MAX_MERMAID_CHARS, to_markdown

REPO = Path(__file__).resolve().parents[1]

HOSTILE = [
    "<script>alert(1)</script>",
    'say "hi" & \'bye\'',
    "]]><![CDATA[x",
    "&amp; &lt; &#0;",
    "ИНГЕСТ → 数据 🚀 مرحبا",
    "a|b|c `tick` ``two`` *bold* _it_ [link](http://x) ![i](y) ~~s~~ $x$ @octocat #1",
    "back\\slash\\|pipe",
    "esc \x1b[31m red \x07 bell \x00 nul",
    "surrogate \udc80 from a file name",
]


def validate_like(paths: Sequence[str | Path], *, strict: bool = False) -> ValidationReport:
    """What ``spine group validate`` checks (errors and lint warnings, no pipelines)."""
    return check_paths(paths, CheckSettings(strict=strict))


GOOD = """apiVersion: spine.io/v1
kind: PipelineGroup
metadata: {name: good}
spec:
  pipelines:
    - {name: a, pipeline: p.a}
    - {name: b, pipeline: p.b, depends_on: [a]}
"""
WARNED = """apiVersion: spine.io/v1
kind: PipelineGroup
metadata: {name: warned}
spec:
  pipelines:
    - {name: a, pipeline: p.a}
    - {name: b, pipeline: p.b, depends_on: [a]}
    - {name: c, pipeline: p.c, depends_on: [a, b]}
"""
BROKEN = """apiVersion: spine.io/v1
kind: PipelineGroup
metadata: {name: broken}
spec:
  pipelines:
    - name: "<script>alert(1)</script>"
      pipeline: p.a
      depends_on: ["a|b`c]]>&\\"'"]
    - name: "a|b`c]]>&\\"'"
      pipeline: p.b
      depends_on: ["<script>alert(1)</script>", "ghost *x* _y_ [z]"]
"""


@pytest.fixture
def files(tmp_path: Path) -> Path:
    """Two files: one with a good and a warned group, one with a broken group (hostile names)."""
    (tmp_path / "a.yaml").write_text(GOOD + "---\n" + WARNED, encoding="utf-8")
    (tmp_path / "b <&>.yaml").write_text(BROKEN, encoding="utf-8")
    return tmp_path


def hostile_report(*, strict: bool = False, extra: Sequence[Finding] = ()) -> ValidationReport:
    """One group per hostile name, each in its own hostile file, with one hostile error each."""
    files = []
    for i, name in enumerate(HOSTILE):
        file = f"dir/{name}.yaml"
        f = Finding(f"code-{i}", f"message about {name}\nsecond line\r\n100% sure, really: yes",
                    file=file, line=i + 1, column=2, group=name, step=name)
        files.append(FileCheck(file, (GroupCheck(file, 0, name, None, (f,)),)))
    return ValidationReport(tuple(files), tuple(extra), strict=strict)


def xml_visible(text: str) -> str:
    """What to_junit promises for text XML cannot hold: ``\\uXXXX`` escapes."""
    return re.sub("[^\t\n\r\u0020-\ud7ff\ue000-\ufffd\U00010000-\U0010ffff]", lambda m: f"\\u{ord(m.group()):04x}", text)


# -- JUnit ----------------------------------------------------------------------------


class TestJUnit:
    def test_suites_cases_and_failures(self, files: Path) -> None:
        """One suite per file, one case per group, a failure per invalid group; warnings in system-out."""
        xml = JUnitXml.fromstring(to_junit(validate_like([files])).encode("utf-8"))
        suites = {s.name: s for s in xml}
        assert set(suites) == {str(files / "a.yaml"), str(files / "b <&>.yaml")}
        a = suites[str(files / "a.yaml")]
        assert (a.tests, a.failures, a.errors, a.skipped) == (2, 0, 0, 0)
        cases = {c.name: c for c in a}
        assert set(cases) == {"good", "warned"}
        assert cases["good"].is_passed and cases["warned"].is_passed
        assert "redundant-dependency" in (cases["warned"].system_out or "")
        b = suites[str(files / "b <&>.yaml")]
        assert (b.tests, b.failures) == (1, 1)
        (case,) = list(b)
        (failure,) = case.result
        assert isinstance(failure, Failure)
        assert "cycle" in failure.message and "missing-dependency" in failure.message
        assert "<script>alert(1)</script>" in failure.text and "a|b`c]]>&\"'" in failure.text
        assert (xml.tests, xml.failures) == (3, 1)

    def test_strict_makes_warnings_failures(self, files: Path) -> None:
        """With strict, a group with only warnings fails and its failure lists them."""
        xml = JUnitXml.fromstring(to_junit(validate_like([files], strict=True)).encode("utf-8"))
        cases = {c.name: c for s in xml for c in s}
        assert cases["good"].is_passed
        assert cases["warned"].is_failure
        assert "redundant-dependency" in cases["warned"].result[0].text
        assert xml.failures == 2

    def test_hostile_names_round_trip(self, tmp_path: Path) -> None:
        """Markup, quotes, ``]]>``, ``&``, unicode and control characters survive a real parser."""
        report = hostile_report()
        text = to_junit(report)
        path = tmp_path / "junit.xml"
        path.write_text(text, encoding="utf-8")
        xml = JUnitXml.fromfile(str(path))
        suites = list(xml)
        assert [s.name for s in suites] == [xml_visible(g.file) for g in report.groups]
        for suite, g, f in zip(suites, report.groups, report.all_findings(), strict=True):
            (case,) = list(suite)
            assert case.name == xml_visible(g.name)
            assert case.classname == xml_visible(g.file)
            (failure,) = case.result
            assert failure.type == f.code
            assert xml_visible(f.message).replace("\r\n", "\n") in failure.text.replace("\r\n", "\n")
        assert "<script>" not in text  # escaped, not markup

    def test_unloaded_documents_and_stray_findings(self) -> None:
        """A document that did not load is a named failing case; stray findings get their own suite."""
        unloaded = GroupCheck("x.yaml", 1, None, None, (Finding("yaml-syntax", "bad", file="x.yaml", line=3),))
        report = ValidationReport((FileCheck("x.yaml", (unloaded,)),), (Finding("other", "loose", file="y.yaml"),))
        xml = JUnitXml.fromstring(to_junit(report).encode("utf-8"))
        names = {s.name: [c.name for c in s] for s in xml}
        assert names["x.yaml"] == ["document 2 (not loaded)"]
        assert names["spine"] == ["findings outside any group"]

    def test_empty_input_is_well_formed(self) -> None:
        """No groups still gives a valid, empty report."""
        xml = JUnitXml.fromstring(to_junit(ValidationReport(())).encode("utf-8"))
        assert xml.tests == 0 and list(xml) == []


# -- GitHub ---------------------------------------------------------------------------

_VALUE = r"(?:[^,:%\r\n]|%25|%3A|%2C|%0D|%0A)*"
GITHUB_LINE = re.compile(
    rf"^::(?P<level>error|warning)"
    rf" (?P<props>(?:file={_VALUE},)?(?:line=[1-9][0-9]*,)?(?:col=[1-9][0-9]*,)?title={_VALUE})"
    rf"::(?P<message>(?:[^%\r\n]|%25|%0D|%0A)*)$"
)


def unescape(text: str) -> str:
    codes = {"%25": "%", "%0D": "\r", "%0A": "\n", "%3A": ":", "%2C": ","}
    return re.sub(r"%(25|0D|0A|3A|2C)", lambda m: codes[m.group()], text)


def parse_github(text: str) -> list[dict[str, str]]:
    """Every line matched against the documented syntax, properties and message decoded."""
    out = []
    assert text.endswith("\n")
    for line in text.splitlines():
        m = GITHUB_LINE.match(line)
        assert m, line
        props = dict(p.split("=", 1) for p in m.group("props").split(","))
        out.append({"level": m.group("level"), **{k: unescape(v) for k, v in props.items()}, "message": unescape(m.group("message"))})
    return out


class TestGitHub:
    def test_one_command_per_finding(self, files: Path) -> None:
        """Errors and warnings become ::error / ::warning lines with file, line, col and title."""
        findings = list(validate_like([files]).all_findings())
        parsed = parse_github(github_commands(findings))
        assert len(parsed) == len(findings)
        for p, f in zip(parsed, findings, strict=True):
            assert p["level"] == f.severity.value
            assert p["file"] == f.file and p["title"] == f.code
            assert p["line"] == str(f.line) and p["col"] == str(f.column)
            assert p["message"].endswith(f.message)

    def test_hostile_text_is_escaped(self) -> None:
        """``%``, CR, LF, ``:`` and ``,`` are escaped where the rules say; decoding gives the original."""
        findings = list(hostile_report().all_findings())
        findings.append(Finding("c:o,d%e", "100%\r\n::error::injected", file="a,b:c%d.yaml", line=1, column=1))
        text = github_commands(findings)
        parsed = parse_github(text)
        assert len(parsed) == len(findings)
        for p, f in zip(parsed, findings, strict=True):
            assert p["file"] == f.file and p["title"] == f.code
            assert p["message"].endswith(f.message)
        assert "\n::error::injected" not in text

    def test_unknown_positions_are_omitted(self) -> None:
        """No line without a file, no col without a line; a DSL finding has only a title."""
        text = github_commands(
            [
                Finding("a", "m", file="f.yaml"),
                Finding("b", "m", file="f.yaml", line=3),
                Finding("c", "m", line=3, column=4),
            ]
        )
        assert text.splitlines() == [
            "::error file=f.yaml,title=a::m",
            "::error file=f.yaml,line=3,title=b::m",
            "::error title=c::m",
        ]

    def test_strict_and_root(self) -> None:
        """strict writes warnings as errors; root makes absolute paths relative."""
        f = Finding("w", "m", severity=Severity.WARNING, file="/ws/repo/groups/g.yaml", line=1, column=1, group="g")
        report = ValidationReport((), (f,))
        assert to_github(report) == "::warning file=/ws/repo/groups/g.yaml,line=1,col=1,title=w::[g] m\n"
        strict = ValidationReport((), (f,), strict=True)
        assert to_github(strict, root="/ws/repo") == "::error file=groups/g.yaml,line=1,col=1,title=w::[g] m\n"
        assert to_github(ValidationReport(())) == ""

    def test_escape_functions(self) -> None:
        """The two escapes follow @actions/core's escapeData and escapeProperty."""
        assert github_data("a%b\rc\nd:e,f") == "a%25b%0Dc%0Ad:e,f"
        assert github_property("a%b\rc\nd:e,f") == "a%25b%0Dc%0Ad%3Ae%2Cf"


# -- Markdown -------------------------------------------------------------------------


def gfm_cells(row: str) -> list[str]:
    """Split a table row the way cmark-gfm does: a ``|`` right after a backslash is content."""
    assert row.startswith("|") and row.endswith("|"), row
    cells, cur, prev = [], "", ""
    for ch in row[1:-1]:
        if ch == "|" and prev != "\\":
            cells.append(cur)
            cur = ""
        else:
            cur += ch
        prev = ch
    cells.append(cur)
    return [c.strip() for c in cells]


def tables(text: str) -> list[list[str]]:
    """Each markdown table as its list of rows."""
    out, cur = [], []
    for line in text.splitlines():
        if line.startswith("|"):
            cur.append(line)
        elif cur:
            out.append(cur)
            cur = []
    if cur:
        out.append(cur)
    return out


CODE_SPAN = re.compile(r"(?<!`)(`+)(?!`)(.+?)(?<!`)\1(?!`)")


def outside_code(cell: str) -> str:
    return CODE_SPAN.sub("", cell)


class TestMarkdown:
    def test_tables_keep_their_columns(self) -> None:
        """Every row of every table has the header's number of cells, whatever the names hold."""
        report = hostile_report()
        text = to_markdown(report, graphs=False)
        found = tables(text)
        assert len(found) == 2
        for rows in found:
            width = len(gfm_cells(rows[0]))
            assert all(len(gfm_cells(r)) == width for r in rows), rows
        assert len(found[0]) == 2 + len(report.groups) and len(found[1]) == 2 + len(list(report.all_findings()))

    def test_no_markup_or_html_outside_code_spans(self) -> None:
        """Outside code spans, ``<``, ``>``, backticks, ``*``, ``_``, ``[`` are escaped; ``@name`` and ``#1`` cannot mention or link."""
        text = to_markdown(hostile_report(), graphs=False)
        for rows in tables(text):
            for row in rows[2:]:
                for cell in gfm_cells(row):
                    rest = outside_code(cell)
                    assert "<" not in rest and ">" not in rest, cell
                    assert not re.search(r"(?<!\\)[`*_\[\]~$]", rest), cell
                    assert not re.search(r"@\w", rest), cell
                    assert not re.search(r"(?<!&)#\d", rest), cell  # an issue link, not an entity
                    assert "\n" not in cell and "\x1b" not in cell

    def test_code_spans_hold_any_backticks(self) -> None:
        """A code span's fence is longer than any backtick run inside it."""
        assert markdown_code("a`b") == "``a`b``"
        assert markdown_code("``x``") == "``` ``x`` ```"
        assert markdown_code("a|b") == "`a\\|b`"
        assert markdown_text("<b>|*x*") == "&lt;b&gt;&#124;\\*x\\*"

    def test_verdict_groups_findings_and_graphs(self, files: Path) -> None:
        """Verdict line, a row per group, a row per finding, and a collapsible Mermaid block per group."""
        report = validate_like([files])
        text = to_markdown(report)
        assert text.startswith("## ❌ spine group validate: INVALID\n")
        assert "**INVALID**: 3 group(s), 1 invalid" in text
        group_table, finding_table = tables(text)
        assert len(group_table) == 2 + 3 and len(finding_table) == 2 + len(list(report.all_findings()))
        assert text.count("<details><summary>") == 3 == text.count("</details>")
        assert text.count("```mermaid\nflowchart TB\n") == 3
        assert "&lt;script&gt;" not in text.split("### Graphs")[1].split("```mermaid")[0]
        summaries = re.findall(r"<summary>(.*?)</summary>", text)
        assert all("<" not in s and ">" not in s for s in summaries)

    def test_valid_and_strict(self, files: Path) -> None:
        """All valid gives a ✅ verdict; strict says warnings fail and marks them ❌."""
        assert to_markdown(validate_like([files / "a.yaml"])).startswith("## ✅ spine group validate: valid\n")
        text = to_markdown(validate_like([files / "a.yaml"], strict=True))
        assert "INVALID" in text and "strict: warnings fail" in text

    def test_large_graphs_and_many_findings_are_cut(self) -> None:
        """A Mermaid text over the limit is replaced by a note; findings stop at max_findings."""
        findings = tuple(Finding("w", f"m{i}", severity=Severity.WARNING, file="g.yaml", group="g") for i in range(30))
        report = ValidationReport((FileCheck("g.yaml", (GroupCheck("g.yaml", 0, "g", None, findings),)),))
        text = to_markdown(report, mermaid=lambda g: "flowchart TB\n" + "x" * MAX_MERMAID_CHARS, max_findings=10)
        assert "too large for Mermaid" in text and "```mermaid" not in text
        assert "… and 20 more finding(s)" in text
        assert len(tables(text)[1]) == 2 + 10


# -- pre-commit -----------------------------------------------------------------------


class TestPreCommitHook:
    def test_hook_definition(self) -> None:
        """The shipped hook is spine-validate: python, ``spine group validate``, on YAML files."""
        (hook,) = yaml.safe_load((REPO / ".pre-commit-hooks.yaml").read_text(encoding="utf-8"))
        assert hook["id"] == "spine-validate"
        assert hook["language"] == "python"
        assert hook["entry"] == "spine group validate"
        files = re.compile(hook["files"])
        assert files.search("groups/a.yaml") and files.search("b.yml") and not files.search("c.json")
        assert hook["pass_filenames"] is True and hook["types"] == ["yaml"]

    def test_entry_runs_on_passed_files(self, invoke, in_tmp: Path) -> None:
        """The entry with file names appended is a working command (exit 0 valid, 1 invalid)."""
        (hook,) = yaml.safe_load((REPO / ".pre-commit-hooks.yaml").read_text(encoding="utf-8"))
        args = hook["entry"].split()[1:] + list(hook.get("args", []))
        good = in_tmp / "good.yaml"
        good.write_text(GOOD, encoding="utf-8")
        bad = in_tmp / "bad.yaml"
        bad.write_text(BROKEN, encoding="utf-8")
        assert invoke(*args, str(good))[0] == 0
        assert invoke(*args, str(good), str(bad))[0] == 1
