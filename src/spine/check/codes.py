"""Every finding code spine reports, by severity, and which of them can be ignored.

The codes come from the one table, :class:`spine.core.findings.Code`.
``docs/error-codes.md`` documents each code (``tests/test_check_codes.py`` keeps this list
and that page in step); the lint codes have their own page, ``docs/lint.md``.

Only warnings can be ignored (``--ignore CODE``, ``[tool.spine] lint.ignore``): an error
means the group cannot be planned or run, and silencing it would only move the failure
to run time.
"""

from __future__ import annotations

from collections.abc import Iterable

from spine.check.errors import IgnoreCodeError
from spine.core.findings import Code, Severity, Stage

#: Codes that are always errors: the group cannot be planned or run.
ERROR_CODES: tuple[str, ...] = tuple(sorted(c.value for c in Code if c.severity is Severity.ERROR))

#: The lint rules' codes, in the order of ``docs/lint.md`` (``spine.lint.LINT_CODES``; read
#: from the one table, :class:`spine.core.findings.Code`, so importing :mod:`spine.check`
#: stays light; a test keeps the two equal).
LINT_CODES: tuple[str, ...] = tuple(c.value for c in Code if c.stage is Stage.LINT)

#: Codes that are warnings (``missing-run-param`` is an error where a plan is required:
#: ``spine group plan``, and later ``run``; ignoring it silences only the warning).
WARNING_CODES: tuple[str, ...] = (
    *LINT_CODES,
    *sorted(c.value for c in Code if c.severity is Severity.WARNING and c.stage is not Stage.LINT),
)

#: Codes ``--ignore`` accepts.
IGNORABLE_CODES = WARNING_CODES


def ignore_codes(codes: Iterable[str], *, where: str = "--ignore") -> frozenset[str]:
    """``codes`` checked: each must be a warning code; raises :class:`IgnoreCodeError`
    naming ``where`` (the flag or the configuration file) and what to change."""
    from spine.core.suggest import did_you_mean

    out = set()
    for raw in codes:
        code = raw.strip()
        if code in IGNORABLE_CODES:
            out.add(code)
        elif code in ERROR_CODES:
            raise IgnoreCodeError(
                code,
                f"{where}: {code!r} is an error code and cannot be ignored: an error means the group "
                f"cannot be planned or run, so fix it instead; only warnings can be ignored "
                f"({', '.join(IGNORABLE_CODES)})",
            )
        else:
            raise IgnoreCodeError(
                code,
                f"{where}: unknown code {code!r}{did_you_mean(code, IGNORABLE_CODES + ERROR_CODES)} "
                f"(codes that can be ignored: {', '.join(IGNORABLE_CODES)})",
            )
    return frozenset(out)
