"""``spine scheduler run``, ``spine schedule list|pause|resume`` and ``spine group backfill``.

The scheduler reads the configured groups again at every pass, so a group file that
changed (or broke: a failed fire is recorded with its findings) is seen without a
restart. Fires, pause flags and last fires live in the store (``--db``).

Exit codes: 0 ok; 1 a fire or a backfilled date that did not complete (``--once``,
``backfill``); 2 usage (a bad ``--now``, an unknown ``GROUP/NAME``); 130 cancelled.
"""

from __future__ import annotations

import datetime as dt
import os
import signal
import sys
import threading
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from typing import Any

import click

from spine.cli.output import colour, dump_json, safe
from spine.cli.storage import db_option, open_store
from spine.cli.workspace import UsageProblem, Workspace

EXIT_OK, EXIT_INVALID, EXIT_CANCELLED = 0, 1, 130
_TONES = {"completed": "green", "failed": "red", "partial": "yellow", "cancelled": "yellow", "running": "cyan", "claimed": "cyan",
          "paused": "yellow", "disabled": "yellow", "active": "green", "skipped": "cyan", "held": "cyan"}
_EXECUTORS = ["inline", "threads", "processes", "dask"]


def parse_now(text: str | None) -> dt.datetime | None:
    """``--now``: an ISO date/time (local time unless it names an offset) → aware UTC."""
    if text is None:
        return None
    try:
        value = dt.datetime.fromisoformat(text.strip().replace("Z", "+00:00"))
    except ValueError:
        raise click.BadParameter(f"{text!r} is not an ISO-8601 time: give e.g. 2024-01-08T11:00:00Z or 2024-01-08T06:00-05:00",
                                 param_hint="--now") from None
    if value.tzinfo is None:
        value = value.astimezone()
    return value.astimezone(dt.UTC)


def scheduled_groups(ws: Workspace) -> list[Any]:
    """Every group with schedules, read again from the configured paths (and those
    registered in Python), each with the errors that keep it from running."""
    from spine.core.findings import Severity
    from spine.orchestration import scan, validate_group
    from spine.scheduler import ScheduledGroup

    registry = ws.registry_or_none
    out: list[ScheduledGroup] = []
    seen: set[str] = set()
    paths = [ws.settings.resolve_path(p) for p in ws.settings.groups]
    for lg in scan([p for p in paths if p.exists()], ws.settings.limits):
        if lg.group is None or not lg.group.schedules or lg.group.name in seen:
            continue
        seen.add(lg.group.name)
        errors = [f for f in lg.findings if f.severity is Severity.ERROR]
        if not errors:
            errors = [f for f in validate_group(lg.group, registry) if f.severity is Severity.ERROR]
        out.append(ScheduledGroup(lg.group, tuple(errors)))
    for group in ws.groups():  # groups registered in Python (file groups were read again above)
        from_file = group.source is not None and group.source.file is not None
        if group.schedules and group.name not in seen and not from_file:
            seen.add(group.name)
            out.append(ScheduledGroup(group, tuple(f for f in validate_group(group, registry) if f.severity is Severity.ERROR)))
    return out


def _make_runner(ws: Workspace, executor: str) -> Any:
    from spine.framework import Dispatcher
    from spine.runner import GroupRunner

    registry = ws.pipelines
    return lambda: GroupRunner(executor, modules=tuple(ws.settings.pipelines), dispatcher=Dispatcher(registry, ws.settings.pipelines))


def _need_pipelines(ws: Workspace) -> None:
    if len(ws.pipelines) == 0:
        raise UsageProblem(
            "no pipelines are registered, so nothing can run: list the modules that register them in "
            "[tool.spine] pipelines (or SPINE_PIPELINES)"
        )


@contextmanager
def _stop_on_signals(stop: threading.Event, cancel: Any) -> Iterator[None]:
    """SIGINT/SIGTERM: stop after what runs now (runs are cancelled gracefully)."""
    if sys.platform == "win32" or threading.current_thread() is not threading.main_thread():
        yield
        return

    def handler(signum: int, frame: Any) -> None:
        name = signal.Signals(signum).name
        os.write(2, f"\n{name}: stopping the scheduler; running fires are cancelled\n".encode())
        stop.set()
        cancel.cancel(f"cancelled by {name}")

    old = {s: signal.signal(s, handler) for s in (signal.SIGINT, signal.SIGTERM)}
    try:
        yield
    finally:
        for s, h in old.items():
            signal.signal(s, h)


# -- spine scheduler ------------------------------------------------------------------------


@click.group("scheduler")
def scheduler() -> None:
    """The scheduler: fire due schedules (spec.schedules) as recorded runs."""


@scheduler.command("run")
@click.option("--once", is_flag=True, help="Do one pass (fire what is due now) and exit.")
@click.option("--now", "now_text", metavar="ISO", help="Take this as the time (tests, replays): e.g. 2024-01-08T11:00:00Z. Implies --once.")
@click.option("--interval", type=click.FloatRange(min=0.1), default=30.0, show_default=True, help="Seconds between passes at most (a pass also runs at each tick).")
@click.option("--executor", type=click.Choice(_EXECUTORS), default="threads", show_default=True, help="Where the steps of fired runs run.")
@click.option("--max-workers", type=click.IntRange(min=1), default=4, show_default=True, help="Schedules fired in parallel.")
@click.option("--json", "as_json", is_flag=True, help="With --once: print what the pass did as a JSON array.")
@db_option
@click.pass_obj
def scheduler_run_cmd(c: Any, once: bool, now_text: str | None, interval: float, executor: str, max_workers: int, as_json: bool,
                      db: str | None) -> int:
    """Fire due schedules as runs in the store; every fire is claimed there first.

    \b
    Several schedulers may share one database: a tick is claimed once (unique per group,
    schedule and logical time), so no tick fires twice. A fire left open by a scheduler
    that stopped is completed by the next (its run resumed). Exit (with --once): 0 when
    every fire completed, 1 when one did not; 130 when stopped.
    """
    from spine.framework import CancelToken
    from spine.scheduler import Scheduler
    from spine.store import StoreTuning

    now = parse_now(now_text)
    once = once or now is not None
    ws = c.workspace()
    _need_pipelines(ws)
    cancel = CancelToken()
    stop = threading.Event()
    with open_store(ws, db) as store:
        sched = Scheduler(
            store, lambda: scheduled_groups(ws), ws.pipelines, _make_runner(ws, executor), pools=ws.settings.pools,
            tuning=StoreTuning.from_env(), max_workers=max_workers, cancel=cancel, on_outcome=lambda o: _say_fire(o, c.color),
        )
        with _stop_on_signals(stop, cancel):
            if once:
                at = now or dt.datetime.now(dt.UTC)
                outcomes = sched.run_once(at)
            else:
                click.echo(f"scheduler: {store.shown}; {len(scheduled_groups(ws))} group(s) with schedules; Ctrl-C stops", err=True)
                sched.run_forever(interval=interval, stop=stop)
                return EXIT_CANCELLED if cancel.is_set() else EXIT_OK
    if as_json:
        dump_json([o.to_dict() for o in outcomes])
    if not outcomes:
        _say_nothing_due(ws, at)
    if cancel.is_set():
        return EXIT_CANCELLED
    from spine.store import FireStatus

    bad = [o for o in outcomes if o.status is not None and o.status is not FireStatus.COMPLETED]
    return EXIT_INVALID if bad else EXIT_OK


def _say_fire(o: Any, color: bool) -> None:
    from spine.scheduler.context import local_iso

    status = o.status.value if o.status is not None else o.action
    tag = colour(f"{status:<9}", _TONES.get(status, "cyan"), enabled=color)
    run = f" run {o.run_id}" if o.run_id else ""
    why = f" ({safe(o.message)})" if o.message and o.status is None else ""
    click.echo(f"{o.action:<8} {tag} {safe(o.group)}/{safe(o.schedule)} @ {local_iso(o.logical_date)}{run}{why}", err=True)
    for f in o.findings:
        click.echo(f"    {safe(str(f), multiline=True)}", err=True)


def _say_nothing_due(ws: Workspace, at: dt.datetime) -> None:
    from spine.orchestration.cron import next_ticks
    from spine.scheduler.context import local_iso

    soonest = None
    for e in scheduled_groups(ws):
        for s in e.group.schedules:
            if s.enabled:
                for t in next_ticks(s.cron, s.timezone, at, 1):
                    if soonest is None or t < soonest[0]:
                        soonest = (t, f"{e.group.name}/{s.name}")
    nxt = f"; next: {safe(soonest[1])} at {local_iso(soonest[0])}" if soonest else ""
    click.echo(f"nothing due at {local_iso(at)}{nxt}", err=True)


# -- spine schedule -------------------------------------------------------------------------


@click.group("schedule")
def schedule() -> None:
    """Schedules (spec.schedules): list them, pause and resume them."""


@schedule.command("list")
@click.option("--json", "as_json", is_flag=True, help="Print a JSON array (group, name, next_fire, last_fire, last_status …).")
@click.option("--now", "now_text", metavar="ISO", help="Compute the next fire from this time instead of the clock.")
@db_option
@click.pass_obj
def list_cmd(c: Any, as_json: bool, now_text: str | None, db: str | None) -> int:
    """List every schedule with its next fire, last fire and the last fire's status.

    Times are ISO-8601 in each schedule's timezone, with their offset.
    """
    from spine.scheduler import schedule_rows
    from spine.store import ScheduleFires

    now = parse_now(now_text) or dt.datetime.now(dt.UTC)
    ws = c.workspace()
    groups = [e.group for e in scheduled_groups(ws)]
    with open_store(ws, db) as store:
        rows = schedule_rows(groups, ScheduleFires(store), now)
    if as_json:
        dump_json([r.to_dict() for r in rows])
        return EXIT_OK
    if not rows:
        click.echo("no schedules: add spec.schedules to a group (see docs/schedules.md)", err=True)
        return EXIT_OK
    table = [
        (f"{safe(r.group)}/{safe(r.schedule.name)}", safe(r.schedule.cron), safe(r.schedule.timezone), r.state,
         r.next_fire.isoformat() if r.next_fire else "-", r.last_fire.isoformat() if r.last_fire else "-",
         r.last.status.value if r.last is not None else "-")
        for r in rows
    ]
    _table(("SCHEDULE", "CRON", "TIMEZONE", "STATE", "NEXT FIRE", "LAST FIRE", "LAST STATUS"), table, c.color, (3, 6))
    return EXIT_OK


def _table(head: Sequence[str], rows: Sequence[Sequence[str]], color: bool, toned: Sequence[int] = ()) -> None:
    widths = [max(len(head[k]), *(len(row[k]) for row in rows)) for k in range(len(head))]
    click.echo("  ".join(h.ljust(w) for h, w in zip(head, widths)).rstrip())
    for row in rows:
        cells = [v.ljust(w) for v, w in zip(row, widths)]
        for k in toned:
            cells[k] = colour(cells[k], _TONES.get(row[k], "cyan"), enabled=color) if row[k] in _TONES else cells[k]
        click.echo("  ".join(cells).rstrip())


def _pause(c: Any, ref: str, db: str | None, paused: bool) -> int:
    from spine.scheduler import find_schedule
    from spine.store import ScheduleFires

    ws = c.workspace()
    group, sched = find_schedule([e.group for e in scheduled_groups(ws)], ref)
    with open_store(ws, db) as store:
        before = ScheduleFires(store).set_paused(group.name, sched.name, paused)
    name = f"{safe(group.name)}/{safe(sched.name)}"
    if before == paused:
        click.echo(f"{name} was already {'paused' if paused else 'active'}")
    elif paused:
        click.echo(f"paused {name}: it fires nothing until `spine schedule resume {name}`")
    else:
        more = "every tick missed meanwhile (up to max_catchup)" if sched.catchup else "the latest tick missed meanwhile"
        click.echo(f"resumed {name}: the next scheduler pass fires {more}")
    return EXIT_OK


@schedule.command("pause")
@click.argument("ref", metavar="GROUP/NAME")
@db_option
@click.pass_obj
def pause_cmd(c: Any, ref: str, db: str | None) -> int:
    """Pause a schedule: schedulers fire nothing for it until it is resumed."""
    return _pause(c, ref, db, True)


@schedule.command("resume")
@click.argument("ref", metavar="GROUP/NAME")
@db_option
@click.pass_obj
def resume_cmd(c: Any, ref: str, db: str | None) -> int:
    """Resume a paused schedule (catchup decides what it fires for the time it was paused)."""
    return _pause(c, ref, db, False)


# -- spine group backfill -------------------------------------------------------------------


def _date(ctx: click.Context, param: click.Parameter, value: str | None) -> dt.date | None:
    if value is None:
        return None
    try:
        return dt.date.fromisoformat(value.strip())
    except ValueError:
        raise click.BadParameter(f"{value!r} is not a date: give YYYY-MM-DD, e.g. 2024-01-05") from None


@click.command("backfill")
@click.argument("target", metavar="NAME|FILE")
@click.option("--from", "start", required=True, metavar="DATE", callback=_date, help="First day (YYYY-MM-DD), included.")
@click.option("--to", "end", required=True, metavar="DATE", callback=_date, help="Last day (YYYY-MM-DD), included.")
@click.option("--schedule", "schedule_name", metavar="S", help="The dates are this schedule's ticks (in its timezone), with its params.")
@click.option("--every", metavar="INTERVAL", help="The dates are every INTERVAL from --from 00:00 UTC: 1d, 7d, 6h, 2w.")
@click.option("-p", "--param", "params", multiple=True, metavar="KEY=VALUE", help="A run param for every date (templates see schedule.logical_date …). Repeatable.")
@click.option("--max-active", type=click.IntRange(min=1), default=1, show_default=True, help="Dates run at once (never more than policy.max_active_runs).")
@click.option("--rerun", is_flag=True, help="Run dates that already completed again (default: skip them).")
@click.option("--dry-run", is_flag=True, help="List the dates and their params; run nothing.")
@click.option("--json", "as_json", is_flag=True, help="Print a JSON array: per date logical_date and params (--dry-run) or what happened.")
@click.option("--group", "group_name", metavar="NAME", help="Which group, when FILE holds several.")
@click.option("--executor", type=click.Choice(_EXECUTORS), default="threads", show_default=True, help="Where steps run.")
@db_option
@click.pass_obj
def backfill_cmd(c: Any, target: str, start: dt.date, end: dt.date, schedule_name: str | None, every: str | None,
                 params: tuple[str, ...], max_active: int, rerun: bool, dry_run: bool, as_json: bool, group_name: str | None,
                 executor: str, db: str | None) -> int:
    """Run a group once per logical date from --from to --to, each run recorded.

    \b
    Dates that completed before are skipped (--rerun runs them again); dates whose run
    failed are resumed; so a backfill that stopped is finished by running it again.
    Exit 0 when every date completed, 1 when one did not, 2 on usage errors, 130 when
    cancelled.
    """
    from spine.cli.commands import run_params
    from spine.scheduler.backfill import BackfillError, plan_backfill

    ws = c.workspace()
    group, loaded = ws.resolve_target(target, group_name)
    if group is None:
        from spine.cli.run_cmd import _invalid

        return _invalid([f for lg in loaded for f in lg.findings], c.color)
    try:
        plan = plan_backfill(group, start, end, schedule=schedule_name, every=every, params=run_params(params))
    except BackfillError as exc:
        raise UsageProblem(str(exc)) from exc
    if dry_run:
        if as_json:
            dump_json([d.to_dict() for d in plan.dates])
        else:
            from spine.cli.output import short

            _table(("LOGICAL DATE", "PARAMS"), [(d.to_dict()["logical_date"], short(d.to_dict()["params"], 100)) for d in plan.dates], c.color)
            click.echo(f"dry run: {len(plan.dates)} date(s) of {safe(group.name)} ({safe(plan.key)}); nothing ran", err=True)
        return EXIT_OK
    _need_pipelines(ws)
    if not plan.dates:
        click.echo("no dates in the range; nothing ran", err=True)
        return EXIT_OK
    return _run_backfill(c, ws, plan, db, executor, max_active, rerun, as_json)


def _run_backfill(c: Any, ws: Workspace, plan: Any, db: str | None, executor: str, max_active: int, rerun: bool, as_json: bool) -> int:
    from spine.framework import CancelToken
    from spine.scheduler import ScheduledGroup, Scheduler
    from spine.scheduler.backfill import run_backfill, summarise
    from spine.store import StoreTuning

    cancel = CancelToken()
    total = len(plan.dates)
    done = [0]

    def progress(o: Any) -> None:
        done[0] += 1
        status = o.status.value if o.status is not None and o.action not in ("skipped", "held") else o.action
        tag = colour(f"{status:<9}", _TONES.get(status, "cyan"), enabled=c.color)
        run = f" run {o.run_id}" if o.run_id else ""
        click.echo(f"[{done[0]}/{total}] {tag} {o.to_dict()['logical_date']}{run}", err=True)
        for f in o.findings:
            click.echo(f"    {safe(str(f), multiline=True)}", err=True)

    width = min(max_active, plan.group.policy.max_active_runs)
    if max_active > width:
        click.echo(f"note: --max-active {max_active} is capped at the group's policy.max_active_runs ({width})", err=True)
    with open_store(ws, db) as store:
        sched = Scheduler(store, lambda: [ScheduledGroup(plan.group)], ws.pipelines, _make_runner(ws, executor), pools=ws.settings.pools,
                          tuning=StoreTuning.from_env(), cancel=cancel)
        stop = threading.Event()
        with _stop_on_signals(stop, cancel):
            outcomes = run_backfill(sched, plan, max_active=width, rerun=rerun, on_outcome=progress)
    if as_json:
        dump_json([o.to_dict() for o in outcomes])
    else:
        rows = [(o.to_dict()["logical_date"], o.action, o.status.value if o.status else "-", o.run_id or "-") for o in outcomes]
        _table(("LOGICAL DATE", "ACTION", "STATUS", "RUN"), rows, c.color, (2,))
    counts = summarise(outcomes)
    click.echo(f"backfill {safe(plan.group.name)} ({safe(plan.key)}): {total} date(s) — " + ", ".join(f"{n} {k}" for k, n in counts.items()), err=True)
    if cancel.is_set():
        return EXIT_CANCELLED
    from spine.store import FireStatus

    ok = all(o.status is FireStatus.COMPLETED for o in outcomes)
    if not ok:
        click.echo(f"next: fix what failed, then run the same backfill again: completed dates are skipped, failed ones resumed", err=True)
    return EXIT_OK if ok else EXIT_INVALID


__all__ = ["backfill_cmd", "parse_now", "schedule", "scheduled_groups", "scheduler"]
