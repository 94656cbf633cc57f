from spine.orchestration import (
    GroupNotFoundError,
    PipelineGroup,
    clear_group_registry,
    get_group,
    group_exists,
    list_groups,
    load_groups_from_directory,
    register_group,
)

for group in load_groups_from_directory("groups"):
    register_group(group)

print(list_groups())
print(list_groups(domain="market_data"))
print(group_exists("finra.weekly_refresh"), get_group("finra.weekly_refresh").step_names)
try:
    get_group("finra.weekly_refrsh")
except GroupNotFoundError as exc:
    print(exc)
clear_group_registry()
print(list_groups())
