"""Foundations shared by every layer: errors, findings, frozen values, ids, logging."""

from spine.core.errors import (
    CycleDetectedError,
    DecodeError,
    DependencyError,
    GroupError,
    GroupNotFoundError,
    InvalidGroupSpecError,
    PlanResolutionError,
    SpineError,
    StepNotFoundError,
)
from spine.core.findings import Code, Finding, Severity, Stage
from spine.core.frozen import FrozenDict, freeze, thaw
from spine.core.ids import new_batch_id

__all__ = [
    "Code",
    "CycleDetectedError",
    "DecodeError",
    "DependencyError",
    "Finding",
    "FrozenDict",
    "GroupError",
    "GroupNotFoundError",
    "InvalidGroupSpecError",
    "PlanResolutionError",
    "Severity",
    "SpineError",
    "Stage",
    "StepNotFoundError",
    "freeze",
    "new_batch_id",
    "thaw",
]
