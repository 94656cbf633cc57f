"""Presenting results: text for people (stdout), JSON for machines, escaping for terminals,
and the paths given to ``-o``: checked before any work, written with one clear error."""

from __future__ import annotations

import datetime as dt
import enum
import io
import json
import os
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any, TextIO

import click

from spine.core.escape import terminal
from spine.core.jsonable import jsonable


def safe(text: object, *, multiline: bool = False) -> str:
    """``text`` with every non-printable character shown as an escape.

    Step names cannot hold control or bidi characters, but an invalid group is still
    shown, and file names and values in messages can hold anything: a terminal must never
    receive raw escape sequences, nor a newline that fakes another line of output
    (``multiline=True`` keeps newlines, for messages that are several lines on purpose).
    The rules live in :func:`spine.core.escape.terminal`.
    """
    return terminal(text, multiline=multiline)


def dump_json(data: Any, out: TextIO | None = None, *, pretty: bool = True) -> None:
    """Write ``data`` as JSON. ``pretty=False`` writes one line with the C encoder, which
    is what large plans need (Python's indenting encoder is ~10x slower)."""
    out = out or sys.stdout
    try:
        text = json.dumps(data, indent=2 if pretty else None, ensure_ascii=False, allow_nan=False, default=_default)
    except (TypeError, ValueError):  # odd keys or NaN: normalise everything, then encode
        text = json.dumps(jsonable(data), indent=2 if pretty else None, ensure_ascii=False)
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:  # a lone surrogate (a file name that is not UTF-8): escape it
        text = json.dumps(jsonable(data), indent=2 if pretty else None, ensure_ascii=True)
    out.write(text)
    out.write("\n")


def _default(value: Any) -> Any:
    if isinstance(value, (dt.date, dt.time, bytes)):
        return jsonable(value)
    raise TypeError(f"not JSON serialisable: {type(value).__name__}")


def colour_enabled(flag: bool | None, stream: Any = None, env: Any = None) -> bool:
    """Whether to colour text output: ``--color``/``--no-color`` when given; otherwise off
    when ``NO_COLOR`` is set to anything non-empty (https://no-color.org) or ``TERM`` is
    ``dumb``, and on only when ``stream`` (stdout) is a terminal."""
    if flag is not None:
        return flag
    env = os.environ if env is None else env
    if env.get("NO_COLOR") or env.get("TERM") == "dumb":
        return False
    return _isatty(sys.stdout if stream is None else stream)


def _isatty(stream: Any) -> bool:
    try:
        return bool(stream.isatty())
    except (AttributeError, ValueError):  # no isatty, or a closed stream
        return False


def colour(text: str, fg: str, *, enabled: bool) -> str:
    if not enabled:
        return text
    import click

    return click.style(text, fg=fg, bold=fg == "red")


def short(value: Any, width: int = 60) -> str:
    text = json.dumps(jsonable(value), ensure_ascii=False)
    return text if len(text) <= width else text[: width - 1] + "…"


# -- output paths (-o) --------------------------------------------------------------------


class OutputKind(enum.Enum):
    """What an ``-o`` path must name."""

    #: One file; its parent folders are created.
    FILE = "file"
    #: A folder (a report site); created with its parents.
    FOLDER = "folder"


class OutputPathError(click.ClickException):
    """An ``-o`` path that cannot be written: a usage error (exit 2), shown as one line.

    ``path`` is the path as given, ``problem`` says what is wrong with it and ``advice``
    what to do instead.
    """

    exit_code = 2

    def __init__(self, path: str, problem: str, advice: str) -> None:
        super().__init__(f"cannot write {safe(path)}: {safe(problem)}; {safe(advice)}")
        self.path = path
        self.problem = problem
        self.advice = advice


#: Suffixes of a single-page HTML report, compared without case (``Report.HTML`` is a file).
HTML_SUFFIXES = (".html", ".htm")


def is_html_file(path: str) -> bool:
    """True when ``path`` names one HTML page rather than a folder: its suffix is .html or .htm in any case."""
    return Path(path).suffix.lower() in HTML_SUFFIXES


def prepare_output(path: str, kind: OutputKind = OutputKind.FILE, *, advice: str | None = None) -> Path:
    """Check an ``-o`` path before any work is done, and create the folders it needs.

    For a file, its parent folders are created; for a folder, the folder itself. An
    existing file where a folder is needed (also on the way: ``out.txt/x.dot``), an
    existing folder where a file is needed, and a place that cannot be written raise
    :class:`OutputPathError`. Nothing is written to the file itself. ``advice`` replaces
    the default advice when the path names the wrong kind (a file for a folder, or back).
    """
    if not path:
        raise OutputPathError(path, "the path is empty", "give a file or folder name")
    target = Path(path)
    if kind is OutputKind.FILE and path.endswith(("/", os.sep)):
        raise OutputPathError(path, "it ends with a path separator, which names a folder", "give a file name")
    if target.is_dir():
        if kind is OutputKind.FILE:
            raise OutputPathError(path, "it is a folder", advice or "give a file name (inside it, or elsewhere)")
        _check_writable(path, target)
        return target
    if target.exists() or target.is_symlink():
        if kind is OutputKind.FOLDER:
            raise OutputPathError(path, "it is a file, not a folder", advice or "give a folder, or remove the file")
        if not os.access(target, os.W_OK):
            raise OutputPathError(path, "permission denied", "choose a path you can write to")
        return target
    blocker = _file_on_the_way(target)
    if blocker is not None:
        raise OutputPathError(path, f"{blocker} is a file, not a folder", "choose another path, or remove or rename that file")
    folder = target if kind is OutputKind.FOLDER else target.parent
    try:
        folder.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise OutputPathError(path, f"cannot create folder {folder}: {exc.strerror or exc}", "choose a path you can write to") from exc
    _check_writable(path, folder)
    return target


def _file_on_the_way(target: Path) -> Path | None:
    """The nearest existing ancestor of ``target`` when it is not a folder, else ``None``."""
    for parent in target.parents:
        if parent.is_dir():
            return None
        if parent.exists() or parent.is_symlink():
            return parent
    return None


def _check_writable(path: str, folder: Path) -> None:
    if not os.access(folder, os.W_OK | os.X_OK):
        where = "" if str(folder) == path else f" in {folder}"
        raise OutputPathError(path, f"permission denied{where}", "choose a path you can write to")


@contextmanager
def output_errors(path: str | os.PathLike[str]) -> Iterator[None]:
    """Turn an ``OSError`` while writing ``path`` into an :class:`OutputPathError`."""
    try:
        yield
    except OSError as exc:
        where = f" ({exc.filename})" if exc.filename and str(exc.filename) != str(path) else ""
        raise OutputPathError(str(path), f"{exc.strerror or exc}{where}", "choose a path you can write to") from exc


def write_output(path: str | os.PathLike[str], text: str) -> None:
    """Write ``text`` to a path checked by :func:`prepare_output` (UTF-8)."""
    with output_errors(path):
        Path(path).write_text(text, encoding="utf-8")


@contextmanager
def open_output(path: str | None) -> Iterator[TextIO]:
    """A text stream for a command's report: stdout for ``None`` or ``-``, else a buffer
    written to ``path`` (checked first) when the command finishes without an error, so a
    usage error never leaves an empty or half-written file behind."""
    if path is None or path == "-":
        yield sys.stdout
        return
    target = prepare_output(path, OutputKind.FILE)
    buffer = io.StringIO()
    yield buffer
    write_output(target, buffer.getvalue())
