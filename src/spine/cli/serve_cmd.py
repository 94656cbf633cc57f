"""``spine serve`` and ``spine token create|list|revoke``: the HTTP API and who may use it.

``serve`` runs the API, the dashboard and ``/metrics`` on uvicorn (one process: the
event streams and the run workers share its state). Runs started over HTTP execute in
the server's own run-worker threads (``--workers``), recorded in the same store as the
CLI's, so they show up in ``spine runs list`` and a server killed mid-run leaves runs that
``spine runs resume`` continues. Without any token the server binds to loopback only and
lets requests without a token in; binding elsewhere without tokens is refused (exit 2).

``token create`` prints the new token as its last line (``{"token": …}`` with ``--json``);
only its hash is stored.
"""

from __future__ import annotations

import ipaddress
from typing import Any

import click

from spine.cli.output import dump_json, safe
from spine.cli.storage import db_option, open_store, when
from spine.cli.workspace import UsageProblem

EXIT_OK = 0
_ROLES = ["viewer", "operator", "admin"]


def is_loopback(host: str) -> bool:
    """Whether ``host`` names this machine only (127.0.0.0/8, ::1, localhost)."""
    if host.strip().lower() == "localhost":
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False


@click.command("serve")
@click.option("--host", default="127.0.0.1", show_default=True, help="Address to listen on. Anything but loopback needs tokens (spine token create).")
@click.option("--port", type=click.IntRange(0, 65535), default=8000, show_default=True, help="Port to listen on.")
@click.option("--workers", type=click.IntRange(min=1, max=256), default=4, show_default=True,
              help="Run-worker threads: how many runs started over HTTP execute at once (more wait in a queue). The server is one process.")
@click.option("--log-level", type=click.Choice(["critical", "error", "warning", "info", "debug"]), default="info", show_default=True)
@db_option
@click.pass_obj
def serve_cmd(c: Any, host: str, port: int, workers: int, log_level: str, db: str | None) -> int:
    """Serve the HTTP API (/api/v1, /docs, /openapi.json), the dashboard (/) and /metrics.

    \b
    Runs started over HTTP execute in this process's run workers and are recorded in the
    store like `spine group run`'s. Tokens: spine token create --role viewer|operator|admin.
    """
    from spine.store import ApiTokens

    ws = c.workspace()
    with open_store(ws, db) as store:
        has_tokens = ApiTokens(store).any_active()
    if not has_tokens and not is_loopback(host):
        raise UsageProblem(
            f"refusing to listen on {host} without API tokens: anyone who can reach it could run groups; "
            "create one with `spine token create --role admin`, or listen on 127.0.0.1"
        )
    import uvicorn

    from spine.api.app import create_app
    from spine.cli.storage import database_url

    app = create_app(ws, database=database_url(ws, db), workers=workers, open_mode=not has_tokens)
    shown = f"[{host}]" if ":" in host else host
    if has_tokens:
        click.echo(f"spine serve: http://{shown}:{port}/ (tokens required; {workers} run worker(s))", err=True)
    else:
        click.echo(
            f"spine serve: http://{shown}:{port}/ — no API tokens configured, so listening on loopback only and letting requests "
            f"without a token in as admin; `spine token create --role …` makes the server require tokens ({workers} run worker(s))",
            err=True,
        )
    uvicorn.run(app, host=host, port=port, log_level=log_level, workers=1, proxy_headers=False, server_header=False)
    return EXIT_OK


@click.group("token")
def token() -> None:
    """API tokens for spine serve: create, list, revoke."""


@token.command("create")
@click.option("--role", type=click.Choice(_ROLES), required=True, help="viewer reads; operator also runs, cancels, resumes, replays; admin also writes groups.")
@click.option("--name", default="", help="A label for people (who or what uses it).")
@click.option("--json", "as_json", is_flag=True, help='Print {"id", "name", "role", "token"} as JSON.')
@db_option
@click.pass_obj
def create_cmd(c: Any, role: str, name: str, as_json: bool, db: str | None) -> int:
    """Create a token; print it as the last line. Only its hash is stored: keep it now."""
    from spine.store import ApiTokens, TokenRole

    if len(name) > 128:
        raise click.BadParameter("at most 128 characters", param_hint="--name")
    with open_store(c.workspace(), db) as store:
        record, secret = ApiTokens(store).create(TokenRole(role), name)
    if as_json:
        dump_json(record.to_dict() | {"token": secret})
        return EXIT_OK
    click.echo(f"created token {record.id} ({safe(record.name)}, {record.role.value}); it is shown once, here:", err=True)
    click.echo(secret)
    return EXIT_OK


@token.command("list")
@click.option("--all", "show_all", is_flag=True, help="Also revoked tokens.")
@click.option("--json", "as_json", is_flag=True, help="Print a JSON array.")
@db_option
@click.pass_obj
def list_cmd(c: Any, show_all: bool, as_json: bool, db: str | None) -> int:
    """List tokens (never their secrets)."""
    from spine.store import ApiTokens

    with open_store(c.workspace(), db) as store:
        found = ApiTokens(store).list(include_revoked=show_all)
    if as_json:
        dump_json([t.to_dict() for t in found])
        return EXIT_OK
    if not found:
        click.echo("no API tokens; spine serve listens on loopback only until one is created", err=True)
        return EXIT_OK
    rows = [(t.id, safe(t.name), t.role.value, when(t.created_at), when(t.revoked_at) if t.revoked_at else "") for t in found]
    head = ("ID", "NAME", "ROLE", "CREATED", "REVOKED")
    widths = [max(len(head[k]), *(len(r[k]) for r in rows)) for k in range(len(head))]
    for row in (head, *rows):
        click.echo("  ".join(v.ljust(w) for v, w in zip(row, widths)).rstrip())
    return EXIT_OK


@token.command("revoke")
@click.argument("token_id")
@db_option
@click.pass_obj
def revoke_cmd(c: Any, token_id: str, db: str | None) -> int:
    """Revoke a token by its id: the next request with it is refused."""
    from spine.store import ApiTokens

    with open_store(c.workspace(), db) as store:
        record = ApiTokens(store).revoke(token_id)
    click.echo(f"revoked token {record.id} ({safe(record.name)}, {record.role.value})")
    return EXIT_OK


__all__ = ["is_loopback", "serve_cmd", "token"]
