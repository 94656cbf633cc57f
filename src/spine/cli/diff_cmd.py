"""``spine group diff OLD NEW``: what a change does to the plan.

OLD and NEW are each a file, a folder, or ``git:REF:path`` (read by
:func:`spine.check.read_source`; each side is checked by :func:`spine.check.check_documents`).
Groups are matched by name; when OLD and NEW are single files holding one group each,
the two are compared even if the name changed.

Exit codes: 0, or with ``--exit-code`` 0 for no change and 1 for changes (like
``git diff --exit-code``); 2 for usage errors (a missing file, a bad git ref or path).
An invalid group is still compared as far as it could be read; its findings go to stderr.

Registered by ``spine.cli.app`` with ``group.add_command(diff_cmd)``.
"""

from __future__ import annotations

from collections import Counter

import click

from spine.cli.output import colour
from spine.cli.workspace import UsageProblem
from spine.core.escape import terminal_line as term

EXIT_OK, EXIT_CHANGED = 0, 1


#: The terminal colour of each kind of change (by ``Change`` member name: the module is imported late).
_COLOURS = {"ADDED": "green", "REMOVED": "red", "RENAMED": "blue", "CHANGED": "yellow"}


@click.command("diff")
@click.argument("old", metavar="OLD")
@click.argument("new", metavar="NEW")
@click.option("--format", "fmt", type=click.Choice(["text", "markdown", "json", "html"]), default="text", show_default=True, help="Output format.")
@click.option("-o", "--output", metavar="FILE", help="Write to FILE (its folders are created) instead of stdout.")
@click.option("--exit-code", is_flag=True, help="Exit 1 when there are changes, 0 when there are none (like git diff --exit-code).")
@click.option("--group", "group_name", metavar="NAME", help="Compare only the group called NAME (when a side holds several).")
@click.option("--direction", type=click.Choice(["TB", "LR", "BT", "RL"], case_sensitive=False), default="TB", show_default=True, help="Layout direction of the merged graph (markdown, html).")
@click.pass_context
def diff_cmd(ctx: click.Context, old: str, new: str, fmt: str, output: str | None, exit_code: bool, group_name: str | None, direction: str) -> int:
    """Compare two versions of group definitions: steps, edges, params, policy.

    OLD and NEW are files, folders, or git:REF:path (e.g. git:HEAD~1:groups/g.yaml,
    git:main:groups). Added, removed and renamed-looking steps, added and removed
    dependencies, changed pipelines, params, defaults, policy and metadata are reported;
    markdown and html draw the merged graph with the changes marked.

    \b
    Examples:
      spine group diff git:HEAD~1:groups/g.yaml groups/g.yaml
      spine group diff git:main:groups groups --format markdown >> "$GITHUB_STEP_SUMMARY"
      spine group diff old/ new/ --format html -o diff.html --exit-code
    """
    from spine.check import CheckSettings, check_documents, read_source
    from spine.cli.output import OutputKind, prepare_output, write_output
    from spine.diff.compare import DiffReport, diff_sets
    from spine.render import diff_render
    from spine.render.text import finding_line

    output = None if output == "-" else output
    if output is not None:
        prepare_output(output, OutputKind.FILE)
    obj = ctx.find_root().obj
    limits = obj.workspace().settings.limits if hasattr(obj, "workspace") else None
    color = bool(getattr(obj, "color", False)) and fmt == "text" and output is None

    sides = [read_source(old, limits), read_source(new, limits)]
    if group_name is not None and not any(group_name in {lg.group.name for lg in s.loaded if lg.group is not None} for s in sides):
        raise UsageProblem(f"neither {term(old)} nor {term(new)} has a group named {term(group_name)!r}")
    groups = []
    for label, side in (("OLD", sides[0]), ("NEW", sides[1])):
        checked = check_documents(side.loaded, CheckSettings(limits=limits, lint=False))
        for g in checked.groups:
            if group_name is None or g.name is None or g.name == group_name:
                for f in g.findings:
                    click.echo(finding_line(f, escape=term), err=True)
        # A document that is not a group at all (a YAML syntax error, no metadata.name)
        # cannot be matched with anything: its findings are above, and its groups look absent.
        if side.unreadable:
            click.echo(f"note: {side.unreadable} document(s) in {label} could not be read as groups; their groups are missing from the diff", err=True)
        kept = [g.group for g in checked.groups if g.group is not None and (group_name is None or g.name == group_name)]
        counts = Counter(g.name for g in kept)
        for dup in sorted(n for n, c in counts.items() if c > 1):
            click.echo(f"note: {term(side.label)} holds several groups named {term(dup)}; the first is compared", err=True)
        groups.append(kept)

    # Two files with one group each are compared even when the group was renamed; in
    # folders, groups are matched by name only.
    pair_single = not (sides[0].folder or sides[1].folder)
    report = DiffReport(old=old, new=new, groups=tuple(diff_sets(groups[0], groups[1], pair_single=pair_single)))
    direction = direction.upper()
    if fmt == "json":
        text = diff_render.render_json(report)
    elif fmt == "markdown":
        text = diff_render.render_markdown(report, direction=direction)
    elif fmt == "html":
        from spine.render.svg import Graphviz

        with Graphviz(obj.workspace().settings.dot if hasattr(obj, "workspace") else "dot") as graphviz:
            drawings = graphviz.draw_all(diff_render.html_sources(report, direction=direction))
            text = diff_render.render_html(report, direction=direction, pictures=[d.result() for d in drawings])
    else:
        text = diff_render.render_text(
            report,
            escape=term,
            style=lambda line, change: colour(line, _COLOURS[change.name], enabled=color) if change.name in _COLOURS else line,
        )
    if output:
        write_output(output, text)
        click.echo(f"wrote {term(output)}", err=True)
    else:
        click.echo(text, nl=False, color=color or None)  # --color keeps colours in a pipe
    return (EXIT_CHANGED if report.changed else EXIT_OK) if exit_code else EXIT_OK


__all__ = ["diff_cmd"]
