from pathlib import Path

from spine.core import InvalidGroupSpecError
from spine.orchestration import load_group_from_text, load_group_from_yaml, load_groups_from_directory

text = Path("groups/weekly.yaml").read_text()
for call in (lambda: load_group_from_yaml(text), lambda: load_group_from_yaml("groups"), lambda: load_groups_from_directory("groups/weekly.yaml")):
    try:
        call()
    except InvalidGroupSpecError as exc:
        print(exc)
print(load_group_from_text(text).name)
