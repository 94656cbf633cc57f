"""Pipelines: what a group step calls."""

from spine.framework.params import ParamDef, check_params
from spine.framework.registry import (
    Pipeline,
    PipelineRegistry,
    PipelineSpec,
    default_pipeline_registry,
    register_pipeline,
)

__all__ = [
    "ParamDef",
    "Pipeline",
    "PipelineRegistry",
    "PipelineSpec",
    "check_params",
    "default_pipeline_registry",
    "register_pipeline",
]
