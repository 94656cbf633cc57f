"""``spine db upgrade|check``: the store's schema.

``upgrade`` brings the database to this spine's schema revision (Alembic migrations;
an empty database gets every table). ``check`` says where it stands: exit 0 when it is
current, 1 when it needs ``spine db upgrade``, is empty, or is newer than this spine.
"""

from __future__ import annotations

from typing import Any

import click

from spine.cli.storage import database_url, db_option

EXIT_OK, EXIT_INVALID = 0, 1


@click.group("db")
def db() -> None:
    """The run database: upgrade its schema, or check it."""


def _store(c: Any, flag: str | None) -> Any:
    from spine.cli.workspace import UsageProblem
    from spine.store import RunStore

    ws = c.workspace()
    url = database_url(ws, flag)
    if url.lower() == "none":
        raise UsageProblem("the database is 'none'; give --db URL or set [tool.spine] database")
    return RunStore(url, root=ws.settings.root)


@db.command("upgrade")
@db_option
@click.pass_obj
def upgrade_cmd(c: Any, db: str | None) -> int:
    """Create or migrate the schema to this spine's revision."""
    with _store(c, db) as store:
        before, after = store.upgrade()
    if before == after:
        click.echo(f"{store.shown}: schema revision {after}, already current")
    else:
        click.echo(f"{store.shown}: schema upgraded from {before or 'empty'} to revision {after}")
    return EXIT_OK


@db.command("check")
@db_option
@click.pass_obj
def check_cmd(c: Any, db: str | None) -> int:
    """Say whether the schema is current (exit 0) or needs attention (exit 1)."""
    with _store(c, db) as store:
        state = store.schema_state()
    if state.current:
        click.echo(f"{store.shown}: schema revision {state.found}, current")
        return EXIT_OK
    if state.found is None:
        click.echo(f"{store.shown}: no spine schema yet; `spine db upgrade` creates it (the first recorded run does too)", err=True)
    elif state.newer:
        click.echo(f"{store.shown}: schema revision {state.found} is newer than this spine's {state.expected}: upgrade spine-core", err=True)
    elif state.found.isdigit():
        click.echo(f"{store.shown}: schema revision {state.found} is older than this spine's {state.expected}: run `spine db upgrade`", err=True)
    else:
        click.echo(f"{store.shown}: holds another application's schema (Alembic revision {state.found!r})", err=True)
    return EXIT_INVALID


__all__ = ["db"]
