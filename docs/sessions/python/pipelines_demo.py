import datetime as dt

from spine.framework import ParamDef, Pipeline, default_pipeline_registry, register_pipeline

TIERS = ("NMS_TIER_1", "NMS_TIER_2", "OTCE")


# A function f(params, ctx); its params are given to the decorator
@register_pipeline(
    "finra.otc_transparency.ingest_week",
    params=[
        ParamDef("tier", str, required=True, choices=TIERS, description="FINRA tier"),
        ParamDef("week_ending", "date", required=True, description="The Friday of the week"),
        ParamDef("source_type", str, default="api", choices=("api", "file")),
    ],
)
def ingest_week(params, ctx):
    """Copy one tier's rows for the week into the raw layer."""
    return {"rows": 0}


# A Pipeline subclass; its params are a class attribute
@register_pipeline("finra.otc_transparency.normalize_week")
class NormalizeWeek(Pipeline):
    """Clean symbols and parse volumes."""

    params = (
        ParamDef("week_ending", "date", required=True),
        ParamDef("force", bool, default=False),
    )

    def run(self, params, ctx):
        return {"normalized": True, "force": params.get("force")}


# A pipeline that accepts params it does not declare
@register_pipeline("ops.notify", allow_extra_params=True, description="Send a message")
def notify(params, ctx):
    return None


for spec in default_pipeline_registry:
    print(spec.name, "|", spec.description, "|", [p.name for p in spec.params], spec.allow_extra_params)

spec = default_pipeline_registry.get("finra.otc_transparency.normalize_week")
print(spec.call({"week_ending": dt.date(2024, 1, 5), "force": True}, ctx=None))
print(default_pipeline_registry.get("finra.otc_transparency.ingest_week").check(
    {"tier": "NMS_TIER_3", "week_ending": "2024-13-01", "limit": 5}))

try:
    register_pipeline("ops.notify")(lambda params, ctx: None)
except ValueError as exc:
    print("ValueError:", exc)
