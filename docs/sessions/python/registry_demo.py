from spine.orchestration import GroupRegistry, PipelineGroup, default_group_registry, register_group

# As a function: registers the group and returns it
weekly = register_group(
    PipelineGroup(name="finra.weekly_refresh").add("ingest", "finra.otc_transparency.ingest_week")
)


# As a decorator: calls the function once, registers the group it returns,
# and binds the function's name to that group
@register_group
def daily_prices() -> PipelineGroup:
    return (
        PipelineGroup(name="market_data.daily_prices", domain="market_data")
        .add("ingest", "market_data.prices.ingest")
        .add("adjust", "market_data.prices.adjust", depends_on=["ingest"])
    )


print(type(daily_prices).__name__, daily_prices.name)
print([g.name for g in default_group_registry])

# With arguments: into a registry of your own
mine = GroupRegistry()


@register_group(registry=mine)
def scratch() -> PipelineGroup:
    return PipelineGroup(name="scratch").add("only", "demo.task")


print([g.name for g in mine], "scratch" in default_group_registry)

# The same name twice: only the same group again, or replace=True
try:
    register_group(PipelineGroup(name="finra.weekly_refresh").add("other", "demo.task"))
except ValueError as exc:
    print("ValueError:", exc)
register_group(PipelineGroup(name="finra.weekly_refresh").add("other", "demo.task"), replace=True)
print(default_group_registry.get("finra.weekly_refresh").step_names)
print([g.name for g in default_group_registry.list(domain="market_data")])
