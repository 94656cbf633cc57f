from spine.orchestration import PipelineGroup, group_to_yaml, load_group_from_text

group = (
    PipelineGroup(name="finra.weekly_refresh", domain="finra.otc_transparency")
    .with_defaults(tier="{{ params.tier }}")
    .add("ingest", "finra.otc_transparency.ingest_week")
    .add("normalize", "finra.otc_transparency.normalize_week", depends_on=["ingest"])
    .with_policy(execution="parallel")
)
text = group_to_yaml(group)
print(text)
print(load_group_from_text(text) == group)
print(PipelineGroup.from_dict(group.to_dict()) == group)
