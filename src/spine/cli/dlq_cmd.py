"""``spine dlq list|replay|purge``: the dead-letter queue of steps that failed for good.

``list --json`` is an array of entries (``id``, ``run_id``, ``step``, ``error``,
``status`` — open or resolved — and more). ``replay ID…`` runs each entry's step again
as a one-step run linked to its original run (``--json``: an array of run results in
the shape of ``spine group run --json``); an entry is resolved when its step completes.
Exit codes: 0 ok (``replay``: every replayed step completed), 1 a replay failed,
2 usage (an unknown entry id), 130 cancelled.
"""

from __future__ import annotations

from typing import Any

import click

from spine.cli.output import colour, dump_json, safe
from spine.cli.storage import db_option, open_store, parse_since, when
from spine.cli.worker_cmd import broker_option

EXIT_OK, EXIT_INVALID, EXIT_CANCELLED = 0, 1, 130


@click.group("dlq")
def dlq() -> None:
    """The dead-letter queue: steps that exhausted their retries, to replay or purge."""


@dlq.command("list")
@click.option("--status", type=click.Choice(["open", "resolved", "all"]), default="open", show_default=True, help="Which entries.")
@click.option("--run", "run_id", metavar="RUN_ID", help="Only entries of this run.")
@click.option("--limit", type=click.IntRange(min=1), default=None, help="At most this many entries, newest first.")
@click.option("--json", "as_json", is_flag=True, help="Print a JSON array of entries.")
@db_option
@click.pass_obj
def list_cmd(c: Any, status: str, run_id: str | None, limit: int | None, as_json: bool, db: str | None) -> int:
    """List dead-letter entries, newest first."""
    from spine.store import DeadLetters, DeadLetterStatus

    with open_store(c.workspace(), db) as store:
        entries = DeadLetters(store).list(status=None if status == "all" else DeadLetterStatus(status), run_id=run_id, limit=limit)
    if as_json:
        dump_json([e.to_dict() for e in entries])
        return EXIT_OK
    if not entries:
        click.echo(f"no {'' if status == 'all' else status + ' '}dead letters", err=True)
        return EXIT_OK
    for e in entries:
        tone = "red" if e.status is DeadLetterStatus.OPEN else "green"
        click.echo(
            f"{e.id:>5}  {colour(f'{e.status.value:<8}', tone, enabled=c.color)} {when(e.created_at)}  {safe(e.group)} / {safe(e.step)}"
            f"  run {e.run_id}, {e.attempts} attempt(s)"
        )
        if e.error is not None:
            text = safe(str(e.error))
            click.echo(f"       {text if len(text) <= 200 else text[:199] + '…'}")
        if e.resolved_by:
            click.echo(f"       resolved by {e.resolved_by} at {when(e.resolved_at)}")
    return EXIT_OK


@dlq.command("replay")
@click.argument("ids", nargs=-1, required=True, type=int)
@click.option("--executor", type=click.Choice(["inline", "threads", "processes", "dask", "celery"]), default=None, help="Run on this executor (default: the one the run used).")
@broker_option
@click.option("--json", "as_json", is_flag=True, help="Print a JSON array of the replay runs (each in the shape of spine group run --json).")
@db_option
@click.pass_obj
def replay_cmd(c: Any, ids: tuple[int, ...], executor: str | None, broker: str | None, as_json: bool, db: str | None) -> int:
    """Run dead-lettered steps again, each as a one-step run linked to its run.

    \b
    The step gets its original params and its dependencies' stored results
    (ctx.upstream); ctx.idempotency_key is the original run's. On success the entry is
    resolved, and a later `spine runs resume` of the original run counts the step done.
    """
    from spine.cli.run_cmd import _progress, _signals
    from spine.cli.workspace import UsageProblem
    from spine.framework import CancelToken, Dispatcher
    from spine.orchestration.models import GroupRunStatus, StepStatus
    from spine.runner import GroupRunner
    from spine.cli.worker_cmd import celery_executor
    from spine.store import DeadLetters, StoreTuning, replay_dead_letter

    ws = c.workspace()
    registry = ws.pipelines
    if len(registry) == 0:
        raise UsageProblem("no pipelines are registered, so nothing can run: list the modules that register them in [tool.spine] pipelines")

    def make_runner(options: Any) -> GroupRunner:
        chosen: Any = executor or options.get("executor") or "threads"
        if chosen == "celery":
            chosen = celery_executor(ws, broker)
        return GroupRunner(
            chosen, grace_seconds=float(options.get("grace_seconds") or 10.0),
            modules=tuple(ws.settings.pipelines), dispatcher=Dispatcher(registry, ws.settings.pipelines),
        )

    token = CancelToken()
    results = []
    worst = EXIT_OK
    with open_store(ws, db) as store:
        letters = DeadLetters(store).get(ids)  # every id checked before anything runs
        with _signals(token, 10.0):
            for letter in letters:
                if token.is_set():
                    break
                click.echo(f"replaying dead letter {letter.id}: {safe(letter.group)} / {safe(letter.step)} of run {letter.run_id}", err=True)
                # a one-step run has no plan worth a live view: the plain lines go to stderr
                progress = _progress(_OneStep(), None, c.color)
                result = replay_dead_letter(
                    store, letter, registry=registry, make_runner=make_runner, cancel=token, on_event=progress.event,
                    pools=ws.settings.pools, tuning=StoreTuning.from_env(), groups=ws.groups,
                )
                results.append(result)
                step = result.step_executions[-1]
                if step.status is StepStatus.COMPLETED:
                    click.echo(f"  resolved: {safe(letter.step)} completed (run {result.run_id})", err=True)
                else:
                    why = f": {safe(step.error)}" if step.error else (f" ({safe(step.reason)})" if step.reason else "")
                    click.echo(f"  still open: {safe(letter.step)} {step.status.value}{why} (run {result.run_id})", err=True)
                    worst = max(worst, EXIT_CANCELLED if result.status is GroupRunStatus.CANCELLED else EXIT_INVALID)
    if as_json:
        dump_json([r.to_dict() for r in results])
    if token.is_set():
        return EXIT_CANCELLED
    return worst


class _OneStep:
    """Stands in for a plan when sizing the progress view of a one-step replay."""

    steps = (None,)


@dlq.command("purge")
@click.argument("ids", nargs=-1, type=int)
@click.option("--resolved", is_flag=True, help="Delete resolved entries.")
@click.option("--before", metavar="WHEN", help="Delete entries created before WHEN (30m, 2h, 7d, 1w, or a date/time).")
@click.option("--all", "everything", is_flag=True, help="Delete every entry, open or resolved.")
@db_option
@click.pass_obj
def purge_cmd(c: Any, ids: tuple[int, ...], resolved: bool, before: str | None, everything: bool, db: str | None) -> int:
    """Delete dead-letter entries: by ID, --resolved, --before WHEN (combined: all must match), or --all."""
    from spine.store import DeadLetters, DeadLetterStatus

    if everything and (ids or resolved or before):
        raise click.UsageError("--all deletes every entry; give it alone")
    if not (ids or resolved or before or everything):
        raise click.UsageError("say what to purge: entry IDs, --resolved, --before WHEN, or --all")
    before_at = parse_since(before) if before else None
    with open_store(c.workspace(), db) as store:
        n = DeadLetters(store).purge(ids=ids, status=DeadLetterStatus.RESOLVED if resolved else None, before=before_at, everything=everything)
    click.echo(f"purged {n} dead-letter entr{'y' if n == 1 else 'ies'}")
    return EXIT_OK


__all__ = ["dlq"]
