import demo_pipelines  # noqa: F401  (registers demo.ingest, demo.normalize, …)
from spine.core import CycleDetectedError, GroupError
from spine.framework import default_pipeline_registry
from spine.orchestration import PlanResolver, load_groups

resolver = PlanResolver(default_pipeline_registry)  # PlanResolver() skips pipeline checks

group = load_groups("groups/weekly.yaml")[0]
plan = resolver.resolve(group, {"tier": "T1", "week_ending": "2024-01-05"})
print(plan.order, plan.generations, plan.critical_path)
normalize = plan.step("normalize")
print(normalize.sequence_order, normalize.generation, dict(normalize.params))
print({key: source.layer.value for key, source in normalize.param_sources.items()})

try:
    resolver.resolve(load_groups("bad/graph.yaml")[0])
except CycleDetectedError as exc:
    print(type(exc).__name__, exc.cycles, len(exc.findings), "findings")
    for finding in exc.findings:
        print(" ", finding)
except GroupError as exc:
    print("other", exc)
