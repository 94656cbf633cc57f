"""Reading a *source* of groups: a file, a folder, or ``git:REF:path``.

``git:REF:path`` is a file or folder as it was at REF, read through git in the current
working directory; the path is relative to the repository root like ``git show
REF:path``, or to the current directory when it starts with ``./`` or ``../``. git runs
with a timeout, never through a shell, and a ref that looks like an option is refused.
Files over the size limit are not read (a ``file-too-large`` finding, as on disk).

Problems with the source itself (a missing path, a bad ref, no git) raise
:class:`~spine.check.errors.CheckInputError` subclasses; problems in the files are
findings of the documents, as :func:`spine.orchestration.scan` gives them.
"""

from __future__ import annotations

import posixpath
import subprocess
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from spine.check.errors import GitSourceError, PathNotFoundError

if TYPE_CHECKING:
    from spine.orchestration.loader import LoadedGroup
    from spine.yamlio.reader import Limits

__all__ = ["GIT_PREFIX", "GIT_TIMEOUT", "Source", "parse_git_spec", "read_source"]

GIT_PREFIX = "git:"
#: Seconds one git command may take.
GIT_TIMEOUT = 60.0


@dataclass(frozen=True, slots=True)
class Source:
    """What was read from one source: every document found there."""

    label: str
    loaded: tuple[LoadedGroup, ...] = ()
    #: A folder (on disk or at a git revision), not a single file.
    folder: bool = False

    @property
    def unreadable(self) -> int:
        """How many documents (or files) could not be read as a group at all."""
        return sum(lg.group is None for lg in self.loaded)


def read_source(spec: str, limits: Limits | None = None) -> Source:
    """A file, a folder, or ``git:REF:path`` → every document found there."""
    if spec.startswith(GIT_PREFIX):
        return _read_git(spec, limits)
    from spine.check.pipeline import group_files
    from spine.orchestration.loader import scan

    path = Path(spec)
    if not path.exists():
        raise PathNotFoundError(spec)
    return Source(spec, tuple(scan(group_files([path]), limits)), folder=path.is_dir())


def parse_git_spec(spec: str) -> tuple[str, str]:
    """``git:REF:path`` → ``(REF, path)``; raises :class:`GitSourceError` when malformed."""
    ref, sep, path = spec[len(GIT_PREFIX):].partition(":")
    if not sep or not ref:
        raise GitSourceError(spec, f"{spec!r} is not git:REF:path (for example git:HEAD~1:groups/g.yaml or git:main:groups)")
    if ref.startswith("-"):
        raise GitSourceError(spec, f"git ref {ref!r} must not start with '-'")
    return ref, path


def _git(spec: str, args: list[str]) -> subprocess.CompletedProcess[bytes]:
    try:
        return subprocess.run(["git", *args], capture_output=True, timeout=GIT_TIMEOUT, check=False)
    except FileNotFoundError as exc:
        raise GitSourceError(spec, "git is not installed (or not on PATH); git:REF:path needs it") from exc
    except subprocess.TimeoutExpired as exc:
        raise GitSourceError(spec, f"git {args[0]} took longer than {GIT_TIMEOUT:.0f} s") from exc
    except OSError as exc:
        raise GitSourceError(spec, f"cannot run git: {exc}") from exc


def _git_error(proc: subprocess.CompletedProcess[bytes]) -> str:
    lines = proc.stderr.decode("utf-8", "replace").strip().splitlines()
    return lines[-1] if lines else f"exit {proc.returncode}"


def _read_git(spec: str, limits: Any) -> Source:
    from spine.core.errors import InvalidGroupSpecError
    from spine.core.findings import Finding
    from spine.orchestration.loader import YAML_SUFFIXES, LoadedGroup, read_text
    from spine.yamlio.reader import Limits

    limits = limits or Limits()
    ref, raw_path = parse_git_spec(spec)
    top = _git(spec, ["rev-parse", "--show-prefix"])
    if top.returncode != 0:
        raise GitSourceError(spec, f"{spec}: not inside a git repository ({_git_error(top)})")
    path = raw_path
    if path.startswith(("./", "../")) or path in (".", ".."):
        path = top.stdout.decode("utf-8", "replace").strip() + path
    path = posixpath.normpath(path).lstrip("/") if path else ""
    if path in (".", ""):
        path = ""
    if path.startswith("../") or path == "..":
        raise GitSourceError(spec, f"{spec}: the path leaves the repository")
    rev = _git(spec, ["rev-parse", "--verify", "--quiet", "--end-of-options", f"{ref}^{{tree}}"])
    if rev.returncode != 0:
        raise GitSourceError(spec, f"{spec}: unknown git revision {ref!r}")
    tree = rev.stdout.decode("ascii").strip()
    listing = _git(spec, ["--literal-pathspecs", "ls-tree", "-r", "-z", "-l", "--full-tree", tree, *(["--", path] if path else [])])
    if listing.returncode != 0:
        raise GitSourceError(spec, f"{spec}: git ls-tree failed: {_git_error(listing)}")
    entries: list[tuple[str, int]] = []  # (path, size) of regular files
    for record in listing.stdout.split(b"\0"):
        if not record:
            continue
        meta, _, name_b = record.partition(b"\t")
        mode, kind, _oid, size_b = meta.split()
        name = name_b.decode("utf-8", "surrogateescape")
        if path and name != path and not name.startswith(path + "/"):
            continue
        if kind == b"blob" and mode in (b"100644", b"100755"):
            entries.append((name, int(size_b)))
    if not entries:
        where = f"{path!r}" if path else "the repository"
        raise GitSourceError(spec, f"{spec}: {where} does not exist at {ref} (or holds no files)")
    single = len(entries) == 1 and entries[0][0] == path
    if not single:  # a folder: its YAML files, skipping hidden files and folders (as scan does)
        entries = sorted(
            (n, s)
            for n, s in entries
            if n.endswith(YAML_SUFFIXES) and not any(part.startswith(".") for part in n[len(path):].split("/") if part)
        )
    loaded: list[LoadedGroup] = []
    for name, size in entries:
        label = f"{GIT_PREFIX}{ref}:{name}"
        if size > limits.max_bytes:
            loaded.append(
                LoadedGroup(label, 0, None, [Finding("file-too-large", f"file is larger than the {limits.max_bytes:,}-byte limit", file=label, line=1, column=1)])
            )
            continue
        shown = _git(spec, ["show", f"{tree}:{name}"])
        if shown.returncode != 0:
            raise GitSourceError(spec, f"{label}: git show failed: {_git_error(shown)}")
        try:
            loaded.extend(read_text(shown.stdout, label, limits))
        except InvalidGroupSpecError as exc:
            loaded.append(LoadedGroup(label, 0, None, list(exc.findings)))
    return Source(spec, tuple(loaded), folder=not single)
