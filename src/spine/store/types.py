"""Column types that read and write the same values on SQLite and PostgreSQL.

- :class:`UTCDateTime`: aware UTC ``datetime`` in Python; ``timestamptz`` on PostgreSQL,
  fixed-width ISO-8601 text on SQLite (``2024-01-05T12:00:00.000000Z``, which sorts as it
  reads, so indexes on times work).
- :class:`JSONText`: any JSON value in Python; JSON text in the database (``TEXT`` on
  both, so a NUL or any other character a pipeline returns survives: JSON escapes it).

:func:`sqlite_time` and :func:`to_json` are the same conversions for the recorder's
hand-written hot-path statements, so both paths store byte-identical values.
"""

from __future__ import annotations

import datetime as dt
import json
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Dialect
from sqlalchemy.types import TypeDecorator


def sqlite_time(t: dt.datetime | None) -> str | None:
    """The text SQLite stores for ``t`` (UTC, microseconds, ``Z``)."""
    if t is None:
        return None
    if t.tzinfo is not dt.UTC:
        if t.tzinfo is None:
            raise ValueError("naive datetime: the store keeps aware UTC times")
        t = t.astimezone(dt.UTC)
    # isoformat is several times faster than strftime, and this runs for every row written
    return t.replace(tzinfo=None).isoformat(timespec="microseconds") + "Z"


def parse_sqlite_time(text: str | None) -> dt.datetime | None:
    if text is None:
        return None
    t = dt.datetime.fromisoformat(text)  # Python 3.11 reads the Z as UTC itself (this runs per column of every row read)
    if t.tzinfo is dt.UTC:
        return t
    return t.replace(tzinfo=dt.UTC) if t.tzinfo is None else t.astimezone(dt.UTC)


def to_json(value: Any) -> str | None:
    """JSON text for a value (``None`` stays SQL ``NULL``); compact, unicode kept."""
    if value is None:
        return None
    return json.dumps(value, ensure_ascii=False, separators=(",", ":"), allow_nan=False)


def from_json(text: str | None) -> Any:
    return None if text is None else json.loads(text)


class UTCDateTime(TypeDecorator[dt.datetime]):
    """Aware UTC datetimes on every dialect (see the module docstring)."""

    impl = sa.DateTime(timezone=True)
    cache_ok = True

    def load_dialect_impl(self, dialect: Dialect) -> Any:
        if dialect.name == "sqlite":
            return dialect.type_descriptor(sa.String(32))
        return dialect.type_descriptor(sa.DateTime(timezone=True))

    def process_bind_param(self, value: Any, dialect: Dialect) -> Any:
        if value is None:
            return None
        if dialect.name == "sqlite":
            return sqlite_time(value)
        return value.astimezone(dt.UTC)

    def process_result_value(self, value: Any, dialect: Dialect) -> dt.datetime | None:
        if value is None:
            return None
        if isinstance(value, str):
            return parse_sqlite_time(value)
        return value.astimezone(dt.UTC)


class RawJSON(str):
    """JSON text already written (bound to a :class:`JSONText` column as it is)."""


class JSONText(TypeDecorator[Any]):
    """JSON values stored as text (see the module docstring)."""

    impl = sa.Text
    cache_ok = True

    def process_bind_param(self, value: Any, dialect: Dialect) -> str | None:
        if isinstance(value, RawJSON):
            return str(value)
        return to_json(value)

    def process_result_value(self, value: Any, dialect: Dialect) -> Any:
        return from_json(value)
