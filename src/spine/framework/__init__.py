"""Pipelines: what a group step calls."""

from spine.framework.context import CancelToken, ExecutionContext
from spine.framework.dispatcher import Dispatcher, PipelineNotFoundError, ResultNotJSONError, check_result
from spine.framework.params import ParamDef, check_params
from spine.framework.registry import (
    Pipeline,
    PipelineRegistry,
    PipelineSpec,
    default_pipeline_registry,
    register_pipeline,
)

__all__ = [
    "CancelToken",
    "Dispatcher",
    "ExecutionContext",
    "ParamDef",
    "Pipeline",
    "PipelineNotFoundError",
    "PipelineRegistry",
    "PipelineSpec",
    "ResultNotJSONError",
    "check_params",
    "check_result",
    "default_pipeline_registry",
    "register_pipeline",
]
