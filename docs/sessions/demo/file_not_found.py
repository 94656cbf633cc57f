from spine.core import InvalidGroupSpecError
from spine.orchestration import load_groups

try:
    load_groups("groups/weekly_refresh.yaml")
except InvalidGroupSpecError as exc:
    print(exc.findings[0].code, "|", exc)
