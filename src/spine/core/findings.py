"""A finding: one problem in one group, located in its source file.

Findings are data. The loader and the planner collect *every* finding before raising, so
a user fixes a broken file in one pass instead of one error at a time. Each finding has a
stable ``code`` (documented in ``docs/error-codes.md``) that tools can filter on.
"""

from __future__ import annotations

import enum
from dataclasses import asdict, dataclass, replace
from typing import Any


class Severity(enum.Enum):
    """How bad a finding is."""

    #: The group cannot be planned or run.
    ERROR = "error"
    #: The group works, but probably not as its author meant.
    WARNING = "warning"


@dataclass(frozen=True, slots=True)
class Finding:
    """One problem, with where it is and what to change."""

    code: str
    message: str
    severity: Severity = Severity.ERROR
    file: str | None = None
    #: 1-based line in ``file``; ``None`` when the group did not come from a file.
    line: int | None = None
    #: 1-based column in ``file``.
    column: int | None = None
    group: str | None = None
    step: str | None = None

    @property
    def location(self) -> str:
        """``file:line:column`` as far as it is known (``<python>`` for DSL groups)."""
        where = self.file or "<python>"
        if self.line is not None:
            where += f":{self.line}"
            if self.column is not None:
                where += f":{self.column}"
        return where

    def with_context(self, **changes: Any) -> Finding:
        """A copy with ``changes`` applied where the finding does not already say."""
        fill = {k: v for k, v in changes.items() if getattr(self, k) is None}
        return replace(self, **fill) if fill else self

    def to_dict(self) -> dict[str, Any]:
        data = asdict(self)
        data["severity"] = self.severity.value
        return data

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Finding:
        return cls(**{**data, "severity": Severity(data.get("severity", "error"))})

    def __str__(self) -> str:
        who = ""
        if self.group:
            who = f" [{self.group}" + (f" / {self.step}" if self.step else "") + "]"
        return f"{self.location}: {self.severity.value} {self.code}{who}: {self.message}"
