"""Findings and check reports as text for people: the one finding line, the validate report.

Data in, text out; nothing here prints. Every user string goes through an ``escape``
function (by default :func:`spine.core.escape.terminal`), and colour through an optional
``paint(text, colour)`` the caller passes (the CLI decides whether colour is on).
"""

from __future__ import annotations

from collections.abc import Callable

from spine.check.report import ValidationReport
from spine.check.run_params import RunParamUse
from spine.core.escape import terminal
from spine.core.findings import Finding, Severity

__all__ = ["NO_PIPELINES_NOTE", "Paint", "finding_line", "run_params_line", "to_text"]

#: ``paint(text, colour)``: ``colour`` is ``"red"``, ``"yellow"``, ``"green"`` or ``"cyan"``.
Paint = Callable[[str, str], str]

NO_PIPELINES_NOTE = (
    "pipelines not checked: none are registered (list modules that register them in "
    "[tool.spine] pipelines, or SPINE_PIPELINES)"
)


def _plain(text: str, _colour: str) -> str:
    return text


def finding_line(
    f: Finding,
    *,
    escape: Callable[[str], str] = terminal,
    paint: Paint | None = None,
    severity: bool = True,
) -> str:
    """``FILE:LINE:COL: SEVERITY CODE [STEP]: MESSAGE`` — the one form of a finding on a line.

    ``severity=False`` leaves the severity out (where every line has the same one).
    """
    paint = paint or _plain
    sev = ""
    if severity:
        sev = paint(f.severity.value, "red" if f.severity is Severity.ERROR else "yellow") + " "
    step = f" [{escape(f.step)}]" if f.step else ""
    return f"{escape(f.location)}: {sev}{f.code}{step}: {escape(f.message)}"


def run_params_line(use: RunParamUse | None, escape: Callable[[str], str] = terminal) -> str | None:
    """``run params: tier, week_ending (optional: limit)`` for a group that needs some.

    Required run params first; *optional* lists those a template reads with a fallback
    (``params.limit | default(10)``). Params a pipeline declares with a default, which a
    run param could also override, are left out here (they are in the JSON): listing every
    one of them would bury the ones the group needs. ``None`` when there is nothing to say.
    """
    if use is None:
        return None
    params = use.params
    required = [escape(p.name) for p in params if p.required]
    optional = [escape(p.name) for p in params if not p.required and "template" in p.via]
    if not required and not optional and not use.reads_any:
        return None
    text = ", ".join(required) if required else "none required"
    if optional:
        text += f" (optional: {', '.join(optional)})"
    if use.reads_any:
        text += "; a template reads params as a whole"
    return f"run params: {text}"


def to_text(report: ValidationReport, *, paint: Paint | None = None, escape: Callable[[str], str] = terminal) -> str:
    """The report of ``spine group validate``: each file, each group with ✓/✗, its run
    params and findings, the findings tied to no group, a verdict line."""
    paint = paint or _plain
    lines: list[str] = []
    for fc in report.files:
        lines.append(escape(fc.file or "<registered in Python>"))
        for g in fc.groups:
            mark = paint("✓", "green") if g.valid else paint("✗", "red")
            label = escape(g.name or "(unnamed document)")
            steps = f"{g.steps} steps" if g.steps is not None else "not loaded"
            ignored = f", {g.ignored} ignored" if g.ignored else ""
            lines.append(f"  {mark} {label}  ({steps}, {g.errors} errors, {g.warnings} warnings{ignored})")
            params = run_params_line(g.run_params, escape) if g.group is not None and not g.errors else None
            if params:
                lines.append(f"      {params}")
            lines.extend("      " + finding_line(f, escape=escape, paint=paint) for f in g.findings)
    if report.findings:
        lines.append("")
        lines.extend(finding_line(f, escape=escape, paint=paint) for f in report.findings)
    verdict = paint("valid", "green") if report.valid else paint("INVALID", "red")
    lines.append("")
    lines.append(
        f"{verdict}: {len(report.groups)} group(s), {report.invalid} invalid, "
        f"{report.errors} error(s), {report.warnings} warning(s)"
    )
    if not report.pipelines_checked:
        lines.append(f"note: {NO_PIPELINES_NOTE}")
    return "\n".join(lines) + "\n"
