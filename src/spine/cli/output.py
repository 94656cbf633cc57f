"""Presenting results: text for people (stdout), JSON for machines, escaping for terminals."""

from __future__ import annotations

import datetime as dt
import json
import sys
from typing import Any, TextIO

from spine.core.jsonable import jsonable


def safe(text: object, *, multiline: bool = False) -> str:
    """``text`` with every non-printable character shown as an escape.

    Step names cannot hold control or bidi characters, but an invalid group is still
    shown, and file names and values in messages can hold anything: a terminal must never
    receive raw escape sequences, nor a newline that fakes another line of output
    (``multiline=True`` keeps newlines, for messages that are several lines on purpose).
    """
    s = str(text)
    if s.isprintable():
        return s
    keep = "\n" if multiline else ""
    return "".join(ch if ch.isprintable() or ch in keep else f"\\u{ord(ch):04x}" for ch in s)


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


def colour(text: str, fg: str, *, enabled: bool) -> str:
    if not enabled:
        return text
    import click

    return click.style(text, fg=fg, bold=fg == "red")


def short(value: Any, width: int = 60) -> str:
    text = json.dumps(jsonable(value), ensure_ascii=False)
    return text if len(text) <= width else text[: width - 1] + "…"
