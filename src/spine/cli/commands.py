"""The bodies of the commands: call the library, present the result, return an exit code."""

from __future__ import annotations

import re
from collections.abc import Sequence
from typing import Any, TextIO

import click

from spine.cli.output import colour, dump_json, safe, short
from spine.cli.workspace import UsageProblem, Workspace

EXIT_OK, EXIT_INVALID, EXIT_USAGE = 0, 1, 2
#: JSON is indented up to this many items, and one line beyond (10x faster to write).
PRETTY_LIMIT = 5000
_BATCH_ID = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,199}$")

NO_PIPELINES_NOTE = (
    "pipelines not checked: none are registered (list modules that register them in "
    "[tool.spine] pipelines, or SPINE_PIPELINES)"
)


def _finding_line(f: Any, color: bool) -> str:
    sev = f.severity.value
    tag = colour(sev, "red" if sev == "error" else "yellow", enabled=color)
    where = f" [{safe(f.step)}]" if f.step else ""
    return f"{safe(f.location)}: {tag} {f.code}{where}: {safe(f.message)}"


def collect(
    ws: Workspace, paths: Sequence[str], strict: bool, *, mermaid: bool = False, verb: str = "validate"
) -> tuple[list[dict[str, Any]], list[Any], bool]:
    """Load and check every group under ``paths`` (or the configured and Python-registered
    groups when none are given): ``(groups, findings, pipelines_checked)``.

    Each group entry is ``{"name", "file", "document", "valid", "steps", "errors",
    "warnings"}`` plus ``"_findings"`` (its own findings, for the text formats).
    """
    from spine.core.findings import Severity
    from spine.orchestration import LoadedGroup, check_group

    extra: list[LoadedGroup] = []
    if not paths:
        paths = tuple(str(ws.settings.resolve_path(p)) for p in ws.settings.groups)
        for g in ws.groups():  # groups registered in Python (DSL) are checked too
            if g.source is None or g.source.file is None:
                extra.append(LoadedGroup(None, 0, g, [], g.name))
        if not paths and not extra:
            raise UsageProblem(f"give files or folders to {verb}, or configure [tool.spine] groups")
    loaded = ws.scan(paths) + extra if paths else extra
    if paths and not loaded:
        raise UsageProblem(f"no group files (*.yaml, *.yml) found in {', '.join(map(str, paths))}")
    registry = ws.registry_or_none
    groups: list[dict[str, Any]] = []
    findings: list[Any] = []
    seen_names: dict[str, Any] = {}
    for lg in loaded:
        name = lg.group.name if lg.group is not None else lg.name
        found = [f.with_context(group=name) for f in lg.findings]
        if lg.group is not None:
            found.extend(check_group(lg.group, registry))
            pos = lg.group.source.group if lg.group.source else (None, None)
            first = seen_names.get(lg.group.name)
            if first is not None:
                found.append(_dup_group(lg.group.name, first, lg.file, pos))
            else:
                seen_names[lg.group.name] = (lg.file, pos)
        found.sort(key=lambda f: (f.line is None, f.line or 0, f.column or 0))
        errors = [f for f in found if f.severity is Severity.ERROR]
        warnings = [f for f in found if f.severity is Severity.WARNING]
        ok = lg.group is not None and not errors and not (strict and warnings)
        groups.append(
            {
                "name": name,
                "file": lg.file,
                "document": lg.document,
                "valid": ok,
                "steps": len(lg.group.steps) if lg.group is not None else None,
                "errors": len(errors),
                "warnings": len(warnings),
                "_findings": found,
                "_mermaid": _mermaid(lg.group) if mermaid and lg.group is not None else None,
            }
        )
        findings.extend(found)
    return groups, findings, registry is not None


def _mermaid(group: Any) -> str:
    from spine.render import build_graph_view, to_mermaid

    return to_mermaid(build_graph_view(group))


def public(groups: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Group entries without their private keys (for JSON)."""
    return [{k: v for k, v in g.items() if not k.startswith("_")} for g in groups]


def validate(ws: Workspace, paths: Sequence[str], fmt: str, strict: bool, out: TextIO, color: bool) -> int:
    groups, findings, checked = collect(ws, paths, strict, mermaid=fmt == "markdown")
    valid = all(g["valid"] for g in groups)
    if fmt == "junit":
        from spine.cli.formats import to_junit

        out.write(to_junit(public(groups), findings, strict=strict))
    elif fmt == "github":
        import os

        from spine.cli.formats import to_github

        out.write(to_github(findings, strict=strict, root=os.environ.get("GITHUB_WORKSPACE")))
    elif fmt == "markdown":
        from spine.cli.formats import to_markdown

        mermaid = {(g["file"], g["document"]): g["_mermaid"] for g in groups if g.get("_mermaid")}
        out.write(to_markdown(public(groups), findings, mermaid, strict=strict))
    elif fmt == "json":
        dump_json(
            {
                "valid": valid,
                "strict": strict,
                "pipelines_checked": checked,
                "groups": public(groups),
                "findings": [f.to_dict() for f in findings],
            },
            out,
            pretty=len(findings) + len(groups) <= PRETTY_LIMIT,
        )
    else:
        _validate_text(groups, findings, checked, valid, out, color)
    return EXIT_OK if valid else EXIT_INVALID


def _dup_group(name: str, first: Any, file: str | None, pos: tuple[int | None, int | None]) -> Any:
    from spine.core.findings import Finding

    first_file, first_pos = first
    where = f"{first_file or '<python>'}" + (f":{first_pos[0]}" if first_pos[0] else "")
    return Finding(
        "duplicate-group",
        f"group name {name!r} is already used at {where}; group names must be unique — rename one",
        file=file, line=pos[0], column=pos[1], group=name,
    )


def _validate_text(groups: list[dict[str, Any]], findings: list[Any], checked: bool, valid: bool, out: TextIO, color: bool) -> None:
    last_file: Any = object()
    for g in groups:
        if g["file"] != last_file:
            click.echo(safe(g["file"] or "<registered in Python>"), file=out)
            last_file = g["file"]
        mark = colour("✓", "green", enabled=color) if g["valid"] else colour("✗", "red", enabled=color)
        label = safe(g["name"] or "(unnamed document)")
        steps = f"{g['steps']} steps" if g["steps"] is not None else "not loaded"
        click.echo(f"  {mark} {label}  ({steps}, {g['errors']} errors, {g['warnings']} warnings)", file=out)
        for f in g["_findings"]:
            click.echo("      " + _finding_line(f, color), file=out)
    n_invalid = sum(not g["valid"] for g in groups)
    n_err = sum(f.severity.value == "error" for f in findings)
    n_warn = len(findings) - n_err
    verdict = colour("valid", "green", enabled=color) if valid else colour("INVALID", "red", enabled=color)
    click.echo(
        f"\n{verdict}: {len(groups)} group(s), {n_invalid} invalid, {n_err} error(s), {n_warn} warning(s)",
        file=out,
    )
    if not checked:
        click.echo(f"note: {NO_PIPELINES_NOTE}", file=out)


def parse_params(items: Sequence[str]) -> dict[str, Any]:
    """``KEY=VALUE`` pairs; VALUE read as YAML the way dbt reads ``--vars``: scalars
    (``5`` int, ``true`` bool, ``2024-01-05`` date), ``[a, b]`` and ``{k: v}`` in flow
    style; anything else, or anything that is not YAML, stays text."""
    from spine.core.errors import GroupError
    from spine.yamlio.reader import read_documents

    params: dict[str, Any] = {}
    for item in items:
        key, sep, raw = item.partition("=")
        key = key.strip()
        if not sep or not key:
            raise click.UsageError(f"--param takes KEY=VALUE, got {item!r}")
        if raw == "":
            params[key] = ""
            continue
        try:
            docs = read_documents(raw, f"--param {key}")
        except GroupError:
            params[key] = raw  # not YAML: keep the text as given
            continue
        value = docs[0].value if docs else raw
        if value is None and raw.strip() not in ("null", "~"):
            value = raw
        # Collections only in explicit flow style: "title=Weekly: FINRA" stays text.
        if isinstance(value, dict) and not raw.lstrip().startswith("{"):
            value = raw
        if isinstance(value, list) and not raw.lstrip().startswith("["):
            value = raw
        params[key] = value
    return params


def plan(ws: Workspace, target: str, param_items: Sequence[str], group_name: str | None, as_json: bool, batch_id: str | None, color: bool) -> int:
    from spine.core.errors import GroupError
    from spine.orchestration import PlanResolver

    params = parse_params(param_items)
    if batch_id is not None and not _BATCH_ID.match(batch_id):
        raise click.BadParameter("use 1-200 letters, digits, '_', '.' and '-' (it names files and runs)", param_hint="--batch-id")
    group, loaded = ws.resolve_target(target, group_name)
    if group is None:
        from spine.orchestration import validate_group
        findings = [f for lg in loaded for f in lg.findings]
        findings += [f for lg in loaded if lg.group is not None for f in validate_group(lg.group, ws.registry_or_none)]
        return _report_invalid(findings, as_json, color)
    registry = ws.registry_or_none
    try:
        the_plan = PlanResolver(registry).resolve(group, params, batch_id=batch_id)
    except GroupError as exc:
        return _report_invalid(list(exc.findings), as_json, color)
    if as_json:
        data = the_plan.to_dict()
        data["pipelines_checked"] = registry is not None
        dump_json(data, pretty=len(the_plan.steps) <= PRETTY_LIMIT)
        return EXIT_OK
    _plan_text(the_plan, registry is not None, color)
    return EXIT_OK


def _report_invalid(findings: list[Any], as_json: bool, color: bool) -> int:
    if as_json:
        dump_json({"valid": False, "findings": [f.to_dict() for f in findings]})
    for f in findings:
        click.echo(_finding_line(f, color), err=True)
    click.echo(f"the group is invalid: {len(findings)} problem(s)", err=True)
    return EXIT_INVALID


def _plan_text(plan: Any, checked: bool, color: bool) -> None:
    g = plan.group
    p = g.policy
    click.echo(colour(f"{safe(g.name)} v{g.version}", "cyan", enabled=color) + (f"  ({safe(g.domain)})" if g.domain else ""))
    click.echo(f"batch id:  {plan.batch_id}")
    policy = f"{p.execution.value}"
    if p.execution.value == "parallel":
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
    for w in plan.warnings:
        click.echo(_finding_line(w, color), err=True)
    if not checked:
        click.echo(f"note: {NO_PIPELINES_NOTE}", err=True)


def _echo_step(s: Any, lead: str, indent: str) -> None:
    """One step (of a group or a plan) as text: name, pipeline, dependencies, params."""
    deps = f"  ← {', '.join(safe(d) for d in s.depends_on)}" if s.depends_on else ""
    click.echo(f"{lead}{safe(s.name)}  [{safe(s.pipeline)}]{deps}")
    if s.params:
        click.echo(f"{indent}params {safe(short(dict(s.params), 100))}")


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
        click.echo(f"warning: {_finding_line(f, False)} (group not registered)", err=True)
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
        click.echo(f"  steps ({len(group.steps)}):")
        for s in group.steps:
            _echo_step(s, "    - ", "        ")
    return EXIT_OK


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


def graph(ws: Workspace, target: str, fmt: str, direction: str, group_name: str | None, output: str | None, color: bool) -> int:
    from spine.orchestration import check_group
    from spine.render import build_graph_view, dot_to_svg, to_dot, to_mermaid

    group, loaded = ws.resolve_target(target, group_name, allow_invalid=True)
    if group is None:
        return _report_invalid([f for lg in loaded for f in lg.findings], False, color)
    findings = [f for lg in loaded for f in lg.findings] + check_group(group, ws.registry_or_none)
    view = build_graph_view(group)
    if fmt == "mermaid":
        text = to_mermaid(view, direction=direction)
    else:
        text = to_dot(view, direction=direction)
        if fmt == "svg":
            text = dot_to_svg(text)
    if output:
        from spine.cli.output import write_output

        write_output(output, text)
        click.echo(f"wrote {safe(output)}", err=True)
    else:
        click.echo(text, nl=not text.endswith("\n"))
    errors = [f for f in findings if f.severity.value == "error"]
    for f in findings:
        click.echo(_finding_line(f, color), err=True)
    return EXIT_INVALID if errors else EXIT_OK


def report(ws: Workspace, paths: Sequence[str], output: str, param_items: Sequence[str], direction: str, svg: bool, strict: bool) -> int:
    from spine.core.errors import GroupError
    from spine.orchestration import PlanResolver, check_group
    from spine.render.report import build_report, write_report, write_site

    params = parse_params(param_items)
    loaded = ws.scan(paths)
    if not loaded:
        raise UsageProblem(f"no group files (*.yaml, *.yml) found in {', '.join(map(str, paths))}")
    registry = ws.registry_or_none
    reports = []
    bad = 0
    unreadable = 0
    for lg in loaded:
        if lg.group is None:
            for f in lg.findings:
                click.echo(_finding_line(f, False), err=True)
            unreadable += 1
            continue
        findings = list(lg.findings) + check_group(lg.group, registry)
        plan_obj = None
        if not any(f.severity.value == "error" for f in findings):
            try:
                plan_obj = PlanResolver(registry).resolve(lg.group, params)
            except GroupError as exc:
                findings.extend(_unresolved(exc.findings) if not params else exc.findings)
        data = build_report(lg.group, findings=findings, plan=plan_obj, run_params=params, registry=registry, svg=svg, direction=direction)
        if not data.valid or (strict and data.warnings):
            bad += 1
        reports.append(data)
    if not reports:
        click.echo("no group could be read; nothing to report", err=True)
        return EXIT_INVALID
    from spine.cli.output import is_html_file, output_errors

    if is_html_file(output):
        if len(reports) != 1:
            raise UsageProblem(f"{len(reports)} groups found: give -o a folder (a site with an index), not {output}")
        with output_errors(output):
            path = write_report(output, reports[0])
    else:
        with output_errors(output):
            path = write_site(output, reports)
    extra = f"; {unreadable} document(s) could not be read (see above)" if unreadable else ""
    click.echo(f"wrote {safe(str(path))} ({len(reports)} group report(s), {bad} invalid{extra})", err=True)
    return EXIT_INVALID if bad or unreadable else EXIT_OK


def _unresolved(findings: Sequence[Any]) -> list[Any]:
    """Without any --param, a template that needs a run param is a warning, not an error:
    the group definition is fine, the report just cannot show the rendered value."""
    from dataclasses import replace

    from spine.core.findings import Severity

    out = []
    for f in findings:
        if f.code == "template-undefined":
            f = replace(f, severity=Severity.WARNING, message=f"plan not resolved without run params: {f.message}")
        out.append(f)
    return out
