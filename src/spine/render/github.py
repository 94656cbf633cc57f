"""A :class:`~spine.check.ValidationReport` as GitHub workflow commands (PR annotations).

One ``::error``/``::warning`` command per finding, escaped by the rules of GitHub's
toolkit (:func:`spine.core.escape.github_data`, :func:`~spine.core.escape.github_property`),
so a name or message can never end the command early or start another one.
"""

from __future__ import annotations

from collections.abc import Iterable

from spine.check.report import ValidationReport
from spine.core.escape import github_data, github_property
from spine.core.findings import Finding, Severity

__all__ = ["github_commands", "to_github"]


def to_github(report: ValidationReport, *, root: str | None = None) -> str:
    """One workflow command per finding of ``report`` (empty text for none); with strict,
    warnings are ``::error`` (they fail the job). ``root`` (``$GITHUB_WORKSPACE``) makes
    absolute file paths under it relative, as GitHub matches them."""
    return github_commands(report.all_findings(), strict=report.strict, root=root)


def github_commands(findings: Iterable[Finding], *, strict: bool = False, root: str | None = None) -> str:
    """One workflow command per finding: ``file``, ``line`` and ``col`` only when known,
    ``title`` the finding's code, the message prefixed with ``[group / step]``."""
    out = []
    for f in findings:
        level = "error" if f.severity is Severity.ERROR or strict else "warning"
        props = []
        if f.file:
            props.append(f"file={github_property(_relative(f.file, root))}")
            if f.line is not None:
                props.append(f"line={f.line}")
                if f.column is not None:
                    props.append(f"col={f.column}")
        props.append(f"title={github_property(f.code)}")
        who = ""
        if f.group:
            who = f"[{f.group}" + (f" / {f.step}" if f.step else "") + "] "
        out.append(f"::{level} {','.join(props)}::{github_data(who + f.message)}")
    return "".join(line + "\n" for line in out)


def _relative(file: str, root: str | None) -> str:
    if not root:
        return file
    from pathlib import PurePath

    try:
        return PurePath(file).relative_to(root).as_posix()
    except ValueError:  # not under root: keep it as it is
        return file
