import copy
import pickle

from spine.core import thaw
from spine.orchestration import PipelineGroup, PlanResolver

group = PipelineGroup(name="demo.weekly").add("ingest", "demo.ingest", params={"tables": ["a", "b"]})
plan = PlanResolver().resolve(group, {"week": "2024-01-05"})
step = plan.steps[0]

print(pickle.loads(pickle.dumps(plan)) == plan, copy.deepcopy(group) == group, hash(step) == hash(copy.copy(step)))
print(step.params["tables"], thaw(step.params))
