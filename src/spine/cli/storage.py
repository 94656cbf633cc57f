"""The CLI's way to the store: which database (``--db``, ``SPINE_DATABASE_URL``,
``[tool.spine] database``), opening it with one clear line on failure, and ``--since``."""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Callable
from typing import Any

import click

from spine.cli.workspace import UsageProblem

#: ``--db`` on every command that reads or writes runs.
db_option = click.option(
    "--db", "db", metavar="URL",
    help="Database URL (sqlite:///PATH or postgresql+psycopg://…); default [tool.spine] database or SPINE_DATABASE_URL. 'none': do not record.",
)


def database_url(ws: Any, flag: str | None) -> str:
    """The URL in force: ``--db`` beats the settings (which already hold the environment)."""
    return (flag if flag is not None else ws.settings.database).strip()


def open_store(ws: Any, flag: str | None, *, create: bool = True) -> Any:
    """The :class:`~spine.store.RunStore` for this workspace, its schema checked (an empty
    database is created when ``create``). ``none`` here is a usage error: the command
    needs a database."""
    url = database_url(ws, flag)
    if url.lower() == "none":
        raise UsageProblem("this command reads the run history, but the database is 'none'; give --db URL or set [tool.spine] database")
    from spine.store import RunStore

    return RunStore.open(url, root=ws.settings.root, create=create)


_RELATIVE = re.compile(r"(\d+(?:\.\d+)?)\s*([smhdw])")
_UNITS = {"s": "seconds", "m": "minutes", "h": "hours", "d": "days", "w": "weeks"}


def parse_since(text: str, now: Callable[[], dt.datetime] | None = None) -> dt.datetime:
    """``30m``, ``2h``, ``7d``, ``1w`` (ago), or an ISO date/time (local time unless it
    names an offset) → an aware UTC datetime."""
    raw = text.strip()
    m = _RELATIVE.fullmatch(raw)
    current = (now or (lambda: dt.datetime.now(dt.UTC)))()
    if m:
        return current - dt.timedelta(**{_UNITS[m.group(2)]: float(m.group(1))})
    try:
        value = dt.datetime.fromisoformat(raw.replace("Z", "+00:00"))
    except ValueError:
        raise click.BadParameter(f"{text!r} is not a time: give 30m, 2h, 7d, 1w, or a date like 2024-01-05 or 2024-01-05T12:00") from None
    if value.tzinfo is None:
        value = value.astimezone()  # local time, as people type it
    return value.astimezone(dt.UTC)


def when(t: dt.datetime | None) -> str:
    """A time for tables: UTC, to the second, ISO-8601 (``2024-01-05T12:00:00Z``)."""
    return t.astimezone(dt.UTC).strftime("%Y-%m-%dT%H:%M:%SZ") if t is not None else "-"


__all__ = ["database_url", "db_option", "open_store", "parse_since", "when"]
