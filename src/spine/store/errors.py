"""What can go wrong with the store, as data. No SQLAlchemy, sqlite3 or psycopg exception
leaves :mod:`spine.store` untranslated: each becomes one of these, with a message that
says what to do. ``exit_code`` is what the CLI exits with (1 unless it is a usage error).
"""

from __future__ import annotations

from collections.abc import Sequence

from spine.core.errors import SpineError


class StoreError(SpineError):
    """Base of the store's errors (exit 1)."""

    exit_code = 1


class BadDatabaseURLError(StoreError):
    """The database URL cannot be used: malformed, or a dialect spine does not support (exit 2)."""

    exit_code = 2

    def __init__(self, url: str, why: str) -> None:
        self.url = url
        self.why = why
        super().__init__(
            f"database URL {url!r}: {why}; use sqlite:///PATH or postgresql+psycopg://USER@HOST:PORT/DB "
            "([tool.spine] database, SPINE_DATABASE_URL or --db; --db none runs without recording)"
        )


class StoreUnavailableError(StoreError):
    """The database cannot be reached (at start, or lost for longer than the retry bound)."""

    def __init__(self, url: str, why: str, advice: str = "") -> None:
        self.url = url
        self.why = why
        tail = advice or "check that the server is up and the URL is right, or run with --db none to skip recording"
        super().__init__(f"cannot use the database {url}: {why}; {tail}")


class StoreCorruptError(StoreError):
    """The SQLite file is not a database (or is damaged)."""

    def __init__(self, url: str, why: str) -> None:
        self.url = url
        self.why = why
        super().__init__(f"the database {url} is not usable: {why}; move the file aside (spine creates a new one) or point --db elsewhere")


class SchemaVersionError(StoreError):
    """The database's schema is newer than this spine knows, or older and needs ``spine db upgrade``."""

    def __init__(self, url: str, found: str | None, expected: str, newer: bool) -> None:
        self.url = url
        self.found = found
        self.expected = expected
        self.newer = newer
        if newer:
            msg = (
                f"the database {url} has schema revision {found}, newer than this spine knows (up to {expected}): "
                "it was upgraded by a newer spine; upgrade spine-core to use it"
            )
        else:
            msg = f"the database {url} has schema revision {found}, older than this spine's {expected}: run `spine db upgrade`"
        super().__init__(msg)


class RunNotFoundError(StoreError):
    """No run has that id (a name that names nothing is a usage error, exit 2)."""

    exit_code = 2

    def __init__(self, run_id: str, suggestion: str = "") -> None:
        self.run_id = run_id
        super().__init__(f"no run {run_id!r} in the database{suggestion}; `spine runs list` shows the runs")


class DeadLetterNotFoundError(StoreError):
    """No dead-letter entry has that id (exit 2)."""

    exit_code = 2

    def __init__(self, entry_ids: Sequence[int]) -> None:
        self.entry_ids = tuple(entry_ids)
        ids = ", ".join(str(i) for i in self.entry_ids)
        super().__init__(f"no dead-letter entry {ids}; `spine dlq list --status all` shows the entries")


class ActiveRunError(StoreError):
    """``policy.max_active_runs`` runs of the group are already active (exit 1; ``--wait`` waits)."""

    def __init__(self, group: str, active: Sequence[str], limit: int) -> None:
        self.group = group
        self.active = tuple(active)
        self.limit = limit
        runs = ", ".join(self.active)
        super().__init__(
            f"group {group!r} already has {len(self.active)} active run(s) ({runs}) and policy.max_active_runs is {limit}: "
            "wait for it (--wait), cancel it (`spine runs cancel RUN_ID`), or raise max_active_runs"
        )


class RunNotResumableError(StoreError):
    """The run cannot be resumed now: it completed, or a live process still runs it."""

    def __init__(self, run_id: str, why: str) -> None:
        self.run_id = run_id
        self.why = why
        super().__init__(f"cannot resume run {run_id}: {why}")


class RunStateError(StoreError):
    """An operation does not fit the run's state (cancelling a finished run …)."""

    def __init__(self, run_id: str, why: str) -> None:
        self.run_id = run_id
        self.why = why
        super().__init__(f"run {run_id}: {why}")


class UnknownPoolError(StoreError):
    """A step names a pool that ``[tool.spine.pools]`` does not define (nothing runs)."""

    def __init__(self, pools: Sequence[tuple[str, str]], known: Sequence[str]) -> None:
        self.pools = tuple(pools)
        self.known = tuple(known)
        listed = ", ".join(f"step {s!r} uses pool {p!r}" for s, p in self.pools[:5])
        more = f" (and {len(self.pools) - 5} more)" if len(self.pools) > 5 else ""
        defined = ", ".join(self.known) or "none"
        super().__init__(f"{listed}{more}, which [tool.spine.pools] does not define (defined: {defined}); add it, e.g. `warehouse = 2`")
