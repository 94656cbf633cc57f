"""``spine group fuzz``: hunt for run params and edits that break real group definitions."""

from __future__ import annotations

import random
from typing import Any

import click

from spine.cli.output import colour, dump_json, safe, short
from spine.cli.workspace import UsageProblem


@click.command("fuzz")
@click.argument("paths", nargs=-1, type=click.Path())
@click.option("--examples", type=click.IntRange(min=1), default=100, show_default=True, help="Examples per check and group.")
@click.option("--seed", type=click.IntRange(min=0), help="Seed for a reproducible run (printed when not given).")
@click.option("--format", "fmt", type=click.Choice(["text", "json"]), default="text", show_default=True)
@click.pass_obj
def fuzz_cmd(c: Any, paths: tuple[str, ...], examples: int, seed: int | None, fmt: str) -> int:
    """Fuzz groups: many valid and invalid run params and small edits of each group.

    \b
    For every valid group under PATH (or the configured groups):
      valid run params   every plan resolves and fits the pipelines' ParamDefs
      invalid run params each one is rejected with the expected finding
      mutations          back edges, dropped/renamed/duplicated steps … are caught
    A failure prints hypothesis's minimal counterexample and the seed to reproduce it;
    exit 1. Needs hypothesis (pip install 'spine-core[fuzz]').
    """
    try:
        from spine.testing.fuzz import fuzz_group
    except ImportError as exc:
        raise UsageProblem(f"spine group fuzz needs hypothesis: pip install 'spine-core[fuzz]' ({exc})") from exc
    from spine.cli.commands import check
    from spine.cli.reproduce import fuzz_commands, with_commands
    from spine.core.findings import Severity

    ws = c.workspace()
    seed = seed if seed is not None else random.SystemRandom().randrange(2**32)
    report = check(ws, paths, verb="fuzz", lint=False)  # read and checked once; the groups fuzzed come from it
    registry = ws.registry_or_none
    loaded = [g.group for g in report.groups if g.group is not None and not g.errors]
    results = []
    invalid = [g for g in report.groups if not g.valid]

    def progress(name: str, result: Any) -> None:
        if fmt == "text":
            state = "skipped" if result.skipped else f"{'ok' if result.ok else 'FAILED'} ({result.examples} examples)"
            click.echo(f"  {safe(name)}: {result.name} … {state}", err=True)

    def starting(name: str, check: str) -> None:
        if fmt == "text":
            click.echo(f"  {safe(name)}: {check} … running up to {examples} examples", err=True)

    from spine.orchestration.nesting import GroupSource

    nested = GroupSource(loaded, ws.groups)  # groups steps call: those fuzzed, then the configured ones
    for i, group in enumerate(loaded, 1):
        if fmt == "text":
            click.echo(f"[{i}/{len(loaded)}] {safe(group.name)}", err=True)
        results.append(fuzz_group(group, registry, examples=examples, seed=seed, progress=progress, starting=starting, groups=nested))
    ok = all(r.ok for r in results) and not invalid
    commands = fuzz_commands(results, report.groups, config=c.config)
    if fmt == "json":
        dump_json(
            {
                "ok": ok,
                "seed": seed,
                "examples": examples,
                "pipelines_checked": registry is not None,
                "results": [with_commands(i, r.to_dict(), commands) for i, r in enumerate(results)],
                "invalid_groups": [{"name": g.name, "file": g.file} for g in invalid],
                "findings": [f.to_dict() for f in report.all_findings() if f.severity is Severity.ERROR],
            }
        )
    else:
        _text(results, invalid, seed, examples, registry is not None, c.color, commands)
    return 0 if ok else 1


def _text(
    results: list[Any], invalid: list[Any], seed: int, examples: int, checked: bool, color: bool,
    commands: dict[tuple[int, str], str | None],
) -> None:
    from spine.render.text import finding_line

    for i, r in enumerate(results):
        where = f"  ({safe(r.file)})" if r.file else ""
        click.echo(f"{safe(r.group)}{where}")
        for c in r.checks:
            if c.skipped:
                click.echo(f"  - {c.name}: skipped — {safe(c.skipped)}")
            elif c.ok:
                click.echo(f"  {colour('✓', 'green', enabled=color)} {c.name}: {c.examples} examples passed")
            else:
                ce = c.counterexample
                click.echo(f"  {colour('✗', 'red', enabled=color)} {c.name}: failed; minimal counterexample:")
                click.echo(f"      input:   {safe(short(ce.example, 400))}")
                click.echo(f"      problem: {safe(ce.problem)}")
                if (i, c.name) in commands:
                    command = commands[(i, c.name)]
                    click.echo(f"      reproduce: {command}" if command else "      reproduce: (a value cannot be written as --param; use the input in a test)")
                for f in ce.findings[:10]:
                    click.echo(f"      {finding_line(f, severity=False)}")
    for g in invalid:
        click.echo(f"{safe(g.name or '(unnamed)')}  ({safe(g.file or '')}): not fuzzed — the group is invalid (see `spine group validate`)")
    failed = sum(not r.ok for r in results)
    verdict = colour("ok", "green", enabled=color) if not failed and not invalid else colour("FAILED", "red", enabled=color)
    click.echo(f"\n{verdict}: {len(results)} group(s) fuzzed, {failed} with a counterexample, {len(invalid)} invalid; {examples} examples per check")
    click.echo(f"seed {seed} — reproduce with --seed {seed} --examples {examples}")
    if not checked:
        click.echo("note: no pipelines registered: params are not checked against ParamDefs and invalid run params are not tried")
