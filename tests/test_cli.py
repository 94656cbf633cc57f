"""The ``spine`` command through its real entry point: exit codes, output shapes, configuration, hygiene."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
import yaml

import spine
from spine.orchestration import PipelineGroup, load_group_from_text, register_group

REPO = Path(__file__).resolve().parents[1]
SPINE = REPO / ".venv" / "bin" / "spine"

GOOD = """\
apiVersion: spine.io/v1
kind: PipelineGroup
metadata: {name: demo.weekly, domain: demo, description: A demo}
spec:
  defaults: {tier: "{{ params.tier }}"}
  pipelines:
    - {name: ingest, pipeline: demo.ingest}
    - {name: normalize, pipeline: demo.normalize, depends_on: [ingest]}
    - {name: share, pipeline: demo.share, depends_on: [normalize]}
"""

BAD = """\
apiVersion: spine.io/v1
kind: PipelineGroup
metadata: {name: demo.broken}
spec:
  pipelines:
    - {name: ingest, pipeline: demo.ingest}
    - {name: normalize, pipeline: demo.normalize, depends_on: [ingset]}
"""

TWO = """\
apiVersion: spine.io/v1
kind: PipelineGroup
metadata: {name: demo.one, domain: one}
spec:
  pipelines:
    - {name: a, pipeline: demo.a}
---
apiVersion: spine.io/v1
kind: PipelineGroup
metadata: {name: demo.two, domain: two}
spec:
  pipelines:
    - {name: b, pipeline: demo.b}
"""

SIMPLE = """\
apiVersion: spine.io/v1
kind: PipelineGroup
metadata: {name: demo.simple}
spec:
  pipelines:
    - {name: a, pipeline: demo.a}
"""


@pytest.fixture
def restore_imports() -> Iterator[None]:
    """Undo sys.path and sys.modules changes made by importing configured pipeline modules."""
    path = list(sys.path)
    modules = set(sys.modules)
    yield
    sys.path[:] = path
    for name in set(sys.modules) - modules:
        del sys.modules[name]


@pytest.fixture
def configured(in_tmp: Path, restore_imports: None) -> Path:
    """A folder with spine.toml naming a fresh pipelines module and a groups folder.

    The module registers demo.ingest (requires ``week``), demo.normalize and demo.share.
    """
    module = f"spine_cli_pipes_{uuid.uuid4().hex}"
    (in_tmp / f"{module}.py").write_text(
        "from spine.framework import ParamDef, register_pipeline\n"
        "@register_pipeline('demo.ingest', params=[ParamDef('tier', str), ParamDef('week', 'date', required=True)],"
        " description='Ingest a week')\n"
        "def ingest(params, ctx):\n    return None\n"
        "@register_pipeline('demo.normalize', params=[ParamDef('tier', str)])\n"
        "def normalize(params, ctx):\n    return None\n"
        "@register_pipeline('demo.share', params=[ParamDef('tier', str, choices=['T1', 'T2'])])\n"
        "def share(params, ctx):\n    return None\n"
    )
    (in_tmp / "spine.toml").write_text(f'pipelines = ["{module}"]\ngroups = ["groups"]\n')
    (in_tmp / "groups").mkdir()
    (in_tmp / "groups" / "weekly.yaml").write_text(GOOD)
    (in_tmp / "groups" / "two.yaml").write_text(TWO)
    return in_tmp


def plan_json(invoke, *args: str) -> dict:
    code, out, err = invoke("group", "plan", *args, "--json")
    assert code == 0, err
    return json.loads(out)


class TestTopLevel:
    def test_version(self, invoke) -> None:
        """--version prints the package version and exits 0."""
        code, out, _ = invoke("--version")
        assert code == 0
        assert out.strip() == f"spine {spine.__version__}"

    def test_help(self, invoke) -> None:
        """--help exits 0 and lists the command groups."""
        code, out, _ = invoke("--help")
        assert code == 0
        for word in ("group", "pipeline", "schema"):
            assert word in out

    def test_unknown_command_is_usage_error(self, invoke) -> None:
        """An unknown command exits 2."""
        assert invoke("frobnicate")[0] == 2


class TestValidate:
    def test_folder_recursion_mixed(self, in_tmp: Path, invoke) -> None:
        """A folder is searched recursively; one valid and one invalid group → exit 1, both reported."""
        deep = in_tmp / "groups" / "sub" / "deeper"
        deep.mkdir(parents=True)
        (in_tmp / "groups" / "good.yaml").write_text(GOOD)
        (deep / "bad.yml").write_text(BAD)
        (in_tmp / "groups" / "notes.txt").write_text("not a group")
        code, out, _ = invoke("group", "validate", "groups")
        assert code == 1
        assert "demo.weekly" in out and "demo.broken" in out
        assert "missing-dependency" in out and "did you mean 'ingest'" in out
        assert "notes.txt" not in out

    def test_finding_location_in_text(self, in_tmp: Path, invoke) -> None:
        """Text output shows file:line:column of each finding."""
        (in_tmp / "bad.yaml").write_text(BAD)
        _, out, _ = invoke("group", "validate", "bad.yaml")
        assert "bad.yaml:7:64" in out

    def test_hidden_folders_skipped(self, in_tmp: Path, invoke) -> None:
        """Hidden folders under a folder are not searched."""
        (in_tmp / "g" / ".cache").mkdir(parents=True)
        (in_tmp / "g" / "good.yaml").write_text(GOOD)
        (in_tmp / "g" / ".cache" / "bad.yaml").write_text(BAD)
        code, out, _ = invoke("group", "validate", "g")
        assert code == 0, out
        assert "demo.broken" not in out

    def test_json_shape(self, in_tmp: Path, invoke) -> None:
        """--format json prints valid, groups and findings with the documented keys."""
        (in_tmp / "good.yaml").write_text(GOOD)
        (in_tmp / "bad.yaml").write_text(BAD)
        code, out, _ = invoke("group", "validate", "good.yaml", "bad.yaml", "--format", "json")
        assert code == 1
        data = json.loads(out)
        assert data["valid"] is False
        assert [(g["name"], g["valid"], g["steps"]) for g in data["groups"]] == [
            ("demo.weekly", True, 3),
            ("demo.broken", False, 2),
        ]
        assert {"name", "file", "valid", "steps"} <= set(data["groups"][0])
        (finding,) = data["findings"]
        assert set(finding) >= {"code", "severity", "message", "file", "line", "column", "group", "step"}
        assert (finding["code"], finding["severity"], finding["file"], finding["line"], finding["column"]) == (
            "missing-dependency",
            "error",
            "bad.yaml",
            7,
            64,
        )
        assert (finding["group"], finding["step"]) == ("demo.broken", "normalize")

    def test_all_valid_exit_0(self, in_tmp: Path, invoke) -> None:
        """Only valid groups → exit 0 and valid true."""
        (in_tmp / "good.yaml").write_text(GOOD)
        code, out, _ = invoke("group", "validate", "good.yaml", "--format", "json")
        assert code == 0
        assert json.loads(out)["valid"] is True

    def test_missing_path_is_usage_error(self, in_tmp: Path, invoke) -> None:
        """A missing path exits 2 and names it on stderr."""
        code, _, err = invoke("group", "validate", "nope.yaml")
        assert code == 2
        assert "nope.yaml" in err

    def test_yaml_syntax_error_exit_1_located(self, in_tmp: Path, invoke) -> None:
        """A YAML syntax error exits 1 with its location, not a traceback."""
        (in_tmp / "broken.yaml").write_text("apiVersion: spine.io/v1\nkind: [\n")
        code, out, err = invoke("group", "validate", "broken.yaml")
        assert code == 1
        assert "broken.yaml:" in out
        assert "Traceback" not in out + err

    def test_no_configuration_says_not_checked(self, in_tmp: Path, invoke) -> None:
        """Without configuration a FILE validates and the output says pipelines were not checked."""
        (in_tmp / "good.yaml").write_text(GOOD)
        code, out, _ = invoke("group", "validate", "good.yaml")
        assert code == 0
        assert "pipelines not checked" in out

    def test_no_configuration_json_flag(self, in_tmp: Path, invoke) -> None:
        """JSON output says pipelines_checked false without configuration."""
        (in_tmp / "good.yaml").write_text(GOOD)
        _, out, _ = invoke("group", "validate", "good.yaml", "--format", "json")
        assert json.loads(out)["pipelines_checked"] is False

    def test_no_paths_no_configuration_is_usage_error(self, in_tmp: Path, invoke) -> None:
        """validate without paths and without configured groups exits 2."""
        assert invoke("group", "validate")[0] == 2

    def test_configured_groups_when_no_paths(self, configured: Path, invoke) -> None:
        """validate without paths checks the configured groups folder."""
        code, out, _ = invoke("group", "validate", "--format", "json")
        assert {g["name"] for g in json.loads(out)["groups"]} == {"demo.weekly", "demo.one", "demo.two"}
        assert json.loads(out)["pipelines_checked"] is True
        assert code == 1  # demo.a and demo.b are not registered

    def test_warning_passes_without_strict(self, configured: Path, invoke) -> None:
        """A required param only the run can give is a warning: exit 0 without --strict."""
        code, out, _ = invoke("group", "validate", "groups/weekly.yaml")
        assert code == 0, out
        assert "required-param-from-run" in out

    def test_strict_turns_warning_into_failure(self, configured: Path, invoke) -> None:
        """--strict makes a warning fail the run with exit 1."""
        code, out, _ = invoke("group", "validate", "groups/weekly.yaml", "--strict", "--format", "json")
        assert code == 1
        data = json.loads(out)
        assert data["valid"] is False
        assert [f["severity"] for f in data["findings"]] == ["warning"]

    def test_unknown_pipeline_with_configuration(self, configured: Path, invoke) -> None:
        """With pipelines registered, an unknown pipeline is an error with a suggestion."""
        (configured / "typo.yaml").write_text(SIMPLE.replace("demo.a", "demo.ingset"))
        code, out, _ = invoke("group", "validate", "typo.yaml")
        assert code == 1
        assert "unknown-pipeline" in out and "did you mean 'demo.ingest'" in out


class TestPlan:
    def test_text(self, in_tmp: Path, invoke) -> None:
        """plan prints the steps in order, generations and the critical path."""
        (in_tmp / "g.yaml").write_text(GOOD)
        code, out, err = invoke("group", "plan", "g.yaml", "--param", "tier=T1", "--batch-id", "b-1")
        assert code == 0, err
        assert "demo.weekly v1" in out and "b-1" in out
        assert out.index("ingest") < out.index("normalize") < out.index("share")
        assert "critical path (3 steps): ingest -> normalize -> share" in out
        assert "pipelines not checked" in err

    def test_json_steps(self, in_tmp: Path, invoke) -> None:
        """plan --json gives steps with order, generation and rendered params."""
        (in_tmp / "g.yaml").write_text(GOOD)
        data = plan_json(invoke, "g.yaml", "--param", "tier=T1")
        assert [(s["name"], s["sequence_order"], s["generation"]) for s in data["steps"]] == [
            ("ingest", 0, 0),
            ("normalize", 1, 1),
            ("share", 2, 2),
        ]
        assert data["steps"][2]["params"] == {"tier": "T1"}
        assert data["pipelines_checked"] is False

    def test_batch_id_option(self, in_tmp: Path, invoke) -> None:
        """--batch-id is used as the plan's batch id."""
        (in_tmp / "g.yaml").write_text(GOOD)
        assert plan_json(invoke, "g.yaml", "--param", "tier=T1", "--batch-id", "fixed-7")["batch_id"] == "fixed-7"

    def test_default_batch_id_format(self, in_tmp: Path, invoke) -> None:
        """Without --batch-id the id is group_<name>_<stamp>_<8 hex>."""
        import re

        (in_tmp / "g.yaml").write_text(GOOD)
        batch = plan_json(invoke, "g.yaml", "--param", "tier=T1")["batch_id"]
        assert re.fullmatch(r"group_demo\.weekly_\d{8}T\d{6}_[0-9a-f]{8}", batch)

    @pytest.mark.parametrize(
        ("item", "key", "value"),
        [
            ("n=5", "n", 5),
            ("b=true", "b", True),
            ("x=a=b", "x", "a=b"),
            ('s="5"', "s", "5"),
            ("f=1.5", "f", 1.5),
            ("e=", "e", ""),
            ("t=NMS_TIER_1", "t", "NMS_TIER_1"),
        ],
    )
    def test_param_yaml_scalars(self, in_tmp: Path, invoke, item: str, key: str, value: object) -> None:
        """--param values are read as YAML scalars."""
        (in_tmp / "g.yaml").write_text(SIMPLE)
        params = plan_json(invoke, "g.yaml", "--param", item)["params"]
        assert params == {key: value}
        assert type(params[key]) is type(value)

    def test_param_text_with_colon_stays_text(self, in_tmp: Path, invoke) -> None:
        """An unquoted value with ': ' is kept as text, not turned into a mapping (VALUE is a YAML *scalar*)."""
        (in_tmp / "g.yaml").write_text(SIMPLE)
        assert plan_json(invoke, "g.yaml", "--param", "title=Weekly: FINRA")["params"] == {"title": "Weekly: FINRA"}

    def test_param_without_equals_is_usage_error(self, in_tmp: Path, invoke) -> None:
        """--param without '=' exits 2."""
        (in_tmp / "g.yaml").write_text(SIMPLE)
        assert invoke("group", "plan", "g.yaml", "--param", "novalue")[0] == 2

    def test_invalid_group_exit_1_same_findings_as_validate(self, in_tmp: Path, invoke) -> None:
        """plan of an invalid group exits 1 with the findings validate reports."""
        (in_tmp / "bad.yaml").write_text(BAD)
        code, out, err = invoke("group", "plan", "bad.yaml", "--json")
        assert code == 1
        planned = {(f["code"], f["line"], f["column"]) for f in json.loads(out)["findings"]}
        _, vout, _ = invoke("group", "validate", "bad.yaml", "--format", "json")
        validated = {(f["code"], f["line"], f["column"]) for f in json.loads(vout)["findings"]}
        assert planned == validated == {("missing-dependency", 7, 64)}
        assert "bad.yaml:7:64" in err

    def test_undefined_template_exit_1(self, in_tmp: Path, invoke) -> None:
        """A missing run param for a template exits 1 naming it."""
        (in_tmp / "g.yaml").write_text(GOOD)
        code, _, err = invoke("group", "plan", "g.yaml")
        assert code == 1
        assert "error missing-run-param" in err and "run param 'tier' is not given" in err

    def test_unknown_group_name_suggests(self, configured: Path, invoke) -> None:
        """An unknown group NAME is a usage error (exit 2, like a missing file) with a did-you-mean."""
        code, _, err = invoke("group", "plan", "demo.weekyl")
        assert code == 2
        assert "did you mean 'demo.weekly'" in err

    def test_registered_name_plans(self, configured: Path, invoke) -> None:
        """A configured group plans by NAME with pipelines checked."""
        data = plan_json(invoke, "demo.weekly", "--param", "tier=T1", "--param", "week=2024-01-05")
        assert data["pipelines_checked"] is True
        assert data["steps"][0]["params"] == {"tier": "T1", "week": "2024-01-05"}
        assert data["steps"][1]["params"] == {"tier": "T1"}

    def test_python_registered_group_plans(self, in_tmp: Path, invoke) -> None:
        """A group registered in Python is found by name."""
        register_group(PipelineGroup(name="py.group").add("a", "p.a"))
        assert plan_json(invoke, "py.group")["group"]["name"] == "py.group"

    def test_choice_violation_exit_1(self, configured: Path, invoke) -> None:
        """A run param outside a ParamDef's choices exits 1 with invalid-param."""
        code, _, err = invoke("group", "plan", "demo.weekly", "--param", "tier=T9", "--param", "week=2024-01-05")
        assert code == 1
        assert "invalid-param" in err

    def test_two_groups_need_group_option(self, in_tmp: Path, invoke) -> None:
        """A file with two groups exits 2 without --group, naming both."""
        (in_tmp / "two.yaml").write_text(TWO)
        code, _, err = invoke("group", "plan", "two.yaml")
        assert code == 2
        assert "demo.one" in err and "demo.two" in err and "--group" in err

    def test_group_option_picks_one(self, in_tmp: Path, invoke) -> None:
        """--group NAME picks a group from a file holding several."""
        (in_tmp / "two.yaml").write_text(TWO)
        assert plan_json(invoke, "two.yaml", "--group", "demo.two")["steps"][0]["name"] == "b"

    def test_group_option_unknown_is_usage_error(self, in_tmp: Path, invoke) -> None:
        """--group naming no group of the file exits 2."""
        (in_tmp / "two.yaml").write_text(TWO)
        assert invoke("group", "plan", "two.yaml", "--group", "demo.three")[0] == 2

    def test_missing_file_is_usage_error(self, in_tmp: Path, invoke) -> None:
        """A FILE argument that does not exist exits 2."""
        assert invoke("group", "plan", "missing.yaml")[0] == 2


class TestListAndShow:
    def test_group_list(self, configured: Path, invoke) -> None:
        """group list shows every configured group."""
        code, out, _ = invoke("group", "list")
        assert code == 0
        assert all(name in out for name in ("demo.weekly", "demo.one", "demo.two"))

    def test_group_list_domain(self, configured: Path, invoke) -> None:
        """group list --domain shows only that domain's groups."""
        code, out, _ = invoke("group", "list", "--domain", "two", "--json")
        assert code == 0
        assert [g["name"] for g in json.loads(out)] == ["demo.two"]

    def test_group_list_empty(self, in_tmp: Path, invoke) -> None:
        """group list with nothing configured exits 0 and says so."""
        code, out, _ = invoke("group", "list")
        assert code == 0
        assert "no groups registered" in out

    def test_show_name_text(self, configured: Path, invoke) -> None:
        """group show NAME prints metadata and steps."""
        code, out, _ = invoke("group", "show", "demo.weekly")
        assert code == 0
        assert "demo.weekly v1" in out and "A demo" in out
        assert "normalize  [demo.normalize]  ← ingest" in out

    def test_show_file_yaml_round_trips(self, in_tmp: Path, invoke) -> None:
        """group show FILE --format yaml prints YAML that loads back to an equal group."""
        (in_tmp / "g.yaml").write_text(GOOD)
        code, out, _ = invoke("group", "show", "g.yaml", "--format", "yaml")
        assert code == 0
        assert load_group_from_text(out) == load_group_from_text(GOOD)

    def test_show_file_json(self, in_tmp: Path, invoke) -> None:
        """group show FILE --format json prints the group's document."""
        (in_tmp / "g.yaml").write_text(GOOD)
        code, out, _ = invoke("group", "show", "g.yaml", "--format", "json")
        assert code == 0
        assert json.loads(out) == load_group_from_text(GOOD).to_dict()

    def test_show_two_groups_needs_group(self, in_tmp: Path, invoke) -> None:
        """group show on a two-group file exits 2 without --group and works with it."""
        (in_tmp / "two.yaml").write_text(TWO)
        assert invoke("group", "show", "two.yaml")[0] == 2
        code, out, _ = invoke("group", "show", "two.yaml", "--group", "demo.one", "--format", "json")
        assert code == 0 and json.loads(out)["metadata"]["name"] == "demo.one"

    def test_pipeline_list(self, configured: Path, invoke) -> None:
        """pipeline list shows registered pipelines with their params."""
        code, out, _ = invoke("pipeline", "list")
        assert code == 0
        assert "demo.ingest" in out and "Ingest a week" in out
        assert "week: date; required" in out

    def test_pipeline_list_json(self, configured: Path, invoke) -> None:
        """pipeline list --json lists each pipeline's params."""
        code, out, _ = invoke("pipeline", "list", "--json")
        assert code == 0
        by_name = {p["name"]: p for p in json.loads(out)}
        assert set(by_name) == {"demo.ingest", "demo.normalize", "demo.share"}
        assert [p["name"] for p in by_name["demo.ingest"]["params"]] == ["tier", "week"]

    def test_pipeline_list_empty(self, in_tmp: Path, invoke) -> None:
        """pipeline list without configuration exits 0 and says none are registered."""
        code, out, _ = invoke("pipeline", "list")
        assert code == 0
        assert "no pipelines registered" in out


class TestSchema:
    @pytest.fixture
    def schema(self, invoke) -> dict:
        code, out, _ = invoke("schema")
        assert code == 0
        return json.loads(out)

    def test_valid_draft_2020_12(self, schema: dict) -> None:
        """spine schema prints a valid Draft 2020-12 JSON Schema."""
        from jsonschema import Draft202012Validator

        Draft202012Validator.check_schema(schema)

    def test_accepts_a_group(self, schema: dict) -> None:
        """The schema accepts a valid group document."""
        from jsonschema import Draft202012Validator

        Draft202012Validator(schema).validate(yaml.safe_load(GOOD))

    def test_rejects_unknown_key(self, schema: dict) -> None:
        """The schema rejects an unknown top-level key, as the loader does."""
        from jsonschema import Draft202012Validator

        doc = yaml.safe_load(GOOD)
        doc["extra"] = 1
        assert not Draft202012Validator(schema).is_valid(doc)

    @pytest.mark.parametrize(
        "path", sorted((REPO / "examples" / "groups").glob("*.yaml")), ids=lambda p: p.name
    )
    def test_validates_examples(self, schema: dict, path: Path) -> None:
        """Every bundled example group is valid under the schema."""
        from jsonschema import Draft202012Validator

        validator = Draft202012Validator(schema)
        for doc in yaml.safe_load_all(path.read_text(encoding="utf-8")):
            if doc is not None:
                errors = [e.message for e in validator.iter_errors(doc)]
                assert errors == []


class TestOutputHygiene:
    def test_description_escape_shown_escaped(self, in_tmp: Path, invoke) -> None:
        """An ANSI escape in a description is printed escaped by group show."""
        text = GOOD.replace("description: A demo", 'description: "red \\e[31mALERT"')
        (in_tmp / "g.yaml").write_text(text)
        code, out, _ = invoke("group", "show", "g.yaml")
        assert code == 0
        assert "\x1b" not in out
        assert "\\u001b[31mALERT" in out

    def test_file_name_escape_shown_escaped(self, in_tmp: Path, invoke) -> None:
        """An ANSI escape in a group file's name is printed escaped by validate."""
        name = "bad\x1b[31m.yaml"
        (in_tmp / name).write_text(BAD)
        code, out, err = invoke("group", "validate", name)
        assert code == 1
        assert "\x1b" not in out + err
        assert "bad\\u001b[31m.yaml" in out

    def test_pipeline_name_escape_in_plan(self, in_tmp: Path, invoke) -> None:
        """An ANSI escape in a pipeline name is printed escaped by plan."""
        (in_tmp / "g.yaml").write_text(SIMPLE.replace("pipeline: demo.a", 'pipeline: "demo\\e[2Ja"'))
        code, out, err = invoke("group", "plan", "g.yaml")
        assert code == 0, err
        assert "\x1b" not in out + err

    def test_param_value_escape_in_plan(self, in_tmp: Path, invoke) -> None:
        """An ANSI escape in a --param value is not printed raw by plan."""
        (in_tmp / "g.yaml").write_text(SIMPLE)
        code, out, err = invoke("group", "plan", "g.yaml", "--param", "x=a\x1b[31mb")
        assert code == 0, err
        assert "\x1b" not in out + err

    def test_missing_file_escape_in_error(self, in_tmp: Path, invoke) -> None:
        """A missing path with an escape in its name is printed escaped on stderr."""
        code, _, err = invoke("group", "validate", "no\x1b[31m.yaml")
        assert code == 2
        assert "\x1b" not in err


def _run_spine(*args: str, cwd: Path) -> subprocess.CompletedProcess:
    env = {k: v for k, v in os.environ.items() if not k.startswith("SPINE_")}
    return subprocess.run([str(SPINE), *args], cwd=cwd, env=env, capture_output=True, text=True, timeout=60)


@pytest.mark.skipif(not SPINE.exists(), reason="the spine script is not installed in .venv")
class TestInstalledScript:
    def test_version(self, tmp_path: Path) -> None:
        """The installed spine script prints its version and exits 0."""
        result = _run_spine("--version", cwd=tmp_path)
        assert result.returncode == 0
        assert result.stdout.strip() == f"spine {spine.__version__}"

    def test_validate_invalid_exits_1_on_stdout(self, tmp_path: Path) -> None:
        """The installed script exits 1 on an invalid group and reports it on stdout, no traceback."""
        (tmp_path / "bad.yaml").write_text(BAD)
        result = _run_spine("group", "validate", "bad.yaml", cwd=tmp_path)
        assert result.returncode == 1
        assert "bad.yaml:7:64" in result.stdout
        assert "Traceback" not in result.stderr

    def test_plan_json_stdout_is_pure_json(self, tmp_path: Path) -> None:
        """plan --json through the installed script prints only JSON on stdout; notes go to stderr."""
        (tmp_path / "g.yaml").write_text(GOOD)
        result = _run_spine("group", "plan", "g.yaml", "--param", "tier=T2", "--json", cwd=tmp_path)
        assert result.returncode == 0, result.stderr
        assert json.loads(result.stdout)["steps"][0]["params"] == {"tier": "T2"}

    def test_help_does_not_import_heavy_modules(self) -> None:
        """spine --help imports neither networkx nor jinja2 nor the pipeline modules (start-up stays fast)."""
        code = (
            "import sys\n"
            "from spine.cli.app import run\n"
            "assert run(['--help']) == 0\n"
            "print(sorted(m for m in ('networkx', 'jinja2', 'yaml', 'examples.pipelines') if m in sys.modules))\n"
        )
        result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60, cwd=REPO)
        assert result.returncode == 0, result.stderr
        assert result.stdout.strip().splitlines()[-1] == "[]"
