"""Pipelines and a group, both registered in Python."""
from spine.framework import ParamDef, register_pipeline
from spine.orchestration import PipelineGroup, register_group


@register_pipeline("demo.ingest", params=[ParamDef("tier", str, required=True)])
def ingest(params, ctx):
    """Ingest one tier."""


@register_pipeline("demo.normalize")
def normalize(params, ctx):
    """Normalize the rows."""


@register_group
def weekly() -> PipelineGroup:
    return (
        PipelineGroup(name="demo.dsl_weekly", domain="demo")
        .with_defaults(tier="{{ params.tier }}")
        .add("ingest", "demo.ingest")
        .add("normalize", "demo.normalize", depends_on=["ingest"])
    )
