"""The group model: frozen dataclasses, copies from the DSL, one serialisation path, statuses."""

from __future__ import annotations

import contextlib
import copy
import dataclasses
import datetime
import pickle

import pytest

from spine.core.errors import GroupError, StepNotFoundError
from spine.orchestration import (
    ExecutionMode,
    ExecutionPolicy,
    FailurePolicy,
    GroupRunStatus,
    PipelineGroup,
    PipelineStep,
    StepStatus,
    group_status,
    group_to_yaml,
    load_group_from_text,
)

FINRA_YAML = """\
apiVersion: spine.io/v1
kind: PipelineGroup
metadata:
  name: finra.weekly_refresh
  domain: finra.otc_transparency
  version: 2
  description: Weekly FINRA OTC data refresh
  tags: [finra, weekly]
spec:
  defaults:
    tier: "{{ params.tier }}"
    force: false
  pipelines:
    - name: ingest
      pipeline: finra.otc_transparency.ingest_week
      params: {source_type: api}
    - name: normalize
      pipeline: finra.otc_transparency.normalize_week
      depends_on: [ingest]
      description: clean it
  policy:
    execution: parallel
    max_concurrency: 3
    on_failure: continue
    timeout_minutes: 60
"""


def finra_dsl() -> PipelineGroup:
    """The group of FINRA_YAML written with the fluent DSL."""
    return (
        PipelineGroup(
            name="finra.weekly_refresh",
            domain="finra.otc_transparency",
            version=2,
            description="Weekly FINRA OTC data refresh",
            tags=("finra", "weekly"),
        )
        .add("ingest", "finra.otc_transparency.ingest_week", params={"source_type": "api"})
        .add(
            "normalize",
            "finra.otc_transparency.normalize_week",
            depends_on=["ingest"],
            description="clean it",
        )
        .with_defaults(tier="{{ params.tier }}", force=False)
        .with_policy(execution="parallel", max_concurrency=3, on_failure="continue", timeout_minutes=60)
    )


def two_steps() -> PipelineGroup:
    return PipelineGroup(name="g").add("ingest", "p.ingest").add("normalize", "p.norm", depends_on=["ingest"])


class TestFrozen:
    def test_group_assignment_raises(self) -> None:
        """Assigning to a field of a group raises FrozenInstanceError."""
        group = two_steps()
        with pytest.raises(dataclasses.FrozenInstanceError):
            group.name = "other"  # type: ignore[misc]

    def test_step_assignment_raises(self) -> None:
        """Assigning to a field of a step raises FrozenInstanceError."""
        step = PipelineStep(name="a", pipeline="p")
        with pytest.raises(dataclasses.FrozenInstanceError):
            step.pipeline = "q"  # type: ignore[misc]

    def test_policy_assignment_raises(self) -> None:
        """Assigning to a field of a policy raises FrozenInstanceError."""
        with pytest.raises(dataclasses.FrozenInstanceError):
            ExecutionPolicy().max_concurrency = 9  # type: ignore[misc]

    def test_steps_and_depends_on_are_tuples(self) -> None:
        """Lists given for steps and depends_on are stored as tuples, so they cannot be appended to."""
        group = PipelineGroup(name="g", steps=[PipelineStep("a", "p", depends_on=["b"])])
        assert isinstance(group.steps, tuple)
        assert group.steps[0].depends_on == ("b",)


class TestCopies:
    def test_add_returns_a_new_group(self) -> None:
        """add returns a different object with one more step."""
        group = two_steps()
        bigger = group.add("aggregate", "p.agg", depends_on=["normalize"])
        assert bigger is not group
        assert bigger.step_names == ["ingest", "normalize", "aggregate"]

    def test_add_leaves_original_unchanged(self) -> None:
        """add does not change the group it is called on."""
        group = two_steps()
        group.add("aggregate", "p.agg")
        assert group.step_names == ["ingest", "normalize"]

    def test_add_stores_params_and_dependencies(self) -> None:
        """add records params, depends_on and description on the new step."""
        step = PipelineGroup(name="g").add("a", "p", params={"k": 1}, depends_on=["x"], description="d").steps[0]
        assert (step.params, step.depends_on, step.description) == ({"k": 1}, ("x",), "d")

    def test_with_policy_accepts_strings_as_enums(self) -> None:
        """with_policy turns string values into the policy enums."""
        policy = two_steps().with_policy(execution="parallel", on_failure="continue").policy
        assert policy.execution is ExecutionMode.PARALLEL
        assert policy.on_failure is FailurePolicy.CONTINUE

    def test_with_policy_accepts_enums_and_keeps_original(self) -> None:
        """with_policy accepts enum members and leaves the original policy alone."""
        group = two_steps()
        changed = group.with_policy(execution=ExecutionMode.PARALLEL, max_concurrency=2)
        assert changed.policy == ExecutionPolicy(execution=ExecutionMode.PARALLEL, max_concurrency=2)
        assert group.policy == ExecutionPolicy()

    def test_with_policy_rejects_unknown_mode(self) -> None:
        """with_policy with an unknown execution mode raises ValueError."""
        with pytest.raises(ValueError):
            two_steps().with_policy(execution="sideways")

    def test_with_defaults_merges_and_keeps_original(self) -> None:
        """with_defaults adds to the existing defaults in a copy."""
        group = two_steps().with_defaults(a=1)
        more = group.with_defaults(b=2, a=3)
        assert more.defaults == {"a": 3, "b": 2}
        assert group.defaults == {"a": 1}

    def test_changing_a_copys_step_params_leaves_original_unchanged(self) -> None:
        """Writing into a step's params through a copy made by add does not change the original group."""
        group = PipelineGroup(name="g").add("a", "p", params={"k": 1})
        copy = group.add("b", "p")
        with contextlib.suppress(TypeError):  # a read-only mapping is a fine way to pass
            copy.steps[0].params["k"] = 2  # type: ignore[index]
        assert group.steps[0].params == {"k": 1}


class TestPortable:
    def test_hash_step(self) -> None:
        """A step is hashable, nested params included, and equal steps hash equal."""
        one = PipelineStep("a", "p", params={"x": [1, {"y": [2]}]}, depends_on=["b"])
        two = PipelineStep("a", "p", params={"x": (1, {"y": (2,)})}, depends_on=("b",))
        assert one == two and hash(one) == hash(two)

    def test_pickle_step(self) -> None:
        """pickle.dumps(step) round-trips to an equal step."""
        step = PipelineStep("a", "p", params={"x": [1, {"y": datetime.date(2024, 1, 5)}]}, retries=2)
        assert pickle.loads(pickle.dumps(step)) == step

    def test_deepcopy_group(self) -> None:
        """copy.deepcopy(group) gives an equal group, source map included."""
        group = load_group_from_text(FINRA_YAML, file="finra.yaml")
        copied = copy.deepcopy(group)
        assert copied == group and copied.source is not None and copied.source.file == "finra.yaml"

    def test_pickle_group_keeps_source(self) -> None:
        """A pickled group loaded from YAML still knows its file and positions."""
        group = load_group_from_text(FINRA_YAML, file="finra.yaml")
        back = pickle.loads(pickle.dumps(group))
        assert back == group and back.source is not None and back.source.of_step(1, "depends_on") == group.source.of_step(1, "depends_on")

    def test_hash_group(self) -> None:
        """Equal groups hash equal, wherever they came from (the source is not part of either)."""
        assert hash(load_group_from_text(FINRA_YAML, file="x.yaml")) == hash(finra_dsl())

    def test_nested_params_are_immutable(self) -> None:
        """A list or mapping inside params cannot be changed: it is a tuple or a FrozenDict."""
        step = PipelineStep("a", "p", params={"tables": ["a"], "opts": {"k": [1]}})
        with pytest.raises(AttributeError):
            step.params["tables"].append("b")  # type: ignore[attr-defined]
        with pytest.raises(TypeError):
            step.params["opts"]["k"] = 2  # type: ignore[index]
        assert step.params == {"tables": ("a",), "opts": {"k": (1,)}}

    def test_given_params_are_copied(self) -> None:
        """Changing the dict a step was built from does not change the step."""
        given = {"tables": ["a"]}
        step = PipelineStep("a", "p", params=given)
        given["tables"].append("b")
        given["new"] = 1
        assert step.params == {"tables": ("a",)}

    def test_group_defaults_are_deep_frozen(self) -> None:
        """Group defaults are frozen all the way down too."""
        group = PipelineGroup(name="g", defaults={"x": {"y": [1]}})
        with pytest.raises(TypeError):
            group.defaults["x"]["y"] = 2  # type: ignore[index]

    def test_string_depends_on_is_one_name(self) -> None:
        """depends_on="ingest" in Python means the one dependency ("ingest",), not its letters."""
        assert PipelineStep("b", "p", depends_on="ingest").depends_on == ("ingest",)
        assert two_steps().add("c", "p", depends_on="normalize").steps[-1].depends_on == ("normalize",)

    def test_string_tags_are_one_tag(self) -> None:
        """tags="finra" is the one tag ("finra",)."""
        assert PipelineGroup(name="g", tags="finra").tags == ("finra",)

    def test_policy_accepts_strings_for_enums(self) -> None:
        """ExecutionPolicy(execution="parallel") stores the enum member."""
        policy = ExecutionPolicy(execution="parallel", on_failure="continue")  # type: ignore[arg-type]
        assert (policy.execution, policy.on_failure) == (ExecutionMode.PARALLEL, FailurePolicy.CONTINUE)

    def test_step_dict_round_trip(self) -> None:
        """PipelineStep.from_dict(step.to_dict()) == step, and the dict leaves unset keys out."""
        step = PipelineStep("a", "p", params={"x": [1]}, depends_on=("b",), description="d", timeout_seconds=5)
        data = step.to_dict()
        assert list(data) == ["name", "pipeline", "description", "depends_on", "params", "timeout_seconds"]
        assert data["params"] == {"x": [1]} and type(data["params"]["x"]) is list
        assert PipelineStep.from_dict(data) == step

    def test_policy_dict_round_trip(self) -> None:
        """ExecutionPolicy.from_dict(policy.to_dict()) == policy."""
        policy = ExecutionPolicy(ExecutionMode.PARALLEL, 3, FailurePolicy.CONTINUE, 60, retries=2, timeout_seconds=9.5)
        assert ExecutionPolicy.from_dict(policy.to_dict()) == policy

    def test_group_document_is_plain_data(self) -> None:
        """The group's document holds only dicts, lists and scalars, so YAML's safe dumper can write it."""
        import yaml

        group = PipelineGroup(name="g", defaults={"d": {"x": [1]}}).add("a", "p", params={"t": ({"k": "v"},)})
        yaml.safe_dump(group.to_dict())


class TestFromSteps:
    def test_dicts(self) -> None:
        """from_steps builds steps from dicts with the YAML keys."""
        group = PipelineGroup.from_steps(
            "g", [{"name": "a", "pipeline": "p.a"}, {"name": "b", "pipeline": "p.b", "depends_on": ["a"]}]
        )
        assert group.steps == (PipelineStep("a", "p.a"), PipelineStep("b", "p.b", depends_on=("a",)))

    def test_pipeline_steps_and_metadata(self) -> None:
        """from_steps accepts PipelineStep objects and passes metadata keywords through."""
        step = PipelineStep("a", "p.a")
        group = PipelineGroup.from_steps("g", [step], domain="d", version=3)
        assert group.steps == (step,)
        assert (group.domain, group.version) == ("d", 3)

    def test_mixed_equals_fluent(self) -> None:
        """from_steps with a mix of dicts and steps equals the same group built with add."""
        mixed = PipelineGroup.from_steps(
            "g", [{"name": "ingest", "pipeline": "p.ingest"}, PipelineStep("normalize", "p.norm", depends_on=["ingest"])]
        )
        assert mixed == two_steps()


class TestSerialisation:
    def test_to_dict_shape(self) -> None:
        """to_dict gives the spine.io/v1 document."""
        data = finra_dsl().to_dict()
        assert data["apiVersion"] == "spine.io/v1"
        assert data["kind"] == "PipelineGroup"
        assert data["metadata"]["name"] == "finra.weekly_refresh"
        assert data["spec"]["pipelines"][1] == {
            "name": "normalize",
            "pipeline": "finra.otc_transparency.normalize_week",
            "description": "clean it",
            "depends_on": ["ingest"],
        }
        assert data["spec"]["policy"] == {
            "execution": "parallel",
            "max_concurrency": 3,
            "on_failure": "continue",
            "timeout_minutes": 60,
        }

    def test_to_dict_from_dict_round_trip(self) -> None:
        """from_dict(to_dict(g)) equals g."""
        group = finra_dsl()
        assert PipelineGroup.from_dict(group.to_dict()) == group

    def test_from_dict_rejects_bad_document(self) -> None:
        """from_dict reports a bad document with a GroupError, not a KeyError."""
        with pytest.raises(GroupError):
            PipelineGroup.from_dict({"apiVersion": "spine.io/v1", "kind": "PipelineGroup", "metadata": {"name": "g"}})

    def test_yaml_round_trip(self) -> None:
        """group_to_yaml then load_group_from_text gives an equal group."""
        group = finra_dsl()
        assert load_group_from_text(group_to_yaml(group)) == group

    def test_yaml_and_dsl_are_equal(self) -> None:
        """The same group written in YAML and in the DSL gives equal models."""
        from_yaml = load_group_from_text(FINRA_YAML, file="finra.yaml")
        assert from_yaml == finra_dsl()

    def test_source_is_not_part_of_equality(self) -> None:
        """Groups loaded from different files are equal when their content is."""
        one = load_group_from_text(FINRA_YAML, file="one.yaml")
        two = load_group_from_text("\n\n" + FINRA_YAML, file="two.yaml")
        assert one.source is not None and one.source.file == "one.yaml"
        assert one == two


class TestStepLookup:
    def test_step_found(self) -> None:
        """step(name) returns the step with that name."""
        assert two_steps().step("normalize").pipeline == "p.norm"

    def test_unknown_step_suggests(self) -> None:
        """step() on an unknown name raises StepNotFoundError with a did-you-mean."""
        with pytest.raises(StepNotFoundError, match="did you mean 'ingest'"):
            two_steps().step("ingset")

    def test_step_not_found_is_group_error(self) -> None:
        """StepNotFoundError is a GroupError."""
        with pytest.raises(GroupError):
            two_steps().step("zzz")


S = StepStatus


class TestGroupStatus:
    def test_all_completed(self) -> None:
        """All steps completed → completed."""
        assert group_status([S.COMPLETED, S.COMPLETED], FailurePolicy.STOP) is GroupRunStatus.COMPLETED

    def test_any_running(self) -> None:
        """Any step running → running, even next to a failure or cancellation."""
        assert group_status([S.FAILED, S.RUNNING, S.CANCELLED], FailurePolicy.STOP) is GroupRunStatus.RUNNING

    def test_any_cancelled(self) -> None:
        """No step running and any cancelled → cancelled."""
        assert group_status([S.COMPLETED, S.CANCELLED, S.FAILED], FailurePolicy.CONTINUE) is GroupRunStatus.CANCELLED

    def test_continue_with_failure_and_completed_is_partial(self) -> None:
        """A failure under on_failure continue with some completed steps → partial."""
        assert group_status([S.COMPLETED, S.FAILED, S.SKIPPED], FailurePolicy.CONTINUE) is GroupRunStatus.PARTIAL

    def test_stop_with_failure_and_completed_is_failed(self) -> None:
        """A failure under on_failure stop → failed, even with completed steps."""
        assert group_status([S.COMPLETED, S.FAILED, S.SKIPPED], FailurePolicy.STOP) is GroupRunStatus.FAILED

    def test_continue_with_only_failures_is_failed(self) -> None:
        """A failure under continue with nothing completed → failed."""
        assert group_status([S.FAILED, S.SKIPPED], FailurePolicy.CONTINUE) is GroupRunStatus.FAILED

    def test_all_pending(self) -> None:
        """All steps pending → pending."""
        assert group_status([S.PENDING, S.PENDING], FailurePolicy.STOP) is GroupRunStatus.PENDING

    def test_returns_enum_members(self) -> None:
        """group_status returns a GroupRunStatus member, never a string."""
        result = group_status([S.COMPLETED], FailurePolicy.STOP)
        assert isinstance(result, GroupRunStatus) and not isinstance(result, str)


class TestEnums:
    def test_policy_fields_are_enums(self) -> None:
        """A loaded policy holds enum members, not strings."""
        policy = load_group_from_text(FINRA_YAML).policy
        assert policy.execution is ExecutionMode.PARALLEL
        assert policy.on_failure is FailurePolicy.CONTINUE

    def test_status_enums_have_design_members(self) -> None:
        """Step and group statuses have exactly the members of the design."""
        assert {s.value for s in StepStatus} == {"pending", "running", "completed", "failed", "skipped", "cancelled"}
        assert {s.value for s in GroupRunStatus} == {"pending", "running", "completed", "failed", "partial", "cancelled"}

    def test_enums_are_not_strings(self) -> None:
        """Status enums do not compare equal to their string values (no str mixin)."""
        assert StepStatus.COMPLETED != "completed"
        assert ExecutionMode.SEQUENTIAL != "sequential"
