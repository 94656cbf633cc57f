"""``spine group run``: resolve a group, run it, show progress, print or write the result.

Exit codes: 0 completed; 1 failed, partial, or an invalid group (nothing runs); 2 usage;
130 cancelled (Ctrl-C / SIGTERM). The first signal cancels gracefully (running steps see
``ctx.cancelled`` and get ``--grace-seconds``); a second stops at once.

Every run is recorded in the store (``--db URL``; ``--db none`` records nothing): the
database is opened before any step runs, so an unreachable one costs nothing.
"""

from __future__ import annotations

import os
import shlex
import signal
import sys
import time
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import click

from spine.cli.output import colour, dump_json, safe, short
from spine.cli.storage import db_option
from spine.cli.worker_cmd import broker_option
from spine.cli.workspace import UsageProblem, Workspace

EXIT_OK, EXIT_INVALID, EXIT_USAGE, EXIT_CANCELLED = 0, 1, 2, 130
#: Lines of a failed step's traceback shown on the terminal (all of it is in --json and --report).
TRACEBACK_TAIL = 12


@click.command("run")
@click.argument("target", metavar="NAME|FILE")
@click.option("--group", "group_name", metavar="NAME", help="Which group, when FILE holds several.")
@click.option("-p", "--param", "params", multiple=True, metavar="KEY=VALUE", help="A run param (VALUE read as YAML, like plan). Repeatable.")
@click.option("--executor", type=click.Choice(["inline", "threads", "processes", "dask", "celery"]), default=None, help="Where steps run: the calling thread, a thread pool (default), one process per attempt, a Dask cluster, or Celery workers (spine worker).")
@click.option("--max-concurrency", type=click.IntRange(min=1), metavar="N", help="Run at most N steps at once (overrides policy.max_concurrency of a parallel group).")
@click.option("--dask-scheduler", metavar="ADDR", help="Use the Dask cluster at ADDR (tcp://HOST:PORT); implies --executor dask. Without it, dask starts a LocalCluster for the run.")
@broker_option
@click.option("--on-failure", type=click.Choice(["stop", "continue"]), default=None, help="Override policy.on_failure for this run.")
@click.option("--grace-seconds", type=click.FloatRange(min=0), default=10.0, show_default=True, help="After Ctrl-C/SIGTERM, how long running steps get to finish.")
@click.option("--json", "as_json", is_flag=True, help="Print the run result as JSON on stdout.")
@click.option("--report", "report_path", metavar="FILE.html", type=click.Path(), help="Write a self-contained HTML run report here.")
@click.option("--dry-run", is_flag=True, help="Resolve and show what would run; run nothing.")
@click.option("--batch-id", help="Use this batch id instead of a new one.")
@db_option
@click.option("--wait", is_flag=True, help="When policy.max_active_runs runs of the group are active, wait for a place instead of failing.")
@click.pass_obj
def run_cmd(c: Any, target: str, group_name: str | None, params: tuple[str, ...], executor: str | None, max_concurrency: int | None,
            dask_scheduler: str | None, broker: str | None, on_failure: str | None, grace_seconds: float, as_json: bool,
            report_path: str | None, dry_run: bool, batch_id: str | None, db: str | None, wait: bool) -> int:
    """Run a group: every step in dependency order, by its policy, on an executor.

    \b
    Exit 0 when every step completed; 1 when a step failed (or the run is partial), or the
    group is invalid (nothing runs) or another run of the group is active
    (policy.max_active_runs; --wait waits); 2 on usage errors; 130 when cancelled (Ctrl-C).
    """
    if dask_scheduler and executor not in (None, "dask"):
        raise click.UsageError(f"--dask-scheduler needs --executor dask (got --executor {executor})")
    if broker and executor not in (None, "celery"):
        raise click.UsageError(f"--broker needs --executor celery (got --executor {executor})")
    executor = executor or ("dask" if dask_scheduler else "celery" if broker else "threads")
    return run_group(
        c.workspace(), target, group_name=group_name, param_items=params, executor=executor, max_concurrency=max_concurrency,
        dask_address=dask_scheduler, broker=broker, on_failure=on_failure, grace_seconds=grace_seconds, as_json=as_json,
        report_path=report_path, dry_run=dry_run, batch_id=batch_id, color=c.color, db=db, wait=wait,
    )


def run_group(ws: Workspace, target: str, *, group_name: str | None, param_items: Sequence[str], executor: str,
              max_concurrency: int | None, dask_address: str | None, on_failure: str | None, grace_seconds: float,
              as_json: bool, report_path: str | None, dry_run: bool, batch_id: str | None, color: bool,
              db: str | None = None, wait: bool = False, broker: str | None = None) -> int:
    from spine.cli.commands import _check_target, _plan_text, echo_findings, run_params
    from spine.orchestration import validate_group

    report = _report_target(report_path) if report_path else None
    params = run_params(param_items)
    group, loaded = ws.resolve_target(target, group_name)
    registry = ws.pipelines
    if group is None:
        findings = [f for lg in loaded for f in lg.findings]
        findings += [f for lg in loaded if lg.group is not None for f in validate_group(lg.group, registry)]
        return _invalid(findings, color)
    if len(registry) == 0:
        raise UsageProblem(
            "no pipelines are registered, so nothing can run: list the modules that register them in "
            "[tool.spine] pipelines (or SPINE_PIPELINES)"
        )
    # the checking pipeline resolves it: one missing-run-param per missing param, and a
    # warning for a --param the group does not read
    checked, gc = _check_target(ws, group, loaded, lint=False, run_params=params, require_run_params=True, batch_id=batch_id)
    if gc.plan is None:
        return _invalid([*gc.findings, *checked.findings], color)
    plan = gc.plan
    echo_findings([*gc.findings, *checked.findings], color)
    if dry_run:
        if as_json:
            dump_json(plan.to_dict())
        else:
            _plan_text(plan, color)
            click.echo(f"dry run: would run {len(plan.steps)} step(s) on {executor}; nothing ran", err=True)
        return EXIT_OK

    from spine.framework import CancelToken, Dispatcher
    from spine.runner import GroupRunner

    if executor == "celery":
        from spine.cli.worker_cmd import celery_executor

        chosen: Any = celery_executor(ws, broker)  # a missing or unusable broker: a usage error, nothing ran
    else:
        chosen = executor
    runner = GroupRunner(
        chosen, max_concurrency=max_concurrency, on_failure=on_failure, grace_seconds=grace_seconds,
        dask_address=dask_address, modules=tuple(ws.settings.pipelines), dispatcher=Dispatcher(registry, ws.settings.pipelines),
    )
    store = _run_store(ws, db, plan)  # before any step runs: an unreachable database costs nothing
    token = CancelToken()
    progress = _progress(plan, runner, color)
    from spine.runner import DaskUnavailableError
    from spine.runner.celery_executor import CeleryUnavailableError

    lost = None
    try:
        with _signals(token, grace_seconds):
            if store is None:
                with progress:
                    result = runner.execute(plan, cancel=token, on_event=progress.event)
            else:
                from spine.store import RunNotRecordedError, StoreTuning, record_run

                try:
                    with progress:
                        result = record_run(
                            store, plan, runner, cancel=token, on_event=progress.event, pools=ws.settings.pools, wait=wait,
                            on_wait=_say_waiting, tuning=StoreTuning.from_env(),
                        )
                except RunNotRecordedError as exc:
                    if exc.result is None:
                        raise
                    result, lost = exc.result, exc
                finally:
                    store.close()
    except (DaskUnavailableError, CeleryUnavailableError) as exc:  # before any step ran: like a missing file, a usage error
        raise UsageProblem(f"{exc}; nothing ran") from exc
    if as_json:
        dump_json(result.to_dict(), pretty=len(plan.steps) <= 5000)
    recorded = store is not None and lost is None
    _summary(result, plan, color, _rerun_command(target, group_name, param_items, executor),
             resume=f"spine runs resume {result.run_id}" if recorded else None)
    if report is not None:
        _write_report(report, result, plan, ws)
    if lost is not None:
        click.echo(f"Error: {safe(str(lost), multiline=True)}", err=True)
        return EXIT_INVALID
    return exit_code(result)


def exit_code(result: Any) -> int:
    """0 completed, 130 cancelled, 1 otherwise (failed, partial, running)."""
    from spine.orchestration.models import GroupRunStatus

    if result.status is GroupRunStatus.COMPLETED:
        return EXIT_OK
    if result.status is GroupRunStatus.CANCELLED:
        return EXIT_CANCELLED
    return EXIT_INVALID


def _run_store(ws: Workspace, db: str | None, plan: Any) -> Any:
    """The store to record in (``None`` with ``--db none``), opened and checked now."""
    from spine.cli.storage import database_url, open_store

    if database_url(ws, db).lower() == "none":
        if any(getattr(s, "pool", None) for s in plan.steps) or plan.group.policy.max_active_runs != 1:
            click.echo("warning: --db none: nothing is recorded, and pools and max_active_runs are not enforced", err=True)
        return None
    return open_store(ws, db)


def _say_waiting(exc: Any) -> None:
    runs = ", ".join(exc.active)
    click.echo(f"waiting: group {safe(exc.group)} has {len(exc.active)} active run(s) ({runs}); policy.max_active_runs is {exc.limit}", err=True)


def _invalid(findings: list[Any], color: bool) -> int:
    from spine.cli.commands import echo_findings

    echo_findings(findings, color)
    click.echo(f"the group is invalid: {len(findings)} problem(s); nothing ran", err=True)
    return EXIT_INVALID


def _report_target(path: str) -> Path:
    """Check ``--report`` before anything runs: a run must not end in an unwritable path."""
    from spine.cli.output import OutputKind, prepare_output

    return prepare_output(path, OutputKind.FILE, advice="give a file name such as run.html")


def _write_report(path: Path, result: Any, plan: Any, ws: Workspace) -> None:
    from spine.render.run_report import write_run_report_for

    path.parent.mkdir(parents=True, exist_ok=True)
    write_run_report_for(path, result, plan, ws.settings)
    click.echo(f"run report: {path}", err=True)


@contextmanager
def _signals(token: Any, grace: float) -> Iterator[None]:
    """First SIGINT/SIGTERM cancels gracefully; the second stops at once."""
    from spine.runner import RunInterrupted

    if sys.platform == "win32" or not _main_thread():
        yield
        return
    hits = 0

    def handler(signum: int, frame: Any) -> None:
        nonlocal hits
        hits += 1
        name = signal.Signals(signum).name
        if hits == 1:
            os.write(2, f"\n{name}: cancelling — running steps get {grace:g} s to finish (again to stop at once)\n".encode())
            token.cancel(f"cancelled by {name}")
            return
        raise RunInterrupted()

    old = {s: signal.signal(s, handler) for s in (signal.SIGINT, signal.SIGTERM)}
    try:
        yield
    finally:
        for s, h in old.items():
            signal.signal(s, h)


def _main_thread() -> bool:
    import threading

    return threading.current_thread() is threading.main_thread()


def _rerun_command(target: str, group_name: str | None, params: Sequence[str], executor: str) -> str:
    parts = ["spine", "group", "run", target]
    if group_name:
        parts += ["--group", group_name]
    for p in params:
        parts += ["--param", p]
    if executor != "threads":
        parts += ["--executor", executor]
    return shlex.join(parts)


# -- progress --------------------------------------------------------------------------


class _Plain:
    """One line per event on stderr (CI logs, pipes)."""

    def __init__(self, plan: Any, color: bool) -> None:
        self.color = color
        self.total = len(plan.steps)
        self.done = 0

    def __enter__(self) -> _Plain:
        return self

    def __exit__(self, *exc: Any) -> None:
        pass

    def event(self, e: Any) -> None:
        from spine.orchestration.models import StepStatus
        from spine.runner import RunEventKind as K

        stamp = e.at.astimezone().strftime("%H:%M:%S")
        kind = e.kind
        if kind is K.STEP_STARTED:
            more = f" (attempt {e.attempt})" if e.attempt and e.attempt > 1 else ""
            self._line(f"{stamp} started   {safe(e.step)}{more}")
        elif kind is K.STEP_FINISHED:
            self.done += 1
            status = e.status.value
            tag = colour(f"{status:<9}", {"completed": "green", "failed": "red"}.get(status, "yellow"), enabled=self.color)
            why = f": {safe(e.error)}" if e.error is not None and e.status is StepStatus.FAILED else (f" ({safe(e.reason)})" if e.reason else "")
            self._line(f"{stamp} {tag} {safe(e.step)}{why}  [{self.done}/{self.total}]")
        elif kind is K.STEP_SKIPPED:
            self.done += 1
            self._line(f"{stamp} skipped   {safe(e.step)} ({safe(e.reason)})  [{self.done}/{self.total}]")
        elif kind is K.STEP_RETRYING:
            self._line(f"{stamp} retrying  {safe(e.step)} in {e.delay:.1f} s after attempt {e.attempt}: {safe(e.error)}")
        elif kind is K.RUN_STARTED:
            self._line(f"{stamp} run {e.run_id}: {safe(e.group)}, {self.total} step(s)")
        elif kind is K.RUN_CANCELLING:
            self._line(f"{stamp} cancelling: no new steps start")

    @staticmethod
    def _line(text: str) -> None:
        click.echo(text, err=True)


class _Live(_Plain):
    """A Rich live view on a terminal: counts by status and the running steps with elapsed time."""

    def __init__(self, plan: Any, color: bool) -> None:
        super().__init__(plan, color)
        from rich.console import Console
        from rich.live import Live

        self.console = Console(stderr=True, no_color=not color, highlight=False)
        self.running: dict[str, float] = {}
        self.counts: dict[str, int] = {}
        self.live = Live(console=self.console, refresh_per_second=4, transient=True, redirect_stdout=False, redirect_stderr=False,
                         get_renderable=self._render)

    def __enter__(self) -> _Live:
        self.live.__enter__()
        return self

    def __exit__(self, *exc: Any) -> None:
        self.live.__exit__(*exc)

    def event(self, e: Any) -> None:
        from spine.orchestration.models import StepStatus
        from spine.runner import RunEventKind as K

        if e.kind is K.STEP_STARTED:
            self.running[e.step] = time.monotonic()
        elif e.kind in (K.STEP_FINISHED, K.STEP_SKIPPED):
            self.running.pop(e.step, None)
            self.counts[e.status.value] = self.counts.get(e.status.value, 0) + 1
            if e.kind is K.STEP_FINISHED and e.status is StepStatus.FAILED:
                self.console.print(f"[red]failed[/red] {_rich_escape(safe(e.step))}: {_rich_escape(safe(e.error))}")
        elif e.kind is K.STEP_RETRYING:
            self.running.pop(e.step, None)
            self.console.print(f"[yellow]retrying[/yellow] {_rich_escape(safe(e.step))} in {e.delay:.1f} s: {_rich_escape(safe(e.error))}")
        elif e.kind is K.RUN_CANCELLING:
            self.console.print("[yellow]cancelling[/yellow]: no new steps start")

    def _render(self) -> Any:
        from rich.table import Table
        from rich.text import Text

        done = sum(self.counts.values())
        head = Text(f"{done}/{self.total} steps  ")
        for status, style in (("completed", "green"), ("failed", "red"), ("skipped", "yellow"), ("cancelled", "yellow")):
            if self.counts.get(status):
                head.append(f"{status} {self.counts[status]}  ", style=style)
        table = Table.grid(padding=(0, 2))
        now = time.monotonic()
        for name, since in sorted(self.running.items(), key=lambda kv: kv[1])[:15]:
            table.add_row(Text("running", style="cyan"), Text(safe(name)), Text(f"{now - since:5.1f} s"))
        if len(self.running) > 15:
            table.add_row("", Text(f"… and {len(self.running) - 15} more"), "")
        from rich.console import Group

        return Group(table, head)


def _rich_escape(text: str) -> str:
    from rich.markup import escape

    return escape(text)


def _progress(plan: Any, runner: Any, color: bool) -> _Plain:
    if sys.stderr.isatty() and os.environ.get("TERM") != "dumb":
        return _Live(plan, color)
    return _Plain(plan, color)


# -- the summary ---------------------------------------------------------------------------


def _summary(result: Any, plan: Any, color: bool, rerun: str, resume: str | None = None) -> None:
    from spine.orchestration.models import StepStatus

    out = sys.stderr
    status = result.status.value
    counts: dict[str, int] = {}
    for s in result.step_executions:
        counts[s.status.value] = counts.get(s.status.value, 0) + 1
    parts = ", ".join(f"{n} {k}" for k, n in counts.items())
    tone = {"completed": "green", "failed": "red", "partial": "yellow", "cancelled": "yellow"}.get(status, "cyan")
    took = f"{result.duration_s:.2f} s" if result.duration_s is not None else "?"
    click.echo(
        f"{colour(status.upper(), tone, enabled=color)}  {safe(result.group)} in {took} — {parts}  (run {result.run_id}, {result.executor})",
        file=out,
    )
    if result.message:
        click.echo(f"  {safe(result.message)}", file=out)
    failed = [s for s in result.step_executions if s.status is StepStatus.FAILED]
    for s in failed:
        tries = f" after {s.attempts} attempts" if s.attempts > 1 else ""
        click.echo(colour(f"\nstep {safe(s.name)!s} failed{tries}: {safe(s.error)}", "red", enabled=color), file=out)
        if s.error is not None and s.error.traceback:
            lines = s.error.traceback.rstrip().splitlines()
            shown = lines[-TRACEBACK_TAIL:]
            if len(lines) > len(shown):
                click.echo(f"    … {len(lines) - len(shown)} more traceback lines in --json / --report", file=out)
            for line in shown:
                click.echo(f"    {safe(line)}", file=out)
        because = [x.name for x in result.step_executions if x.status is StepStatus.SKIPPED and x.reason and f"{s.name!r}" in x.reason]
        if because:
            click.echo(f"  skipped because of it: {', '.join(safe(n) for n in because)}", file=out)
    cancelled = [s.name for s in result.step_executions if s.status is StepStatus.CANCELLED]
    if cancelled and failed:
        click.echo(f"  not started (on_failure: stop): {short([safe(n) for n in cancelled], 200)}", file=out)
    if status in ("failed", "partial"):
        if resume:
            click.echo(f"\nnext: fix the failing step(s), then resume the run (what completed is not run again):\n  {resume}", file=out)
            if rerun != resume:
                click.echo(f"or run it again from the start:\n  {rerun}", file=out)
        else:
            click.echo(f"\nnext: fix the failing step(s), then run again:\n  {rerun}", file=out)
    elif status == "cancelled":
        click.echo(f"\nnext: run again when ready:\n  {resume or rerun}", file=out)


__all__ = ["exit_code", "run_cmd", "run_group"]
