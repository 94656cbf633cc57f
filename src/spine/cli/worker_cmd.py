"""``spine worker``: a Celery worker that runs the attempts of ``--executor celery`` runs.

It reads the project's configuration like every command, imports its pipeline modules
(so every registered pipeline is there before the first task), and serves the default
queue ``spine`` or the ``--queue`` names. Started in the project on another host, with the
same configuration and the same broker, it runs that project's steps.
"""

from __future__ import annotations

from typing import Any

import click

from spine.cli.workspace import UsageProblem, Workspace

EXIT_OK = 0


def broker_option(fn: Any) -> Any:
    return click.option(
        "--broker", metavar="URL",
        help="The Celery broker: redis://HOST:6379/0 or amqp://USER:PASSWORD@HOST:5672// "
        "(default: [tool.spine] celery.broker, or SPINE_CELERY_BROKER).",
    )(fn)


def celery_options(ws: Workspace, broker: str | None) -> dict[str, Any]:
    """The broker (the flag, else the configuration), the result backend and visibility timeout."""
    conf = ws.settings.celery
    url = broker or conf.get("broker")
    if not url:
        raise UsageProblem(
            "the celery executor needs a broker: --broker URL, [tool.spine] celery.broker or SPINE_CELERY_BROKER "
            "(e.g. redis://127.0.0.1:6379/0 or amqp://guest:guest@127.0.0.1:5672//)"
        )
    from spine.runner.celery_executor import CeleryUnavailableError, result_backend_for

    try:
        result_backend_for(url)  # a broker spine cannot use is a usage error, before anything starts
    except CeleryUnavailableError as exc:
        raise UsageProblem(str(exc)) from exc
    return {"broker": url, "result_backend": conf.get("result_backend"), "visibility_timeout": conf.get("visibility_timeout")}


def celery_executor(ws: Workspace, broker: str | None) -> Any:
    """A :class:`~spine.runner.celery_executor.CeleryExecutor` configured for this project."""
    from spine.runner.celery_executor import CeleryExecutor

    return CeleryExecutor(**celery_options(ws, broker), modules=tuple(ws.settings.pipelines))


@click.command("worker")
@click.option("-Q", "--queue", "queues", multiple=True, metavar="NAME", help="Serve this queue (repeatable; default: spine, the queue of steps that name none).")
@click.option("-c", "--concurrency", type=click.IntRange(min=1), metavar="N", help="Run at most N attempts at once, each in its own process (default: one per CPU).")
@broker_option
@click.option("-n", "--hostname", metavar="NAME", help="The worker's name (default: celery@HOST); give each worker on one host its own.")
@click.option("--broker-wait", type=click.FloatRange(min=0), default=30.0, show_default=True, metavar="SECONDS",
              help="At start, wait this long for an unreachable broker, then exit 2 (once running, the worker reconnects by itself).")
@click.option("--loglevel", type=click.Choice(["DEBUG", "INFO", "WARNING", "ERROR"], case_sensitive=False), default="INFO", show_default=True)
@click.pass_obj
def worker_cmd(
    c: Any, queues: tuple[str, ...], concurrency: int | None, broker: str | None, hostname: str | None, broker_wait: float, loglevel: str,
) -> int:
    """Start a Celery worker for `spine group run --executor celery`.

    \b
    It imports the pipelines of [tool.spine] pipelines and runs one attempt per task,
    acknowledging it only when the attempt ended: a worker killed mid-step gives the
    step back to the broker and another worker runs it (at least once; ctx.attempt says
    so). Steps with `queue: NAME` go to workers started with --queue NAME. Stop it with
    Ctrl-C (it finishes what it runs) or SIGTERM.
    """
    import re

    ws = c.workspace()
    options = celery_options(ws, broker)
    for name in queues:
        if not re.fullmatch(r"[A-Za-z0-9][A-Za-z0-9_.-]{0,127}", name):
            raise click.BadParameter(f"{name!r} is not a queue name: letters, digits, '_', '.', '-', starting with a letter or digit", param_hint="--queue")
    _ = ws.pipelines  # import the project's pipeline modules now: a broken one stops the worker before it serves anything
    from spine.runner.celery_executor import CeleryUnavailableError, run_worker, wait_for_broker

    try:
        wait_for_broker(options["broker"], seconds=broker_wait, say=lambda line: click.echo(f"spine worker: {line}", err=True))
    except CeleryUnavailableError as exc:  # nothing served yet: like --executor celery's unreachable broker, exit 2
        raise UsageProblem(str(exc)) from exc

    run_worker(options["broker"], queues=queues, concurrency=concurrency, result_backend=options["result_backend"],
               visibility_timeout=options["visibility_timeout"], hostname=hostname, loglevel=loglevel.upper())
    return EXIT_OK


__all__ = ["broker_option", "celery_executor", "celery_options", "worker_cmd"]
