"""The pipelines of schedules.md's examples: a week's feed is missing while feed-down-WEEK exists."""

from pathlib import Path

from spine.framework import ParamDef, register_pipeline


@register_pipeline("demo.ingest", params=[ParamDef("week_ending", "date", required=True), ParamDef("tier", str, required=True)])
def ingest(params, ctx):
    week = params["week_ending"].isoformat()
    if Path(f"feed-down-{week}").exists():
        raise RuntimeError(f"the feed for the week ending {week} is not published yet")
    return {"week": week, "rows": 120}


@register_pipeline("demo.publish")
def publish(params, ctx):
    return {"published": ctx.upstream["ingest"]["rows"]}
