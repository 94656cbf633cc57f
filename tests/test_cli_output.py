"""``-o`` paths: every problem is a usage error (exit 2) on one line naming the path."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from spine.cli.output import OutputKind, OutputPathError, is_html_file, output_errors, prepare_output

GROUP = """\
apiVersion: spine.io/v1
kind: PipelineGroup
metadata:
  name: demo.g
spec:
  pipelines:
    - name: a
      pipeline: x.a
    - name: b
      pipeline: x.b
      depends_on: [a]
"""

root_ignores_permissions = pytest.mark.skipif(
    hasattr(os, "geteuid") and os.geteuid() == 0, reason="root writes through permission bits"
)


@pytest.fixture
def project(in_tmp: Path) -> Path:
    """A folder with one valid group file, g.yaml, and a plain file, out.txt."""
    (in_tmp / "g.yaml").write_text(GROUP)
    (in_tmp / "out.txt").write_text("not a folder\n")
    return in_tmp


def one_error_line(err: str) -> str:
    lines = err.strip().splitlines()
    assert len(lines) == 1, err
    assert "Traceback" not in err
    return lines[0]


class TestUsageErrors:
    def test_report_onto_an_existing_file(self, project: Path, invoke) -> None:
        """report -o onto an existing file (a site needs a folder) exits 2 naming the file."""
        code, _, err = invoke("group", "report", "g.yaml", "-o", "out.txt", "--no-svg")
        assert code == 2
        line = one_error_line(err)
        assert "out.txt" in line and "not a folder" in line

    def test_report_through_a_file(self, project: Path, invoke) -> None:
        """report -o out.txt/sub exits 2 and says out.txt is a file."""
        code, _, err = invoke("group", "report", "g.yaml", "-o", "out.txt/sub", "--no-svg")
        assert code == 2
        assert "out.txt is a file, not a folder" in one_error_line(err)

    def test_graph_through_a_file(self, project: Path, invoke) -> None:
        """graph -o out.txt/x.dot exits 2 with one line, and out.txt is left alone."""
        code, _, err = invoke("group", "graph", "g.yaml", "-o", "out.txt/x.dot")
        assert code == 2
        assert "out.txt/x.dot" in one_error_line(err)
        assert (project / "out.txt").read_text() == "not a folder\n"

    def test_diff_through_a_file(self, project: Path, invoke) -> None:
        """diff -o out.txt/d.txt exits 2 with one line."""
        code, _, err = invoke("group", "diff", "g.yaml", "g.yaml", "-o", "out.txt/d.txt")
        assert code == 2
        assert "out.txt is a file" in one_error_line(err)

    def test_validate_onto_a_folder(self, project: Path, invoke) -> None:
        """validate -o onto an existing folder exits 2 (not 1, the invalid-groups code)."""
        (project / "build").mkdir()
        code, _, err = invoke("group", "validate", "g.yaml", "-o", "build")
        assert code == 2
        assert "build: it is a folder" in one_error_line(err)

    def test_graph_onto_a_folder_name_with_a_trailing_slash(self, project: Path, invoke) -> None:
        """graph -o build/ (a folder name that does not exist yet) exits 2 and creates nothing."""
        code, _, err = invoke("group", "graph", "g.yaml", "-o", "build/")
        assert code == 2
        assert "path separator" in one_error_line(err)
        assert not (project / "build").exists()

    def test_report_to_stdout_is_refused(self, project: Path, invoke) -> None:
        """report -o - exits 2: a report is files, not a stream."""
        code, _, err = invoke("group", "report", "g.yaml", "-o", "-", "--no-svg")
        assert code == 2
        assert "cannot write -" in one_error_line(err)

    @root_ignores_permissions
    def test_unwritable_folder(self, project: Path, invoke) -> None:
        """graph -o into a folder without write permission exits 2 with one line."""
        locked = project / "locked"
        locked.mkdir()
        locked.chmod(0o500)
        try:
            code, _, err = invoke("group", "graph", "g.yaml", "-o", "locked/g.dot")
        finally:
            locked.chmod(0o700)
        assert code == 2
        assert "permission denied" in one_error_line(err)

    @pytest.mark.skipif(not Path("/proc/self").is_dir(), reason="needs Linux /proc, where no one can create files")
    def test_failed_write_is_a_usage_error(self, project: Path, invoke) -> None:
        """A write the kernel refuses (a new file in /proc, even for root) exits 2 with one line."""
        code, _, err = invoke("group", "graph", "g.yaml", "-o", "/proc/spine-test-output.dot")
        assert code == 2
        assert "cannot write /proc/spine-test-output.dot" in one_error_line(err)

    def test_output_error_is_checked_before_the_work(self, project: Path, invoke) -> None:
        """A bad -o is reported even when the inputs are broken too: the path is checked first."""
        code, _, err = invoke("group", "validate", "no-such.yaml", "-o", "out.txt/r.xml")
        assert code == 2
        assert "out.txt/r.xml" in one_error_line(err)


class TestWrites:
    def test_validate_creates_the_parent_folders(self, project: Path, invoke) -> None:
        """validate --format junit -o build/junit.xml creates build/ on a fresh checkout (docs/ci.md)."""
        code, out, err = invoke("group", "validate", "g.yaml", "--format", "junit", "-o", "build/junit.xml")
        assert code == 0, err
        assert out == ""
        assert (project / "build" / "junit.xml").read_text().startswith("<?xml")

    def test_validate_usage_error_leaves_no_file(self, project: Path, invoke) -> None:
        """validate stopped by a usage error does not leave an empty report file behind."""
        code, _, _ = invoke("group", "validate", "missing.yaml", "-o", "build/report.txt")
        assert code == 2
        assert not (project / "build" / "report.txt").exists()

    def test_validate_dash_is_stdout(self, project: Path, invoke) -> None:
        """validate -o - writes the report to stdout, as without -o."""
        code, out, _ = invoke("group", "validate", "g.yaml", "-o", "-")
        assert code == 0
        assert "demo.g" in out

    def test_upper_case_html_suffix_is_one_file(self, project: Path, invoke) -> None:
        """report -o Report.HTML writes one file, not a folder called Report.HTML."""
        code, _, err = invoke("group", "report", "g.yaml", "-o", "Report.HTML", "--no-svg")
        assert code == 0, err
        assert (project / "Report.HTML").is_file()

    def test_graph_creates_the_parent_folders(self, project: Path, invoke) -> None:
        """graph -o a/b/g.dot creates a/b and writes the DOT there."""
        code, _, err = invoke("group", "graph", "g.yaml", "-o", "a/b/g.dot")
        assert code == 0, err
        assert (project / "a" / "b" / "g.dot").read_text().lstrip().startswith("digraph")

    def test_graph_overwrites_an_existing_file(self, project: Path, invoke) -> None:
        """graph -o onto an existing file replaces it."""
        code, _, _ = invoke("group", "graph", "g.yaml", "-o", "out.txt")
        assert code == 0
        assert "digraph" in (project / "out.txt").read_text()


class TestHelper:
    def test_folder_kind_creates_the_folder(self, tmp_path: Path) -> None:
        """prepare_output(kind=FOLDER) creates the folder and its parents."""
        target = prepare_output(str(tmp_path / "a" / "site"), OutputKind.FOLDER)
        assert target.is_dir()

    def test_file_kind_creates_only_the_parents(self, tmp_path: Path) -> None:
        """prepare_output(kind=FILE) creates the parent folders but not the file."""
        target = prepare_output(str(tmp_path / "a" / "r.html"))
        assert target.parent.is_dir() and not target.exists()

    def test_error_carries_the_path_and_exit_code_2(self, tmp_path: Path) -> None:
        """OutputPathError keeps the path as given and is a usage error (exit 2)."""
        (tmp_path / "f").write_text("")
        with pytest.raises(OutputPathError) as info:
            prepare_output(str(tmp_path / "f" / "x"))
        assert info.value.path == str(tmp_path / "f" / "x")
        assert info.value.exit_code == 2

    def test_write_errors_are_translated(self, tmp_path: Path) -> None:
        """An OSError while writing becomes an OutputPathError naming the path."""
        with pytest.raises(OutputPathError, match="boom"), output_errors(tmp_path / "x"):
            raise PermissionError(13, "boom")

    @pytest.mark.parametrize(("path", "single"), [("r.html", True), ("R.HTML", True), ("r.Htm", True), ("site", False), ("r.html.d", False)])
    def test_html_suffix_in_any_case(self, path: str, single: bool) -> None:
        """A path is one HTML page exactly when its suffix is .html or .htm, in any case."""
        assert is_html_file(path) is single
