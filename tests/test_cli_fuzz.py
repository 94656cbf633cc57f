"""`spine group fuzz` through the real entry point: finds what breaks, stays reproducible."""

from __future__ import annotations

import json
import sys
import textwrap
import uuid
from pathlib import Path

import pytest

PIPELINES = textwrap.dedent(
    """
    from spine.framework import ParamDef, register_pipeline

    @register_pipeline("demo.load", params=[
        ParamDef("symbols", list, required=True),
        ParamDef("first", str),
        ParamDef("mode", str, choices=["full", "delta"], default="full"),
    ])
    def load(params, ctx):
        return None
    """
)

GROUP = textwrap.dedent(
    """
    apiVersion: spine.io/v1
    kind: PipelineGroup
    metadata: {{name: demo.fuzz}}
    spec:
      defaults: {{symbols: "{{{{ params.symbols }}}}"}}
      pipelines:
        - name: load
          pipeline: demo.load
          params: {{first: "{first}"}}
        - name: again
          pipeline: demo.load
          depends_on: [load]
    """
)


@pytest.fixture
def project(in_tmp: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A project whose pipelines module registers demo.load, configured in spine.toml."""
    module = f"fuzz_demo_pipelines_{uuid.uuid4().hex}"  # a fresh import in every test
    (in_tmp / f"{module}.py").write_text(PIPELINES)
    (in_tmp / "spine.toml").write_text(f'pipelines = ["{module}"]\n')
    monkeypatch.setattr(sys, "path", list(sys.path))
    (in_tmp / "groups").mkdir()
    return in_tmp


def test_template_that_breaks_for_an_empty_list_is_found(project: Path, invoke) -> None:
    """A template indexing the first symbol fails for [], and fuzz shrinks to exactly that."""
    (project / "groups" / "g.yaml").write_text(GROUP.format(first="{{ params.symbols[0] }}"))
    code, out, err = invoke("group", "fuzz", "groups", "--examples", "60", "--seed", "3", "--format", "json")
    assert code == 1, out + err
    data = json.loads(out)
    (result,) = data["results"]
    check = next(c for c in result["checks"] if c["name"] == "valid run params")
    assert check["ok"] is False
    assert check["counterexample"]["example"]["symbols"] == []
    assert {f["code"] for f in check["counterexample"]["findings"]} == {"template-error"}


def test_a_sound_group_passes_every_check(project: Path, invoke) -> None:
    """A group whose templates hold for every valid value passes all three checks (exit 0)."""
    (project / "groups" / "g.yaml").write_text(GROUP.format(first="{{ params.symbols | length }} symbols"))
    code, out, err = invoke("group", "fuzz", "groups", "--examples", "40", "--seed", "1", "--format", "json")
    data = json.loads(out)
    assert code == 0, out + err
    assert [(c["name"], c["ok"], c["skipped"]) for c in data["results"][0]["checks"]] == [
        ("valid run params", True, None),
        ("invalid run params", True, None),
        ("mutations", True, None),
    ]


def test_same_seed_same_counterexample(project: Path, invoke) -> None:
    """Two runs with one seed print the same counterexample."""
    (project / "groups" / "g.yaml").write_text(GROUP.format(first="{{ params.symbols[1] }}"))
    runs = [invoke("group", "fuzz", "groups", "--examples", "50", "--seed", "7", "--format", "json") for _ in range(2)]
    assert runs[0][0] == runs[1][0] == 1
    assert json.loads(runs[0][1])["results"] == json.loads(runs[1][1])["results"]


def test_text_output_says_how_to_reproduce(project: Path, invoke) -> None:
    """Text output shows the counterexample and the seed to rerun it with."""
    (project / "groups" / "g.yaml").write_text(GROUP.format(first="{{ params.symbols[0] }}"))
    code, out, err = invoke("group", "fuzz", "groups", "--examples", "40", "--seed", "11")
    assert code == 1
    assert "minimal counterexample" in out and '"symbols": []' in out
    assert "--seed 11" in out
    assert "valid run params" in err  # progress goes to stderr


def test_invalid_group_is_not_fuzzed_and_fails(project: Path, invoke) -> None:
    """An invalid group is reported (exit 1), not fuzzed."""
    (project / "groups" / "g.yaml").write_text(GROUP.format(first="x").replace("depends_on: [load]", "depends_on: [lod]"))
    code, out, _ = invoke("group", "fuzz", "groups", "--examples", "5", "--seed", "1")
    assert code == 1
    assert "not fuzzed" in out


def _reproduce_args(command: str) -> list[str]:
    """The arguments after ``spine`` in a printed command, split as a POSIX shell would."""
    import shlex

    words = shlex.split(command)
    assert words[0] == "spine"
    return words[1:]


def test_printed_command_reproduces_the_failure(project: Path, invoke) -> None:
    """The `reproduce` command of a counterexample, run through the CLI, fails with the same findings."""
    (project / "groups" / "g.yaml").write_text(GROUP.format(first="{{ params.symbols[0] }}"))
    code, out, _ = invoke("group", "fuzz", "groups", "--examples", "60", "--seed", "3", "--format", "json")
    assert code == 1
    check = next(c for c in json.loads(out)["results"][0]["checks"] if c["name"] == "valid run params")
    expected = check["counterexample"]["findings"]
    code, plan_out, _ = invoke(*_reproduce_args(check["counterexample"]["reproduce"]), "--json")
    assert code == 1
    assert json.loads(plan_out)["findings"] == expected


def test_text_output_prints_the_command(project: Path, invoke) -> None:
    """Text output prints a `reproduce:` line with a ready-to-run spine group plan command."""
    (project / "groups" / "g.yaml").write_text(GROUP.format(first="{{ params.symbols[0] }}"))
    code, out, _ = invoke("group", "fuzz", "groups", "--examples", "40", "--seed", "11")
    assert code == 1
    line = next(x for x in out.splitlines() if x.strip().startswith("reproduce:"))
    assert line.split("reproduce: ", 1)[1].startswith("spine group plan groups/g.yaml --param ")


def test_mutations_get_no_command(project: Path, invoke) -> None:
    """A mutation counterexample is an edit of the group, not run params: it gets no `reproduce`."""
    (project / "groups" / "g.yaml").write_text(GROUP.format(first="{{ params.symbols | length }} symbols"))
    code, out, _ = invoke("group", "fuzz", "groups", "--examples", "20", "--seed", "1", "--format", "json")
    assert code == 0
    assert all(c["counterexample"] is None for c in json.loads(out)["results"][0]["checks"])


RUN_DATE_GROUP = textwrap.dedent(
    """
    apiVersion: spine.io/v1
    kind: PipelineGroup
    metadata: {name: demo.year}
    spec:
      pipelines:
        - name: a
          pipeline: demo.any
          params: {year: "{{ params.run_date.year }}"}
    """
)


@pytest.mark.parametrize(
    ("value", "code", "says"),
    [("2000-01-01", 1, "params.run_date is a str ('2000-01-01'), which has no attribute 'year'"), (__import__("datetime").date(2000, 1, 1), 0, "")],
    ids=["string", "date"],
)
def test_command_keeps_the_type_of_a_date_like_string(in_tmp: Path, invoke, value: object, code: int, says: str) -> None:
    """{"run_date": "2000-01-01"} as a str reproduces the str (the template fails); as a date, the date (it plans)."""
    from spine.cli.reproduce import plan_command

    (in_tmp / "g.yaml").write_text(RUN_DATE_GROUP)
    command = plan_command(["g.yaml"], {"run_date": value}, config="/dev/null")
    assert command is not None
    got, _, err = invoke(*_reproduce_args(command))
    assert got == code, err
    assert says in err


def test_each_file_is_read_once(project: Path, invoke, monkeypatch: pytest.MonkeyPatch) -> None:
    """fuzz reads and checks the groups once (the groups it fuzzes come from that check)."""
    import spine.orchestration.loader as loader

    reads: list[str] = []
    real = loader.read_file

    def counting(path, limits=None):  # a spy with read_file's signature
        reads.append(str(path))
        return real(path, limits)

    monkeypatch.setattr(loader, "read_file", counting)
    (project / "groups" / "g.yaml").write_text(GROUP.format(first="{{ params.symbols | length }}"))
    invoke("group", "fuzz", "groups", "--examples", "3", "--seed", "1", "--format", "json")
    assert reads == [str(Path("groups") / "g.yaml")]
