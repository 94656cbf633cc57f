"""The pipelines of the demo project the docs' examples run in (docs/sessions/demo).

They do nothing: the examples validate, plan and draw groups; they never run them.
"""

from spine.framework import ParamDef, register_pipeline


@register_pipeline("demo.ingest", params=[
    ParamDef("tier", str, required=True, choices=["T1", "T2"], description="Which tier"),
    ParamDef("week_ending", "date", required=True),
    ParamDef("source_type", str, default="api", choices=["api", "file"]),
])
def ingest(params, ctx):
    """Ingest one week."""


@register_pipeline("demo.normalize", params=[
    ParamDef("week_ending", "date", required=True),
    ParamDef("force", bool, default=False),
])
def normalize(params, ctx):
    """Normalize the raw rows."""


@register_pipeline("demo.report", allow_extra_params=True)
def report(params, ctx):
    """Write a report (takes any params)."""


@register_pipeline("demo.task", allow_extra_params=True)
def task(params, ctx):
    """A generic step (takes any params)."""
