from pathlib import Path

import yaml

from spine.orchestration import (
    InvalidGroupSpecError,
    load_group_from_text,
    load_group_from_yaml,
    load_groups_from_directory,
    load_groups_from_yaml,
    validate_yaml_schema,
)

weekly = load_group_from_yaml("groups/weekly.yaml")           # one group, from a file
print(weekly.name, weekly.step_names)
print([g.name for g in load_groups_from_yaml("groups/nested/prices.yaml")])  # every group of one file
print([g.name for g in load_groups_from_directory("groups")])                # every file under a folder

text = Path("groups/weekly.yaml").read_text()
print(load_group_from_text(text, file="weekly.yaml") == weekly)  # text: its own function
try:
    load_group_from_yaml(text)                                  # text where a path belongs
except InvalidGroupSpecError as exc:
    print(exc)

data = yaml.safe_load(text)                                     # a document parsed elsewhere
data["spec"]["pipelines"][1]["depnds_on"] = data["spec"]["pipelines"][1].pop("depends_on")
for finding in validate_yaml_schema(data):
    print(finding)
