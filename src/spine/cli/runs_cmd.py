"""``spine runs list|show|cancel|resume``: the run history in the store.

``list --json`` is an array of runs (``run_id``, ``group``, ``status``, ``started_at``,
``finished_at`` and more; ``status`` is ``orphaned`` for a run whose process stopped
heartbeating). ``show --json`` and ``resume --json`` print the shape of
``spine group run --json``. Exit codes: 0 ok (``resume``: the run completed), 1 a failed
or partial run or a refused operation, 2 usage (an unknown run id), 130 cancelled.
"""

from __future__ import annotations

from typing import Any

import click

from spine.cli.output import colour, dump_json, safe
from spine.cli.storage import db_option, open_store, parse_since, when
from spine.cli.worker_cmd import broker_option
from spine.cli.workspace import UsageProblem

EXIT_OK, EXIT_INVALID = 0, 1
_TONES = {"completed": "green", "failed": "red", "partial": "yellow", "cancelled": "yellow", "orphaned": "magenta", "running": "cyan"}
_STATUSES = ["pending", "running", "completed", "failed", "partial", "cancelled", "orphaned"]


@click.group("runs")
def runs() -> None:
    """The run history: list, show, cancel and resume recorded runs."""


@runs.command("list")
@click.option("--group", "group_name", metavar="NAME", help="Only runs of this group.")
@click.option("--status", type=click.Choice(_STATUSES), help="Only runs with this status (orphaned: running, but its process is gone).")
@click.option("--since", metavar="WHEN", help="Only runs started since WHEN: 30m, 2h, 7d, 1w, or a date/time (local unless it has an offset).")
@click.option("--limit", type=click.IntRange(min=1), default=20, show_default=True, help="At most this many runs, newest first.")
@click.option("--json", "as_json", is_flag=True, help="Print a JSON array of runs.")
@db_option
@click.pass_obj
def list_cmd(c: Any, group_name: str | None, status: str | None, since: str | None, limit: int, as_json: bool, db: str | None) -> int:
    """List recorded runs, newest first."""
    since_at = parse_since(since) if since else None
    with open_store(c.workspace(), db) as store:
        found = store.runs(group=group_name, status=status, since=since_at, limit=limit)
    if as_json:
        dump_json([r.to_dict() for r in found])
        return EXIT_OK
    if not found:
        click.echo("no runs recorded" + (" that match" if group_name or status or since else ""), err=True)
        return EXIT_OK
    rows = [
        (r.run_id, safe(r.group), r.state, when(r.started_at), f"{r.duration_s:.2f} s" if r.duration_s is not None else "-", str(r.step_count),
         "  ".join(x for x in ((f"resumed {r.resumes}×" if r.resumes else ""), (f"replay of {r.parent_run_id}" if r.parent_run_id else ""),
                               (f"{safe(r.schedule)} @ {when(r.logical_date)}" if r.schedule else "")) if x))
        for r in found
    ]
    head = ("RUN", "GROUP", "STATUS", "STARTED", "DURATION", "STEPS", "")
    widths = [max(len(head[k]), *(len(row[k]) for row in rows)) for k in range(len(head))]
    click.echo("  ".join(h.ljust(w) for h, w in zip(head, widths)).rstrip())
    for row in rows:
        cells = [v.ljust(w) for v, w in zip(row, widths)]
        cells[2] = colour(cells[2], _TONES.get(row[2], "cyan"), enabled=c.color)
        click.echo("  ".join(cells).rstrip())
    return EXIT_OK


@runs.command("show")
@click.argument("run_id")
@click.option("--json", "as_json", is_flag=True, help="Print the run as JSON (the shape of spine group run --json).")
@click.option("--report", "report_path", metavar="FILE.html", type=click.Path(), help="Write the run's HTML run report here.")
@db_option
@click.pass_obj
def show_cmd(c: Any, run_id: str, as_json: bool, report_path: str | None, db: str | None) -> int:
    """Show one run: its status, and every step with its attempts, from the store."""
    from spine.cli.run_cmd import _report_target, _write_report

    report = _report_target(report_path) if report_path else None
    ws = c.workspace()
    with open_store(ws, db) as store:
        summary = store.run(run_id)
        result = store.result(run_id)
        stored = store.stored_run(run_id) if report is not None else None
    if as_json:
        dump_json(result.to_dict(), pretty=len(result.step_executions) <= 5000)
    else:
        _show_text(summary, result, c.color)
    if report is not None:
        from spine.store import plan_of, replay_plan

        plan = plan_of(stored, None, ws.groups)
        if summary.parent_run_id is not None:
            plan = replay_plan(plan, result.step_executions[-1].name)
        _write_report(report, result, plan, ws)
    return EXIT_OK


def _show_text(summary: Any, result: Any, color: bool) -> None:
    state = summary.state
    took = f"{summary.duration_s:.2f} s" if summary.duration_s is not None else "-"
    click.echo(f"{colour(state.upper(), _TONES.get(state, 'cyan'), enabled=color)}  {safe(summary.group)} v{summary.group_version}  run {summary.run_id}")
    click.echo(f"  started {when(summary.started_at)}, finished {when(summary.finished_at)}, took {took}, on {summary.executor}")
    click.echo(f"  process: pid {summary.pid} on {safe(summary.host)}, last heartbeat {when(summary.heartbeat_at)}")
    if summary.resumes:
        click.echo(f"  resumed {summary.resumes} time(s)")
    if summary.parent_run_id:
        click.echo(f"  replay of a step of run {summary.parent_run_id}")
    if summary.schedule:
        click.echo(f"  fired by schedule {safe(summary.schedule)} for logical date {when(summary.logical_date)}")
    if result.message:
        click.echo(f"  {safe(result.message)}")
    shown: tuple[Any, ...] = ()  # the nested groups whose heading is printed
    for s in result.step_executions:
        # a nested group's steps are consecutive in plan order: a heading when one starts,
        # and its steps indented under it (two spaces a level)
        common = 0
        while common < min(len(shown), len(s.nesting)) and shown[common] == s.nesting[common]:
            common += 1
        for depth, level in enumerate(s.nesting[common:], start=common):
            click.echo(f"  {'  ' * depth}▸ {safe(level.step)}  (group {safe(level.group)} v{level.version})")
        shown = s.nesting
        status = s.status.value
        tag = colour(f"{status:<9}", _TONES.get(status, "yellow"), enabled=color)
        parts = [f"  {'  ' * len(s.nesting)}{tag} {safe(s.name)}"]
        if s.duration_s is not None:
            parts.append(f"  {s.duration_s:.2f} s")
        if s.attempts > 1:
            parts.append(f" ({s.attempts} attempts)")
        if s.error is not None:
            parts.append(f": {safe(s.error)}")
        elif s.reason:
            parts.append(f" ({safe(s.reason)})")
        click.echo("".join(parts))
    if summary.orphaned or state in ("failed", "partial", "cancelled"):
        click.echo(f"\nnext: spine runs resume {summary.run_id}")


@runs.command("cancel")
@click.argument("run_id")
@db_option
@click.pass_obj
def cancel_cmd(c: Any, run_id: str, db: str | None) -> int:
    """Cancel a running run, in whatever process runs it (it stops as on Ctrl-C)."""
    from spine.orchestration.models import GroupRunStatus

    with open_store(c.workspace(), db) as store:
        after = store.request_cancel(run_id)
    if after.status is GroupRunStatus.CANCELLED:
        click.echo(f"run {run_id}: its process was gone; marked cancelled")
    else:
        click.echo(f"run {run_id}: cancel requested; its process (pid {after.pid} on {safe(after.host)}) stops at its next heartbeat")
    return EXIT_OK


@runs.command("resume")
@click.argument("run_id")
@click.option("--executor", type=click.Choice(["inline", "threads", "processes", "dask", "celery"]), default=None, help="Run on this executor (default: the one the run used).")
@broker_option
@click.option("--max-concurrency", type=click.IntRange(min=1), metavar="N", help="Run at most N steps at once (default: as the run did).")
@click.option("--grace-seconds", type=click.FloatRange(min=0), default=None, help="After Ctrl-C/SIGTERM, how long running steps get to finish (default: as the run did).")
@click.option("--json", "as_json", is_flag=True, help="Print the run as JSON (the shape of spine group run --json).")
@click.option("--report", "report_path", metavar="FILE.html", type=click.Path(), help="Write the run's HTML run report here.")
@db_option
@click.pass_obj
def resume_cmd(c: Any, run_id: str, executor: str | None, broker: str | None, max_concurrency: int | None, grace_seconds: float | None, as_json: bool,
               report_path: str | None, db: str | None) -> int:
    """Resume a run: re-run its failed, skipped, cancelled and never-started steps.

    \b
    Completed steps are not run again; their results reach their dependents. The run
    keeps its id. An orphaned run (its process died) is taken over; a run whose process
    is alive is refused. Steps that were in flight when a process died run again (at
    least once): pipelines use ctx.idempotency_key and ctx.attempt.
    """
    from spine.cli.run_cmd import _progress, _report_target, _signals, _summary, _write_report, exit_code
    from spine.framework import CancelToken, Dispatcher
    from spine.runner import GroupRunner
    from spine.store import StoreTuning, plan_of, resume_run

    report = _report_target(report_path) if report_path else None
    ws = c.workspace()
    registry = ws.pipelines
    if len(registry) == 0:
        raise UsageProblem(
            "no pipelines are registered, so nothing can run: list the modules that register them in "
            "[tool.spine] pipelines (or SPINE_PIPELINES)"
        )

    def make_runner(options: Any) -> GroupRunner:
        chosen: Any = executor or options.get("executor") or "threads"
        if chosen == "celery":
            from spine.cli.worker_cmd import celery_executor

            chosen = celery_executor(ws, broker)
        runner = GroupRunner(
            chosen, max_concurrency=max_concurrency or options.get("max_concurrency"), on_failure=options.get("on_failure"),
            grace_seconds=grace_seconds if grace_seconds is not None else float(options.get("grace_seconds") or 10.0),
            modules=tuple(ws.settings.pipelines), dispatcher=Dispatcher(registry, ws.settings.pipelines),
        )
        return runner

    token = CancelToken()
    with open_store(ws, db) as store:
        stored = store.stored_run(run_id)
        plan = plan_of(stored, registry, ws.groups)
        progress = _progress(plan, None, c.color)
        with _signals(token, grace_seconds if grace_seconds is not None else float(stored.options.get("grace_seconds") or 10.0)), progress:
            result = resume_run(
                store, run_id, registry=registry, make_runner=make_runner, cancel=token,
                on_event=progress.event, pools=ws.settings.pools, tuning=StoreTuning.from_env(), plan=plan,
            )
    if as_json:
        dump_json(result.to_dict(), pretty=len(plan.steps) <= 5000)
    _summary(result, plan, c.color, f"spine runs resume {run_id}", resume=f"spine runs resume {run_id}")
    if report is not None:
        _write_report(report, result, plan, ws)
    return exit_code(result)


__all__ = ["runs"]
