"""``spine`` commands (Click). Commands parse, call the library, print, return exit codes.

Exit codes: 0 success; 1 invalid groups or a failed run; 2 usage errors (bad arguments,
missing files, bad configuration). Machine output (``--json``, ``--format json``) goes
to stdout; logs and progress go to stderr.
"""

from __future__ import annotations

import io
import os
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import click

from spine.cli.output import colour_enabled, safe

EXIT_OK, EXIT_INVALID, EXIT_USAGE = 0, 1, 2


def _version() -> str:
    from spine import __version__

    return __version__


class _Ctx:
    def __init__(self, config: str | None, verbose: int, color: bool | None) -> None:
        self.config = config
        self.verbose = verbose
        self.color = colour_enabled(color)
        self._ws: Any = None  # a spine.cli.workspace.Workspace, built on first use
        self.overrides: dict[str, Any] = {}

    def workspace(self) -> Any:
        if self._ws is None:
            from dataclasses import replace
            from pathlib import Path

            from spine.config import load_settings

            settings = load_settings(config_file=Path(self.config) if self.config else None)
            if self.overrides:
                settings = replace(settings, **self.overrides)
            from spine.cli.workspace import Workspace

            self._ws = Workspace(settings)
        return self._ws


pass_ctx = click.make_pass_decorator(_Ctx)


@click.group(context_settings={"help_option_names": ["-h", "--help"], "max_content_width": 100})
@click.version_option(version=None, package_name="spine-core", prog_name="spine", message="%(prog)s %(version)s")
@click.option("--config", type=click.Path(exists=True, dir_okay=False), envvar="SPINE_CONFIG", help="Read settings from this spine.toml/pyproject.toml instead of searching upwards.")
@click.option("-v", "--verbose", count=True, help="More logging on stderr (-v info, -vv debug).")
@click.option("--color/--no-color", default=None, help="Colour text output (default: when stdout is a terminal, unless NO_COLOR is set or TERM=dumb).")
@click.pass_context
def cli(ctx: click.Context, config: str | None, verbose: int, color: bool | None) -> None:
    """spine: pipeline groups — validate, plan, draw and run DAGs of pipeline steps.

    \b
    Quick start:
      spine group validate examples/groups
      spine group plan examples/groups/finra_weekly_refresh.yaml --param tier=NMS_TIER_1 --param week_ending=2024-01-05
    """
    if verbose:
        from spine.core.logging import configure_logging

        configure_logging(verbose)
    ctx.obj = _Ctx(config, verbose, color)
    if color is not None:
        ctx.color = color  # click.echo keeps ANSI codes when piped if --color was asked for


def _ignore_option(fn: Any) -> Any:
    return click.option(
        "--ignore", "ignore", multiple=True, metavar="CODE",
        help="Do not report this warning code (repeatable; adds to [tool.spine] lint.ignore). Errors cannot be ignored.",
    )(fn)


def _limit_options(fn: Any) -> Any:
    fn = click.option("--max-file-size", type=click.IntRange(min=1), metavar="BYTES", help="Refuse group files larger than this (default 32 MiB).")(fn)
    return fn


def _apply_limits(c: _Ctx, max_file_size: int | None) -> None:
    if max_file_size is not None:
        c.overrides["max_file_size"] = max_file_size


# -- spine group ------------------------------------------------------------------------


@cli.group()
def group() -> None:
    """Pipeline groups: validate, plan, run, backfill, graph, report, diff, fuzz, list, show."""


@group.command("validate")
@click.argument("paths", nargs=-1, type=click.Path())
@click.option("--format", "fmt", type=click.Choice(["text", "json", "junit", "github", "markdown"]), default="text", show_default=True, help="text for people, json for tools, junit for CI test reports, github for pull-request annotations, markdown for $GITHUB_STEP_SUMMARY.")
@click.option("--strict", is_flag=True, help="Treat warnings (lint) as failures (exit 1).")
@click.option("-o", "--output", metavar="FILE", help="Write the report to FILE (its folders are created) instead of stdout.")
@_ignore_option
@_limit_options
@pass_ctx
def validate_cmd(c: _Ctx, paths: tuple[str, ...], fmt: str, strict: bool, output: str | None, ignore: tuple[str, ...], max_file_size: int | None) -> int:
    """Check group files and folders (recursively); report every problem at once.

    With no PATH, validates the configured groups ([tool.spine] groups). Each group's
    line says which run params it reads. A file given twice (or inside a folder also
    given) is checked once. Exit 0 when all groups are valid, 1 when any is not, 2 on
    usage errors.
    """
    from spine.cli.commands import validate
    from spine.cli.output import open_output

    _apply_limits(c, max_file_size)
    with open_output(output) as out:
        return validate(c.workspace(), paths, fmt, strict, ignore, out, c.color and output in (None, "-"))


@group.command("plan")
@click.argument("target", metavar="NAME|FILE")
@click.option("-p", "--param", "params", multiple=True, metavar="KEY=VALUE", help="A run param; VALUE is read as YAML like dbt --vars (5 → int, true → bool, [a, b] → list; quote to keep a string). Repeatable.")
@click.option("--group", "group_name", metavar="NAME", help="Which group, when FILE holds several.")
@click.option("--json", "as_json", is_flag=True, help="Print the plan as JSON.")
@click.option("--batch-id", help="Use this batch id instead of a new one (for reproducible output).")
@_limit_options
@pass_ctx
def plan_cmd(c: _Ctx, target: str, params: tuple[str, ...], group_name: str | None, as_json: bool, batch_id: str | None, max_file_size: int | None) -> int:
    """Resolve a group into its execution plan: order, generations, params."""
    from spine.cli.commands import plan

    _apply_limits(c, max_file_size)
    return plan(c.workspace(), target, params, group_name, as_json, batch_id, c.color)


@group.command("graph")
@click.argument("target", metavar="NAME|FILE")
@click.option("--format", "fmt", type=click.Choice(["dot", "svg", "mermaid"]), default="dot", show_default=True, help="Output format (svg needs Graphviz `dot`).")
@click.option("--direction", type=click.Choice(["TB", "LR", "BT", "RL"], case_sensitive=False), default="TB", show_default=True, help="Layout direction.")
@click.option("--group", "group_name", metavar="NAME", help="Which group, when FILE holds several.")
@click.option("-o", "--output", metavar="FILE", help="Write to FILE (its folders are created) instead of stdout.")
@_limit_options
@pass_ctx
def graph_cmd(c: _Ctx, target: str, fmt: str, direction: str, group_name: str | None, output: str | None, max_file_size: int | None) -> int:
    """Draw a group's dependencies as DOT, SVG or Mermaid.

    An invalid group is still drawn — cycle edges in red, missing dependencies as dashed
    ghost nodes — and the command exits 1 with its findings on stderr.
    """
    from spine.cli.commands import graph
    from spine.cli.output import OutputKind, prepare_output

    if output == "-":
        output = None
    if output is not None:
        prepare_output(output, OutputKind.FILE)
    _apply_limits(c, max_file_size)
    return graph(c.workspace(), target, fmt, direction.upper(), group_name, output, c.color)


@group.command("report")
@click.argument("paths", nargs=-1, required=True, type=click.Path())
@click.option("-o", "--output", required=True, metavar="OUT", help="OUT.html (.htm, any case) for one group, or a folder for a site (index.html + a page per group).")
@click.option("-p", "--param", "params", multiple=True, metavar="KEY=VALUE", help="Run params to resolve the plans with (repeatable); each group gets the ones it reads.")
@click.option("--direction", type=click.Choice(["TB", "LR", "BT", "RL"], case_sensitive=False), default="TB", show_default=True)
@click.option("--no-svg", is_flag=True, help="Do not run Graphviz; show the Mermaid/DOT source instead of a picture.")
@click.option("--strict", is_flag=True, help="Treat warnings as failures (exit 1).")
@_ignore_option
@_limit_options
@pass_ctx
def report_cmd(c: _Ctx, paths: tuple[str, ...], output: str, params: tuple[str, ...], direction: str, no_svg: bool, strict: bool, ignore: tuple[str, ...], max_file_size: int | None) -> int:
    """Write self-contained HTML plan reports for group files and folders.

    Exit 0 when every group is valid, 1 when any is not (the report is written either way).
    """
    from spine.cli.commands import report
    from spine.cli.output import OutputKind, OutputPathError, is_html_file, prepare_output

    if output == "-":
        raise OutputPathError(output, "a report is HTML files, not text for stdout", "give OUT.html for one group, or a folder for a site")
    advice = "give a folder for a site, or a name ending in .html for one page"
    prepare_output(output, OutputKind.FILE if is_html_file(output) else OutputKind.FOLDER, advice=advice)
    _apply_limits(c, max_file_size)
    return report(c.workspace(), paths, output, params, direction.upper(), not no_svg, strict, ignore)


def _register_commands() -> None:
    from spine.cli.diff_cmd import diff_cmd
    from spine.cli.fuzz_cmd import fuzz_cmd
    from spine.cli.run_cmd import run_cmd
    from spine.cli.schedule_cmd import backfill_cmd, schedule, scheduler

    group.add_command(diff_cmd)
    group.add_command(fuzz_cmd)
    group.add_command(run_cmd)
    group.add_command(backfill_cmd)
    cli.add_command(scheduler)
    cli.add_command(schedule)

    from spine.cli.db_cmd import db
    from spine.cli.dlq_cmd import dlq
    from spine.cli.runs_cmd import runs
    from spine.cli.serve_cmd import serve_cmd, token

    cli.add_command(runs)
    cli.add_command(serve_cmd)
    cli.add_command(token)
    cli.add_command(dlq)
    cli.add_command(db)

    from spine.cli.worker_cmd import worker_cmd

    cli.add_command(worker_cmd)


_register_commands()


@group.command("list")
@click.option("--domain", help="Only groups of this domain.")
@click.option("--json", "as_json", is_flag=True, help="Print JSON.")
@pass_ctx
def list_cmd(c: _Ctx, domain: str | None, as_json: bool) -> int:
    """List registered groups (configured group paths and groups registered in Python)."""
    from spine.cli.commands import list_groups

    return list_groups(c.workspace(), domain, as_json)


@group.command("show")
@click.argument("target", metavar="NAME|FILE")
@click.option("--group", "group_name", metavar="NAME", help="Which group, when FILE holds several.")
@click.option("--format", "fmt", type=click.Choice(["text", "yaml", "json"]), default="text", show_default=True)
@pass_ctx
def show_cmd(c: _Ctx, target: str, group_name: str | None, fmt: str) -> int:
    """Show one group: metadata, policy, defaults and steps."""
    from spine.cli.commands import show

    return show(c.workspace(), target, group_name, fmt)


# -- spine pipeline ---------------------------------------------------------------------


@cli.group()
def pipeline() -> None:
    """Registered pipelines."""


@pipeline.command("list")
@click.option("--json", "as_json", is_flag=True, help="Print JSON.")
@pass_ctx
def pipeline_list_cmd(c: _Ctx, as_json: bool) -> int:
    """List registered pipelines and their params."""
    from spine.cli.commands import list_pipelines

    return list_pipelines(c.workspace(), as_json)


@cli.command("schema")
def schema_cmd() -> int:
    """Print the JSON Schema of the group format (for editors and yaml-language-server)."""
    from spine.orchestration.schema import schema_text

    click.echo(schema_text(), nl=False)
    return EXIT_OK


def run(argv: list[str] | None = None) -> int:
    """Run the CLI and return its exit code, translating every expected error.

    A reader that goes away early (``spine … | head -2``) does not change the exit code:
    from the first write that finds the pipe closed, the rest of the output goes to
    ``os.devnull`` (the Python docs' recipe for SIGPIPE), and the command finishes.
    """
    with _pipe_guard("stdout"), _pipe_guard("stderr"):
        return _run(argv)


class _PipeGuardedWriter(io.RawIOBase):
    """Writes to a file descriptor; once its reader has gone (EPIPE), points the
    descriptor at ``os.devnull`` so the rest of the output, and the flush at exit, is
    quietly dropped."""

    def __init__(self, fd: int) -> None:
        super().__init__()
        self._fd = fd

    def writable(self) -> bool:
        return True

    def fileno(self) -> int:
        return self._fd

    def isatty(self) -> bool:
        return os.isatty(self._fd)

    def write(self, data: Any) -> int:
        try:
            return os.write(self._fd, data)
        except BrokenPipeError:
            _to_devnull(self._fd)
            return len(data)


def _to_devnull(fd: int) -> None:
    devnull = os.open(os.devnull, os.O_WRONLY)
    try:
        os.dup2(devnull, fd)
    finally:
        os.close(devnull)


@contextmanager
def _pipe_guard(name: str) -> Iterator[None]:
    """Replace ``sys.<name>`` by a pipe-guarded writer on the same descriptor while the CLI
    runs; streams without a descriptor (CliRunner's, pytest's) are left as they are."""
    original = getattr(sys, name)
    try:
        fd = original.fileno()
    except (AttributeError, ValueError, OSError):  # io.UnsupportedOperation is an OSError
        yield
        return
    try:
        original.flush()
    except BrokenPipeError:
        _to_devnull(fd)
    guarded = io.TextIOWrapper(
        io.BufferedWriter(_PipeGuardedWriter(fd)),
        encoding=getattr(original, "encoding", None) or "utf-8",
        errors=getattr(original, "errors", None) or "strict",
        line_buffering=bool(getattr(original, "line_buffering", False)),
        write_through=bool(getattr(original, "write_through", False)),
    )
    setattr(sys, name, guarded)
    try:
        yield
    finally:
        setattr(sys, name, original)
        guarded.flush()
        guarded.detach()  # the descriptor stays open: it belongs to the process


def _run(argv: list[str] | None) -> int:
    from spine.check.errors import CheckInputError
    from spine.cli.workspace import UsageProblem
    from spine.config import ConfigError
    from spine.core.errors import GraphvizNotFoundError, GroupError, GroupNotFoundError, SpineError

    try:
        rv = cli.main(args=argv, prog_name="spine", standalone_mode=False)
    except click.exceptions.Exit as exc:  # --help, --version
        return int(exc.exit_code or 0)
    except click.ClickException as exc:
        exc.show()
        return EXIT_USAGE if isinstance(exc, click.UsageError) else exc.exit_code
    except (click.exceptions.Abort, KeyboardInterrupt):
        click.echo("Aborted.", err=True)
        return 130
    except (UsageProblem, CheckInputError, ConfigError, FileNotFoundError, GraphvizNotFoundError) as exc:
        msg = f"no such file or folder: {exc}" if isinstance(exc, FileNotFoundError) else str(exc)
        click.echo(f"Error: {safe(msg)}", err=True)
        return EXIT_USAGE
    except GroupNotFoundError as exc:  # a name that names nothing is a usage error, like a missing file
        click.echo(f"Error: {safe(str(exc), multiline=True)}", err=True)
        return EXIT_USAGE
    except GroupError as exc:
        click.echo(safe(str(exc), multiline=True), err=True)
        return EXIT_INVALID
    except SpineError as exc:  # store errors say their own exit code (a run id that names nothing: 2)
        click.echo(f"Error: {safe(str(exc), multiline=True)}", err=True)
        return int(getattr(exc, "exit_code", EXIT_INVALID))
    except BrokenPipeError:  # a stream without a guard (see run): the Python docs' recipe
        for stream in (sys.stdout, sys.stderr):
            try:
                _to_devnull(stream.fileno())
            except (AttributeError, ValueError, OSError):
                pass  # no descriptor to redirect
        return EXIT_INVALID
    return int(rv or 0)


__all__ = ["cli", "run"]
