"""A :class:`~spine.check.ValidationReport` as a Markdown summary.

For ``$GITHUB_STEP_SUMMARY`` or a pull-request comment: a verdict line, a table of
groups, a table of findings, and each group's Mermaid graph in a collapsible block.
Names go in code spans and messages through :func:`spine.core.escape.markdown_text`, so
``|``, backticks, ``<``, ``*``, ``[`` … can neither break a table nor inject markup, and
``@name`` or ``#123`` in them mention no one and link no issue.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence

from spine.check.report import GroupCheck, ValidationReport
from spine.core.escape import markdown_code, markdown_html, markdown_text
from spine.core.findings import Finding, Severity

__all__ = ["MAX_MARKDOWN_FINDINGS", "MAX_MERMAID_CHARS", "to_markdown"]

#: Findings listed before "… and N more" (a step summary is limited to 1 MiB and a PR
#: comment to 65,536 characters).
MAX_MARKDOWN_FINDINGS = 200
#: Larger Mermaid graphs are not embedded: GitHub refuses to render them (its Mermaid
#: ``maxTextSize`` is 50,000) and they would crowd out the rest of the summary.
MAX_MERMAID_CHARS = 40_000


def _row(cells: Sequence[str]) -> str:
    return "| " + " | ".join(cells) + " |"


def _mermaid(g: GroupCheck) -> str | None:
    from spine.render.mermaid import to_mermaid
    from spine.render.view import build_graph_view

    return to_mermaid(build_graph_view(g.group)) if g.group is not None else None


def to_markdown(
    report: ValidationReport,
    *,
    title: str = "spine group validate",
    max_findings: int = MAX_MARKDOWN_FINDINGS,
    graphs: bool = True,
    mermaid: Callable[[GroupCheck], str | None] = _mermaid,
) -> str:
    """The summary of ``report``; ``graphs=False`` leaves the Mermaid graphs out, and
    ``mermaid`` draws one group (by default as ``spine group graph --format mermaid``)."""
    strict = report.strict
    groups = report.groups
    mark = "✅" if report.valid else "❌"
    verdict = "valid" if report.valid else "INVALID"
    lines = [
        f"## {mark} {markdown_text(title)}: {verdict}",
        "",
        f"**{verdict}**: {len(groups)} group(s), {report.invalid} invalid, {report.errors} error(s), {report.warnings} warning(s)"
        + (" — strict: warnings fail" if strict else ""),
        "",
    ]
    if groups:
        lines += [
            _row(["Group", "File", "Verdict", "Steps", "Errors", "Warnings", "Run params"]),
            "| --- | --- | --- | ---: | ---: | ---: | --- |",
        ]
        for g in groups:
            # as `validate` prints them: required ones, and those a template reads with a fallback
            params = [p for p in g.run_params.params if p.required or "template" in p.via] if g.run_params is not None else []
            lines.append(
                _row(
                    [
                        markdown_code(g.label),
                        markdown_code(g.file or "<python>"),
                        "✅ valid" if g.valid else "❌ invalid",
                        str(g.steps) if g.steps is not None else "—",
                        str(g.errors),
                        str(g.warnings),
                        " ".join(markdown_code(p.name) + ("" if p.required else " (optional)") for p in params),
                    ]
                )
            )
        lines.append("")

    ordered: list[tuple[GroupCheck | None, Finding]] = [(g, f) for g in groups for f in g.findings]
    ordered += [(None, f) for f in report.findings]
    if ordered:
        lines += [
            f"### Findings ({len(ordered)})",
            "",
            _row(["", "Code", "Where", "Group", "Step", "Message"]),
            "| --- | --- | --- | --- | --- | --- |",
        ]
        for owner, f in ordered[:max_findings]:
            icon = "❌" if f.severity is Severity.ERROR or strict else "⚠️"
            group_name = f.group or (owner.name if owner is not None else None)
            lines.append(
                _row(
                    [
                        f"{icon} {f.severity.value}",
                        markdown_code(f.code),
                        markdown_code(f.location),
                        markdown_code(group_name) if group_name else "",
                        markdown_code(f.step) if f.step else "",
                        markdown_text(f.message),
                    ]
                )
            )
        if len(ordered) > max_findings:
            lines += ["", f"… and {len(ordered) - max_findings} more finding(s): run `spine group validate` for all."]
        lines.append("")

    blocks: list[str] = []
    for g in groups if graphs else ():
        text = mermaid(g)
        if text is None:
            continue
        summary = f"{'✅' if g.valid else '❌'} {markdown_html(g.label)} — {g.steps or 0} step(s)"
        blocks += [f"<details><summary>{summary}</summary>", ""]
        if len(text) > MAX_MERMAID_CHARS:
            blocks.append(
                f"The graph is too large for Mermaid on GitHub ({len(text):,} characters); "
                "see `spine group report` for the HTML report."
            )
        else:
            longest = max((len(run) for run in re.findall(r"`{3,}", text)), default=2)
            fence = "`" * (longest + 1)
            blocks += [f"{fence}mermaid", text.rstrip("\n"), fence]
        blocks += ["", "</details>", ""]
    if blocks:
        lines += ["### Graphs", "", *blocks]
    return "\n".join(lines).rstrip("\n") + "\n"
