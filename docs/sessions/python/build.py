from spine.orchestration import PipelineGroup, PipelineStep

# 1. The constructor, with PipelineStep objects
group = PipelineGroup(
    name="finra.weekly_refresh",
    domain="finra.otc_transparency",
    description="Weekly FINRA OTC data refresh",
    tags=("finra", "weekly"),
    defaults={"tier": "{{ params.tier }}", "force": False},
    steps=[
        PipelineStep("ingest", "finra.otc_transparency.ingest_week", params={"source_type": "api"}),
        PipelineStep("normalize", "finra.otc_transparency.normalize_week", depends_on=["ingest"]),
    ],
)

# 2. from_steps, with PipelineStep objects or dicts that use the YAML keys
same = PipelineGroup.from_steps(
    "finra.weekly_refresh",
    [
        {"name": "ingest", "pipeline": "finra.otc_transparency.ingest_week", "params": {"source_type": "api"}},
        {"name": "normalize", "pipeline": "finra.otc_transparency.normalize_week", "depends_on": ["ingest"]},
    ],
    domain="finra.otc_transparency",
    description="Weekly FINRA OTC data refresh",
    tags=("finra", "weekly"),
    defaults={"tier": "{{ params.tier }}", "force": False},
)

# 3. The fluent style: every call returns a new group
fluent = (
    PipelineGroup(
        name="finra.weekly_refresh",
        domain="finra.otc_transparency",
        description="Weekly FINRA OTC data refresh",
        tags=("finra", "weekly"),
    )
    .with_defaults(tier="{{ params.tier }}", force=False)
    .add("ingest", "finra.otc_transparency.ingest_week", params={"source_type": "api"})
    .add("normalize", "finra.otc_transparency.normalize_week", depends_on=["ingest"])
)

print(group == same == fluent)
print(group.step_names, group.version, group.policy.execution)
print(group.step("normalize"))
