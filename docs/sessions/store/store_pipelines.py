"""The pipelines of store.md's examples: the warehouse says no until warehouse.ok exists."""

from pathlib import Path

from spine.framework import register_pipeline


@register_pipeline("demo.extract")
def extract(params, ctx):
    return {"rows": 120}


@register_pipeline("demo.publish")
def publish(params, ctx):
    if not Path("warehouse.ok").exists():
        raise RuntimeError("the warehouse said no")
    return {"published": ctx.upstream["extract"]["rows"], "key": ctx.idempotency_key}


@register_pipeline("demo.report")
def report(params, ctx):
    return {"pages": 3}
