from spine.core import StepNotFoundError
from spine.orchestration import load_groups

group = load_groups("groups/weekly.yaml")[0]
try:
    group.step("normalise")
except StepNotFoundError as exc:
    print(exc.findings[0].code, "|", exc)
