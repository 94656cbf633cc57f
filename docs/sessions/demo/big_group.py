"""Print a generated group: NAME, STEPS steps, each depending on up to DEPS of the ten before it."""
import random
import sys

name, steps, deps = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
rng = random.Random(20240105)
print(f"apiVersion: spine.io/v1\nkind: PipelineGroup\nmetadata: {{name: {name}}}\nspec:\n  pipelines:")
for i in range(steps):
    before = rng.sample(range(max(0, i - 10), i), min(i, deps))
    needs = ", ".join(f"s{j:04d}" for j in sorted(before))
    print(f"    - {{name: s{i:04d}, pipeline: demo.task, depends_on: [{needs}]}}")
