from spine.core import InvalidGroupSpecError
from spine.orchestration import load_group_from_yaml, load_groups_from_yaml

try:
    load_group_from_yaml("two_groups.yaml")
except InvalidGroupSpecError as exc:
    print(exc)
print([g.name for g in load_groups_from_yaml("two_groups.yaml")])
