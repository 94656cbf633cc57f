"""Presenting results: text for people (stdout), JSON for machines, escaping for terminals."""

from __future__ import annotations

import base64
import datetime as dt
import json
import sys
from collections.abc import Iterable
from typing import Any, TextIO


def safe(text: object) -> str:
    """``text`` with every non-printable character shown as an escape.

    Step names cannot hold control or bidi characters, but file names and the values in
    messages can; a terminal must never receive raw escape sequences from input.
    """
    s = str(text)
    if s.isprintable():
        return s
    return "".join(ch if ch.isprintable() or ch in "\n\t" else f"\\u{ord(ch):04x}" for ch in s)


def jsonable(value: Any) -> Any:
    """Plain JSON types for anything YAML or a plan can hold (dates as ISO text)."""
    if isinstance(value, dict):
        return {str(k): jsonable(v) for k, v in value.items()}
    if isinstance(value, (list, tuple, set, frozenset)):
        return [jsonable(v) for v in value]
    if isinstance(value, (dt.date, dt.datetime, dt.time)):
        return value.isoformat()
    if isinstance(value, bytes):
        return base64.b64encode(value).decode("ascii")
    if isinstance(value, float) and (value != value or value in (float("inf"), float("-inf"))):
        return str(value)
    if value is None or isinstance(value, (str, int, float, bool)):
        return value
    return str(value)


def dump_json(data: Any, out: TextIO | None = None) -> None:
    out = out or sys.stdout
    json.dump(jsonable(data), out, indent=2, ensure_ascii=False)
    out.write("\n")


def colour(text: str, fg: str, *, enabled: bool) -> str:
    if not enabled:
        return text
    import click

    return click.style(text, fg=fg, bold=fg == "red")


def short(value: Any, width: int = 60) -> str:
    text = json.dumps(jsonable(value), ensure_ascii=False)
    return text if len(text) <= width else text[: width - 1] + "…"


def lines(items: Iterable[str], indent: str = "  ") -> str:
    return "\n".join(indent + i for i in items)
