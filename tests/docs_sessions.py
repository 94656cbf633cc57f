"""Executable documentation: run every ```console session of README.md and docs/*.md.

A session is a fenced ```console block of ``$ command`` lines, each followed by what it
prints (stdout and stderr together, in the order they were written). This module finds
the sessions, runs every command for real in ``bash`` — ``spine``, ``python`` and
``uv run [--quiet]`` go to ``sys.executable`` — and compares what they print with what
the block shows. ``tests/test_docs_sessions.py`` asserts that nothing drifted; the same
comparison, run as a script, rewrites the blocks from real runs::

    uv run python -m tests.docs_sessions            # report drift, exit 1 if any
    uv run python -m tests.docs_sessions --update   # rewrite the drifted blocks
    uv run python -m tests.docs_sessions --update docs/cli.md   # one page

Where a session runs, and what it needs, is said in HTML comments (invisible on GitHub):

``<!-- sessions: cwd=docs/sessions/demo as=/tmp/demo -->``
    for the following blocks of the page (until the next ``sessions:``): run in a copy of
    that repository folder, made once per page, so files written by one block are there for
    the next; ``as`` is the path the docs show for the copy (the copy's real path is
    replaced by it in the output). Lines after the first line of the comment are hidden
    shell commands run once, when the copy is made (``git init``, ``mkfifo``). Without a
    ``cwd`` a block runs in the repository root itself (``cwd=.``; keep it read-only, or
    write below the ignored ``build/``).
``<!-- session: needs=git,jq order=any mask='seed \\d+' -->`` (right before one block)
    overrides the page's settings for that block (a ``cwd`` of its own drops the page's
    ``as``). ``needs`` skips it when a program is not on PATH; ``order=any`` compares the
    lines as a multiset (parallel progress); ``mask`` is one more regular expression to
    blank out (repeatable). Lines after the first line of the comment are hidden shell
    commands run first (``set -e``), e.g. an edit between two sessions; ``$SOURCE`` is the
    repository folder the copy was made from and ``$REPO`` the repository.
``<!-- file: groups/weekly.yaml -->`` (right before any fenced block)
    the block shows that file of the current ``cwd`` folder, exactly. The file is the
    truth: the check fails when they differ and ``--update`` rewrites the block.

Matching, line by line, after the masks below (both sides): equal lines match; a shown
line ending in ``…`` matches any line that starts with the text before it; a line that is
only ``…`` stands for any number of lines. Trailing white space is ignored.

Masks (``MASKS``), for what legitimately varies from run to run: ISO timestamps ->
``<time>``; the time and random part of batch and run ids
(``group_x_20240105T000000_0badcafe``) -> ``<id>``; clock times ``12:00:00`` -> ``<clock>``;
decimal durations (``0.05 s``, ``1.55s``, ``seconds=0.002``, ``time``'s ``0m1.5s``) ->
``<n> s``; runs of ``=`` (pytest's banners, whose width follows a duration) -> ``===``.
Paths are not masked but replaced: the real scratch folder by its ``as`` name, so a wrong
path still shows. Every command runs with the same environment (``environment()``):
80 columns, UTF-8, UTC, no ``SPINE_*`` but where the outside programs are (a program
hidden from the tests is hidden from the sessions), and a git without user configuration.
``needs=dot`` (or ``chromium``) also marks the test ``needs_dot`` (``needs_chromium``).
"""

from __future__ import annotations

import argparse
import difflib
import os
import re
import shlex
import shutil
import signal
import stat
import subprocess
import sys
import tempfile
from collections import Counter
from collections.abc import Iterable, Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
ELLIPSIS = "…"
TIMEOUT_SECONDS = 300

#: (pattern, replacement) applied to shown and printed lines before they are compared.
MASKS: tuple[tuple[str, str], ...] = (
    (r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(?:\.\d+)?(?:Z|[+-]\d\d:?\d\d)?", "<time>"),
    (r"(?<=_)\d{8}T\d{6}_[0-9a-f]{8}\b", "<id>"),
    (r"\b\d\d:\d\d:\d\d\b", "<clock>"),
    (r"\b\d+m\d+\.\d+s\b", "<n> s"),
    (r"\b\d+\.\d+ ?s\b", "<n> s"),
    (r"\bseconds=\d+(?:\.\d+)?", "seconds=<n>"),
    (r"={3,}", "==="),  # pytest's banners: their width follows the duration's
)

_FENCE = re.compile(r"^(`{3,})([\w-]*)\s*$")
_DIRECTIVE = re.compile(r"^<!--\s*(sessions|session|file):(.*?)(-->)?\s*$")


# --- the model -------------------------------------------------------------------------


@dataclass(frozen=True)
class Settings:
    """Where and how a session runs (from ``sessions:`` and ``session:`` comments)."""

    cwd: str = "."
    shown_as: str | None = None
    needs: tuple[str, ...] = ()
    any_order: bool = False
    masks: tuple[str, ...] = ()
    prepare: str = ""  # hidden commands of a ``sessions:`` comment: once, when the copy is made
    setup: str = ""  # hidden commands of a ``session:`` comment: before its block


@dataclass(frozen=True)
class Command:
    """One ``$ command`` of a session and the lines the docs show after it."""

    lines: tuple[str, ...]  # as written, the first one starting with "$ "
    shown: tuple[str, ...]

    @property
    def shell(self) -> str:
        """The command as bash reads it (continuation lines included)."""
        return "\n".join([self.lines[0][2:], *self.lines[1:]])


@dataclass(frozen=True)
class Session:
    """One ```console block: its place in the docs, its settings and its commands."""

    doc: Path
    line: int  # 1-based line of the opening fence
    body: tuple[int, int]  # 0-based [start, end) of the block's lines between the fences
    settings: Settings
    commands: tuple[Command, ...]

    @property
    def name(self) -> str:
        return f"{_shown(self.doc)}:{self.line}"


@dataclass(frozen=True)
class ShownFile:
    """A fenced block that shows a file of a session folder (``<!-- file: PATH -->``)."""

    doc: Path
    line: int
    body: tuple[int, int]
    cwd: str
    path: str
    text: str

    @property
    def name(self) -> str:
        return f"{_shown(self.doc)}:{self.line}"

    @property
    def source(self) -> Path:
        return REPO / self.cwd / self.path


@dataclass(frozen=True)
class Page:
    """The sessions and shown files of one Markdown file, and what is wrong with its comments."""

    doc: Path
    sessions: tuple[Session, ...]
    files: tuple[ShownFile, ...]
    problems: tuple[str, ...]


@dataclass
class Result:
    """What the commands of one session printed (``None`` per command not run), or why not."""

    printed: list[list[str] | None] = field(default_factory=list)
    problem: str | None = None
    skipped: str | None = None


# --- reading the docs --------------------------------------------------------------------


def _shown(path: Path) -> Path:
    """``path`` relative to the repository when it is inside it."""
    return path.relative_to(REPO) if path.is_relative_to(REPO) else path


def documents(root: Path = REPO) -> list[Path]:
    """README.md and docs/*.md: the pages whose sessions are checked."""
    return [root / "README.md", *sorted((root / "docs").glob("*.md"))]


def _parse_settings(text: str, base: Settings, where: str, problems: list[str], *, page: bool) -> Settings:
    head, _, rest = text.partition("\n")
    values = dict(base.__dict__)
    values["prepare" if page else "setup"] = rest.strip("\n") if rest.strip() else ""
    try:
        words = shlex.split(head)
    except ValueError as exc:
        problems.append(f"{where}: cannot read {head.strip()!r}: {exc}")
        return base
    given = {word.partition("=")[0] for word in words}
    for word in words:
        key, eq, value = word.partition("=")
        if key == "cwd" and eq:
            values["cwd"] = value.rstrip("/") or "."
            if not (REPO / values["cwd"]).is_dir():
                problems.append(f"{where}: cwd={value} is not a folder of the repository")
        elif key == "as" and eq:
            values["shown_as"] = value
        elif key == "needs" and eq:
            values["needs"] = tuple(v for v in value.split(",") if v)
        elif key == "order" and value in ("any", "shown"):
            values["any_order"] = value == "any"
        elif key == "mask" and eq:
            try:
                re.compile(value)
            except re.error as exc:
                problems.append(f"{where}: mask {value!r} is not a regular expression: {exc}")
                continue
            values["masks"] = (*values["masks"], value)
        else:
            problems.append(f"{where}: unknown setting {word!r} (known: cwd=, as=, needs=, order=any, mask=)")
    if not page and "cwd" in given and "as" not in given:
        values["shown_as"] = None  # another folder: the page's name for its folder does not apply
    return Settings(**values)


def _parse_commands(lines: Sequence[str], where: str, problems: list[str]) -> tuple[Command, ...]:
    commands: list[tuple[list[str], list[str]]] = []
    continued = False
    for line in lines:
        if continued:
            commands[-1][0].append(line)
        elif line.startswith("$ "):
            commands.append(([line], []))
        elif commands:
            commands[-1][1].append(line)
        else:
            problems.append(f"{where}: a console block starts with '$ command', not {line!r}")
            return ()
        continued = (continued or line.startswith("$ ")) and line.endswith("\\")
    if not commands:
        problems.append(f"{where}: a console block without a '$ command'")
    return tuple(Command(tuple(c), tuple(o)) for c, o in commands)


def read_page(doc: Path) -> Page:
    """The sessions and shown files of ``doc``, with the problems of its comments."""
    lines = doc.read_text(encoding="utf-8").split("\n")
    rel = _shown(doc)
    page = Settings()
    pending: tuple[str, str, int] | None = None  # (kind, text, line) of a block comment
    sessions: list[Session] = []
    files: list[ShownFile] = []
    problems: list[str] = []
    i = 0
    while i < len(lines):
        line = lines[i]
        match = _DIRECTIVE.match(line)
        if match:
            kind, text, closed = match.group(1), match.group(2), match.group(3)
            start = i
            while not closed:
                i += 1
                if i == len(lines):
                    problems.append(f"{rel}:{start + 1}: comment not closed with -->")
                    break
                end = lines[i].rstrip().endswith("-->")
                text += "\n" + (lines[i].rstrip()[:-3] if end else lines[i])
                closed = "-->" if end else None
            if kind == "sessions":
                page = _parse_settings(text, Settings(), f"{rel}:{start + 1}", problems, page=True)
            else:
                if pending:
                    problems.append(f"{rel}:{pending[2]}: '{pending[0]}:' comment is not followed by a fenced block")
                pending = (kind, text, start + 1)
            i += 1
            continue
        fence = _FENCE.match(line)
        if not fence:
            if line.strip() and pending:
                problems.append(f"{rel}:{pending[2]}: '{pending[0]}:' comment is not followed by a fenced block")
                pending = None
            i += 1
            continue
        ticks, lang = fence.group(1), fence.group(2)
        end = i + 1
        while end < len(lines) and not (lines[end].startswith(ticks) and lines[end].strip() == ticks):
            end += 1
        where = f"{rel}:{i + 1}"
        body = lines[i + 1 : end]
        if pending and pending[0] == "file":
            path = pending[1].strip()
            files.append(ShownFile(doc, i + 1, (i + 1, end), page.cwd, path, "\n".join(body)))
            if not (REPO / page.cwd / path).is_file():
                problems.append(f"{where}: shows {path}, which is not a file of {page.cwd}")
        elif lang == "console":
            settings = page
            if pending:
                settings = _parse_settings(pending[1], page, f"{rel}:{pending[2]}", problems, page=False)
            commands = _parse_commands(body, where, problems)
            if commands:
                sessions.append(Session(doc, i + 1, (i + 1, end), settings, commands))
        elif pending:
            problems.append(f"{rel}:{pending[2]}: a 'session:' comment before a ```{lang} block, not a ```console one")
        pending = None
        i = end + 1
    return Page(doc, tuple(sessions), tuple(files), tuple(problems))


# --- comparing ---------------------------------------------------------------------------


def mask(line: str, extra: Iterable[str] = ()) -> str:
    """``line`` with what varies between runs blanked out, and no trailing white space."""
    for pattern in extra:
        line = re.sub(pattern, "<masked>", line)
    for pattern, repl in MASKS:
        line = re.sub(pattern, repl, line)
    return line.rstrip()


def _line_matches(shown: str, printed: str) -> bool:
    if shown == printed:
        return True
    return shown.endswith(ELLIPSIS) and shown != ELLIPSIS and printed.startswith(shown[:-1].rstrip())


def reconcile(shown: Sequence[str], printed: Sequence[str], extra_masks: Sequence[str] = (), any_order: bool = False) -> tuple[bool, list[str]]:
    """Whether ``printed`` matches ``shown``, and the lines to show instead when it does not.

    The new lines keep every shown line that still matches (its masked parts as they were,
    ``…`` lines with what they stand for) and take the printed lines elsewhere, so
    regenerating a block that did not drift changes nothing.
    """
    ms = [mask(s, extra_masks) for s in shown]
    mp = [mask(p, extra_masks) for p in printed]
    if any_order:  # a multiset, but the last shown line must still be printed last
        wanted = Counter(s for s in ms if s != ELLIPSIS)
        have = Counter(mp)
        ok = not (wanted - have) and (ELLIPSIS in ms or wanted == have)
        ok = ok and (not ms or ms[-1] == ELLIPSIS or (bool(mp) and _line_matches(ms[-1], mp[-1])))
        return ok, list(shown) if ok else [p.rstrip() for p in printed]
    n, m = len(ms), len(mp)
    inf = float("inf")
    eps = 1e-6
    cost = [[inf] * (m + 1) for _ in range(n + 1)]
    back: list[list[tuple[int, int, str] | None]] = [[None] * (m + 1) for _ in range(n + 1)]
    cost[0][0] = 0.0

    def relax(i: int, j: int, ni: int, nj: int, c: float, op: str) -> None:
        if c < cost[ni][nj]:
            cost[ni][nj] = c
            back[ni][nj] = (i, j, op)

    for i in range(n + 1):
        for j in range(m + 1):
            c = cost[i][j]
            if c == inf:
                continue
            if i < n and ms[i] == ELLIPSIS:
                relax(i, j, i + 1, j, c, "keep")
                if j < m:
                    relax(i, j, i, j + 1, c + eps, "absorb")
                continue
            if i < n and j < m:
                if _line_matches(ms[i], mp[j]):
                    relax(i, j, i + 1, j + 1, c, "keep")
                relax(i, j, i + 1, j + 1, c + 1, "replace")
            if i < n:
                relax(i, j, i + 1, j, c + 1, "drop")
            if j < m:
                relax(i, j, i, j + 1, c + 1, "add")
    ok = cost[n][m] < 0.5
    if ok:
        return True, list(shown)
    out: list[str] = []
    i, j = n, m
    while (i, j) != (0, 0):
        pi, pj, op = back[i][j]  # type: ignore[misc]
        if op == "keep":
            out.append(shown[pi])
        elif op in ("replace", "add"):
            out.append(printed[pj].rstrip())
        i, j = pi, pj
    out.reverse()
    return False, out


def render(session: Session, result: Result) -> tuple[bool, list[str]]:
    """Whether the session's output is as shown, and the block's lines as they should be."""
    ok = True
    lines: list[str] = []
    for command, printed in zip(session.commands, result.printed):
        lines.extend(command.lines)
        if printed is None:
            lines.extend(command.shown)
            continue
        same, new = reconcile(command.shown, printed, session.settings.masks, session.settings.any_order)
        ok = ok and same
        lines.extend(new)
    return ok, lines


def drift(session: Session, result: Result) -> str | None:
    """A readable diff when ``result`` is not what ``session`` shows, else ``None``."""
    if result.problem:
        return f"{session.name}: {result.problem}"
    ok, lines = render(session, result)
    if ok:
        return None
    shown = [line for c in session.commands for line in (*c.lines, *c.shown)]
    diff = difflib.unified_diff(shown, lines, f"{session.name} (shown)", f"{session.name} (printed)", lineterm="")
    return (
        f"{session.name}: the documented output drifted (masks applied when comparing; "
        "`uv run python -m tests.docs_sessions --update` rewrites the block):\n" + "\n".join(diff)
    )


def file_drift(shown: ShownFile) -> str | None:
    """A readable diff when a shown file is not the file the sessions use, else ``None``."""
    real = shown.source.read_text(encoding="utf-8").rstrip("\n").split("\n")
    if real == shown.text.split("\n"):
        return None
    diff = difflib.unified_diff(shown.text.split("\n"), real, f"{shown.name} (shown)", str(_shown(shown.source)), lineterm="")
    return f"{shown.name}: the block is not {shown.path} as the sessions use it; `--update` copies the file into the block:\n" + "\n".join(diff)


# --- running -----------------------------------------------------------------------------

_SHIMS = {
    "spine": 'exec {python} -m spine "$@"',
    "python": 'exec {python} "$@"',
    "python3": 'exec {python} "$@"',
    "pytest": 'exec {python} -m pytest "$@"',
    # `uv run [--quiet] CMD …` in the docs: the test's environment already is the project's
    "uv": (
        '[ "$1" = run ] || {{ echo "docs sessions: only \'uv run\' is available here" >&2; exit 2; }}\n'
        "shift\n"
        'while [ $# -gt 0 ]; do case "$1" in --quiet|-q) shift ;; -*) echo "docs sessions: uv run $1 is not available here" >&2; exit 2 ;; *) break ;; esac; done\n'
        'exec "$@"'
    ),
}

_DROP_ENV = ("NO_COLOR", "FORCE_COLOR", "CLICOLOR", "CLICOLOR_FORCE", "PYTHONPATH", "COLUMNS", "LINES", "CI")
#: Where the outside programs are (tests/_tools.py): kept, so a program hidden from the tests
#: (``SPINE_DOT=/nonexistent``) is hidden from the sessions too.
TOOL_VARIABLES = {"dot": "SPINE_DOT", "chromium": "SPINE_CHROMIUM", "node": "SPINE_NODE"}


def missing_tools(tools: Iterable[str], env: dict[str, str]) -> list[str]:
    """The programs of ``tools`` that cannot be used, each with why (a hidden one included)."""
    out = []
    for tool in tools:
        hidden = env.get(TOOL_VARIABLES.get(tool, ""), "")
        if hidden and not os.path.exists(hidden):
            out.append(f"{tool} is hidden ({TOOL_VARIABLES[tool]}={hidden} does not exist)")
        elif not hidden and shutil.which(tool, path=env["PATH"]) is None:
            out.append(f"{tool} is not on PATH")
    return out


def make_shims(folder: Path) -> Path:
    """A folder of ``spine``, ``python``, ``pytest`` and ``uv`` commands that use this interpreter."""
    folder.mkdir(parents=True, exist_ok=True)
    for name, body in _SHIMS.items():
        path = folder / name
        path.write_text("#!/bin/sh\n" + body.format(python=shlex.quote(sys.executable)) + "\n", encoding="utf-8")
        path.chmod(path.stat().st_mode | stat.S_IXUSR | stat.S_IXGRP | stat.S_IXOTH)
    return folder


def environment(shims: Path) -> dict[str, str]:
    """The environment of every session: the shims first on PATH, no SPINE_* settings but
    the programs' locations (``TOOL_VARIABLES``), 80 columns, UTF-8, UTC, unbuffered Python
    (so stdout and stderr interleave as written) and a git without user configuration."""
    keep = set(TOOL_VARIABLES.values())
    env = {k: v for k, v in os.environ.items() if (k in keep or not k.startswith(("SPINE_", "GIT_"))) and k not in _DROP_ENV}
    env.update(
        PATH=f"{shims}{os.pathsep}{os.environ.get('PATH', '')}",
        COLUMNS="80",
        LC_ALL="C.UTF-8",
        LANG="C.UTF-8",
        TZ="UTC",
        PYTHONUNBUFFERED="1",
        PYTHONDONTWRITEBYTECODE="1",
        REPO=str(REPO),
        GIT_CONFIG_NOSYSTEM="1",
        GIT_CONFIG_GLOBAL=os.devnull,
        GIT_AUTHOR_NAME="spine docs",
        GIT_AUTHOR_EMAIL="docs@spine.invalid",
        GIT_COMMITTER_NAME="spine docs",
        GIT_COMMITTER_EMAIL="docs@spine.invalid",
        GIT_AUTHOR_DATE="2024-01-05T00:00:00Z",
        GIT_COMMITTER_DATE="2024-01-05T00:00:00Z",
        # The project's dev environment has schemathesis (for the API's tests); its pytest
        # plugin changes how hypothesis prints a falsifying example ("params=,"). The docs
        # show what a user's project prints, which does not have it.
        PYTEST_ADDOPTS="-p no:schemathesis",
    )
    return env


_MARK = "\x1e"


def _script(session: Session, setup_log: Path) -> str:
    parts = ["exec 2>&1"]
    if session.settings.setup:
        parts.append(
            f"if ! ( set -e\n{session.settings.setup}\n) >{shlex.quote(str(setup_log))} 2>&1; then "
            f"printf '{_MARK}setup{_MARK}\\n'; cat {shlex.quote(str(setup_log))}; exit 0; fi"
        )
    for k, command in enumerate(session.commands):
        parts.append(command.shell)
        parts.append(f"__docs_rc=$?; printf '\\n{_MARK}{k}{_MARK}\\n'; (exit $__docs_rc)")
    return "\n".join(parts) + "\n"


def _substitute(text: str, real: Path, shown_as: str | None) -> str:
    """``text`` with the folder's real path written as the docs show it (``as=``: relative)."""
    if shown_as is None:
        return text
    for form in {str(real), str(real.resolve())}:
        text = text.replace(form + os.sep, shown_as + os.sep if shown_as else "").replace(form, shown_as or ".")
    return text


def run_session(session: Session, cwd: Path, source: Path, env: dict[str, str]) -> Result:
    """Run the commands of ``session`` in ``cwd`` and split what they print per command."""
    missing = missing_tools(session.settings.needs, env)
    if missing:
        return Result([None] * len(session.commands), skipped="; ".join(missing))
    with tempfile.TemporaryDirectory(prefix="docs-session-") as tmp:
        script = _script(session, Path(tmp) / "setup.log")
        proc = subprocess.Popen(
            ["bash", "--noprofile", "--norc", "-c", script],
            cwd=cwd,
            env={**env, "SOURCE": str(source)},
            stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            start_new_session=True,
        )
        try:
            raw, _ = proc.communicate(timeout=TIMEOUT_SECONDS)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
            raw, _ = proc.communicate()
            return Result([None] * len(session.commands), problem=f"timed out after {TIMEOUT_SECONDS} s:\n{raw.decode(errors='replace')}")
    text = _substitute(raw.decode("utf-8", errors="backslashreplace"), cwd, session.settings.shown_as)
    if text.startswith(f"{_MARK}setup{_MARK}\n"):
        return Result([None] * len(session.commands), problem="the hidden setup failed:\n" + text.split("\n", 1)[1])
    chunks = re.split(f"\n{_MARK}(\\d+){_MARK}\n", text)
    printed: list[list[str] | None] = [None] * len(session.commands)
    for k in range(len(chunks) // 2):
        out = chunks[2 * k]
        out = out[:-1] if out.endswith("\n") else out
        printed[int(chunks[2 * k + 1])] = out.split("\n") if out else []
    if None in printed:
        return Result(printed, problem="the session stopped before its last command (did a command exit the shell?):\n" + text)
    return Result(printed)


class Runner:
    """Runs sessions in scratch folders, in parallel where they cannot see each other.

    The sessions of one page that use the same folder form a chain, run in order in one
    copy of it (a session may use what an earlier one wrote); chains, and sessions in the
    repository root, run in parallel.
    """

    def __init__(self, scratch: Path, jobs: int | None = None) -> None:
        self.scratch = scratch
        self.shims = make_shims(scratch / "_bin")
        self.env = environment(self.shims)
        self._pool = ThreadPoolExecutor(max_workers=jobs or max(2, os.cpu_count() or 2))
        self._chains: dict[tuple[Path, int], Future[dict[int, Result]]] = {}

    def start(self, pages: Iterable[Page]) -> None:
        """Start every chain of ``pages`` that is not started yet, the longest first."""
        chains = []
        for page in pages:
            by_folder: dict[object, list[Session]] = {}
            for session in page.sessions:
                # the repository root is a folder too: its blocks share the repository's run
                # history (build/spine.db), where two runs of one group at once are refused
                by_folder.setdefault(session.settings.cwd, []).append(session)
            chains += [(page, chain) for chain in by_folder.values() if (page.doc, chain[0].line) not in self._chains]
        for page, chain in sorted(chains, key=lambda pc: -len(pc[1])):
            future = self._pool.submit(self._run_chain, page, chain)
            for session in chain:
                self._chains[page.doc, session.line] = future

    def result(self, session: Session, page: Page) -> Result:
        """What ``session`` printed (its chain is started if it was not)."""
        self.start([page])
        return self._chains[page.doc, session.line].result()[session.line]

    def close(self) -> None:
        self._pool.shutdown(wait=True, cancel_futures=True)

    def _folder(self, page: Page, settings: Settings) -> tuple[Path, str | None]:
        """A new copy of the session folder (prepared), or the repository; or why it failed."""
        cwd = settings.cwd
        if cwd == ".":
            return REPO, None
        target = self.scratch / f"{page.doc.stem}--{cwd.replace('/', '-')}" / Path(cwd).name
        shutil.copytree(REPO / cwd, target, ignore=shutil.ignore_patterns("__pycache__", ".pytest_cache", ".hypothesis"))
        if settings.prepare:
            proc = subprocess.run(
                ["bash", "--noprofile", "--norc", "-e", "-c", settings.prepare],
                cwd=target,
                env={**self.env, "SOURCE": str(REPO / cwd)},
                stdin=subprocess.DEVNULL,
                stdout=subprocess.PIPE,
                stderr=subprocess.STDOUT,
                timeout=TIMEOUT_SECONDS,
            )
            if proc.returncode:
                return target, f"the hidden preparation of {cwd} failed:\n{proc.stdout.decode(errors='replace')}"
        return target, None

    def _run_chain(self, page: Page, chain: list[Session]) -> dict[int, Result]:
        missing = missing_tools(chain[0].settings.needs, self.env)
        if missing:  # the folder's preparation may need them too
            skipped = "; ".join(missing)
            return {session.line: Result([None] * len(session.commands), skipped=skipped) for session in chain}
        cwd, problem = self._folder(page, chain[0].settings)
        env = self.env
        if cwd == REPO and "SPINE_DATABASE_URL" not in env:
            # the repository's configured store (build/spine.db) outlives a checkout's
            # upgrades; sessions in the repository record into a fresh one of their page's
            db = self.scratch / f"{page.doc.stem}--repo.db"
            env = {**env, "SPINE_DATABASE_URL": f"sqlite:///{db}"}
        results = {}
        for session in chain:
            if problem:
                results[session.line] = Result([None] * len(session.commands), problem=problem)
            else:
                results[session.line] = run_session(session, cwd, REPO / session.settings.cwd, env)
        return results


# --- rewriting ---------------------------------------------------------------------------


def rewrite(doc: Path, replacements: dict[tuple[int, int], list[str]]) -> None:
    """Replace the given [start, end) line ranges of ``doc`` (bottom up, so ranges stay valid)."""
    lines = doc.read_text(encoding="utf-8").split("\n")
    for (start, end), new in sorted(replacements.items(), reverse=True):
        lines[start:end] = new
    doc.write_text("\n".join(lines), encoding="utf-8")


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m tests.docs_sessions", description=__doc__.split("\n")[0])
    parser.add_argument("docs", nargs="*", type=Path, help="Markdown files (default: README.md and docs/*.md)")
    parser.add_argument("--update", action="store_true", help="rewrite drifted blocks from the real output")
    parser.add_argument("--jobs", type=int, default=None, help="pages run at once (default: the CPU count, at least 2)")
    args = parser.parse_args(argv)
    docs = [p.resolve() for p in args.docs] or documents()
    pages = [read_page(doc) for doc in docs]
    bad = 0
    for page in pages:
        for problem in page.problems:
            print(problem, file=sys.stderr)
            bad += 1
    with tempfile.TemporaryDirectory(prefix="docs-sessions-") as tmp:
        runner = Runner(Path(tmp), args.jobs)
        runner.start(pages)
        try:
            for page in pages:
                changes: dict[tuple[int, int], list[str]] = {}
                for shown in page.files:
                    if shown.source.is_file() and (problem := file_drift(shown)):
                        bad += 1
                        print(problem + "\n")
                        changes[shown.body] = shown.source.read_text(encoding="utf-8").rstrip("\n").split("\n")
                for session in page.sessions:
                    result = runner.result(session, page)
                    if result.skipped:
                        print(f"{session.name}: skipped ({result.skipped})", file=sys.stderr)
                    if problem := drift(session, result):
                        bad += 1
                        print(problem + "\n")
                        if not result.problem:
                            changes[session.body] = render(session, result)[1]
                if args.update and changes:
                    rewrite(page.doc, changes)
                    print(f"updated {_shown(page.doc)}: {len(changes)} block(s)", file=sys.stderr)
        finally:
            runner.close()
    if bad and not args.update:
        print(f"{bad} block(s) drifted or could not run", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
