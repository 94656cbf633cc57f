"""A finding: one problem in one group, located in its source file.

Findings are data. The loader and the planner collect *every* finding before raising, so
a user fixes a broken file in one pass instead of one error at a time. Each finding has a
stable ``code`` (documented in ``docs/error-codes.md``) that tools can filter on.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass, replace
from typing import Any

from spine.core.jsonable import Record


class Severity(enum.Enum):
    """How bad a finding is."""

    #: The group cannot be planned or run.
    ERROR = "error"
    #: The group works, but probably not as its author meant.
    WARNING = "warning"


class Stage(enum.Enum):
    """The check that reports a code (the stages run in this order)."""

    #: Reading the YAML text: syntax, encoding, tags, aliases, limits.
    READER = "YAML reader"
    #: Files and documents: a missing, unreadable or empty file.
    LOADER = "loader"
    #: The ``spine.io/v1`` keys and types.
    FORMAT = "format"
    #: Step names and dependencies.
    GRAPH = "graph"
    #: Template syntax and names.
    TEMPLATES = "templates"
    #: Registered pipelines and their params.
    PIPELINES = "pipelines"
    #: Steps that call a group: unknown groups, cycles across groups, nesting depth.
    NESTING = "nested groups"
    #: Merging and rendering params with the run params.
    PARAMS = "params"
    #: The run params given to a check (``spine.check``), against what the groups read.
    RUN_PARAMS = "run params"
    #: Warnings about groups that work, but probably not as meant.
    LINT = "lint"
    #: Looking a group or a step up by name, and CLI-wide checks.
    LOOKUP = "lookup"


class Code(enum.StrEnum):
    """Every finding code spine reports, with the stage that reports it (``docs/error-codes.md``
    explains each). A code *is* its text: ``Code.CYCLE == "cycle"``, and a
    :class:`Finding`'s ``code`` may be either. (``group-error`` and ``plan-error``, the
    default codes of a ``GroupError`` or ``PlanResolutionError`` raised with a plain message
    by your own code, are not in the table: spine's checks never report them.)"""

    COMPLEX_KEY = "complex-key"
    DUPLICATE_KEY = "duplicate-key"
    FILE_TOO_LARGE = "file-too-large"
    INVALID_MERGE = "invalid-merge"
    INVALID_SCALAR = "invalid-scalar"
    RECURSIVE_ALIAS = "recursive-alias"
    TOO_DEEP = "too-deep"
    TOO_MANY_NODES = "too-many-nodes"
    UNDEFINED_ALIAS = "undefined-alias"
    UNSUPPORTED_TAG = "unsupported-tag"
    YAML_ENCODING = "yaml-encoding"
    YAML_SYNTAX = "yaml-syntax"

    EMPTY_FILE = "empty-file"
    FILE_NOT_FOUND = "file-not-found"
    FILE_UNREADABLE = "file-unreadable"
    NOT_ONE_GROUP = "not-one-group"
    INVALID_SPEC = "invalid-spec"
    WRONG_LOADER = "wrong-loader"

    EMPTY_GROUP = "empty-group"
    INVALID_NAME = "invalid-name"
    INVALID_STEP_NAME = "invalid-step-name"
    INVALID_VALUE = "invalid-value"
    MISSING_KEY = "missing-key"
    NOT_A_MAPPING = "not-a-mapping"
    UNKNOWN_KEY = "unknown-key"
    WRONG_API_VERSION = "wrong-api-version"
    WRONG_KIND = "wrong-kind"
    WRONG_TYPE = "wrong-type"
    INVALID_CRON = "invalid-cron"
    UNKNOWN_TIMEZONE = "unknown-timezone"
    DUPLICATE_SCHEDULE = "duplicate-schedule"
    PIPELINE_AND_GROUP = "pipeline-and-group"

    CYCLE = "cycle"
    DUPLICATE_STEP = "duplicate-step"
    MISSING_DEPENDENCY = "missing-dependency"
    SELF_DEPENDENCY = "self-dependency"

    TEMPLATE_ERROR = "template-error"
    SCHEDULE_TEMPLATE = "schedule-template"

    INVALID_PARAM = "invalid-param"
    REQUIRED_PARAM_FROM_RUN = "required-param-from-run"
    UNKNOWN_PARAM = "unknown-param"
    UNKNOWN_PIPELINE = "unknown-pipeline"

    UNKNOWN_GROUP = "unknown-group"
    GROUP_CYCLE = "group-cycle"
    NESTING_TOO_DEEP = "nesting-too-deep"
    NESTED_NAME_CLASH = "nested-name-clash"

    TEMPLATE_UNDEFINED = "template-undefined"

    MISSING_RUN_PARAM = "missing-run-param"
    UNUSED_RUN_PARAM = "unused-run-param"

    # the lint codes, in the order of docs/lint.md
    REDUNDANT_DEPENDENCY = "redundant-dependency"
    DUPLICATE_DEPENDENCY = "duplicate-dependency"
    PARALLEL_ON_CHAIN = "parallel-on-chain"
    MAX_CONCURRENCY_ABOVE_WIDTH = "max-concurrency-above-width"
    CONFUSABLE_STEP_NAMES = "confusable-step-names"
    DUPLICATE_CALL = "duplicate-call"
    UNUSED_DEFAULT = "unused-default"

    DUPLICATE_GROUP = "duplicate-group"
    GROUP_NOT_FOUND = "group-not-found"
    STEP_NOT_FOUND = "step-not-found"
    SCHEDULE_NOT_FOUND = "schedule-not-found"

    @property
    def stage(self) -> Stage:
        """The check that reports this code."""
        return _STAGES[self]

    @property
    def severity(self) -> Severity:
        """How bad a finding with this code is, unless a command says otherwise (``spine group
        plan`` makes ``missing-run-param`` an error: a plan needs every run param)."""
        if self.stage in (Stage.LINT, Stage.RUN_PARAMS) or self is Code.REQUIRED_PARAM_FROM_RUN:
            return Severity.WARNING
        return Severity.ERROR

    @classmethod
    def of_stage(cls, *stages: Stage) -> frozenset[Code]:
        """Every code reported by one of ``stages``."""
        return frozenset(c for c in cls if c.stage in stages)


def _stage_table() -> dict[Code, Stage]:
    C, S = Code, Stage
    groups = {
        S.READER: (C.COMPLEX_KEY, C.DUPLICATE_KEY, C.FILE_TOO_LARGE, C.INVALID_MERGE, C.INVALID_SCALAR,
                   C.RECURSIVE_ALIAS, C.TOO_DEEP, C.TOO_MANY_NODES, C.UNDEFINED_ALIAS, C.UNSUPPORTED_TAG,
                   C.YAML_ENCODING, C.YAML_SYNTAX),
        S.LOADER: (C.EMPTY_FILE, C.FILE_NOT_FOUND, C.FILE_UNREADABLE, C.NOT_ONE_GROUP, C.INVALID_SPEC, C.WRONG_LOADER),
        S.FORMAT: (C.EMPTY_GROUP, C.INVALID_NAME, C.INVALID_STEP_NAME, C.INVALID_VALUE, C.MISSING_KEY,
                   C.NOT_A_MAPPING, C.UNKNOWN_KEY, C.WRONG_API_VERSION, C.WRONG_KIND, C.WRONG_TYPE,
                   C.INVALID_CRON, C.UNKNOWN_TIMEZONE, C.DUPLICATE_SCHEDULE,
                   C.PIPELINE_AND_GROUP),
        S.GRAPH: (C.CYCLE, C.DUPLICATE_STEP, C.MISSING_DEPENDENCY, C.SELF_DEPENDENCY),
        S.TEMPLATES: (C.TEMPLATE_ERROR, C.SCHEDULE_TEMPLATE),
        S.PIPELINES: (C.INVALID_PARAM, C.REQUIRED_PARAM_FROM_RUN, C.UNKNOWN_PARAM, C.UNKNOWN_PIPELINE),
        S.NESTING: (C.UNKNOWN_GROUP, C.GROUP_CYCLE, C.NESTING_TOO_DEEP, C.NESTED_NAME_CLASH),
        S.PARAMS: (C.TEMPLATE_UNDEFINED,),
        S.RUN_PARAMS: (C.MISSING_RUN_PARAM, C.UNUSED_RUN_PARAM),
        S.LINT: (C.REDUNDANT_DEPENDENCY, C.DUPLICATE_DEPENDENCY, C.PARALLEL_ON_CHAIN, C.MAX_CONCURRENCY_ABOVE_WIDTH,
                 C.CONFUSABLE_STEP_NAMES, C.DUPLICATE_CALL, C.UNUSED_DEFAULT),
        S.LOOKUP: (C.DUPLICATE_GROUP, C.GROUP_NOT_FOUND, C.STEP_NOT_FOUND, C.SCHEDULE_NOT_FOUND),
    }
    return {code: stage for stage, codes in groups.items() for code in codes}


#: Code → the stage that reports it: the one table of codes.
_STAGES: dict[Code, Stage] = _stage_table()


@dataclass(frozen=True, slots=True)
class Finding(Record):
    """One problem, with where it is and what to change."""

    #: A :class:`Code` (or, from your own checks, any other stable text).
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

    def __str__(self) -> str:
        who = ""
        if self.group:
            who = f" [{self.group}" + (f" / {self.step}" if self.step else "") + "]"
        return f"{self.location}: {self.severity.value} {self.code}{who}: {self.message}"
