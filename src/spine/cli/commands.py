"""The bodies of the commands: call the library, present the result, return an exit code.

The checking itself — reading, checking, linting, duplicate names, run params, plans —
is :mod:`spine.check`; the formats are :mod:`spine.render`. What is left here is
choosing the settings from the options, printing, and the exit code.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING, Any, TextIO

import click

from spine.cli.output import colour, dump_json, safe, short
from spine.cli.workspace import UsageProblem, Workspace

if TYPE_CHECKING:
    from spine.check import GroupCheck, ValidationReport
    from spine.core.findings import Finding

EXIT_OK, EXIT_INVALID, EXIT_USAGE = 0, 1, 2
#: JSON is indented up to this many items, and one line beyond (10x faster to write).
PRETTY_LIMIT = 5000
_BATCH_ID = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,199}$")


def painter(color: bool) -> Any:
    """``paint(text, colour)`` for :mod:`spine.render.text`: click styles when ``color``."""
    return lambda text, fg: colour(text, fg, enabled=color)


def finding_text(f: Finding, color: bool = False) -> str:
    """One finding as a terminal line (the one form: :func:`spine.render.text.finding_line`)."""
    from spine.render.text import finding_line

    return finding_line(f, paint=painter(color))


def echo_findings(findings: Sequence[Finding], color: bool, *, prefix: str = "") -> None:
    """Findings on stderr, one line each."""
    for f in findings:
        click.echo(prefix + finding_text(f, color), err=True)


def run_params(items: Sequence[str]) -> dict[str, Any]:
    """``--param`` items as run params; a malformed item is a usage error."""
    from spine.check import RunParamSyntaxError, parse_params

    try:
        return parse_params(items)
    except RunParamSyntaxError as exc:
        raise click.UsageError(str(exc)) from exc


def check(
    ws: Workspace,
    paths: Sequence[str],
    *,
    verb: str,
    ignore: Sequence[str] = (),
    on_read: Callable[[Sequence[Any]], None] | None = None,
    **changes: Any,
) -> ValidationReport:
    """Check ``paths`` — or, with none, the configured group paths and the groups
    registered in Python — with the workspace's pipelines, limits and ignored codes.
    ``-`` among the paths is the YAML on stdin (once). ``on_read`` gets the groups once
    they are read, before they are checked."""
    from spine.check import check_paths
    from spine.cli.workspace import STDIN

    if list(paths).count(STDIN) > 1:
        raise UsageProblem("'-' (stdin) can be given only once")
    extra: tuple[Any, ...] = ()
    if not paths:
        paths = tuple(str(ws.settings.resolve_path(p)) for p in ws.settings.groups)
        # groups registered in Python (DSL) are checked too
        extra = tuple(g for g in ws.groups() if g.source is None or g.source.file is None)
        if not paths and not extra:
            raise UsageProblem(f"give files or folders to {verb}, or configure [tool.spine] groups")
    settings = ws.check_settings(ignore=ignore, extra_groups=extra, **changes)
    return check_paths(paths, settings, stdin=ws.read_stdin, on_read=on_read)


# -- validate -----------------------------------------------------------------------------


def validate(ws: Workspace, paths: Sequence[str], fmt: str, strict: bool, ignore: Sequence[str], out: TextIO, color: bool) -> int:
    report = check(ws, paths, verb="validate", ignore=ignore, strict=strict)
    if fmt == "junit":
        from spine.render.junit import to_junit

        out.write(to_junit(report))
    elif fmt == "github":
        import os

        from spine.render.github import to_github

        out.write(to_github(report, root=os.environ.get("GITHUB_WORKSPACE")))
    elif fmt == "markdown":
        from spine.render.markdown import to_markdown

        out.write(to_markdown(report))
    elif fmt == "json":
        data = report.to_dict()
        dump_json(data, out, pretty=len(data["findings"]) + len(data["groups"]) <= PRETTY_LIMIT)
    else:
        from spine.render.text import to_text

        click.echo(to_text(report, paint=painter(color)), file=out, nl=False)
    return EXIT_OK if report.valid else EXIT_INVALID


# -- plan ---------------------------------------------------------------------------------


def _check_target(ws: Workspace, group: Any, loaded: Sequence[Any], **changes: Any) -> tuple[ValidationReport, GroupCheck]:
    """Check the one group a NAME|FILE target named (the document read, or the group
    registered under that name)."""
    from spine.check import check_documents, check_groups

    settings = ws.check_settings(**changes)
    report = check_documents(loaded, settings) if loaded else check_groups([group], settings)
    return report, report.groups[0]


def plan(ws: Workspace, target: str, param_items: Sequence[str], group_name: str | None, as_json: bool, batch_id: str | None, color: bool) -> int:
    params = run_params(param_items)
    if batch_id is not None and not _BATCH_ID.match(batch_id):
        raise click.BadParameter("use 1-200 letters, digits, '_', '.' and '-' (it names files and runs)", param_hint="--batch-id")
    group, loaded = ws.resolve_target(target, group_name)
    report, gc = _check_target(
        ws, group, loaded, lint=False, run_params=params, require_run_params=True, batch_id=batch_id
    )
    if gc.plan is None:
        return _report_invalid([*gc.findings, *report.findings], as_json, color)
    if as_json:
        data = gc.plan.to_dict()
        data["pipelines_checked"] = report.pipelines_checked
        dump_json(data, pretty=len(gc.plan.steps) <= PRETTY_LIMIT)
    else:
        _plan_text(gc.plan, color)
    echo_findings([*gc.findings, *report.findings], color)
    if not report.pipelines_checked:
        from spine.render.text import NO_PIPELINES_NOTE

        click.echo(f"note: {NO_PIPELINES_NOTE}", err=True)
    return EXIT_OK


def _report_invalid(findings: Sequence[Finding], as_json: bool, color: bool) -> int:
    if as_json:
        dump_json({"valid": False, "findings": [f.to_dict() for f in findings]})
    from spine.core.findings import Severity

    echo_findings(findings, color)
    errors = sum(f.severity is Severity.ERROR for f in findings)
    click.echo(f"the group is invalid: {errors} problem(s)", err=True)
    return EXIT_INVALID


def _plan_text(plan: Any, color: bool) -> None:
    from spine.orchestration.models import ExecutionMode

    g = plan.group
    p = g.policy
    click.echo(colour(f"{safe(g.name)} v{g.version}", "cyan", enabled=color) + (f"  ({safe(g.domain)})" if g.domain else ""))
    click.echo(f"batch id:  {plan.batch_id}")
    policy = f"{p.execution.value}"
    if p.execution is ExecutionMode.PARALLEL:
        policy += f", max_concurrency {p.max_concurrency}"
    policy += f", on_failure {p.on_failure.value}"
    if p.timeout_minutes is not None:
        policy += f", timeout {p.timeout_minutes} min"
    click.echo(f"policy:    {policy}")
    if plan.params:
        click.echo(f"params:    {safe(short(dict(plan.params), 100))}")
    click.echo(f"\n{'#':>4}  {'gen':>3}  step")
    for s in plan.steps:
        _echo_step(s, f"{s.sequence_order:>4}  {s.generation:>3}  ", "           ")
    click.echo("\ngenerations (steps in one generation may run together):")
    for i, gen in enumerate(plan.generations):
        click.echo(f"  {i}: {', '.join(safe(n) for n in gen)}")
    click.echo(f"critical path ({len(plan.critical_path)} steps): {' -> '.join(safe(n) for n in plan.critical_path)}")


def _echo_step(s: Any, lead: str, indent: str) -> None:
    """One step (of a group or a plan) as text: name, pipeline, dependencies, params."""
    deps = f"  ← {', '.join(safe(d) for d in s.depends_on)}" if s.depends_on else ""
    target = f"group {s.group}" if getattr(s, "group", None) is not None else s.pipeline  # a group step of `show`
    click.echo(f"{lead}{safe(s.name)}  [{safe(target)}]{deps}")
    if s.params:
        click.echo(f"{indent}params {safe(short(dict(s.params), 100))}")


# -- list, show, pipelines ------------------------------------------------------------------


def list_groups(ws: Workspace, domain: str | None, as_json: bool) -> int:
    registry = ws.groups()
    groups = registry.list(domain)
    if as_json:
        dump_json(
            [
                {
                    "name": g.name, "version": g.version, "domain": g.domain, "steps": len(g.steps),
                    "description": g.description, "file": g.source.file if g.source else None,
                }
                for g in groups
            ]
        )
    else:
        if not groups and domain is not None and len(registry):
            click.echo(f"no group of domain {safe(domain)!r} ({len(registry)} group(s) in other domains)")
        elif not groups:
            click.echo("no groups registered (configure [tool.spine] groups, or pass files to other commands)")
        for g in groups:
            where = safe(g.source.file) if g.source and g.source.file else "<python>"
            click.echo(f"{safe(g.name)}  v{g.version}  {safe(g.domain or '-')}  {len(g.steps)} steps  {where}")
    for f in ws._group_findings:
        click.echo(f"warning: {finding_text(f)} (group not registered)", err=True)
    return EXIT_OK


def show(ws: Workspace, target: str, group_name: str | None, fmt: str) -> int:
    from spine.orchestration import group_to_yaml

    group, loaded = ws.resolve_target(target, group_name)
    if group is None:
        return _report_invalid([f for lg in loaded for f in lg.findings], False, False)
    if fmt == "yaml":
        click.echo(group_to_yaml(group), nl=False)
    elif fmt == "json":
        dump_json(group.to_dict())
    else:
        from spine.check import run_params_of
        from spine.render.text import run_params_line

        click.echo(f"{safe(group.name)} v{group.version}" + (f"  ({safe(group.domain)})" if group.domain else ""))
        if group.description:
            click.echo(f"  {safe(group.description)}")
        if group.tags:
            click.echo(f"  tags: {', '.join(safe(t) for t in group.tags)}")
        if group.source and group.source.file:
            click.echo(f"  file: {safe(group.source.file)}")
        click.echo(f"  policy: {safe(short(group.policy.to_dict(), 120))}")
        if group.defaults:
            click.echo(f"  defaults: {safe(short(dict(group.defaults), 120))}")
        params = run_params_line(run_params_of(group, ws.registry_or_none))
        if params:
            click.echo(f"  {params}")
        click.echo(f"  steps ({len(group.steps)}):")
        for s in group.steps:
            _echo_step(s, "    - ", "        ")
        _echo_schedules(group)
    return EXIT_OK


def _echo_schedules(group: Any) -> None:
    """Each schedule with its next fire (``spine schedule list`` adds the last one)."""
    if not group.schedules:
        return
    import datetime as dt

    from spine.orchestration.cron import next_ticks

    click.echo(f"  schedules ({len(group.schedules)}):")
    now = dt.datetime.now(dt.UTC)
    for sc in group.schedules:
        nxt = next_ticks(sc.cron, sc.timezone, now, 1) if sc.enabled else []
        when = f"next {nxt[0].isoformat()}" if nxt else "disabled"
        extra = ", catchup" if sc.catchup else ""
        click.echo(f"    - {safe(sc.name)}: {safe(sc.cron)} ({safe(sc.timezone)}{extra}), {when}")
        if sc.params:
            click.echo(f"        params: {safe(short(dict(sc.params), 120))}")


def list_pipelines(ws: Workspace, as_json: bool) -> int:
    registry = ws.pipelines
    if as_json:
        dump_json([spec.to_dict() for spec in registry])
        return EXIT_OK
    if not len(registry):
        click.echo("no pipelines registered: list modules that register them in [tool.spine] pipelines, or SPINE_PIPELINES")
    for spec in registry:
        click.echo(f"{safe(spec.name)}" + (f"  — {safe(spec.description)}" if spec.description else ""))
        for d in spec.params:
            bits = [d.type_name, "required" if d.required else f"default {short(d.default, 30)}"]
            if d.choices:
                bits.append("one of " + ", ".join(short(c, 20) for c in d.choices))
            click.echo(f"    {safe(d.name)}: {'; '.join(bits)}" + (f"  — {safe(d.description)}" if d.description else ""))
    return EXIT_OK


# -- graph, report --------------------------------------------------------------------------


def graph(ws: Workspace, target: str, fmt: str, direction: str, group_name: str | None, output: str | None, color: bool) -> int:
    from spine.render import build_graph_view, draw_svg, to_dot, to_mermaid

    group, loaded = ws.resolve_target(target, group_name, allow_invalid=True)
    if group is None:
        return _report_invalid([f for lg in loaded for f in lg.findings], False, color)
    _, gc = _check_target(ws, group, loaded)
    view = build_graph_view(group, groups=ws.nested_groups(loaded))
    if fmt == "mermaid":
        text = to_mermaid(view, direction=direction)
    else:
        text = to_dot(view, direction=direction)
        if fmt == "svg":
            text = draw_svg(text, ws.settings.dot).require()
    if output:
        from spine.cli.output import write_output

        write_output(output, text)
        click.echo(f"wrote {safe(output)}", err=True)
    else:
        click.echo(text, nl=not text.endswith("\n"))
    echo_findings(gc.findings, color)
    return EXIT_INVALID if gc.errors else EXIT_OK


def report(ws: Workspace, paths: Sequence[str], output: str, param_items: Sequence[str], direction: str, svg: bool, strict: bool, ignore: Sequence[str] = ()) -> int:
    from contextlib import ExitStack

    from spine.orchestration.loader import LoadedGroup
    from spine.render.report import GraphSource, build_report, graph_source, write_report, write_site
    from spine.render.svg import Drawing, Graphviz, Picture

    params = run_params(param_items)
    not_drawn = Picture.not_drawn("the picture was not drawn (--no-svg)")
    with ExitStack() as stack:
        graphviz = stack.enter_context(Graphviz(ws.settings.dot)) if svg else None
        started: dict[int, tuple[Any, GraphSource, Drawing | Picture]] = {}

        def draw_first(groups: Sequence[Any]) -> None:
            # Graphviz first: as soon as the files are read, each group's DOT is built and
            # handed to `dot`, so the layouts run while the groups are checked, planned and
            # their pages rendered.
            nested = ws.nested_groups([LoadedGroup(None, 0, g, [], g.name) for g in groups])
            sources = [graph_source(g, direction=direction, groups=nested) for g in groups]
            drawings: Sequence[Drawing | Picture] = graphviz.draw_all([s.dot for s in sources]) if graphviz else [not_drawn] * len(sources)
            for g, source, drawing in zip(groups, sources, drawings, strict=True):
                started[id(g)] = (g, source, drawing)

        checked = check(ws, paths, verb="report", ignore=ignore, strict=strict, run_params=params, on_read=draw_first)
        registry = ws.registry_or_none
        reports = []
        pictures: list[Drawing | Picture] = []
        unreadable = 0
        for g in checked.groups:
            if g.group is None:
                echo_findings(g.findings, False)
                unreadable += 1
                continue
            _, source, drawing = started[id(g.group)]
            reports.append(build_report(g.group, findings=g.findings, plan=g.plan, run_params=g.params, registry=registry, source=source))
            pictures.append(drawing)
        echo_findings(checked.findings, False)
        if not reports:
            click.echo("no group could be read; nothing to report", err=True)
            return EXIT_INVALID
        from spine.cli.output import is_html_file, output_errors

        if is_html_file(output):
            if len(reports) != 1:
                raise UsageProblem(f"{len(reports)} groups found: give -o a folder (a site with an index), not {output}")
            with output_errors(output):
                path = write_report(output, reports[0], pictures[0])
        else:
            with output_errors(output):
                path = write_site(output, reports, pictures)
    bad = sum(not g.valid for g in checked.groups if g.group is not None)
    extra = f"; {unreadable} document(s) could not be read (see above)" if unreadable else ""
    click.echo(f"wrote {safe(str(path))} ({len(reports)} group report(s), {bad} invalid{extra})", err=True)
    return EXIT_OK if checked.valid else EXIT_INVALID
