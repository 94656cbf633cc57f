"""Pipelines for the serve.md examples."""

from spine.framework import register_pipeline


@register_pipeline("shop.extract", allow_extra_params=True)
def extract(params, ctx):
    return {"rows": 3, "day": params.get("day")}


@register_pipeline("shop.load", allow_extra_params=True)
def load(params, ctx):
    return {"loaded": ctx.upstream["extract"]["rows"]}
