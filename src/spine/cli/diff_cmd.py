"""``spine group diff OLD NEW``: what a change does to the plan.

OLD and NEW are each a file, a folder, or ``git:REF:path`` (a file or folder as it was at
REF, read through git in the current working directory; the path is relative to the
repository root like ``git show REF:path``, or to the current directory when it starts
with ``./`` or ``../``). Groups are matched by name; when OLD and NEW are single files
holding one group each, the two are compared even if the name changed.

Exit codes: 0, or with ``--exit-code`` 0 for no change and 1 for changes (like
``git diff --exit-code``); 2 for usage errors (a missing file, a bad git ref or path).
An invalid group is still compared as far as it could be read; its findings go to stderr.

Registered by ``spine.cli.app`` with ``group.add_command(diff_cmd)``.
"""

from __future__ import annotations

import posixpath
import subprocess
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import click

from spine.cli.output import colour, safe
from spine.cli.workspace import UsageProblem

EXIT_OK, EXIT_CHANGED = 0, 1
GIT_PREFIX = "git:"
#: Seconds one git command may take.
GIT_TIMEOUT = 60.0


@dataclass
class Side:
    """What was read for OLD or NEW."""

    label: str
    loaded: list[Any] = field(default_factory=list)
    #: A folder (on disk or at a git revision), not a single file.
    folder: bool = False

    @property
    def groups(self) -> list[Any]:
        return [lg.group for lg in self.loaded if lg.group is not None]

    @property
    def unreadable(self) -> int:
        """How many documents (or files) could not be read as a group at all."""
        return sum(lg.group is None for lg in self.loaded)


def term(text: str) -> str:
    """A user string for one line of a terminal: newlines and tabs escaped, then :func:`safe`."""
    return safe(text.replace("\n", "\\n").replace("\t", "\\t").replace("\r", "\\r"))


# -- reading a side ---------------------------------------------------------------------


def read_side(spec: str, limits: Any = None) -> Side:
    """A file, a folder, or ``git:REF:path`` → every document found there."""
    if spec.startswith(GIT_PREFIX):
        return _read_git(spec, limits)
    from spine.orchestration import scan

    path = Path(spec)
    if not path.exists():
        raise UsageProblem(f"no such file or folder: {spec}")
    return Side(spec, scan([path], limits), folder=path.is_dir())


def _git(args: list[str]) -> subprocess.CompletedProcess[bytes]:
    try:
        return subprocess.run(["git", *args], capture_output=True, timeout=GIT_TIMEOUT, check=False)
    except FileNotFoundError as exc:
        raise UsageProblem("git is not installed (or not on PATH); git:REF:path needs it") from exc
    except subprocess.TimeoutExpired as exc:
        raise UsageProblem(f"git {args[0]} took longer than {GIT_TIMEOUT:.0f} s") from exc
    except OSError as exc:
        raise UsageProblem(f"cannot run git: {exc}") from exc


def _git_error(proc: subprocess.CompletedProcess[bytes]) -> str:
    lines = proc.stderr.decode("utf-8", "replace").strip().splitlines()
    return lines[-1] if lines else f"exit {proc.returncode}"


def parse_git_spec(spec: str) -> tuple[str, str]:
    """``git:REF:path`` → ``(REF, path)``; raises :class:`UsageProblem` when malformed."""
    ref, sep, path = spec[len(GIT_PREFIX):].partition(":")
    if not sep or not ref:
        raise UsageProblem(f"{spec!r} is not git:REF:path (for example git:HEAD~1:groups/g.yaml or git:main:groups)")
    if ref.startswith("-"):
        raise UsageProblem(f"git ref {ref!r} must not start with '-'")
    return ref, path


def _read_git(spec: str, limits: Any) -> Side:
    from spine.core.errors import InvalidGroupSpecError
    from spine.core.findings import Finding
    from spine.core.limits import Limits
    from spine.orchestration.loader import YAML_SUFFIXES, LoadedGroup, read_text

    limits = limits or Limits()
    ref, raw_path = parse_git_spec(spec)
    top = _git(["rev-parse", "--show-prefix"])
    if top.returncode != 0:
        raise UsageProblem(f"{spec}: not inside a git repository ({_git_error(top)})")
    path = raw_path
    if path.startswith(("./", "../")) or path in (".", ".."):
        path = top.stdout.decode("utf-8", "replace").strip() + path
    path = posixpath.normpath(path).lstrip("/") if path else ""
    if path in (".", ""):
        path = ""
    if path.startswith("../") or path == "..":
        raise UsageProblem(f"{spec}: the path leaves the repository")
    rev = _git(["rev-parse", "--verify", "--quiet", "--end-of-options", f"{ref}^{{tree}}"])
    if rev.returncode != 0:
        raise UsageProblem(f"{spec}: unknown git revision {ref!r}")
    tree = rev.stdout.decode("ascii").strip()
    listing = _git(["--literal-pathspecs", "ls-tree", "-r", "-z", "-l", "--full-tree", tree, *(["--", path] if path else [])])
    if listing.returncode != 0:
        raise UsageProblem(f"{spec}: git ls-tree failed: {_git_error(listing)}")
    entries: list[tuple[str, int]] = []  # (path, size) of regular files
    for record in listing.stdout.split(b"\0"):
        if not record:
            continue
        meta, _, name_b = record.partition(b"\t")
        mode, kind, _oid, size = meta.split()
        name = name_b.decode("utf-8", "surrogateescape")
        if path and name != path and not name.startswith(path + "/"):
            continue
        if kind == b"blob" and mode in (b"100644", b"100755"):
            entries.append((name, int(size)))
    if not entries:
        where = f"{path!r}" if path else "the repository"
        raise UsageProblem(f"{spec}: {where} does not exist at {ref} (or holds no files)")
    single = len(entries) == 1 and entries[0][0] == path
    if not single:  # a folder: its YAML files, skipping hidden files and folders (as scan does)
        entries = sorted(
            (n, s)
            for n, s in entries
            if n.endswith(YAML_SUFFIXES) and not any(part.startswith(".") for part in n[len(path):].split("/") if part)
        )
    side = Side(spec, folder=not single)
    for name, size in entries:
        label = f"{GIT_PREFIX}{ref}:{name}"
        if size > limits.max_bytes:
            side.loaded.append(
                LoadedGroup(label, 0, None, [Finding("file-too-large", f"file is larger than the {limits.max_bytes:,}-byte limit", file=label, line=1, column=1)])
            )
            continue
        shown = _git(["show", f"{tree}:{name}"])
        if shown.returncode != 0:
            raise UsageProblem(f"{label}: git show failed: {_git_error(shown)}")
        try:
            side.loaded.extend(read_text(shown.stdout, label, limits))
        except InvalidGroupSpecError as exc:
            side.loaded.append(LoadedGroup(label, 0, None, list(exc.findings)))
    return side


# -- the command --------------------------------------------------------------------------


def _findings(side: Side, group_name: str | None) -> list[Any]:
    from spine.orchestration import validate_group

    out = []
    for lg in side.loaded:
        name = lg.group.name if lg.group is not None else lg.name
        if group_name is not None and name is not None and name != group_name:
            continue
        out.extend(lg.findings)
        if lg.group is not None:
            out.extend(validate_group(lg.group))
    return out


def _finding_line(f: Any) -> str:
    where = f" [{term(f.step)}]" if f.step else ""
    return f"{term(f.location)}: {f.severity.value} {f.code}{where}: {term(f.message)}"


_COLOURS = {"added": "green", "removed": "red", "renamed": "blue", "changed": "yellow"}


@click.command("diff")
@click.argument("old", metavar="OLD")
@click.argument("new", metavar="NEW")
@click.option("--format", "fmt", type=click.Choice(["text", "markdown", "json", "html"]), default="text", show_default=True, help="Output format.")
@click.option("-o", "--output", metavar="FILE", help="Write to FILE (its folders are created) instead of stdout.")
@click.option("--exit-code", is_flag=True, help="Exit 1 when there are changes, 0 when there are none (like git diff --exit-code).")
@click.option("--group", "group_name", metavar="NAME", help="Compare only the group called NAME (when a side holds several).")
@click.option("--direction", type=click.Choice(["TB", "LR", "BT", "RL"], case_sensitive=False), default="TB", show_default=True, help="Layout direction of the merged graph (markdown, html).")
@click.pass_context
def diff_cmd(ctx: click.Context, old: str, new: str, fmt: str, output: str | None, exit_code: bool, group_name: str | None, direction: str) -> int:
    """Compare two versions of group definitions: steps, edges, params, policy.

    OLD and NEW are files, folders, or git:REF:path (e.g. git:HEAD~1:groups/g.yaml,
    git:main:groups). Added, removed and renamed-looking steps, added and removed
    dependencies, changed pipelines, params, defaults, policy and metadata are reported;
    markdown and html draw the merged graph with the changes marked.

    \b
    Examples:
      spine group diff git:HEAD~1:groups/g.yaml groups/g.yaml
      spine group diff git:main:groups groups --format markdown >> "$GITHUB_STEP_SUMMARY"
      spine group diff old/ new/ --format html -o diff.html --exit-code
    """
    from spine.cli.output import OutputKind, prepare_output, write_output
    from spine.diff.compare import DiffReport, diff_sets
    from spine.render import diff_render

    output = None if output == "-" else output
    if output is not None:
        prepare_output(output, OutputKind.FILE)
    obj = ctx.find_root().obj
    limits = obj.workspace().settings.limits if hasattr(obj, "workspace") else None
    color = bool(getattr(obj, "color", False)) and fmt == "text" and output is None

    sides = [read_side(old, limits), read_side(new, limits)]
    if group_name is not None and not any(group_name in {g.name for g in s.groups} for s in sides):
        raise UsageProblem(f"neither {term(old)} nor {term(new)} has a group named {term(group_name)!r}")
    for side in sides:
        for f in _findings(side, group_name):
            click.echo(_finding_line(f), err=True)
    # A document that is not a group at all (a YAML syntax error, no metadata.name) cannot
    # be matched with anything: its findings are above, and its groups look absent.
    for label, side in (("OLD", sides[0]), ("NEW", sides[1])):
        if side.unreadable:
            click.echo(f"note: {side.unreadable} document(s) in {label} could not be read as groups; their groups are missing from the diff", err=True)
    groups = []
    for side in sides:
        kept = [g for g in side.groups if group_name is None or g.name == group_name]
        counts = Counter(g.name for g in kept)
        for dup in sorted(n for n, c in counts.items() if c > 1):
            click.echo(f"note: {term(side.label)} holds several groups named {term(dup)}; the first is compared", err=True)
        groups.append(kept)

    # Two files with one group each are compared even when the group was renamed; in
    # folders, groups are matched by name only.
    pair_single = not (sides[0].folder or sides[1].folder)
    report = DiffReport(old=old, new=new, groups=tuple(diff_sets(groups[0], groups[1], pair_single=pair_single)))
    direction = direction.upper()
    if fmt == "json":
        text = diff_render.render_json(report)
    elif fmt == "markdown":
        text = diff_render.render_markdown(report, direction=direction)
    elif fmt == "html":
        text = diff_render.render_html(report, direction=direction)
    else:
        text = diff_render.render_text(
            report,
            escape=term,
            style=lambda line, change: colour(line, _COLOURS[change.value], enabled=color) if change.value in _COLOURS else line,
        )
    if output:
        write_output(output, text)
        click.echo(f"wrote {term(output)}", err=True)
    else:
        click.echo(text, nl=False, color=color or None)  # --color keeps colours in a pipe
    return (EXIT_CHANGED if report.changed else EXIT_OK) if exit_code else EXIT_OK


__all__ = ["diff_cmd", "read_side"]
