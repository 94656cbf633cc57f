from spine.framework import ParamDef, register_pipeline


@register_pipeline("prices.load", params=[
    ParamDef("symbols", list, required=True, description="Tickers to load"),
    ParamDef("first_symbol", str, description="Shown in the run log"),
    ParamDef("mode", str, choices=["full", "delta"], default="full"),
])
def load(params, ctx):
    """Load daily prices for some symbols."""


@register_pipeline("prices.report", params=[
    ParamDef("title", str, required=True),
    ParamDef("as_of", "date", required=True),
])
def report(params, ctx):
    """Write the daily report."""
