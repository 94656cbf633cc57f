"""Pipeline groups: models, loader, registry, planner, params.

Everything public is re-exported here; ``__all__`` is checked by a test so it cannot
drift from the public names.
"""

from spine.core.errors import (
    CycleDetectedError,
    DependencyError,
    GroupError,
    GroupNotFoundError,
    InvalidGroupSpecError,
    PlanResolutionError,
    StepNotFoundError,
)
from spine.lint.rules import lint_group
from spine.orchestration.graph import GraphAnalysis, analyze
from spine.orchestration.loader import (
    LoadedGroup,
    group_to_yaml,
    iter_group_files,
    load_group_from_text,
    load_group_from_yaml,
    load_groups,
    load_groups_from_directory,
    load_groups_from_text,
    load_groups_from_yaml,
    scan,
    validate_yaml_schema,
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
    Schedule,
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
from spine.orchestration.registry import (
    GroupRegistry,
    clear_group_registry,
    default_group_registry,
    get_group,
    group_exists,
    list_groups,
    register_group,
)
from spine.orchestration.schema import group_schema, schema_text
from spine.orchestration.source import SourceMap
from spine.yamlio.reader import Limits

#: The runner's names, importable from here as in the original spine-core. They live in
#: ``spine.runner`` (a layer above this one), so they are imported on first use (PEP 562):
#: ``import spine.orchestration`` stays light, and the layers still point downwards.
_FROM_RUNNER = frozenset(
    {"GroupExecutionResult", "GroupExecutionStatus", "GroupRunner", "StepExecution", "get_runner"}
)


def __getattr__(name: str) -> object:
    if name in _FROM_RUNNER:
        import spine.runner

        return getattr(spine.runner, name)
    raise AttributeError(f"module 'spine.orchestration' has no attribute {name!r}")

__all__ = [
    "API_VERSION",
    "KIND",
    "CycleDetectedError",
    "DependencyError",
    "ExecutionMode",
    "ExecutionPlan",
    "ExecutionPolicy",
    "FailurePolicy",
    "GraphAnalysis",
    "GroupError",
    "GroupExecutionResult",
    "GroupExecutionStatus",
    "GroupNotFoundError",
    "GroupRegistry",
    "GroupRunStatus",
    "GroupRunner",
    "InvalidGroupSpecError",
    "Limits",
    "LoadedGroup",
    "ParamLayer",
    "ParamSource",
    "PipelineGroup",
    "PipelineStep",
    "PlanResolutionError",
    "PlanResolver",
    "PlannedStep",
    "Schedule",
    "SourceMap",
    "StepExecution",
    "StepNotFoundError",
    "StepStatus",
    "analyze",
    "check_group",
    "check_pipelines",
    "clear_group_registry",
    "default_group_registry",
    "get_group",
    "get_runner",
    "group_exists",
    "group_name_problem",
    "group_schema",
    "group_status",
    "group_to_yaml",
    "iter_group_files",
    "lint_group",
    "list_groups",
    "load_group_from_text",
    "load_group_from_yaml",
    "load_groups",
    "load_groups_from_directory",
    "load_groups_from_text",
    "load_groups_from_yaml",
    "register_group",
    "scan",
    "schema_text",
    "step_name_problem",
    "validate_group",
    "validate_yaml_schema",
]
