"""Connecting: the database URL, engines tuned per dialect, and errors translated.

- **URLs.** ``sqlite:///PATH`` (relative paths are relative to the project's
  configuration folder, so ``.spine/spine.db`` sits beside ``pyproject.toml``; the folder
  is created) and ``postgresql+psycopg://…`` (psycopg 3; ``postgresql://`` means the same).
  ``none`` means no store. Anything else is a :class:`BadDatabaseURLError`.
- **SQLite.** WAL, ``synchronous=NORMAL``, a busy timeout, foreign keys on. pysqlite's own
  transaction handling is switched off (it would run a ``SELECT`` outside any
  transaction): spine emits ``BEGIN`` itself, ``BEGIN IMMEDIATE`` for writes, so a write
  transaction holds the write lock from its first statement and never fails half-way on
  a lock upgrade. That lock is also SQLite's answer to ``SELECT … FOR UPDATE``.
- **PostgreSQL.** psycopg 3; a connect timeout, TCP keepalives (a silent network
  partition is noticed in about half a minute), and per-session ``lock_timeout`` and
  ``statement_timeout``, so a lock held elsewhere or a hung server becomes an error that
  is retried — and, if it lasts, fails the run — instead of a loop blocked forever.
- **Errors.** :func:`translate` turns a driver or SQLAlchemy error into a
  :class:`~spine.store.errors.StoreError`; :func:`is_transient` says whether trying
  again may help (locked, busy, a lost connection, a serialisation failure), and
  :func:`retrying` does so with backoff, within a time bound.
"""

from __future__ import annotations

import random
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any, TypeVar

import sqlalchemy as sa
from sqlalchemy import event, exc

from spine.store.errors import BadDatabaseURLError, StoreCorruptError, StoreError, StoreUnavailableError

T = TypeVar("T")

#: The URL that turns recording off.
NO_DATABASE = "none"
#: How long SQLite waits for a lock before it reports "database is locked" (ms).
SQLITE_BUSY_TIMEOUT_MS = 5_000
#: PostgreSQL: how long a statement waits for a lock held elsewhere before it fails (ms).
PG_LOCK_TIMEOUT_MS = 5_000
#: PostgreSQL: how long one statement may run before it fails (ms).
PG_STATEMENT_TIMEOUT_MS = 60_000
#: Execution option: this connection's transactions write (SQLite: ``BEGIN IMMEDIATE``).
WRITE = {"spine_write": True}


def resolve_url(url: str, root: Path | None = None) -> str:
    """A usable URL: relative SQLite paths made absolute against ``root`` (or the cwd)."""
    text = url.strip()
    try:
        parsed = sa.engine.make_url(text)
    except exc.ArgumentError as e:
        raise BadDatabaseURLError(url, "not a database URL") from e
    backend = parsed.get_backend_name()
    if backend == "sqlite":
        db = parsed.database
        if not db or db == ":memory:":
            raise BadDatabaseURLError(url, "an in-memory SQLite database forgets every run; give a file: sqlite:///.spine/spine.db")
        path = Path(db).expanduser()
        if not path.is_absolute():
            path = (root or Path.cwd()) / path
        return str(parsed.set(database=str(path)))
    if backend == "postgresql":
        # plain postgresql:// names SQLAlchemy's default driver (psycopg2); spine ships psycopg 3
        if "+" in parsed.drivername and parsed.get_driver_name() != "psycopg":
            raise BadDatabaseURLError(url, f"driver {parsed.get_driver_name()!r} is not supported; use postgresql+psycopg://")
        return parsed.set(drivername="postgresql+psycopg").render_as_string(hide_password=False)
    raise BadDatabaseURLError(url, f"{backend!r} databases are not supported")


def display_url(url: str) -> str:
    """The URL with any password hidden (for messages)."""
    try:
        return sa.engine.make_url(url).render_as_string(hide_password=True)
    except exc.ArgumentError:
        return url


def make_engine(url: str) -> sa.Engine:
    """An engine for a URL from :func:`resolve_url`, tuned for its dialect."""
    parsed = sa.engine.make_url(url)
    if parsed.get_backend_name() == "sqlite":
        path = Path(parsed.database or "")
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
        except OSError as e:
            raise StoreUnavailableError(display_url(url), f"cannot create the folder {path.parent}: {e.strerror or e}") from e
        engine = sa.create_engine(url, connect_args={"timeout": SQLITE_BUSY_TIMEOUT_MS / 1000, "check_same_thread": False})
        event.listen(engine, "connect", _sqlite_connect)
        event.listen(engine, "begin", _sqlite_begin)
        return engine
    engine = sa.create_engine(
        url, pool_pre_ping=True,
        connect_args={"connect_timeout": 5, "keepalives": 1, "keepalives_idle": 10, "keepalives_interval": 5, "keepalives_count": 3},
    )
    event.listen(engine, "connect", _pg_connect)
    return engine


def _pg_connect(dbapi_conn: Any, record: Any) -> None:
    with dbapi_conn.cursor() as cur:
        cur.execute(f"SET lock_timeout = {int(PG_LOCK_TIMEOUT_MS)}")
        cur.execute(f"SET statement_timeout = {int(PG_STATEMENT_TIMEOUT_MS)}")
    dbapi_conn.commit()


def _sqlite_connect(dbapi_conn: Any, record: Any) -> None:
    dbapi_conn.isolation_level = None  # spine emits BEGIN itself (see _sqlite_begin)
    cur = dbapi_conn.cursor()
    try:
        cur.execute(f"PRAGMA busy_timeout = {SQLITE_BUSY_TIMEOUT_MS}")
        cur.execute("PRAGMA journal_mode = WAL")
        cur.execute("PRAGMA synchronous = NORMAL")
        cur.execute("PRAGMA foreign_keys = ON")
    finally:
        cur.close()


def _sqlite_begin(conn: sa.Connection) -> None:
    conn.exec_driver_sql("BEGIN IMMEDIATE" if conn.get_execution_options().get("spine_write") else "BEGIN")


# -- errors ------------------------------------------------------------------------------


def _original(e: BaseException) -> BaseException:
    return getattr(e, "orig", None) or e


def is_transient(e: BaseException) -> bool:
    """True when the same statement may succeed later: locked/busy, connection lost,
    serialisation failure or deadlock."""
    orig = _original(e)
    if isinstance(e, exc.DBAPIError) and e.connection_invalidated:
        return True
    text = str(orig).lower()
    if "database is locked" in text or "database is busy" in text or "database table is locked" in text:
        return True
    sqlstate = getattr(orig, "sqlstate", None)
    if sqlstate is not None:
        # 40001 serialisation failure, 40P01 deadlock, 08xxx connection, 57P0x shutdown
        return sqlstate in ("40001", "40P01", "55P03") or sqlstate.startswith(("08", "57P"))
    try:
        import psycopg
    except ImportError:  # pragma: no cover - psycopg is a dependency
        return False
    return isinstance(orig, psycopg.OperationalError)


def translate(e: BaseException, url: str) -> StoreError:
    """The :class:`StoreError` for a driver or SQLAlchemy error."""
    if isinstance(e, StoreError):
        return e
    shown = display_url(url)
    orig = _original(e)
    text = str(orig).strip().splitlines()[0] if str(orig).strip() else type(orig).__name__
    low = text.lower()
    if "file is not a database" in low or "database disk image is malformed" in low:
        return StoreCorruptError(shown, text)
    if isinstance(e, exc.NoSuchModuleError):
        return BadDatabaseURLError(shown, f"no driver: {text}")
    if isinstance(e, (exc.OperationalError, exc.InterfaceError)) or is_transient(e):
        return StoreUnavailableError(shown, text)
    return StoreError(f"the database {shown} refused a statement: {text}")


def retrying(fn: Callable[[], T], *, url: str, bound_seconds: float = 30.0, first_delay: float = 0.05) -> T:
    """Call ``fn`` until it succeeds, retrying transient errors with backoff (doubling,
    jittered, at most 2 s apart) for up to ``bound_seconds``; then raise the translation."""
    deadline = time.monotonic() + bound_seconds
    delay = first_delay
    while True:
        try:
            return fn()
        except exc.SQLAlchemyError as e:
            if not is_transient(e) or time.monotonic() + delay > deadline:
                raise translate(e, url) from e
        except StoreError:
            raise
        time.sleep(delay * random.uniform(0.8, 1.2))
        delay = min(delay * 2, 2.0)


__all__ = ["NO_DATABASE", "WRITE", "display_url", "is_transient", "make_engine", "resolve_url", "retrying", "translate"]
