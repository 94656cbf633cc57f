"""``spine group diff`` through the real entry point, with real files and a real git repository."""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from spine.cli.diff_cmd import diff_cmd

pytestmark = pytest.mark.skipif(shutil.which("git") is None, reason="git is not installed")

GROUP = """\
apiVersion: spine.io/v1
kind: PipelineGroup
metadata: {name: demo.weekly, version: 1, tags: [demo]}
spec:
  defaults: {tier: T1}
  pipelines:
    - {name: ingest, pipeline: demo.ingest, params: {source: api}}
    - {name: normalize, pipeline: demo.normalize, depends_on: [ingest]}
    - {name: aggregate, pipeline: demo.aggregate, depends_on: [normalize], params: {window: 4}}
    - {name: share, pipeline: demo.share, depends_on: [normalize]}
  policy: {execution: parallel, max_concurrency: 4}
"""

# normalize → clean (renamed), share removed, publish added, aggregate's params changed,
# version, defaults and policy changed.
CHANGED = """\
apiVersion: spine.io/v1
kind: PipelineGroup
metadata: {name: demo.weekly, version: 2, tags: [demo]}
spec:
  defaults: {tier: T2}
  pipelines:
    - {name: ingest, pipeline: demo.ingest, params: {source: api}}
    - {name: clean, pipeline: demo.normalize, depends_on: [ingest]}
    - {name: aggregate, pipeline: demo.aggregate, depends_on: [clean], params: {window: 8}}
    - {name: publish, pipeline: demo.publish, depends_on: [aggregate]}
  policy: {execution: parallel, max_concurrency: 8}
"""

OTHER = """\
apiVersion: spine.io/v1
kind: PipelineGroup
metadata: {name: demo.other}
spec:
  pipelines:
    - {name: only, pipeline: demo.only}
"""


def git(cwd: Path, *args: str) -> str:
    proc = subprocess.run(
        ["git", "-c", "user.name=spine tests", "-c", "user.email=tests@example.invalid", "-c", "commit.gpgsign=false", *args],
        cwd=cwd, capture_output=True, text=True, check=True,
    )
    return proc.stdout


@pytest.fixture
def diff(invoke, monkeypatch: pytest.MonkeyPatch):
    """``diff(*args)`` runs ``spine group diff …`` with the command registered for the test."""
    from spine.cli.app import group

    monkeypatch.setitem(group.commands, "diff", diff_cmd)
    return lambda *args: invoke("group", "diff", *args)


@pytest.fixture
def repo(in_tmp: Path) -> Path:
    """A git repository with groups/g.yaml committed twice (GROUP, then CHANGED) and a second group."""
    git(in_tmp, "init", "-q")
    (in_tmp / "groups").mkdir()
    (in_tmp / "groups" / "g.yaml").write_text(GROUP)
    (in_tmp / "groups" / "README.md").write_text("not a group")
    git(in_tmp, "add", ".")
    git(in_tmp, "commit", "-q", "-m", "first")
    (in_tmp / "groups" / "g.yaml").write_text(CHANGED)
    git(in_tmp, "commit", "-q", "-am", "second")
    return in_tmp


class TestGit:
    def test_git_file_vs_working_file(self, repo: Path, diff) -> None:
        """A file at HEAD~1 compared with the working file shows every change; exit 0 by default."""
        code, out, err = diff("git:HEAD~1:groups/g.yaml", "groups/g.yaml")
        assert code == 0, err
        assert "--- git:HEAD~1:groups/g.yaml" in out and "+++ groups/g.yaml" in out
        for line in ("R normalize → clean", "+ publish", "- share", "~ aggregate", "params.window: 4 → 8",
                     "version: 1 → 2", "max_concurrency: 4 → 8", "tier: \"T1\" → \"T2\"",
                     "+ aggregate -> publish", "- normalize -> share"):
            assert line in out, line

    def test_git_folder_vs_working_folder(self, repo: Path, diff) -> None:
        """A folder at HEAD~1 compared with the working folder finds the changed group, ignoring other files."""
        code, out, err = diff("git:HEAD~1:groups", "groups/", "--format", "json")
        assert code == 0, err
        data = json.loads(out)
        assert [(g["name"], g["change"]) for g in data["groups"]] == [("demo.weekly", "changed")]
        assert data["groups"][0]["renamed_steps"][0]["old"] == "normalize"

    def test_git_vs_git(self, repo: Path, diff) -> None:
        """Both sides may be git revisions."""
        code, out, _ = diff("git:HEAD~1:groups/g.yaml", "git:HEAD:groups/g.yaml", "--exit-code")
        assert code == 1 and "R normalize → clean" in out

    def test_git_folder_finds_added_and_removed_groups(self, repo: Path, diff) -> None:
        """A group file added in the work tree is an added group; one deleted is a removed group."""
        (repo / "groups" / "other.yaml").write_text(OTHER)
        (repo / "groups" / "g.yaml").unlink()
        code, out, _ = diff("git:HEAD:groups", "groups", "--format", "json")
        changes = {g["name"]: g["change"] for g in json.loads(out)["groups"]}
        assert code == 0 and changes == {"demo.weekly": "removed", "demo.other": "added"}

    def test_git_folder_skips_hidden_and_non_yaml_files(self, repo: Path, diff) -> None:
        """Hidden files and folders and non-YAML files in a git folder are not read."""
        (repo / "groups" / ".hidden").mkdir()
        (repo / "groups" / ".hidden" / "x.yaml").write_text("not: [valid")
        (repo / "groups" / ".x.yml").write_text("not: [valid")
        git(repo, "add", "-A")
        git(repo, "commit", "-q", "-m", "hidden")
        code, _, err = diff("git:HEAD:groups", "groups", "--exit-code")
        assert code == 0 and err == ""

    def test_dot_slash_path_is_relative_to_the_current_folder(self, repo: Path, diff, monkeypatch: pytest.MonkeyPatch) -> None:
        """From a subfolder, git:REF:./path is relative to it, git:REF:path to the repository root."""
        monkeypatch.chdir(repo / "groups")
        assert diff("git:HEAD:./g.yaml", "g.yaml", "--exit-code")[0] == 0
        assert diff("git:HEAD:groups/g.yaml", "g.yaml", "--exit-code")[0] == 0

    def test_findings_name_the_git_file(self, repo: Path, diff) -> None:
        """Findings of a group read from git name it git:REF:path with its line."""
        (repo / "groups" / "g.yaml").write_text(GROUP.replace("depends_on: [normalize], params", "depends_on: [normalise], params"))
        git(repo, "commit", "-q", "-am", "typo")
        code, out, err = diff("git:HEAD:groups/g.yaml", "git:HEAD~2:groups/g.yaml")
        assert code == 0
        assert "git:HEAD:groups/g.yaml:9:" in err and "missing-dependency" in err
        assert "+ normalize -> aggregate" in out and "- normalise -> aggregate" in out


class TestUsageErrors:
    def test_bad_ref_is_usage_error(self, repo: Path, diff) -> None:
        """An unknown git revision exits 2 and names it."""
        code, out, err = diff("git:no-such-ref:groups/g.yaml", "groups/g.yaml")
        assert code == 2 and out == ""
        assert "unknown git revision 'no-such-ref'" in err

    def test_bad_git_path_is_usage_error(self, repo: Path, diff) -> None:
        """A path missing at the revision exits 2 and names it."""
        code, _, err = diff("git:HEAD:groups/nope.yaml", "groups/g.yaml")
        assert code == 2 and "'groups/nope.yaml' does not exist at HEAD" in err

    def test_malformed_git_spec_is_usage_error(self, repo: Path, diff) -> None:
        """git:REF without :path exits 2 and shows the expected form."""
        code, _, err = diff("git:HEAD", "groups/g.yaml")
        assert code == 2 and "git:REF:path" in err

    def test_option_like_ref_is_refused(self, repo: Path, diff) -> None:
        """A ref starting with '-' is refused before git sees it."""
        code, _, err = diff("git:--output=x:groups/g.yaml", "groups/g.yaml")
        assert code == 2 and "must not start with '-'" in err
        assert not (repo / "x").exists()

    def test_outside_a_repository_is_usage_error(self, in_tmp: Path, diff) -> None:
        """git:REF:path outside a git repository exits 2."""
        (in_tmp / "g.yaml").write_text(GROUP)
        code, _, err = diff("git:HEAD:g.yaml", "g.yaml")
        assert code == 2 and "not inside a git repository" in err

    def test_missing_file_is_usage_error(self, in_tmp: Path, diff) -> None:
        """A file that does not exist exits 2."""
        (in_tmp / "g.yaml").write_text(GROUP)
        code, _, err = diff("g.yaml", "nope.yaml")
        assert code == 2 and "no such file or folder: nope.yaml" in err

    def test_unknown_group_is_usage_error(self, in_tmp: Path, diff) -> None:
        """--group naming a group on neither side exits 2."""
        (in_tmp / "g.yaml").write_text(GROUP)
        code, _, err = diff("g.yaml", "g.yaml", "--group", "nope")
        assert code == 2 and "'nope'" in err

    def test_bad_format_is_usage_error(self, in_tmp: Path, diff) -> None:
        """An unknown --format exits 2."""
        (in_tmp / "g.yaml").write_text(GROUP)
        assert diff("g.yaml", "g.yaml", "--format", "xml")[0] == 2


class TestFiles:
    def test_exit_code_1_when_changed(self, in_tmp: Path, diff) -> None:
        """With --exit-code, a change exits 1."""
        (in_tmp / "a.yaml").write_text(GROUP)
        (in_tmp / "b.yaml").write_text(CHANGED)
        assert diff("a.yaml", "b.yaml", "--exit-code")[0] == 1

    def test_exit_code_0_when_unchanged(self, in_tmp: Path, diff) -> None:
        """With --exit-code, equal definitions exit 0 and say 'no changes'."""
        (in_tmp / "a.yaml").write_text(GROUP)
        (in_tmp / "b.yaml").write_text("# reformatted\n" + GROUP.replace("{tier: T1}", "\n    tier: T1"))
        code, out, _ = diff("a.yaml", "b.yaml", "--exit-code")
        assert code == 0 and out.rstrip().endswith("no changes")

    def test_folders(self, in_tmp: Path, diff) -> None:
        """Two folders are compared group by group."""
        for side, text in (("old", GROUP), ("new", CHANGED)):
            (in_tmp / side).mkdir()
            (in_tmp / side / "g.yaml").write_text(text)
            (in_tmp / side / "o.yaml").write_text(OTHER)
        code, out, _ = diff("old", "new", "--format", "json")
        data = json.loads(out)
        assert [(g["name"], g["change"]) for g in data["groups"]] == [("demo.weekly", "changed"), ("demo.other", "unchanged")]

    def test_group_option_selects_one_group(self, in_tmp: Path, diff) -> None:
        """--group compares only that group of a multi-group file."""
        (in_tmp / "a.yaml").write_text(GROUP + "---\n" + OTHER)
        (in_tmp / "b.yaml").write_text(CHANGED + "---\n" + OTHER.replace("demo.only", "demo.only2"))
        code, out, _ = diff("a.yaml", "b.yaml", "--group", "demo.other", "--format", "json")
        data = json.loads(out)
        assert code == 0 and [g["name"] for g in data["groups"]] == ["demo.other"]
        assert data["groups"][0]["changed_steps"][0]["pipeline"]["new"] == "demo.only2"

    def test_single_renamed_group_is_paired(self, in_tmp: Path, diff) -> None:
        """One group on each side is compared even when its name changed."""
        (in_tmp / "a.yaml").write_text(GROUP)
        (in_tmp / "b.yaml").write_text(GROUP.replace("demo.weekly", "demo.weekly2"))
        code, out, _ = diff("a.yaml", "b.yaml")
        assert "group demo.weekly → demo.weekly2" in out and 'name: "demo.weekly" → "demo.weekly2"' in out

    def test_invalid_group_is_still_compared(self, in_tmp: Path, diff) -> None:
        """An invalid group (a cycle) is compared, and its findings go to stderr."""
        (in_tmp / "a.yaml").write_text(GROUP)
        (in_tmp / "b.yaml").write_text(GROUP.replace("depends_on: [ingest]", "depends_on: [ingest, share]"))
        code, out, err = diff("a.yaml", "b.yaml", "--exit-code")
        assert code == 1
        assert "+ share -> normalize" in out
        assert "b.yaml" in err and "cycle" in err

    def test_unreadable_file_hides_its_groups(self, in_tmp: Path, diff) -> None:
        """A file that is not YAML shows its group as removed, with the syntax error and a note on stderr."""
        (in_tmp / "a.yaml").write_text(GROUP)
        (in_tmp / "b.yaml").write_text(GROUP.replace("tags: [demo]}", "tags: [demo}"))
        code, out, err = diff("a.yaml", "b.yaml", "--exit-code")
        assert code == 1 and "- group demo.weekly  [removed]" in out
        assert "b.yaml:3:" in err and "1 document(s) in NEW could not be read" in err

    def test_direction_reaches_the_graph(self, in_tmp: Path, diff) -> None:
        """--direction LR lays the merged graph out left to right."""
        (in_tmp / "a.yaml").write_text(GROUP)
        (in_tmp / "b.yaml").write_text(CHANGED)
        assert "flowchart LR" in diff("a.yaml", "b.yaml", "--format", "markdown", "--direction", "lr")[1]


class TestFormats:
    def test_markdown(self, in_tmp: Path, diff) -> None:
        """The markdown form has the tables and a Mermaid merged graph."""
        (in_tmp / "a.yaml").write_text(GROUP)
        (in_tmp / "b.yaml").write_text(CHANGED)
        code, out, _ = diff("a.yaml", "b.yaml", "--format", "markdown")
        assert code == 0
        assert "| renamed | normalize → clean | demo.normalize | |" in out
        assert "```mermaid\nflowchart TB" in out and "#8594;" in out

    def test_html_to_file(self, in_tmp: Path, diff) -> None:
        """-o writes the HTML page to the file and says so on stderr."""
        (in_tmp / "a.yaml").write_text(GROUP)
        (in_tmp / "b.yaml").write_text(CHANGED)
        code, out, err = diff("a.yaml", "b.yaml", "--format", "html", "-o", "out/diff.html")
        page = (in_tmp / "out" / "diff.html").read_text()
        assert code == 0 and out == "" and "wrote out/diff.html" in err
        assert page.startswith("<!DOCTYPE html>") and "normalize → clean" in page

    def test_hostile_names_are_escaped(self, in_tmp: Path, diff) -> None:
        """Hostile step names reach markdown and HTML only escaped."""
        names = ["<script>alert(1)</script>", 'say "hi"', "a|b", "x --> y"]
        steps = "\n".join(f"    - name: '{n}'\n      pipeline: p.{i}" for i, n in enumerate(names))
        head = "apiVersion: spine.io/v1\nkind: PipelineGroup\nmetadata: {name: h}\nspec:\n  pipelines:\n"
        (in_tmp / "a.yaml").write_text(head + "    - {name: keep, pipeline: p.k}\n")
        (in_tmp / "b.yaml").write_text(head + "    - {name: keep, pipeline: p.k}\n" + steps + "\n")
        _, md, _ = diff("a.yaml", "b.yaml", "--format", "markdown")
        assert "<script" not in md and "a&#124;b" in md and "x --&gt; y" in md
        _, page, _ = diff("a.yaml", "b.yaml", "--format", "html")
        assert "<script" not in page.lower() and "&lt;script&gt;alert(1)&lt;/script&gt;" in page

    def test_color_flag_colours_text(self, in_tmp: Path, invoke, diff) -> None:
        """spine --color colours added lines green even when stdout is not a terminal."""
        (in_tmp / "a.yaml").write_text(GROUP)
        (in_tmp / "b.yaml").write_text(CHANGED)
        _, out, _ = invoke("--color", "group", "diff", "a.yaml", "b.yaml")
        assert re.search(r"\x1b\[32m(?:\x1b\[22m)?    \+ publish", out)
        assert "\x1b[" not in diff("a.yaml", "b.yaml")[1]

    def test_text_escapes_terminal_controls(self, in_tmp: Path, diff) -> None:
        """Control characters in names (an invalid group) are escaped in the text form."""
        head = "apiVersion: spine.io/v1\nkind: PipelineGroup\nmetadata: {name: h}\nspec:\n  pipelines:\n"
        (in_tmp / "a.yaml").write_text(head + "    - {name: keep, pipeline: p.k}\n")
        (in_tmp / "b.yaml").write_text(head + '    - {name: keep, pipeline: p.k}\n    - {name: "evil\\e[2J\\nline", pipeline: p.e}\n')
        code, out, err = diff("a.yaml", "b.yaml")
        assert "\x1b" not in out + err
        assert "+ evil\\u001b[2J\\nline  [p.e]" in out


def test_installed_entry_point_exit_code(repo: Path) -> None:
    """Through a real process and spine.cli.main, --exit-code exits 1 on changes."""
    code = (
        "import sys\n"
        "from spine.cli.app import group\n"
        "from spine.cli.diff_cmd import diff_cmd\n"
        "group.add_command(diff_cmd)\n"
        "from spine.cli import main\n"
        "main(sys.argv[1:])\n"
    )
    env = {k: v for k, v in os.environ.items() if not k.startswith("SPINE_")}
    proc = subprocess.run(
        [sys.executable, "-c", code, "group", "diff", "git:HEAD~1:groups", "groups", "--exit-code"],
        cwd=repo, capture_output=True, text=True, timeout=60, env=env,
    )
    assert proc.returncode == 1, proc.stderr
    assert "R normalize → clean" in proc.stdout
