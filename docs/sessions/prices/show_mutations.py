"""Which edits mutations() makes to prices.daily, and the finding each must cause."""
from hypothesis import given, seed, settings

import prices_pipelines  # noqa: F401
from spine.framework import default_pipeline_registry as registry
from spine.orchestration import load_groups
from spine.testing import MUTATION_KINDS, mutations

daily = load_groups("groups/daily.yaml")[0]
seen = {}


@seed(0)
@settings(max_examples=300, database=None)
@given(mutations(daily, registry))
def collect(case):
    mutated, expected = case
    seen.setdefault(expected.kind, sorted(expected.codes))


collect()
for kind in MUTATION_KINDS:
    print(f"{kind:22} -> {', '.join(seen.get(kind, ['(not drawn)']))}")
