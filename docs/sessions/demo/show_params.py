"""Print the params of the first step of a plan read as JSON from stdin (`spine group plan --json`)."""
import json
import sys

plan = json.load(sys.stdin)
for key, value in plan["steps"][0]["params"].items():
    print(f"{key:>6}: {json.dumps(value)}")
