"""A :class:`~spine.check.ValidationReport` as JUnit XML, for CI test-report viewers.

One ``<testsuite>`` per file, one ``<testcase>`` per group document, a ``<failure>``
carrying the findings of an invalid group; warnings of a passing group go to the case's
``<system-out>``. Findings tied to no group form a last suite named ``spine``. Built with
:mod:`xml.etree.ElementTree`, so every name and message is escaped; characters XML 1.0
cannot hold are written as ``\\uXXXX`` (:func:`spine.core.escape.xml_text`).
"""

from __future__ import annotations

import xml.etree.ElementTree as ET
from collections.abc import Sequence

from spine.check.report import ValidationReport
from spine.core.escape import xml_text
from spine.core.findings import Finding, Severity
from spine.render.text import finding_line

__all__ = ["to_junit"]


def _line(f: Finding) -> str:
    return finding_line(f, escape=str)


def to_junit(report: ValidationReport, *, title: str = "spine group validate") -> str:
    """JUnit XML for ``report``: a failing case per invalid group (with strict, warnings
    fail too and are listed in the failure)."""
    strict = report.strict
    root = ET.Element("testsuites", name=xml_text(title))
    suites: dict[str, ET.Element] = {}
    stats: dict[str, dict[str, int]] = {}
    totals = {"tests": 0, "failures": 0}

    def suite(name: str) -> ET.Element:
        el = suites.get(name)
        if el is None:
            el = suites[name] = ET.SubElement(root, "testsuite", name=xml_text(name))
            stats[name] = {"tests": 0, "failures": 0}
        return el

    def case(suite_name: str, case_name: str, file: str | None, found: Sequence[Finding], failed: bool) -> None:
        el = ET.SubElement(suite(suite_name), "testcase", name=xml_text(case_name), classname=xml_text(suite_name))
        if file:
            el.set("file", xml_text(file))
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
                message=xml_text(", ".join(bits) + (f": {codes}" if codes else "")),
                type=xml_text(shown[0].code if shown else "invalid-group"),
            )
            failure.text = xml_text("\n".join(_line(f) for f in shown) or "the group is invalid")
            if warnings and not strict:
                ET.SubElement(el, "system-out").text = xml_text("\n".join(_line(f) for f in warnings))
        elif warnings:
            ET.SubElement(el, "system-out").text = xml_text("\n".join(_line(f) for f in warnings))

    for fc in report.files:
        for g in fc.groups:
            name = str(fc.file or "<python>")
            case(name, g.label, fc.file, g.findings, not g.valid)
    if report.findings:
        rest = report.findings
        failed = any(f.severity is Severity.ERROR for f in rest) or strict
        case("spine", "findings outside any group", None, rest, failed)

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
