import prices_pipelines  # noqa: F401
from spine.framework import default_pipeline_registry
from spine.orchestration import load_groups
from spine.testing.fuzz import fuzz_group

group = load_groups("groups/daily.yaml")[0]
result = fuzz_group(group, default_pipeline_registry, examples=50, seed=42)
print(result.ok, [(c.name, c.ok, c.examples) for c in result.checks])
