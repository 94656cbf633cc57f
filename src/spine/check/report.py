"""The result of a check, as typed, frozen data: a report of files, each of groups.

A :class:`ValidationReport` holds one :class:`FileCheck` per file (in the order the
files were given), each holding one :class:`GroupCheck` per document. A group check
carries its *own* findings, the run params the group reads, the run params applied to
it, and its plan — or, in :attr:`GroupCheck.plan_status`, why there is none. Findings
tied to no group (a ``--param`` nothing reads) are the report's own.

Every renderer (text, JSON, JUnit, GitHub, Markdown, the HTML report) and every command
reads this; none re-derives which finding belongs to which group.
"""

from __future__ import annotations

import enum
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from spine.check.run_params import RunParamUse
from spine.core.findings import Finding, Severity

if TYPE_CHECKING:
    from spine.framework.registry import PipelineRegistry
    from spine.orchestration.models import PipelineGroup
    from spine.orchestration.planner import ExecutionPlan
    from spine.yamlio.reader import Limits

__all__ = ["CheckSettings", "FileCheck", "GroupCheck", "PlanStatus", "ValidationReport"]


class PlanStatus(enum.Enum):
    """Whether a group check has a plan, and if not, why."""

    #: The plan was resolved (:attr:`GroupCheck.plan` is set).
    RESOLVED = "resolved"
    #: No plan was asked for (``validate``, ``fuzz``, ``diff``).
    NOT_REQUESTED = "not-requested"
    #: The document could not be read as a group.
    NOT_LOADED = "not-loaded"
    #: The group has errors.
    INVALID = "invalid"
    #: Run params the group needs were not given (``missing-run-param`` findings).
    NEEDS_RUN_PARAMS = "needs-run-params"
    #: Resolving failed with the run params given (a template failed, a value does not
    #: fit a pipeline's param): the findings say why.
    FAILED = "failed"


@dataclass(frozen=True, slots=True)
class CheckSettings:
    """What a check does. The defaults are ``spine group validate``'s, without pipelines."""

    #: Registered pipelines to check names and params against (``None``: not checked).
    registry: PipelineRegistry | None = None
    #: Limits for reading files (``None``: the defaults).
    limits: Limits | None = None
    #: Warnings make a group invalid.
    strict: bool = False
    #: Warning codes to drop (see :func:`spine.check.ignore_codes`); errors are never dropped.
    ignore: frozenset[str] = frozenset()
    #: Run the lint rules (warnings); ``diff`` and ``plan`` do not.
    lint: bool = True
    #: Resolve each valid group's plan with these run params (``None``: no plans).
    run_params: Mapping[str, Any] | None = field(default=None, hash=False)
    #: A missing run param is an error (a plan is required: ``plan``, ``run``) instead
    #: of a warning (a report can show a group without its plan).
    require_run_params: bool = False
    #: The batch id plans are resolved with (``None``: a new one per plan).
    batch_id: str | None = None
    #: Groups with no file (registered in Python), checked after the files.
    extra_groups: tuple[PipelineGroup, ...] = ()
    #: Where steps that call a group find it when it is not among the groups checked: a
    #: ``GroupRegistry``, a mapping, or a function returning one (``None``: the default registry).
    groups: Any = field(default=None, hash=False, compare=False)


@dataclass(frozen=True, slots=True)
class GroupCheck:
    """One document of one file: the group (when it could be built) and what was found."""

    file: str | None
    #: 0-based index of the document in its file.
    document: int
    #: The group's name; for a document that is not a group, the name it declares, if any.
    name: str | None
    group: PipelineGroup | None
    #: This group's findings, errors and warnings, in file order.
    findings: tuple[Finding, ...] = ()
    #: The run params the group reads (``None`` when it could not be built).
    run_params: RunParamUse | None = None
    #: The run params applied to this group: those it reads (see ``ValidationReport``).
    params: Mapping[str, Any] = field(default_factory=dict, hash=False)
    plan: ExecutionPlan | None = None
    plan_status: PlanStatus = PlanStatus.NOT_REQUESTED
    #: Why there is no plan, in words (``None`` when resolved or not requested).
    plan_note: str | None = None
    #: Warnings were asked to fail the group.
    strict: bool = False
    #: How many warnings were dropped by ``ignore``.
    ignored: int = 0

    @property
    def errors(self) -> int:
        return sum(f.severity is Severity.ERROR for f in self.findings)

    @property
    def warnings(self) -> int:
        return sum(f.severity is Severity.WARNING for f in self.findings)

    @property
    def valid(self) -> bool:
        """Built, without errors, and — when strict — without warnings."""
        if self.group is None or self.errors:
            return False
        return not (self.strict and self.warnings)

    @property
    def steps(self) -> int | None:
        return len(self.group.steps) if self.group is not None else None

    @property
    def label(self) -> str:
        """The group's name, or ``document N (not loaded)`` (1-based) for a nameless one."""
        return self.name if self.name else f"document {self.document + 1} (not loaded)"

    def to_dict(self) -> dict[str, Any]:
        """The group's entry in ``spine group validate --format json`` (findings apart)."""
        return {
            "name": self.name,
            "file": self.file,
            "document": self.document,
            "valid": self.valid,
            "steps": self.steps,
            "errors": self.errors,
            "warnings": self.warnings,
            "ignored": self.ignored,
            "run_params": [p.to_dict() for p in self.run_params.params] if self.run_params is not None else [],
            "reads_any_run_param": bool(self.run_params is not None and self.run_params.reads_any),
            "plan": self.plan_status.value,
            "plan_note": self.plan_note,
        }


@dataclass(frozen=True, slots=True)
class FileCheck:
    """One file (``None``: groups registered in Python) and its documents."""

    file: str | None
    groups: tuple[GroupCheck, ...]

    @property
    def valid(self) -> bool:
        return all(g.valid for g in self.groups)


@dataclass(frozen=True, slots=True)
class ValidationReport:
    """Everything one check found: files of groups, and findings tied to no group."""

    files: tuple[FileCheck, ...]
    #: Findings tied to no group (``unused-run-param``).
    findings: tuple[Finding, ...] = ()
    strict: bool = False
    #: Pipelines were registered, so names and params were checked.
    pipelines_checked: bool = False
    #: The run params given (``None``: no plans were asked for).
    run_params: Mapping[str, Any] | None = field(default=None, hash=False)

    @property
    def groups(self) -> tuple[GroupCheck, ...]:
        """Every group check, file after file."""
        return tuple(g for f in self.files for g in f.groups)

    def all_findings(self) -> Iterator[Finding]:
        """Every finding: each group's in order, then the report's own."""
        for g in self.groups:
            yield from g.findings
        yield from self.findings

    @property
    def errors(self) -> int:
        return sum(f.severity is Severity.ERROR for f in self.all_findings())

    @property
    def warnings(self) -> int:
        return sum(f.severity is Severity.WARNING for f in self.all_findings())

    @property
    def invalid(self) -> int:
        """How many groups are invalid."""
        return sum(not g.valid for g in self.groups)

    @property
    def valid(self) -> bool:
        """Every group valid, and no error (with strict: no warning) outside the groups."""
        if not all(g.valid for g in self.groups):
            return False
        own = [f for f in self.findings if f.severity is Severity.ERROR or self.strict]
        return not own

    def to_dict(self) -> dict[str, Any]:
        """``spine group validate --format json``: the verdict, the groups, every finding."""
        return {
            "valid": self.valid,
            "strict": self.strict,
            "pipelines_checked": self.pipelines_checked,
            "groups": [g.to_dict() for g in self.groups],
            "findings": [f.to_dict() for f in self.all_findings()],
        }
