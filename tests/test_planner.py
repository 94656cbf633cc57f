"""``PlanResolver.resolve``: the right exception for each kind of problem, the plan's shape and ids."""

from __future__ import annotations

import copy
import dataclasses
import datetime as dt
import pickle
import re
from datetime import UTC, datetime
from typing import Any

import pytest

from spine.core.errors import (
    CycleDetectedError,
    DecodeError,
    DependencyError,
    GroupError,
    InvalidGroupSpecError,
    PlanResolutionError,
)
from spine.core.frozen import thaw
from spine.core.ids import new_batch_id
from spine.framework import PipelineRegistry
from spine.orchestration import ExecutionPlan, PipelineGroup, PipelineStep, PlannedStep, PlanResolver, load_group_from_text

BATCH_ID = re.compile(r"^group_(?P<name>.+)_(?P<stamp>\d{8}T\d{6})_(?P<rand>[0-9a-f]{8})$")


def chain() -> PipelineGroup:
    return (
        PipelineGroup(name="finra.weekly", domain="finra")
        .add("ingest", "p.ingest")
        .add("normalize", "p.norm", depends_on=["ingest"])
        .add("share", "p.share", depends_on=["normalize"])
        .add("aggregate", "p.agg", depends_on=["normalize"])
    )


class TestErrors:
    @pytest.mark.parametrize(
        "cls", [CycleDetectedError, DependencyError, PlanResolutionError, InvalidGroupSpecError]
    )
    def test_subclasses_of_group_error(self, cls: type) -> None:
        """Every planner error is a GroupError."""
        assert issubclass(cls, GroupError)

    def test_cycle_raises_with_cycles(self) -> None:
        """A cycle raises CycleDetectedError carrying the closed path."""
        group = PipelineGroup.from_steps(
            "g", [{"name": "a", "pipeline": "p", "depends_on": ["b"]}, {"name": "b", "pipeline": "p", "depends_on": ["a"]}]
        )
        with pytest.raises(CycleDetectedError) as info:
            PlanResolver().resolve(group)
        assert info.value.cycles == (("a", "b", "a"),)
        assert [f.code for f in info.value.findings] == ["cycle"]

    def test_cycle_wins_over_missing(self) -> None:
        """With both a cycle and a missing dependency, CycleDetectedError carries both findings."""
        group = PipelineGroup.from_steps(
            "g",
            [
                {"name": "a", "pipeline": "p", "depends_on": ["b"]},
                {"name": "b", "pipeline": "p", "depends_on": ["a"]},
                {"name": "c", "pipeline": "p", "depends_on": ["nope"]},
            ],
        )
        with pytest.raises(CycleDetectedError) as info:
            PlanResolver().resolve(group)
        assert sorted(f.code for f in info.value.findings) == ["cycle", "missing-dependency"]

    def test_missing_raises_with_pairs(self) -> None:
        """Missing dependencies raise DependencyError carrying every (step, missing) pair."""
        group = chain().add("x", "p.x", depends_on=["ingset", "ghost"])
        with pytest.raises(DependencyError) as info:
            PlanResolver().resolve(group)
        assert info.value.missing == (("x", "ingset"), ("x", "ghost"))
        assert "did you mean 'ingest'" in str(info.value)

    def test_template_problem_raises_plan_resolution_error(self) -> None:
        """An undefined template name raises PlanResolutionError."""
        group = chain().with_defaults(tier="{{ params.tier }}")
        with pytest.raises(PlanResolutionError):
            PlanResolver().resolve(group)

    def test_unknown_pipeline_raises_plan_resolution_error(self) -> None:
        """With a registry, an unknown pipeline raises PlanResolutionError."""
        with pytest.raises(PlanResolutionError) as info:
            PlanResolver(PipelineRegistry()).resolve(chain())
        assert {f.code for f in info.value.findings} == {"unknown-pipeline"}
        assert len(info.value.findings) == 4

    def test_bad_group_name_raises_invalid_spec(self) -> None:
        """A DSL group named '../x' raises InvalidGroupSpecError."""
        group = PipelineGroup(name="../x", steps=(PipelineStep("a", "p"),))
        with pytest.raises(InvalidGroupSpecError) as info:
            PlanResolver().resolve(group)
        assert [f.code for f in info.value.findings] == ["invalid-name"]

    def test_bad_step_name_raises_invalid_spec(self) -> None:
        """A DSL step name with a control character raises InvalidGroupSpecError."""
        group = PipelineGroup(name="g", steps=(PipelineStep("a\x1bb", "p"),))
        with pytest.raises(InvalidGroupSpecError):
            PlanResolver().resolve(group)

    def test_empty_dsl_group_raises_invalid_spec(self) -> None:
        """A DSL group without steps raises InvalidGroupSpecError."""
        with pytest.raises(InvalidGroupSpecError):
            PlanResolver().resolve(PipelineGroup(name="g"))

    def test_duplicate_steps_raise_invalid_spec(self) -> None:
        """Duplicate step names raise InvalidGroupSpecError."""
        with pytest.raises(InvalidGroupSpecError) as info:
            PlanResolver().resolve(chain().add("ingest", "p.other"))
        assert [f.code for f in info.value.findings] == ["duplicate-step"]

    def test_every_problem_reported_at_once(self) -> None:
        """Several independent problems all end up in one exception."""
        group = chain().add("x", "p", depends_on=["x"]).add("y", "p", depends_on=["nope"])
        with pytest.raises(DependencyError) as info:
            PlanResolver().resolve(group)
        assert sorted(f.code for f in info.value.findings) == ["missing-dependency", "self-dependency"]

    def test_yaml_findings_located(self) -> None:
        """Errors raised for a YAML group carry the file, line and column."""
        text = """\
apiVersion: spine.io/v1
kind: PipelineGroup
metadata: {name: g}
spec:
  pipelines:
    - {name: a, pipeline: p, depends_on: [zz]}
"""
        with pytest.raises(DependencyError) as info:
            PlanResolver().resolve(load_group_from_text(text, file="g.yaml"))
        assert info.value.findings[0].location == "g.yaml:6:43"
        assert "g.yaml:6:43" in str(info.value)


class TestPlan:
    def test_to_dict_shape(self) -> None:
        """to_dict has the documented keys for group, steps, generations and critical path."""
        data = PlanResolver().resolve(chain(), {"tier": "T1"}).to_dict()
        assert {"group", "batch_id", "policy", "steps", "generations", "critical_path"} <= set(data)
        assert data["group"] == {"name": "finra.weekly", "version": 1, "domain": "finra"}
        assert data["policy"] == {"execution": "sequential", "max_concurrency": 4, "on_failure": "stop"}
        assert {"name", "pipeline", "params", "depends_on", "sequence_order", "generation"} <= set(data["steps"][0])
        assert [s["name"] for s in data["steps"]] == ["ingest", "normalize", "share", "aggregate"]
        assert [s["sequence_order"] for s in data["steps"]] == [0, 1, 2, 3]
        assert data["steps"][1]["depends_on"] == ["ingest"]
        assert data["generations"] == [["ingest"], ["normalize"], ["share", "aggregate"]]
        assert data["critical_path"] == ["ingest", "normalize", "share"]

    def test_to_dict_is_json_serialisable(self) -> None:
        """to_dict of a plan holds only JSON types."""
        import json

        plan = PlanResolver().resolve(chain().with_defaults(n=1, flag=True, items=["a"]))
        assert json.loads(json.dumps(plan.to_dict())) == plan.to_dict()

    def test_generation_per_step(self) -> None:
        """Each planned step carries its generation."""
        plan = PlanResolver().resolve(chain())
        assert {s.name: s.generation for s in plan.steps} == {"ingest": 0, "normalize": 1, "share": 2, "aggregate": 2}

    def test_plan_is_frozen(self) -> None:
        """Assigning to a plan or a planned step raises FrozenInstanceError."""
        plan = PlanResolver().resolve(chain())
        with pytest.raises(dataclasses.FrozenInstanceError):
            plan.batch_id = "x"  # type: ignore[misc]
        with pytest.raises(dataclasses.FrozenInstanceError):
            plan.steps[0].sequence_order = 7  # type: ignore[misc]
        assert isinstance(plan.steps, tuple) and isinstance(plan.generations, tuple)

    def test_plan_graph(self) -> None:
        """plan.graph is a DiGraph with an edge dep -> step per dependency."""
        graph = PlanResolver().resolve(chain()).graph
        assert set(graph.edges) == {("ingest", "normalize"), ("normalize", "share"), ("normalize", "aggregate")}

    def test_plan_step_lookup_suggests(self) -> None:
        """plan.step() on an unknown name raises a GroupError with a did-you-mean."""
        with pytest.raises(GroupError, match="did you mean 'normalize'"):
            PlanResolver().resolve(chain()).step("normalise")

    def test_resolve_does_not_change_group(self) -> None:
        """Resolving leaves the group's defaults and step params as they were."""
        group = chain().with_defaults(tier="{{ params.tier }}")
        PlanResolver().resolve(group, {"tier": "T1"})
        assert group.defaults == {"tier": "{{ params.tier }}"}


def _run_in_worker(step: PlannedStep) -> tuple[str, dict[str, Any], int]:
    """What a process-pool worker sees of a planned step (module level, so it pickles)."""
    return step.name, thaw(step.params), step.retries


class TestPortablePlan:
    def plan(self) -> ExecutionPlan:
        group = chain().with_defaults(tables=["a", "b"], opts={"deep": {"x": [1]}}).with_policy(retries=1)
        return PlanResolver().resolve(group, {"tier": "T1", "day": dt.date(2024, 1, 5)})

    def test_pickle_round_trip(self) -> None:
        """pickle.dumps(plan) round-trips to an equal plan."""
        plan = self.plan()
        assert pickle.loads(pickle.dumps(plan)) == plan

    def test_cached_graph_is_not_pickled(self) -> None:
        """A plan whose graph was built pickles without it, and builds it again on demand."""
        plan = self.plan()
        edges = set(plan.graph.edges)
        data = pickle.dumps(plan)
        assert b"networkx" not in data
        assert set(pickle.loads(data).graph.edges) == edges

    def test_hash_and_deepcopy(self) -> None:
        """A plan and its steps are hashable; a deep copy is equal and hashes equal."""
        plan = self.plan()
        copied = copy.deepcopy(plan)
        assert copied == plan and hash(copied) == hash(plan) and len({*plan.steps, *copied.steps}) == len(plan.steps)

    def test_params_are_deep_frozen(self) -> None:
        """A planned step's nested params cannot be changed."""
        step = self.plan().step("ingest")
        assert step.params["tables"] == ("a", "b")
        with pytest.raises(TypeError):
            step.params["opts"]["deep"]["x"] = 2  # type: ignore[index]

    def test_dict_round_trip(self) -> None:
        """ExecutionPlan.from_dict(plan.to_dict()) == plan: the group travels as its document."""
        plan = self.plan()
        data = plan.to_dict()
        assert data["definition"] == plan.group.to_dict()
        assert ExecutionPlan.from_dict(data) == plan

    def test_from_cli_json(self) -> None:
        """The JSON of a plan (as `spine group plan --json` prints it) reads back into an equal plan when its params are JSON types."""
        import json

        plan = PlanResolver().resolve(chain().with_defaults(n=1, items=["a"]), {"tier": "T1"})
        data = json.loads(json.dumps({**plan.to_dict(), "pipelines_checked": False}))
        assert ExecutionPlan.from_dict(data) == plan

    def test_from_dict_without_definition(self) -> None:
        """A dict without the group's document is a DecodeError that says what is missing."""
        data = self.plan().to_dict()
        del data["definition"]
        with pytest.raises(DecodeError, match="definition"):
            ExecutionPlan.from_dict(data)

    def test_planned_step_round_trip(self) -> None:
        """PlannedStep.from_dict(step.to_dict()) == step, param sources included."""
        for step in self.plan().steps:
            assert PlannedStep.from_dict(step.to_dict()) == step

    def test_a_process_pool_receives_a_step(self) -> None:
        """A planned step crosses into a real worker process with its resolved params and run keys."""
        from concurrent.futures import ProcessPoolExecutor

        plan = self.plan()
        with ProcessPoolExecutor(max_workers=1) as pool:
            name, params, retries = pool.submit(_run_in_worker, plan.step("ingest")).result(timeout=60)
        assert (name, retries) == ("ingest", 1)
        assert params["tables"] == ["a", "b"] and params["opts"] == {"deep": {"x": [1]}}


class TestBatchId:
    def test_format(self) -> None:
        """batch_id is group_<name>_<YYYYmmddTHHMMSS>_<8 hex>."""
        batch = PlanResolver().resolve(chain()).batch_id
        m = BATCH_ID.match(batch)
        assert m, batch
        assert m["name"] == "finra.weekly"
        datetime.strptime(m["stamp"], "%Y%m%dT%H%M%S")

    def test_unique(self) -> None:
        """Two plans of the same group get different batch ids."""
        assert PlanResolver().resolve(chain()).batch_id != PlanResolver().resolve(chain()).batch_id

    def test_given_batch_id_honoured(self) -> None:
        """A batch_id passed to resolve is used as is, also inside templates."""
        group = chain().with_defaults(run="{{ batch_id }}")
        plan = PlanResolver().resolve(group, batch_id="fixed-1")
        assert plan.batch_id == "fixed-1"
        assert plan.steps[0].params["run"] == "fixed-1"

    def test_new_batch_id_uses_given_time(self) -> None:
        """new_batch_id stamps the time it is given, in UTC form."""
        batch = new_batch_id("group_x", now=datetime(2024, 1, 5, 10, 28, 54, tzinfo=UTC))
        assert re.fullmatch(r"group_x_20240105T102854_[0-9a-f]{8}", batch)
