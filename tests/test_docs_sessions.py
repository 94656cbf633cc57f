"""The documentation's console sessions print what they show.

How it works (the details are in ``tests/docs_sessions.py`` and docs/design-notes.md):
every ```console block of README.md and docs/*.md is a session: ``$ command`` lines, each
followed by what it prints. Each command runs for real in bash (``spine``, ``python`` and
``uv run`` go to this interpreter), in the repository root or in a scratch copy of the
folder its page names in an HTML comment (``<!-- sessions: cwd=docs/sessions/demo
as=/tmp/demo -->``), and what it prints is compared line by line with what the block
shows, after masking what varies between runs (timestamps, the time and random part of
batch and run ids, clock times, durations) and naming the scratch folder as the docs do.
A ``<!-- file: PATH -->`` comment before a fenced block says that the block shows that
file of the session folder, which is checked too. Sessions run in parallel, one chain per
page and folder. When a test fails, its message is the diff;

    uv run python -m tests.docs_sessions --update

rewrites every drifted block from real runs (review it with ``git diff``).
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import docs_sessions as ds
import pytest

import spine

PAGES = [ds.read_page(doc) for doc in ds.documents()]
FILES = [shown for page in PAGES for shown in page.files]
#: ``needs=`` programs that have a marker of their own (tests/_tools.py), so CI's pass with
#: the programs hidden selects these sessions and sees them skip.
MARKERS = {"dot": pytest.mark.needs_dot, "chromium": pytest.mark.needs_chromium}
SESSIONS = [
    pytest.param(page, session, id=session.name, marks=[MARKERS[t] for t in session.settings.needs if t in MARKERS])
    for page in PAGES
    for session in page.sessions
]


@pytest.fixture(scope="module")
def runner(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Iterator[ds.Runner]:
    """One runner for the module, started at once on every page that a selected test needs."""
    run = ds.Runner(tmp_path_factory.mktemp("docs-sessions"))
    params = [item.callspec.params for item in request.session.items if hasattr(item, "callspec")]
    wanted = {p["page"].doc for p in params if isinstance(p.get("page"), ds.Page)}
    run.start([page for page in PAGES if page.doc in wanted])
    yield run
    run.close()


@pytest.mark.parametrize(("page", "session"), SESSIONS)
def test_session_prints_what_the_docs_show(page: ds.Page, session: ds.Session, runner: ds.Runner) -> None:
    """Every command of the ```console block prints the lines shown under it (masked as documented)."""
    result = runner.result(session, page)
    if result.skipped:
        pytest.skip(result.skipped)
    problem = ds.drift(session, result)
    assert problem is None, problem


@pytest.mark.parametrize("shown", FILES, ids=[shown.name for shown in FILES])
def test_shown_file_is_the_file_the_sessions_use(shown: ds.ShownFile) -> None:
    """A block marked ``<!-- file: PATH -->`` shows exactly that file of its session folder."""
    assert shown.source.is_file(), f"{shown.name}: {shown.cwd}/{shown.path} does not exist"
    problem = ds.file_drift(shown)
    assert problem is None, problem


def test_session_comments_are_well_formed() -> None:
    """Every ``sessions:``/``session:``/``file:`` comment is understood and every console block starts with a command."""
    problems = [problem for page in PAGES for problem in page.problems]
    assert not problems, "\n".join(problems)


def test_every_page_has_sessions_to_check() -> None:
    """The collection finds the sessions of the pages that have them (so a parser bug cannot pass by finding none)."""
    counts = {page.doc.name: len(page.sessions) for page in PAGES}
    assert all(counts[name] > 0 for name in ("cli.md", "error-codes.md", "fuzzing.md", "diff.md", "ci.md", "lint.md")), counts


class TestMasks:
    def test_timestamps_in_logs_are_masked(self) -> None:
        """Two log lines that differ only in their ISO timestamps compare equal."""
        a = "2026-11-28T12:02:38.791657Z [info     ] loaded"
        b = "2024-01-05T00:00:00.000001Z [info     ] loaded"
        assert ds.mask(a) == ds.mask(b)

    def test_batch_id_time_and_random_part_are_masked(self) -> None:
        """A batch id keeps its group name and loses its time and random part."""
        assert ds.mask("batch id:  group_demo.weekly_20261128T115334_cacf4365") == "batch id:  group_demo.weekly_<id>"

    def test_durations_are_masked_but_counts_are_not(self) -> None:
        """'in 0.052 s' and '10.01s' are masked; '4 steps' and '2 group(s)' are not."""
        assert ds.mask("resolved in 0.052 s, 6 passed in 10.01s") == "resolved in <n> s, 6 passed in <n> s"
        assert ds.mask("4 steps, 2 group(s)") == "4 steps, 2 group(s)"

    def test_extra_mask_of_a_session_applies(self) -> None:
        """A session's own mask blanks out what only it knows varies (a random seed)."""
        assert ds.mask("seed 2158119438 — reproduce with --seed 2158119438", [r"seed \d+"]) == "<masked> — reproduce with --<masked>"


class TestReconcile:
    def test_equal_output_matches_and_keeps_the_shown_lines(self) -> None:
        """Output equal under the masks matches, and the shown text (old timestamps included) is kept."""
        ok, lines = ds.reconcile(["at 2024-01-05T00:00:00Z", "done"], ["at 2026-11-28T12:02:38Z", "done"])
        assert ok and lines == ["at 2024-01-05T00:00:00Z", "done"]

    def test_a_changed_line_is_reported_and_replaced(self) -> None:
        """A line that changed makes the output drift; the new lines take the printed one."""
        ok, lines = ds.reconcile(["a", "(1 report(s); 0 invalid)", "c"], ["a", "(1 report(s), 0 invalid)", "c"])
        assert not ok and lines == ["a", "(1 report(s), 0 invalid)", "c"]

    def test_a_lone_ellipsis_stands_for_any_lines(self) -> None:
        """'…' alone matches any number of printed lines, and stays in the regenerated block."""
        ok, lines = ds.reconcile(["first", "…", "last"], ["first", "x", "y", "z", "last"])
        assert ok and lines == ["first", "…", "last"]

    def test_a_line_ending_in_ellipsis_is_a_prefix(self) -> None:
        """A shown line ending in '…' matches a printed line that starts with the text before it."""
        assert ds.reconcile(["weeks available: 2023-12-01, …"], ["weeks available: 2023-12-01, 2023-12-08"])[0]

    def test_missing_output_lines_drift(self) -> None:
        """A printed line that the block does not show is drift, not ignored."""
        assert not ds.reconcile(["a"], ["a", "b"])[0]

    def test_drift_after_an_ellipsis_keeps_the_ellipsis(self) -> None:
        """When the last line changed, the regenerated block keeps '…' and takes the new last line."""
        ok, lines = ds.reconcile(["first", "…", "last"], ["first", "x", "new last"])
        assert not ok and lines == ["first", "…", "new last"]

    def test_any_order_compares_a_multiset(self) -> None:
        """With order=any, the same lines in another order match, and a missing one does not."""
        assert ds.reconcile(["a", "b", "end"], ["b", "a", "end"], any_order=True)[0]
        assert not ds.reconcile(["a", "b", "end"], ["b", "c", "end"], any_order=True)[0]

    def test_any_order_still_wants_the_last_line_last(self) -> None:
        """With order=any, the last shown line (a summary) must be the last one printed."""
        assert not ds.reconcile(["a", "summary"], ["summary", "a"], any_order=True)[0]

    def test_trailing_white_space_is_ignored(self) -> None:
        """A markdown line break (two trailing spaces) in printed output matches the same line without them."""
        assert ds.reconcile(["**old:** a"], ["**old:** a  "])[0]


def _page(tmp_path: Path, text: str) -> ds.Page:
    doc = tmp_path / "page.md"
    doc.write_text(text, encoding="utf-8")
    return ds.read_page(doc)


def _run(tmp_path: Path, session: ds.Session) -> ds.Result:
    return ds.run_session(session, tmp_path, tmp_path, ds.environment(ds.make_shims(tmp_path / "_bin")))


class TestReading:
    def test_commands_and_their_output_are_split(self, tmp_path: Path) -> None:
        """Each '$ ' line starts a command; the lines after it, up to the next one, are its output."""
        page = _page(tmp_path, "```console\n$ echo a\na\n$ echo b; echo c\nb\nc\n```\n")
        (session,) = page.sessions
        assert [(c.shell, c.shown) for c in session.commands] == [("echo a", ("a",)), ("echo b; echo c", ("b", "c"))]

    def test_a_session_comment_sets_folder_and_hidden_setup(self, tmp_path: Path) -> None:
        """'<!-- session: … -->' before a block sets its folder, tools, masks and hidden commands."""
        text = "<!-- session: cwd=docs/sessions/demo as=/tmp/demo needs=git,jq mask='x+'\ntouch a\n-->\n```console\n$ ls\n```\n"
        (session,) = _page(tmp_path, text).sessions
        assert session.settings == ds.Settings("docs/sessions/demo", "/tmp/demo", ("git", "jq"), False, ("x+",), "", "touch a")

    def test_page_settings_apply_until_the_next(self, tmp_path: Path) -> None:
        """A 'sessions:' comment applies to the blocks after it, until the next one."""
        text = (
            "<!-- sessions: cwd=docs/sessions/demo -->\n```console\n$ a\n```\n"
            "<!-- sessions: cwd=docs/sessions/plain -->\n```console\n$ b\n```\n"
        )
        assert [s.settings.cwd for s in _page(tmp_path, text).sessions] == ["docs/sessions/demo", "docs/sessions/plain"]

    def test_an_unknown_setting_is_a_problem(self, tmp_path: Path) -> None:
        """A misspelt setting is reported, not ignored."""
        page = _page(tmp_path, "<!-- session: need=git -->\n```console\n$ ls\n```\n")
        assert any("unknown setting 'need=git'" in p for p in page.problems)

    def test_a_console_block_without_a_command_is_a_problem(self, tmp_path: Path) -> None:
        """Output with no '$ command' before it cannot be checked, so it is reported."""
        page = _page(tmp_path, "```console\njust text\n```\n")
        assert page.problems and not page.sessions

    def test_a_shown_file_that_does_not_exist_is_a_problem(self, tmp_path: Path) -> None:
        """'<!-- file: PATH -->' naming a file the folder lacks is reported."""
        page = _page(tmp_path, "<!-- sessions: cwd=docs/sessions/demo -->\n<!-- file: nope.yaml -->\n```yaml\na: 1\n```\n")
        assert any("nope.yaml" in p for p in page.problems)

    def test_fences_inside_a_longer_fence_are_content(self, tmp_path: Path) -> None:
        """A ```mermaid inside a ````console block is output, not the end of the block."""
        page = _page(tmp_path, "````console\n$ cat x.md\n```mermaid\nflowchart TB\n```\n````\n")
        (session,) = page.sessions
        assert session.commands[0].shown == ("```mermaid", "flowchart TB", "```")


class TestRunning:
    def test_output_is_split_per_command_and_exit_status_carries_over(self, tmp_path: Path) -> None:
        """Commands run in one shell: '$?' of a command is seen by the next, and output lines land under their command."""
        (session,) = _page(tmp_path, "```console\n$ printf 'x\\ny\\n'; false\n$ echo $?\n$ printf 'no newline'\n```\n").sessions
        result = _run(tmp_path, session)
        assert result.printed == [["x", "y"], ["1"], ["no newline"]]

    def test_spine_runs_through_this_interpreter(self, tmp_path: Path) -> None:
        """'spine' and 'uv run --quiet spine' both run the spine of this environment."""
        (session,) = _page(tmp_path, "```console\n$ spine --version\n$ uv run --quiet spine --version\n```\n").sessions
        result = _run(tmp_path, session)
        assert result.printed == [[f"spine {spine.__version__}"]] * 2

    def test_a_failing_hidden_setup_is_reported(self, tmp_path: Path) -> None:
        """When the hidden commands fail, the session reports why instead of comparing output."""
        (session,) = _page(tmp_path, "<!-- session:\nfalse\n-->\n```console\n$ echo hi\nhi\n```\n").sessions
        result = _run(tmp_path, session)
        assert result.problem and "hidden setup failed" in result.problem

    def test_an_empty_as_makes_paths_relative(self, tmp_path: Path) -> None:
        """'as=' (empty) writes paths inside the folder relative to it, as a traceback from the repository shows them."""
        (session,) = _page(tmp_path, "<!-- session: as= -->\n```console\n$ echo \"$PWD/examples/x.py\"; pwd\nexamples/x.py\n.\n```\n").sessions
        assert ds.drift(session, _run(tmp_path, session)) is None

    def test_a_hidden_program_is_missing(self, tmp_path: Path) -> None:
        """dot named by SPINE_DOT at a path that does not exist is missing, even with a dot on PATH."""
        env = {"PATH": str(tmp_path), "SPINE_DOT": "/nonexistent/dot"}
        (tmp_path / "dot").write_text("#!/bin/sh\n")
        (tmp_path / "dot").chmod(0o755)
        assert ds.missing_tools(["dot"], env) == ["dot is hidden (SPINE_DOT=/nonexistent/dot does not exist)"]

    def test_the_scratch_folder_is_shown_by_its_documented_name(self, tmp_path: Path) -> None:
        """The real path of the copy is replaced by the 'as' name in what the commands print."""
        (session,) = _page(tmp_path, "<!-- session: as=/tmp/demo -->\n```console\n$ pwd\n/tmp/demo\n```\n").sessions
        result = _run(tmp_path, session)
        assert ds.drift(session, result) is None


class TestRewriting:
    def test_update_rewrites_only_the_drifted_block(self, tmp_path: Path) -> None:
        """Regenerating a page replaces the output of the block that drifted and leaves the rest byte for byte."""
        text = "intro\n\n```console\n$ echo new\nold\n```\n\nmiddle\n\n```console\n$ echo same\nsame\n```\n"
        page = _page(tmp_path, text)
        changes = {s.body: ds.render(s, _run(tmp_path, s))[1] for s in page.sessions}
        ds.rewrite(page.doc, changes)
        assert page.doc.read_text(encoding="utf-8") == text.replace("$ echo new\nold\n", "$ echo new\nnew\n")
