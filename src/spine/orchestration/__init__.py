"""Pipeline groups: models, loader, registry, planner, params.

Everything public is re-exported here; ``__all__`` is checked by a test so it cannot
drift from the public names.
"""

from spine.orchestration.graph import GraphAnalysis, analyze
from spine.lint.rules import lint_group
from spine.orchestration.loader import (
    LoadedGroup,
    group_to_yaml,
    iter_group_files,
    load_group_from_yaml,
    load_groups,
    load_groups_from_yaml,
    scan,
)
from spine.orchestration.models import (
    API_VERSION,
    KIND,
    ExecutionMode,
    ExecutionPolicy,
    FailurePolicy,
    GroupRunStatus,
    PipelineGroup,
    PipelineStep,
    StepStatus,
    group_status,
)
from spine.orchestration.names import group_name_problem, step_name_problem
from spine.orchestration.params import ParamLayer, ParamSource
from spine.orchestration.planner import (
    ExecutionPlan,
    PlannedStep,
    PlanResolver,
    check_group,
    check_pipelines,
    validate_group,
)
from spine.orchestration.registry import GroupRegistry, default_group_registry, register_group
from spine.orchestration.schema import group_schema, schema_text
from spine.orchestration.source import SourceMap
from spine.yamlio.reader import Limits

__all__ = [
    "API_VERSION",
    "KIND",
    "ExecutionMode",
    "ExecutionPlan",
    "ExecutionPolicy",
    "FailurePolicy",
    "GraphAnalysis",
    "GroupRegistry",
    "GroupRunStatus",
    "Limits",
    "LoadedGroup",
    "ParamLayer",
    "ParamSource",
    "PipelineGroup",
    "PipelineStep",
    "PlanResolver",
    "PlannedStep",
    "SourceMap",
    "StepStatus",
    "analyze",
    "check_group",
    "check_pipelines",
    "default_group_registry",
    "group_name_problem",
    "group_schema",
    "group_status",
    "group_to_yaml",
    "iter_group_files",
    "lint_group",
    "load_group_from_yaml",
    "load_groups",
    "load_groups_from_yaml",
    "register_group",
    "scan",
    "schema_text",
    "step_name_problem",
    "validate_group",
]
