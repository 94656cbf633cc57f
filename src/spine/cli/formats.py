"""CI formats of ``spine group validate``: JUnit XML, GitHub workflow commands, Markdown.

Data in, text out (no I/O): each function takes what ``validate()`` builds — ``groups``,
one dict per group document (``name``, ``file``, ``document``, ``valid``, ``steps``,
``errors``, ``warnings``), and ``findings``, the list of :class:`Finding` — and returns
a string for stdout or ``-o``.

* :func:`to_junit` — one ``<testsuite>`` per file, one ``<testcase>`` per group, a
  ``<failure>`` carrying the findings of an invalid group. Built with
  :mod:`xml.etree.ElementTree`, so every name and message is escaped; characters XML 1.0
  cannot hold at all (control characters, lone surrogates from odd file names) are
  written as ``\\uXXXX``.
* :func:`to_github` — one ``::error``/``::warning`` workflow command per finding, escaped
  by the rules of GitHub's toolkit (``%``, CR, LF in the message; also ``:`` and ``,`` in
  property values), so findings show inline on the pull request.
* :func:`to_markdown` — a summary for ``$GITHUB_STEP_SUMMARY`` or a PR comment: a verdict
  line, a table of groups, a table of findings, and each group's Mermaid graph in a
  collapsible block. Names go in code spans, messages are backslash- and entity-escaped,
  so ``|``, backticks, ``<``, ``>``, ``*``, ``_``, ``[`` … can neither break a table nor
  inject HTML; ``@`` gets a word joiner so a name cannot mention anyone.

Which findings belong to which group: ``validate()`` appends each group's findings in
group order and counts them in ``errors`` + ``warnings``, so the findings list is cut into
consecutive slices by those counts; when the counts do not add up (a caller that builds
the lists differently), findings are matched to groups by ``(file, group name)``.
"""

from __future__ import annotations

import html
import re
import xml.etree.ElementTree as ET
from collections.abc import Mapping, Sequence
from typing import Any

from spine.core.findings import Finding, Severity

__all__ = [
    "MAX_MARKDOWN_FINDINGS",
    "MAX_MERMAID_CHARS",
    "github_escape_data",
    "github_escape_property",
    "group_findings",
    "markdown_code",
    "markdown_text",
    "to_github",
    "to_junit",
    "to_markdown",
]

#: Findings listed in the markdown summary before "… and N more" (a step summary is
#: limited to 1 MiB and a PR comment to 65,536 characters).
MAX_MARKDOWN_FINDINGS = 200
#: Larger Mermaid graphs are not embedded: GitHub refuses to render them (its Mermaid
#: ``maxTextSize`` is 50,000) and they would crowd out the rest of the summary.
MAX_MERMAID_CHARS = 40_000


# -- which findings belong to which group ---------------------------------------------


def group_findings(
    groups: Sequence[Mapping[str, Any]], findings: Sequence[Finding]
) -> tuple[list[list[Finding]], list[Finding]]:
    """(the findings of each group, in order; the findings tied to no listed group)."""
    counts = [int(g.get("errors") or 0) + int(g.get("warnings") or 0) for g in groups]
    if sum(counts) == len(findings):
        out: list[list[Finding]] = []
        start = 0
        for g, n in zip(groups, counts, strict=True):
            part = list(findings[start : start + n])
            start += n
            if any(f.file not in (None, g.get("file")) for f in part):
                break  # not the layout validate() builds: match by name instead
            out.append(part)
        else:
            return out, []
    per: list[list[Finding]] = [[] for _ in groups]
    where: dict[tuple[Any, Any], int] = {}
    for k, g in enumerate(groups):
        where.setdefault((g.get("file"), g.get("name")), k)
    rest: list[Finding] = []
    for f in findings:
        k = where.get((f.file, f.group))
        if k is None:
            rest.append(f)
        else:
            per[k].append(f)
    return per, rest


def _label(g: Mapping[str, Any]) -> str:
    if g.get("name"):
        return str(g["name"])
    return f"document {int(g.get('document') or 0) + 1} (not loaded)"


def _line(f: Finding) -> str:
    """The finding as ``spine group validate`` prints it: ``FILE:LINE:COL: SEVERITY CODE [STEP]: MESSAGE``."""
    step = f" [{f.step}]" if f.step else ""
    return f"{f.location}: {f.severity.value} {f.code}{step}: {f.message}"


# -- JUnit XML ------------------------------------------------------------------------

_XML_BAD = re.compile("[^\t\n\r\u0020-\ud7ff\ue000-\ufffd\U00010000-\U0010ffff]")


def _xml(text: object) -> str:
    """``text`` with the characters XML 1.0 cannot represent written as ``\\uXXXX``."""
    s = str(text)
    return _XML_BAD.sub(lambda m: f"\\u{ord(m.group()):04x}", s)


def to_junit(groups: Sequence[Mapping[str, Any]], findings: Sequence[Finding], *, strict: bool = False) -> str:
    """JUnit XML: a ``<testsuite>`` per file, a ``<testcase>`` per group.

    A group with errors — or, when ``strict``, with warnings — has a ``<failure>`` whose
    ``message`` counts the problems and whose text lists every finding with its
    location. Warnings of a passing group go to the case's ``<system-out>``. Findings
    tied to no group (rare) form a last suite named ``spine``.
    """
    per, rest = group_findings(groups, findings)
    root = ET.Element("testsuites", name="spine group validate")
    suites: dict[str, ET.Element] = {}
    totals = {"tests": 0, "failures": 0}
    stats: dict[str, dict[str, int]] = {}

    def suite(name: str) -> ET.Element:
        el = suites.get(name)
        if el is None:
            el = suites[name] = ET.SubElement(root, "testsuite", name=_xml(name))
            stats[name] = {"tests": 0, "failures": 0}
        return el

    def case(suite_name: str, case_name: str, file: str | None, found: Sequence[Finding], failed: bool) -> None:
        el = ET.SubElement(suite(suite_name), "testcase", name=_xml(case_name), classname=_xml(suite_name))
        if file:
            el.set("file", _xml(file))
        stats[suite_name]["tests"] += 1
        totals["tests"] += 1
        errors = [f for f in found if f.severity is Severity.ERROR]
        warnings = [f for f in found if f.severity is Severity.WARNING]
        if failed:
            stats[suite_name]["failures"] += 1
            totals["failures"] += 1
            shown = errors + (warnings if strict else [])
            bits = [f"{len(errors)} error(s)"]
            if warnings:
                bits.append(f"{len(warnings)} warning(s)" + (" (strict)" if strict else ""))
            codes = ", ".join(dict.fromkeys(f.code for f in shown))
            failure = ET.SubElement(
                el,
                "failure",
                message=_xml(", ".join(bits) + (f": {codes}" if codes else "")),
                type=_xml(shown[0].code if shown else "invalid-group"),
            )
            failure.text = _xml("\n".join(_line(f) for f in shown) or "the group is invalid")
            if warnings and not strict:
                ET.SubElement(el, "system-out").text = _xml("\n".join(_line(f) for f in warnings))
        elif warnings:
            ET.SubElement(el, "system-out").text = _xml("\n".join(_line(f) for f in warnings))

    for g, found in zip(groups, per, strict=True):
        file = str(g.get("file") or "<python>")
        failed = not g.get("valid", True) or any(f.severity is Severity.ERROR for f in found)
        failed = failed or (strict and any(f.severity is Severity.WARNING for f in found))
        case(file, _label(g), g.get("file"), found, failed)
    if rest:
        errors = any(f.severity is Severity.ERROR for f in rest)
        case("spine", "findings outside any group", None, rest, errors or (strict and bool(rest)))

    for name, el in suites.items():
        el.set("tests", str(stats[name]["tests"]))
        el.set("failures", str(stats[name]["failures"]))
        el.set("errors", "0")
        el.set("skipped", "0")
        el.set("time", "0")
    root.set("tests", str(totals["tests"]))
    root.set("failures", str(totals["failures"]))
    root.set("errors", "0")
    root.set("skipped", "0")
    root.set("time", "0")
    ET.indent(root)
    return '<?xml version="1.0" encoding="UTF-8"?>\n' + ET.tostring(root, encoding="unicode") + "\n"


# -- GitHub workflow commands ---------------------------------------------------------


def github_escape_data(text: object) -> str:
    """A workflow command's message: ``%``, CR and LF escaped (as @actions/core does)."""
    return str(text).replace("%", "%25").replace("\r", "%0D").replace("\n", "%0A")


def github_escape_property(text: object) -> str:
    """A workflow command's property value: the message escapes plus ``:`` and ``,``."""
    return github_escape_data(text).replace(":", "%3A").replace(",", "%2C")


def to_github(findings: Sequence[Finding], *, strict: bool = False, root: str | None = None) -> str:
    """One ``::error``/``::warning`` workflow command per finding (empty text for none).

    ``file``, ``line`` and ``col`` are given only when known; ``title`` is the finding's
    code. With ``strict`` warnings are written as ``::error`` (they fail the job). With
    ``root``, absolute file paths under it are made relative (GitHub wants paths from the
    repository root; pass ``$GITHUB_WORKSPACE``).
    """
    out = []
    for f in findings:
        level = "error" if f.severity is Severity.ERROR or strict else "warning"
        props = []
        if f.file:
            props.append(f"file={github_escape_property(_relative(f.file, root))}")
            if f.line is not None:
                props.append(f"line={f.line}")
                if f.column is not None:
                    props.append(f"col={f.column}")
        props.append(f"title={github_escape_property(f.code)}")
        who = ""
        if f.group:
            who = f"[{f.group}" + (f" / {f.step}" if f.step else "") + "] "
        out.append(f"::{level} {','.join(props)}::{github_escape_data(who + f.message)}")
    return "".join(line + "\n" for line in out)


def _relative(file: str, root: str | None) -> str:
    if not root:
        return file
    from pathlib import PurePath

    try:
        return PurePath(file).relative_to(root).as_posix()
    except ValueError:  # not under root: keep it as it is
        return file


# -- Markdown -------------------------------------------------------------------------

#: Inline markup a table cell could start: emphasis, code, links, images, strikethrough,
#: math, escapes. (Block markup such as ``#`` or ``-`` cannot start inside a cell.)
_MD_PUNCT = frozenset("\\`*_{}[]()!~$")
_CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f-\x9f\u200b-\u200f\u202a-\u202e\u2066-\u2069\ud800-\udfff]")


def _visible(text: object) -> str:
    """Control, bidi and zero-width characters shown as ``\\uXXXX``; newlines as spaces."""
    s = str(text).replace("\r\n", " ").replace("\n", " ").replace("\r", " ")
    return _CONTROL.sub(lambda m: f"\\u{ord(m.group()):04x}", s)


def markdown_text(text: object) -> str:
    """Plain text for a markdown table cell: nothing in it is markup, HTML or a mention."""
    out = []
    for ch in _visible(text):
        if ch == "&":
            out.append("&amp;")
        elif ch == "<":
            out.append("&lt;")
        elif ch == ">":
            out.append("&gt;")
        elif ch == "|":
            out.append("&#124;")  # an entity never splits a GFM table row
        elif ch == "@":
            out.append("@\u2060")  # a word joiner: "@name" can never mention anyone
        elif ch in _MD_PUNCT:
            out.append("\\" + ch)
        else:
            out.append(ch)
    return "".join(out)


def markdown_code(text: object) -> str:
    """A code span for a table cell, whatever backticks or pipes ``text`` holds."""
    # GFM splits a row into cells before it parses code spans, and a "|" right after a
    # backslash never splits (cmark-gfm's scanner takes the longest match, then drops
    # that one backslash), so "\|" is a pipe inside the code span.
    s = _visible(text).replace("|", "\\|")
    longest = max((len(run) for run in re.findall(r"`+", s)), default=0)
    fence = "`" * (longest + 1)
    pad = " " if s.startswith("`") or s.endswith("`") or (s.startswith(" ") and s.endswith(" ") and s.strip()) else ""
    return f"{fence}{pad}{s}{pad}{fence}" if s else "` `"


def _row(cells: Sequence[str]) -> str:
    return "| " + " | ".join(cells) + " |"


def to_markdown(
    groups: Sequence[Mapping[str, Any]],
    findings: Sequence[Finding],
    mermaid_by_group: Mapping[Any, str] | None = None,
    *,
    strict: bool = False,
    title: str = "spine group validate",
    max_findings: int = MAX_MARKDOWN_FINDINGS,
) -> str:
    """A markdown summary: verdict, groups table, findings table, a Mermaid graph per group.

    ``mermaid_by_group`` maps a group to its Mermaid text (``to_mermaid(build_graph_view(g))``),
    keyed by ``(file, document)`` or by group name; groups without an entry get no graph.
    """
    mermaid_by_group = mermaid_by_group or {}
    per, rest = group_findings(groups, findings)
    valid = all(g.get("valid") for g in groups) and not any(f.severity is Severity.ERROR for f in rest)
    n_err = sum(f.severity is Severity.ERROR for f in findings)
    n_warn = len(findings) - n_err
    n_bad = sum(not g.get("valid") for g in groups)
    mark = "✅" if valid else "❌"
    verdict = "valid" if valid else "INVALID"
    lines = [
        f"## {mark} {markdown_text(title)}: {verdict}",
        "",
        f"**{verdict}**: {len(groups)} group(s), {n_bad} invalid, {n_err} error(s), {n_warn} warning(s)"
        + (" — strict: warnings fail" if strict else ""),
        "",
    ]
    if groups:
        lines += [
            _row(["Group", "File", "Verdict", "Steps", "Errors", "Warnings"]),
            "| --- | --- | --- | ---: | ---: | ---: |",
        ]
        for g in groups:
            lines.append(
                _row(
                    [
                        markdown_code(_label(g)),
                        markdown_code(g.get("file") or "<python>"),
                        "✅ valid" if g.get("valid") else "❌ invalid",
                        str(g["steps"]) if g.get("steps") is not None else "—",
                        str(int(g.get("errors") or 0)),
                        str(int(g.get("warnings") or 0)),
                    ]
                )
            )
        lines.append("")

    ordered = [(g, f) for g, found in zip(groups, per, strict=True) for f in found] + [(None, f) for f in rest]
    if ordered:
        lines += [
            f"### Findings ({len(ordered)})",
            "",
            _row(["", "Code", "Where", "Group", "Step", "Message"]),
            "| --- | --- | --- | --- | --- | --- |",
        ]
        for g, f in ordered[:max_findings]:
            icon = "❌" if f.severity is Severity.ERROR or strict else "⚠️"
            group_name = f.group or (g.get("name") if g is not None else None)
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

    graphs = []
    for g in groups:
        text = mermaid_by_group.get((g.get("file"), g.get("document")))
        if text is None and g.get("name") is not None:
            text = mermaid_by_group.get(g["name"])
        if text is None:
            continue
        summary = f"{'✅' if g.get('valid') else '❌'} {html.escape(_visible(_label(g)))} — {g.get('steps') or 0} step(s)"
        graphs += [f"<details><summary>{summary}</summary>", ""]
        if len(text) > MAX_MERMAID_CHARS:
            graphs.append(
                f"The graph is too large for Mermaid on GitHub ({len(text):,} characters); "
                "see `spine group report` for the HTML report."
            )
        else:
            longest = max((len(run) for run in re.findall(r"`{3,}", text)), default=2)
            fence = "`" * (longest + 1)
            graphs += [f"{fence}mermaid", text.rstrip("\n"), fence]
        graphs += ["", "</details>", ""]
    if graphs:
        lines += ["### Graphs", "", *graphs]
    return "\n".join(lines).rstrip("\n") + "\n"
