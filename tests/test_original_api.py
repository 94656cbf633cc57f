"""The original spine-core API, name for name, called the way its docs call it."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

import spine.core
from spine.orchestration import (
    CycleDetectedError,
    DependencyError,
    GroupError,
    GroupNotFoundError,
    InvalidGroupSpecError,
    PipelineGroup,
    PlanResolutionError,
    PlanResolver,
    StepNotFoundError,
    clear_group_registry,
    get_group,
    group_exists,
    group_to_yaml,
    list_groups,
    load_group_from_text,
    load_group_from_yaml,
    load_groups_from_directory,
    load_groups_from_text,
    load_groups_from_yaml,
    register_group,
    validate_yaml_schema,
)

WEEKLY = """\
apiVersion: spine.io/v1
kind: PipelineGroup
metadata:
  name: finra.weekly_refresh
  domain: finra.otc_transparency
spec:
  pipelines:
    - name: ingest
      pipeline: finra.otc_transparency.ingest_week
    - name: normalize
      pipeline: finra.otc_transparency.normalize_week
      depends_on: [ingest]
"""


def group_text(name: str, domain: str = "demo") -> str:
    return f"apiVersion: spine.io/v1\nkind: PipelineGroup\nmetadata:\n  name: {name}\n  domain: {domain}\nspec:\n  pipelines:\n    - name: a\n      pipeline: demo.task\n"


def codes(exc: pytest.ExceptionInfo[GroupError]) -> list[str]:
    return [f.code for f in exc.value.findings]


class TestExceptions:
    @pytest.mark.parametrize(
        "cls",
        [GroupError, GroupNotFoundError, CycleDetectedError, StepNotFoundError, DependencyError, InvalidGroupSpecError, PlanResolutionError],
    )
    def test_same_classes_as_spine_core(self, cls: type) -> None:
        """Each exception imported from spine.orchestration is the class spine.core defines."""
        assert getattr(spine.core, cls.__name__) is cls

    def test_resolve_raises_what_orchestration_exports(self) -> None:
        """A cycle caught as spine.orchestration.CycleDetectedError carries its path."""
        group = PipelineGroup(name="g").add("a", "p", depends_on=["b"]).add("b", "p", depends_on=["a"])
        with pytest.raises(CycleDetectedError) as info:
            PlanResolver().resolve(group)
        assert info.value.cycles == (("a", "b", "a"),)


class TestRegistryFunctions:
    def test_register_get_list_exists_clear(self) -> None:
        """register, get, list (all and by domain), exists and clear work on the default registry."""
        clear_group_registry()
        weekly = register_group(PipelineGroup(name="finra.weekly_refresh", domain="finra").add("ingest", "p.ingest"))

        @register_group
        def daily() -> PipelineGroup:
            return PipelineGroup(name="market_data.daily", domain="market_data").add("load", "p.load")

        assert get_group("finra.weekly_refresh") is weekly
        assert get_group("market_data.daily") is daily
        assert list_groups() == ["finra.weekly_refresh", "market_data.daily"]
        assert list_groups(domain="market_data") == ["market_data.daily"]
        assert (group_exists("market_data.daily"), group_exists("nope")) == (True, False)
        clear_group_registry()
        assert (list_groups(), group_exists("market_data.daily")) == ([], False)

    def test_list_groups_is_sorted_names(self) -> None:
        """list_groups() gives the names, sorted, whatever the order of registration."""
        clear_group_registry()
        for name in ("c.one", "a.two", "b.three"):
            register_group(PipelineGroup(name=name).add("s", "p"))
        assert list_groups() == ["a.two", "b.three", "c.one"]

    def test_get_unknown_suggests(self) -> None:
        """get_group on an unknown name raises GroupNotFoundError with the closest registered name."""
        clear_group_registry()
        register_group(PipelineGroup(name="finra.weekly_refresh").add("s", "p"))
        with pytest.raises(GroupNotFoundError, match=r"did you mean 'finra\.weekly_refresh'"):
            get_group("finra.weekly_refrsh")


class TestLoadFromFiles:
    def test_load_group_from_yaml_takes_a_path(self, tmp_path: Path) -> None:
        """load_group_from_yaml reads the file at a str path, with positions from that file."""
        path = tmp_path / "weekly.yaml"
        path.write_text(WEEKLY, encoding="utf-8")
        group = load_group_from_yaml(str(path))
        assert (group.name, group.step_names, group.source.file) == ("finra.weekly_refresh", ["ingest", "normalize"], str(path))

    def test_load_group_from_yaml_takes_a_pathlike(self, tmp_path: Path) -> None:
        """load_group_from_yaml accepts a pathlib.Path."""
        path = tmp_path / "weekly.yaml"
        path.write_text(WEEKLY, encoding="utf-8")
        assert load_group_from_yaml(path) == load_group_from_text(WEEKLY)

    def test_missing_file_is_file_not_found(self, tmp_path: Path) -> None:
        """A path to no file is a file-not-found finding, not 'must be a mapping … got a string'."""
        with pytest.raises(InvalidGroupSpecError) as info:
            load_group_from_yaml(tmp_path / "groups" / "weekly.yaml")
        assert codes(info) == ["file-not-found"]

    def test_two_groups_in_the_file(self, tmp_path: Path) -> None:
        """A file with two groups is not-one-group, naming load_groups_from_yaml."""
        path = tmp_path / "two.yaml"
        path.write_text(group_text("a") + "---\n" + group_text("b"), encoding="utf-8")
        with pytest.raises(InvalidGroupSpecError, match=r"load_groups_from_yaml\(path\)") as info:
            load_group_from_yaml(path)
        assert (codes(info), info.value.findings[0].file) == (["not-one-group"], str(path))

    def test_load_groups_from_yaml_reads_every_document(self, tmp_path: Path) -> None:
        """load_groups_from_yaml(path) gives every group of a multi-document file, in order."""
        path = tmp_path / "two.yaml"
        path.write_text(group_text("a") + "---\n" + group_text("b"), encoding="utf-8")
        assert [g.name for g in load_groups_from_yaml(path)] == ["a", "b"]

    def test_broken_file_raises_every_finding(self, tmp_path: Path) -> None:
        """A file with format problems raises them all, located in that file."""
        path = tmp_path / "bad.yaml"
        path.write_text(WEEKLY.replace("depends_on", "depnds_on").replace("  domain:", "  domian:"), encoding="utf-8")
        with pytest.raises(InvalidGroupSpecError) as info:
            load_group_from_yaml(path)
        assert [(f.code, f.file, f.line) for f in info.value.findings] == [
            ("unknown-key", str(path), 5),
            ("unknown-key", str(path), 12),
        ]

    def test_round_trip_through_a_file(self, tmp_path: Path) -> None:
        """group_to_yaml written to a file and read with load_group_from_yaml gives an equal group."""
        group = PipelineGroup(name="demo.weekly", domain="demo").add("ingest", "demo.ingest").add("report", "demo.report", depends_on=["ingest"])
        path = tmp_path / "weekly.yaml"
        path.write_text(group_to_yaml(group), encoding="utf-8")
        assert load_group_from_yaml(path) == group

    def test_existing_file_with_a_yaml_looking_name_is_read(self, tmp_path: Path) -> None:
        """A file that exists is read even if its name looks like YAML text: nothing is guessed."""
        path = tmp_path / "{odd}.yaml"
        path.write_text(WEEKLY, encoding="utf-8")
        assert load_group_from_yaml(str(path)).name == "finra.weekly_refresh"


class TestTextIsNotAPath:
    def test_text_to_load_group_from_yaml(self) -> None:
        """YAML text given to load_group_from_yaml is wrong-loader, naming load_group_from_text."""
        with pytest.raises(InvalidGroupSpecError, match=r"call load_group_from_text\(text\)") as info:
            load_group_from_yaml(WEEKLY)
        assert codes(info) == ["wrong-loader"]

    def test_one_line_text(self) -> None:
        """A one-line flow mapping is recognised as text too."""
        with pytest.raises(InvalidGroupSpecError, match="load_group_from_text") as info:
            load_group_from_yaml("{apiVersion: spine.io/v1, kind: PipelineGroup}")
        assert codes(info) == ["wrong-loader"]

    def test_text_bytes(self) -> None:
        """YAML text as bytes is refused the same way."""
        with pytest.raises(InvalidGroupSpecError) as info:
            load_group_from_yaml(WEEKLY.encode())  # type: ignore[arg-type]
        assert codes(info) == ["wrong-loader"]

    def test_text_to_load_groups_from_yaml(self) -> None:
        """YAML text given to load_groups_from_yaml names load_groups_from_text."""
        with pytest.raises(InvalidGroupSpecError, match=r"call load_groups_from_text\(text\)"):
            load_groups_from_yaml(WEEKLY)

    def test_text_to_load_groups(self) -> None:
        """YAML text given to load_groups (file or folder) names load_groups_from_text."""
        from spine.orchestration import load_groups

        with pytest.raises(InvalidGroupSpecError, match=r"call load_groups_from_text\(text\)"):
            load_groups(WEEKLY)

    def test_huge_text_is_not_an_os_error(self) -> None:
        """Text far longer than any file name still gets the wrong-loader finding, not an OSError."""
        with pytest.raises(InvalidGroupSpecError) as info:
            load_group_from_yaml(WEEKLY * 200)
        assert codes(info) == ["wrong-loader"]

    def test_folder_to_load_group_from_yaml(self, tmp_path: Path) -> None:
        """A folder given to load_group_from_yaml names load_groups_from_directory."""
        with pytest.raises(InvalidGroupSpecError, match=r"load_groups_from_directory\(path\)") as info:
            load_group_from_yaml(tmp_path)
        assert codes(info) == ["wrong-loader"]

    def test_two_groups_in_text_names_the_text_function(self) -> None:
        """Two groups given to load_group_from_text (even labelled with a file) point to load_groups_from_text."""
        with pytest.raises(InvalidGroupSpecError, match=r"call load_groups_from_text\(text\)"):
            load_group_from_text(group_text("a") + "---\n" + group_text("b"), file="two.yaml")

    def test_text_functions_read_text(self) -> None:
        """load_group_from_text and load_groups_from_text read YAML text."""
        assert load_group_from_text(WEEKLY).name == "finra.weekly_refresh"
        assert [g.name for g in load_groups_from_text(group_text("a") + "---\n" + group_text("b"))] == ["a", "b"]


class TestLoadGroupsFromDirectory:
    def test_every_group_in_the_folder(self, tmp_path: Path) -> None:
        """Every group of every .yaml/.yml file under the folder, nested ones too, sorted by path."""
        (tmp_path / "b.yaml").write_text(group_text("demo.b"), encoding="utf-8")
        (tmp_path / "nested").mkdir()
        (tmp_path / "nested" / "c.yml").write_text(group_text("demo.c") + "---\n" + group_text("demo.d"), encoding="utf-8")
        (tmp_path / "a.yaml").write_text(group_text("demo.a"), encoding="utf-8")
        (tmp_path / "notes.txt").write_text("not a group", encoding="utf-8")
        assert [g.name for g in load_groups_from_directory(tmp_path)] == ["demo.a", "demo.b", "demo.c", "demo.d"]

    def test_str_path(self, tmp_path: Path) -> None:
        """A str path works as well as a Path."""
        (tmp_path / "a.yaml").write_text(group_text("demo.a"), encoding="utf-8")
        assert [g.name for g in load_groups_from_directory(str(tmp_path))] == ["demo.a"]

    def test_empty_folder(self, tmp_path: Path) -> None:
        """A folder without group files gives an empty list."""
        assert load_groups_from_directory(tmp_path) == []

    def test_missing_folder(self, tmp_path: Path) -> None:
        """A folder that does not exist is file-not-found."""
        with pytest.raises(InvalidGroupSpecError) as info:
            load_groups_from_directory(tmp_path / "groups")
        assert codes(info) == ["file-not-found"]

    def test_a_file_is_not_a_folder(self, tmp_path: Path) -> None:
        """A file given to load_groups_from_directory is wrong-loader, naming the file functions."""
        path = tmp_path / "a.yaml"
        path.write_text(group_text("demo.a"), encoding="utf-8")
        with pytest.raises(InvalidGroupSpecError, match=r"load_group_from_yaml\(path\)") as info:
            load_groups_from_directory(path)
        assert codes(info) == ["wrong-loader"]

    def test_every_broken_file_reported(self, tmp_path: Path) -> None:
        """Problems in two files are raised together, each with its file."""
        (tmp_path / "a.yaml").write_text(group_text("demo.a").replace("kind:", "knd:"), encoding="utf-8")
        (tmp_path / "b.yaml").write_text(group_text("demo.b").replace("domain:", "domian:"), encoding="utf-8")
        with pytest.raises(InvalidGroupSpecError) as info:
            load_groups_from_directory(tmp_path)
        assert {(f.code, Path(f.file).name) for f in info.value.findings} >= {("unknown-key", "a.yaml"), ("unknown-key", "b.yaml")}


class TestValidateYamlSchema:
    def test_valid_document_has_no_findings(self) -> None:
        """A valid parsed document gives an empty list."""
        assert validate_yaml_schema(yaml.safe_load(WEEKLY)) == []

    def test_problems_of_a_parsed_document(self) -> None:
        """Every format problem of a parsed dict is a finding, with a suggestion for a misspelt key."""
        data = yaml.safe_load(WEEKLY)
        del data["metadata"]["name"]
        data["spec"]["pipelines"][1]["depnds_on"] = data["spec"]["pipelines"][1].pop("depends_on")
        findings = validate_yaml_schema(data)
        assert [f.code for f in findings] == ["missing-key", "unknown-key"]
        assert "did you mean 'depends_on'?" in findings[1].message

    def test_not_a_mapping(self) -> None:
        """A parsed document that is not a mapping is one not-a-mapping finding."""
        assert [f.code for f in validate_yaml_schema(["a", "list"])] == ["not-a-mapping"]

    def test_graph_is_not_checked(self) -> None:
        """A missing dependency is not a schema problem (validate_group reports it)."""
        data = yaml.safe_load(WEEKLY.replace("[ingest]", "[ingst]"))
        assert validate_yaml_schema(data) == []
