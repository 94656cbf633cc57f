from spine.core import GroupError
from spine.orchestration import PipelineGroup, PlanResolver, validate_group

group = (
    PipelineGroup(name="demo.weekly")
    .add("ingest", "demo.ingest")
    .add("normalize", "demo.normalize", depends_on=["ingset"])
    .add("report ", "demo.report", depends_on=["normalize"])
    .with_policy(max_concurrency=0)
)
for finding in validate_group(group):
    print(finding)
try:
    PlanResolver().resolve(group)
except GroupError as exc:
    print(type(exc).__name__, len(exc.findings))
