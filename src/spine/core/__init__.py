"""Foundations shared by every layer: errors, findings, ids, logging."""

from spine.core.errors import (
    CycleDetectedError,
    DependencyError,
    GroupError,
    GroupNotFoundError,
    InvalidGroupSpecError,
    PlanResolutionError,
    SpineError,
    StepNotFoundError,
)
from spine.core.findings import Finding, Severity
from spine.core.ids import new_batch_id

__all__ = [
    "CycleDetectedError",
    "DependencyError",
    "Finding",
    "GroupError",
    "GroupNotFoundError",
    "InvalidGroupSpecError",
    "PlanResolutionError",
    "Severity",
    "SpineError",
    "StepNotFoundError",
    "new_batch_id",
]
