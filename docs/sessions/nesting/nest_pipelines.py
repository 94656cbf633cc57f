"""Pipelines for docs/nesting.md: each returns what it was asked to do."""

from spine.framework import register_pipeline


@register_pipeline("demo.extract", allow_extra_params=True)
def extract(params, ctx):
    return {"step": ctx.step, "day": params.get("day"), "source": params.get("source")}


@register_pipeline("demo.clean", allow_extra_params=True)
def clean(params, ctx):
    return {"step": ctx.step, "upstream": sorted(ctx.upstream)}


@register_pipeline("demo.publish", allow_extra_params=True)
def publish(params, ctx):
    return {"step": ctx.step, "target": params.get("target"), "upstream": sorted(ctx.upstream)}
