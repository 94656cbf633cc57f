"""Groups made of groups: the ``group:`` step key, the planner's inline expansion, the
checks on the nesting (unknown groups, cycles across files, depth, name clashes), the
drawings, and runs through the real CLI and store."""

from __future__ import annotations

import json
import textwrap
from pathlib import Path

import pytest
from _db import db_url  # noqa: F401 - fixture
from spine.core.errors import CycleDetectedError, InvalidGroupSpecError, PlanResolutionError
from spine.core.findings import Code
from spine.orchestration import PipelineGroup, PipelineStep, PlanResolver, group_to_yaml, load_group_from_text, load_groups
from spine.orchestration.nesting import GroupSource, NestedIn, check_nesting, flatten
from spine.orchestration.planner import ExecutionPlan, validate_group
from spine.orchestration.registry import GroupRegistry
from spine.render import build_graph_view, to_dot, to_mermaid

REPO = Path(__file__).resolve().parents[1]


def _doc(name: str, steps: str, policy: str = "") -> str:
    return textwrap.dedent(
        f"""\
        apiVersion: spine.io/v1
        kind: PipelineGroup
        metadata:
          name: {name}
        spec:
          pipelines:
        """
    ) + textwrap.indent(textwrap.dedent(steps), "    ") + policy


def _inner() -> PipelineGroup:
    return (
        PipelineGroup(name="inner", version=3, defaults={"day": "{{ params.day }}"})
        .add("ingest", "p.ingest")
        .add("norm", "p.norm", depends_on=["ingest"])
        .add("side", "p.side")
    )


def _registry(*groups: PipelineGroup) -> GroupRegistry:
    r = GroupRegistry()
    for g in groups:
        r.register(g)
    return r


class TestFormat:
    def test_group_step_loads_and_round_trips(self) -> None:
        """A step with ``group:`` loads with an empty pipeline, and YAML ↔ model round-trips it."""
        g = load_group_from_text(_doc("outer", "- name: prices\n  group: market_data.daily_prices\n  params: {trade_date: x}\n"))
        step = g.steps[0]
        assert (step.group, step.pipeline, step.is_group, dict(step.params)) == ("market_data.daily_prices", "", True, {"trade_date": "x"})
        assert load_group_from_text(group_to_yaml(g)) == g
        assert "pipeline" not in g.to_dict()["spec"]["pipelines"][0]

    def test_both_pipeline_and_group_is_a_located_finding(self) -> None:
        """A step with both keys is ``pipeline-and-group``, at the ``group`` key's line."""
        with pytest.raises(InvalidGroupSpecError) as info:
            load_group_from_text(_doc("outer", "- name: a\n  pipeline: p.a\n  group: inner\n"), file="both.yaml")
        (f,) = info.value.findings
        assert (f.code, f.file, f.line) == (Code.PIPELINE_AND_GROUP, "both.yaml", 9)
        assert "remove one" in f.message

    def test_neither_pipeline_nor_group_names_both(self) -> None:
        """A step with neither key is ``missing-key`` and the message offers both keys."""
        with pytest.raises(InvalidGroupSpecError) as info:
            load_group_from_text(_doc("outer", "- name: a\n"))
        (f,) = info.value.findings
        assert f.code == Code.MISSING_KEY and "pipeline: NAME" in f.message and "group: NAME" in f.message

    def test_a_bad_group_name_is_invalid(self) -> None:
        """``group:`` must follow the group name rules."""
        with pytest.raises(InvalidGroupSpecError) as info:
            load_group_from_text(_doc("outer", "- name: a\n  group: 'not a name'\n"))
        assert [f.code for f in info.value.findings] == [Code.INVALID_NAME]

    def test_json_schema_agrees(self) -> None:
        """The shipped JSON Schema accepts a group step and refuses both keys and neither."""
        import jsonschema
        import yaml

        from spine.orchestration.schema import group_schema

        schema = group_schema()
        ok = yaml.safe_load(_doc("outer", "- name: a\n  group: inner\n"))
        jsonschema.validate(ok, schema)
        for bad in ("- name: a\n  group: inner\n  pipeline: p\n", "- name: a\n"):
            with pytest.raises(jsonschema.ValidationError):
                jsonschema.validate(yaml.safe_load(_doc("outer", bad)), schema)

    def test_dsl_add_group_equals_yaml(self) -> None:
        """``add_group`` builds the same model as the YAML."""
        dsl = PipelineGroup(name="outer").add_group("prices", "inner", params={"day": 1}, depends_on="start")
        yml = load_group_from_text(_doc("outer", "- name: prices\n  group: inner\n  depends_on: [start]\n  params: {day: 1}\n"))
        assert dsl == yml
        assert dsl.steps[0] == PipelineStep("prices", params={"day": 1}, depends_on=("start",), group="inner")


class TestExpansion:
    def test_names_and_edges(self) -> None:
        """Inner steps are ``<step>/<inner>``; first steps wait for the step's deps; dependents wait for every last step."""
        outer = PipelineGroup(name="outer").add("start", "p.s").add_group("b", "inner", depends_on=["start"], params={"day": 1}).add("end", "p.e", depends_on=["b"])
        plan = PlanResolver(groups=_registry(_inner())).resolve(outer)
        deps = {s.name: s.depends_on for s in plan.steps}
        assert plan.order == ["start", "b/ingest", "b/norm", "b/side", "end"]
        assert deps == {"start": (), "b/ingest": ("start",), "b/norm": ("b/ingest",), "b/side": ("start",), "end": ("b/norm", "b/side")}
        assert [s.sequence_order for s in plan.steps] == list(range(5))
        assert plan.generations == (("start",), ("b/ingest", "b/side"), ("b/norm",), ("end",))

    def test_step_params_are_the_nested_run_params(self) -> None:
        """The step's params, rendered with the outer run params, are the nested group's run params."""
        outer = PipelineGroup(name="outer").add_group("b", "inner", params={"day": "{{ params.when }}"})
        plan = PlanResolver(groups=_registry(_inner())).resolve(outer, {"when": "2024-01-05"})
        assert plan.step("b/ingest").params["day"] == "2024-01-05"
        assert plan.step("b/ingest").param_sources["day"].layer.value == "run"  # offered to every nested step

    def test_a_missing_nested_run_param_says_which_step_called(self) -> None:
        """A nested template that needs a param the step did not pass names the calling step."""
        outer = PipelineGroup(name="outer").add_group("b", "inner")
        with pytest.raises(PlanResolutionError) as info:
            PlanResolver(groups=_registry(_inner())).resolve(outer)
        assert all("called by step 'b' of 'outer'" in f.message for f in info.value.findings)
        assert {f.code for f in info.value.findings} == {Code.TEMPLATE_UNDEFINED}

    def test_nested_in_nested_keeps_the_origin(self) -> None:
        """Three levels give ``a/b/c`` names, and each step keeps its nesting path with names and versions."""
        mid = PipelineGroup(name="mid").add("pre", "p.pre").add_group("b", "inner", depends_on=["pre"], params={"day": "{{ params.day }}"})
        outer = PipelineGroup(name="outer").add_group("a", "mid", params={"day": 7}).add("end", "p.e", depends_on=["a"])
        plan = PlanResolver(groups=_registry(_inner(), mid)).resolve(outer)
        step = plan.step("a/b/norm")
        assert step.nesting == (NestedIn("a", "mid", 1), NestedIn("a/b", "inner", 3))
        assert step.nested_in == NestedIn("a/b", "inner", 3)
        assert plan.step("a/pre").nesting == (NestedIn("a", "mid", 1),)
        assert plan.step("end").depends_on == ("a/b/norm", "a/b/side") and plan.step("end").nesting == ()
        assert plan.step("a/b/ingest").depends_on == ("a/pre",)

    def test_plan_round_trips_with_its_nesting(self) -> None:
        """A nested plan survives ``to_dict``/``from_dict`` and pickling."""
        import pickle

        outer = PipelineGroup(name="outer").add_group("b", "inner", params={"day": 1})
        plan = PlanResolver(groups=_registry(_inner())).resolve(outer)
        assert ExecutionPlan.from_dict(json.loads(json.dumps(plan.to_dict()))) == plan
        assert pickle.loads(pickle.dumps(plan)) == plan
        assert plan.to_dict()["steps"][0]["nesting"] == [{"step": "b", "group": "inner", "version": 3}]

    def test_nested_policy_applies_to_its_steps(self) -> None:
        """A nested step's retries and pool come from its own group's policy."""
        inner = PipelineGroup(name="inner").add("x", "p.x").with_policy(retries=2, pool="db")
        plan = PlanResolver(groups=_registry(inner)).resolve(PipelineGroup(name="outer").add_group("b", "inner"))
        assert (plan.step("b/x").retries, plan.step("b/x").pool) == (2, "db")

    def test_flatten_agrees_with_the_planner(self) -> None:
        """The drawing's expansion gives the plan's names, order and dependencies."""
        mid = PipelineGroup(name="mid").add("pre", "p.pre").add_group("b", "inner", depends_on=["pre"], params={"day": 1})
        outer = PipelineGroup(name="outer").add("s", "p.s").add_group("a", "mid", depends_on=["s"]).add("end", "p.e", depends_on=["a", "s"])
        groups = _registry(_inner(), mid)
        plan = PlanResolver(groups=groups).resolve(outer)
        flat, nesting = flatten(outer, GroupSource.of(groups))
        assert [(s.name, s.depends_on) for s in flat.steps] == [(s.name, s.depends_on) for s in plan.steps]
        assert nesting == {s.name: s.nesting for s in plan.steps}


class TestChecks:
    def test_unknown_group_suggests_the_closest(self) -> None:
        """An unknown group is ``unknown-group`` with a did-you-mean from the known groups."""
        outer = PipelineGroup(name="outer").add_group("b", "inne")
        (f,) = validate_group(outer, groups=_registry(_inner()))
        assert f.code == Code.UNKNOWN_GROUP and "did you mean 'inner'?" in f.message and f.step == "b"
        with pytest.raises(PlanResolutionError):
            PlanResolver(groups=_registry(_inner())).resolve(outer)

    def test_cycle_across_files_names_every_file_and_line(self, tmp_path: Path) -> None:
        """A nests B nests A, in two files: one ``group-cycle`` with the whole path and each file:line."""
        (tmp_path / "a.yaml").write_text(_doc("grp.a", "- name: first\n  pipeline: p.x\n- name: to_b\n  group: grp.b\n"))
        (tmp_path / "b.yaml").write_text(_doc("grp.b", "- name: to_a\n  group: grp.a\n"))
        a, b = load_groups(tmp_path / "a.yaml")[0], load_groups(tmp_path / "b.yaml")[0]
        source = GroupSource([a, b])
        (f,) = check_nesting(a, source)
        assert f.code == Code.GROUP_CYCLE
        assert "grp.a → grp.b → grp.a" in f.message
        assert f"step 'to_b' at {tmp_path / 'a.yaml'}:10" in f.message and f"step 'to_a' at {tmp_path / 'b.yaml'}:8" in f.message
        assert (f.file, f.line) == (str(tmp_path / "a.yaml"), 10)
        with pytest.raises(CycleDetectedError):
            PlanResolver(groups=source).resolve(a)

    def test_a_group_calling_itself_is_a_cycle(self) -> None:
        """A step that calls its own group is a one-hop cycle."""
        g = PipelineGroup(name="selfish").add_group("me", "selfish")
        (f,) = validate_group(g, groups={})
        assert f.code == Code.GROUP_CYCLE and "selfish → selfish" in f.message

    def test_cycle_below_the_checked_group_says_where_it_is_reached(self) -> None:
        """A cycle between two nested groups is reported on the top group with the step that reaches it."""
        b = PipelineGroup(name="b").add_group("to_c", "c")
        c = PipelineGroup(name="c").add_group("to_b", "b")
        top = PipelineGroup(name="top").add_group("enter", "b")
        (f,) = check_nesting(top, GroupSource([b, c]))
        assert "b → c → b" in f.message and "reached from step 'enter'" in f.message

    def test_depth_is_bounded(self) -> None:
        """A chain of nested groups deeper than the limit is one ``nesting-too-deep`` finding naming the chain."""
        chain = [PipelineGroup(name=f"g{i}").add_group("next", f"g{i + 1}") for i in range(12)] + [PipelineGroup(name="g12").add("leaf", "p.x")]
        source = GroupSource(chain)
        found = check_nesting(chain[0], source, max_depth=4)
        assert [f.code for f in found] == [Code.NESTING_TOO_DEEP]
        assert "more than 4 levels" in found[0].message and "g0 → g1 → g2 → g3 → g4 → g5" in found[0].message
        assert check_nesting(chain[8], source, max_depth=4) == []
        with pytest.raises(PlanResolutionError):
            PlanResolver(groups=source, max_nesting=4).resolve(chain[0])
        assert len(PlanResolver(groups=source).resolve(chain[6]).steps) == 1  # 6 levels: within the default limit

    def test_exponential_compositions_are_refused(self) -> None:
        """Groups that each call the next twice would expand to 2**25 steps: refused before planning."""
        gs = [PipelineGroup(name=f"w{i}").add_group("x", f"w{i + 1}").add_group("y", f"w{i + 1}") for i in range(25)]
        gs.append(PipelineGroup(name="w25").add("leaf", "p.x"))
        found = check_nesting(gs[0], GroupSource(gs), max_depth=100)
        assert [f.code for f in found] == [Code.NESTING_TOO_DEEP] and "expands to more than" in found[0].message

    def test_expanded_name_clash(self) -> None:
        """A step named like an expanded step is ``nested-name-clash``."""
        outer = PipelineGroup(name="outer").add_group("b", "inner", params={"day": 1}).add("b/norm", "p.x")
        with pytest.raises(PlanResolutionError) as info:
            PlanResolver(groups=_registry(_inner())).resolve(outer)
        assert [f.code for f in info.value.findings] == [Code.NESTED_NAME_CLASH]


class TestDrawing:
    def _view(self, name: str = "b"):
        outer = PipelineGroup(name="outer").add("start", "p.s").add_group(name, "inner", depends_on=["start"])
        return build_graph_view(outer, groups=_registry(_inner()))

    def test_dot_draws_a_cluster_per_nested_group(self) -> None:
        """DOT puts a nested group's steps inside ``subgraph cluster_…`` labelled with the step and the group."""
        dot = to_dot(self._view())
        assert 'subgraph cluster_c0 {' in dot and "group inner v3" in dot
        inside = dot.split("subgraph cluster_c0 {")[1].split("\t}")[0]
        assert all(f"b/{n}" in inside for n in ("ingest", "norm", "side")) and "start" not in inside

    def test_mermaid_draws_a_subgraph(self) -> None:
        """Mermaid puts the nested steps between ``subgraph c0`` and ``end``."""
        text = to_mermaid(self._view())
        body = text.split('subgraph c0 ["')[1].split("\n    end")[0]
        assert body.count('"]') >= 3 and "inner" in body

    def test_hostile_names_stay_escaped_in_clusters(self) -> None:
        """A calling step's hostile name is escaped in the DOT cluster label and the Mermaid subgraph title."""
        evil = '"]; x -> y; <b>end</b> subgraph'
        view = self._view(evil)
        dot, mer = to_dot(view), to_mermaid(view)
        import re

        assert not re.search(r'(?<!\\)"\]; x -> y', dot) and "&lt;b&gt;end" in dot  # quoted, or an HTML entity
        assert evil not in mer and "<b>end</b>" not in mer and 'subgraph c0 ["#34;' in mer

    def test_invalid_nesting_is_drawn_as_written(self) -> None:
        """A group whose nested group is unknown is drawn unexpanded, the step labelled with its group."""
        view = build_graph_view(PipelineGroup(name="o").add_group("b", "nope"), groups={})
        assert [(n.name, n.pipeline) for n in view.nodes] == [("b", "group nope")] and view.clusters == ()


@pytest.fixture
def repo(monkeypatch: pytest.MonkeyPatch, db_url: str) -> Path:
    """The repository's own configuration (examples), its runs recorded in the test's database."""
    import os

    from conftest import TOOL_VARIABLES

    monkeypatch.chdir(REPO)
    for var in list(os.environ):
        if var.startswith("SPINE_") and var not in TOOL_VARIABLES:
            monkeypatch.delenv(var)
    monkeypatch.setenv("SPINE_DATABASE_URL", db_url)
    monkeypatch.syspath_prepend(str(REPO))
    import importlib
    import sys

    from spine.framework import default_pipeline_registry

    if "finra.otc_transparency.ingest_week" not in default_pipeline_registry:  # imported by an earlier test, then cleared
        module = sys.modules.get("examples.pipelines")
        importlib.reload(module) if module is not None else importlib.import_module("examples.pipelines")
    return REPO


class TestCli:
    def test_validate_reports_an_unknown_group_in_the_file(self, repo: Path, invoke, tmp_path: Path) -> None:
        """``spine group validate`` on a file whose step calls an unknown group exits 1 with a located finding."""
        f = tmp_path / "g.yaml"
        f.write_text(_doc("outer", "- name: prices\n  group: market_data.daily_price\n"))
        code, out, err = invoke("group", "validate", str(f))
        assert code == 1, out + err
        assert f"{f}:8:14: error unknown-group" in out and "did you mean 'market_data.daily_prices'?" in out

    def test_validate_finds_nested_groups_in_the_same_folder(self, repo: Path, invoke, tmp_path: Path) -> None:
        """Groups checked together find each other: a cycle between two files is reported in both."""
        (tmp_path / "a.yaml").write_text(_doc("grp.a", "- name: to_b\n  group: grp.b\n"))
        (tmp_path / "b.yaml").write_text(_doc("grp.b", "- name: to_a\n  group: grp.a\n"))
        code, out, err = invoke("group", "validate", str(tmp_path), "--format", "json")
        assert code == 1, err
        found = json.loads(out)["findings"]
        assert [(f["code"], f["group"]) for f in found] == [("group-cycle", "grp.a"), ("group-cycle", "grp.b")]

    def test_plan_json_of_the_example(self, repo: Path, invoke) -> None:
        """The example composition plans 15 steps with their nesting."""
        code, out, err = invoke("group", "plan", "market.wide_refresh", "--param", "week_ending=2024-01-05", "--json")
        assert code == 0, err
        plan = json.loads(out)
        names = [s["name"] for s in plan["steps"]]
        assert len(names) == 15 and names[0] == "tier1/ingest" and "prices/compute_returns" in names
        fetch = next(s for s in plan["steps"] if s["name"] == "prices/fetch")
        assert fetch["nesting"] == [{"step": "prices", "group": "market_data.daily_prices", "version": 1}]
        assert set(fetch["depends_on"]) == {"tier1/rolling", "tier1/venue_share", "tier2/rolling", "tier2/venue_share"}

    def test_graph_dot_of_the_example_has_clusters(self, repo: Path, invoke) -> None:
        """``spine group graph`` draws the example's three nested groups as clusters."""
        code, out, err = invoke("group", "graph", "market.wide_refresh", "--format", "dot")
        assert code == 0, err
        assert out.count("subgraph cluster_") == 3

    @pytest.mark.parametrize("executor", ["inline", "threads", "processes"])
    def test_run_records_nested_steps_and_runs_show_groups_them(self, repo: Path, invoke, executor: str) -> None:
        """A nested plan runs on each executor into the store, and ``runs show`` prints a heading per nested group."""
        code, out, err = invoke("group", "run", "market.wide_refresh", "--param", "week_ending=2024-01-05", "--executor", executor, "--json")
        assert code == 0, err
        result = json.loads(out)
        assert result["status"] == "completed" and len(result["steps"]) == 15
        code, shown, err = invoke("runs", "show", result["run_id"])
        assert code == 0, err
        lines = shown.splitlines()
        head = lines.index("  ▸ tier2  (group finra.weekly_refresh v1)")
        assert lines[head + 1].startswith("    completed tier2/ingest")
        assert lines[head + 6] == "  ▸ prices  (group market_data.daily_prices v1)"
        code, js, err = invoke("runs", "show", result["run_id"], "--json")
        step = next(s for s in json.loads(js)["steps"] if s["name"] == "prices/fetch")
        assert step["nesting"] == [{"step": "prices", "group": "market_data.daily_prices", "version": 1}]
        assert step["status"] == "completed"

    def test_run_report_shows_the_nesting(self, repo: Path, invoke, tmp_path: Path) -> None:
        """The run report of a composition has a heading per nested group, indented steps and a clustered graph."""
        out_file = tmp_path / "run.html"
        code, out, err = invoke("group", "run", "market.wide_refresh", "--param", "week_ending=2024-01-05", "--executor", "inline", "--report", str(out_file))
        assert code == 0, err
        html = out_file.read_text()
        assert html.count('<tr class="nested-head">') == 3
        assert html.count('data-depth="1"') == 15
        assert "group finra.weekly_refresh v1" in html
        assert 'subgraph cluster_c0' in html or 'id="cluster-c0"' in html or "cluster&#45;c0" in html

    def test_show_and_diff_name_the_group_a_step_calls(self, repo: Path, invoke, tmp_path: Path) -> None:
        """``spine group show`` prints a group step's group, and ``spine group diff`` reports a changed ``group``."""
        code, out, err = invoke("group", "show", "market.wide_refresh")
        assert code == 0, err
        assert "- prices  [group market_data.daily_prices]  ← tier1, tier2" in out
        old, new = tmp_path / "old.yaml", tmp_path / "new.yaml"
        old.write_text(_doc("d", "- name: a\n  group: market_data.daily_prices\n"))
        new.write_text(_doc("d", "- name: a\n  group: finra.weekly_refresh\n"))
        code, out, err = invoke("group", "diff", str(old), str(new))
        assert 'group: "market_data.daily_prices" → "finra.weekly_refresh"' in out, out + err
