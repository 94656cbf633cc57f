"""Print where each param of each step came from, reading `spine group plan --json` on stdin."""
import json
import sys

plan = json.load(sys.stdin)
for step in plan["steps"]:
    print(step["name"])
    for key, value in step["params"].items():
        source = step["param_sources"][key]
        template = f"  from {source['template']!r}" if source["template"] else ""
        print(f"  {key} = {json.dumps(value)}  [{source['layer']}]{template}")
