"""Run keys: a step's ``retries``, ``retry_delay_seconds`` and ``timeout_seconds``, inherited from ``spec.policy``."""

from __future__ import annotations

import pytest

from spine.core.findings import Finding
from spine.orchestration import (
    ExecutionPolicy,
    PipelineGroup,
    PipelineStep,
    PlanResolver,
    group_schema,
    group_to_yaml,
    load_group_from_text,
)
from spine.orchestration.spec import parse_document
from spine.yamlio.reader import read_documents

FILE = "g.yaml"

#: The step starts on line 7 and its extra keys on line 9; without them the policy's keys start on line 10.
TEXT = """\
apiVersion: spine.io/v1
kind: PipelineGroup
metadata:
  name: demo
spec:
  pipelines:
    - name: ingest
      pipeline: x.ingest
{step}  policy:
{policy}"""


def parse(step: str = "", policy: str = "") -> tuple[PipelineGroup | None, list[Finding]]:
    (doc,) = read_documents(TEXT.format(step=step, policy=policy or "    execution: sequential\n"), FILE)
    return parse_document(doc)


def sole(step: str = "", policy: str = "") -> Finding:
    """The one finding of a document."""
    group, found = parse(step, policy)
    assert len(found) == 1, [str(f) for f in found]
    return found[0]


class TestFormat:
    def test_step_keys_are_read(self) -> None:
        """retries, retry_delay_seconds and timeout_seconds on a step become the step's fields."""
        group, found = parse("      retries: 3\n      retry_delay_seconds: 2.5\n      timeout_seconds: 60\n")
        assert found == []
        assert group is not None
        step = group.steps[0]
        assert (step.retries, step.retry_delay_seconds, step.timeout_seconds) == (3, 2.5, 60)

    def test_policy_keys_are_read(self) -> None:
        """The same keys under spec.policy become the policy's fields."""
        group, found = parse(policy="    retries: 2\n    retry_delay_seconds: 10\n    timeout_seconds: 0.5\n")
        assert found == []
        assert group is not None
        assert group.policy == ExecutionPolicy(retries=2, retry_delay_seconds=10, timeout_seconds=0.5)

    def test_unset_step_keys_are_none(self) -> None:
        """A step without the keys leaves them None, so the policy's values apply."""
        group, _ = parse()
        assert group is not None
        step = group.steps[0]
        assert (step.retries, step.retry_delay_seconds, step.timeout_seconds) == (None, None, None)

    def test_policy_defaults(self) -> None:
        """A policy without the keys retries nothing, waits nothing and sets no step timeout."""
        policy = ExecutionPolicy()
        assert (policy.retries, policy.retry_delay_seconds, policy.timeout_seconds) == (0, 0, None)

    @pytest.mark.parametrize(
        ("line", "code"),
        [
            ("retries: -1", "invalid-value"),
            ("retries: 1.5", "wrong-type"),
            ("retries: 2.0", "wrong-type"),
            ("retries: true", "wrong-type"),
            ("retries: '3'", "wrong-type"),
            ("retry_delay_seconds: -0.5", "invalid-value"),
            ("retry_delay_seconds: .inf", "invalid-value"),
            ("retry_delay_seconds: .nan", "invalid-value"),
            ("retry_delay_seconds: '5'", "wrong-type"),
            ("timeout_seconds: 0", "invalid-value"),
            ("timeout_seconds: -3", "invalid-value"),
            ("timeout_seconds: .inf", "invalid-value"),
            ("timeout_seconds: [60]", "wrong-type"),
        ],
    )
    def test_bad_step_value(self, line: str, code: str) -> None:
        """A bad run key on a step is one finding with its code, at the value, naming the step."""
        f = sole(step=f"      {line}\n")
        value_column = len("      " + line.split(":")[0] + ": ") + 1
        assert (f.code, f.line, f.column, f.step) == (code, 9, value_column, "ingest")

    def test_null_is_not_unset(self) -> None:
        """``retries:`` with no value is wrong-type: leave the key out to inherit the policy's."""
        assert sole(step="      retries:\n").code == "wrong-type"

    @pytest.mark.parametrize(
        ("line", "code"),
        [("retries: -2", "invalid-value"), ("retry_delay_seconds: false", "wrong-type"), ("timeout_seconds: 0.0", "invalid-value")],
    )
    def test_bad_policy_value(self, line: str, code: str) -> None:
        """A bad run key in the policy is one finding naming spec.policy.KEY."""
        f = sole(policy=f"    {line}\n")
        assert (f.code, f.line) == (code, 10)
        assert f"spec.policy.{line.split(':')[0]}" in f.message

    def test_messages_say_what_to_write(self) -> None:
        """The message says the rule and what was found."""
        f = sole(step="      timeout_seconds: 0\n")
        assert f.message == "step 'ingest': timeout_seconds must be a finite number > 0, got an integer (0)"

    def test_misspelt_key_suggests_the_right_one(self) -> None:
        """retry: 3 on a step is an unknown key with a did-you-mean."""
        f = sole(step="      retry: 3\n")
        assert f.code == "unknown-key"
        assert "did you mean 'retries'?" in f.message

    def test_schema_describes_the_keys(self) -> None:
        """The shipped JSON Schema lists the three keys for steps and for the policy."""
        schema = group_schema()
        for where in ("step", "policy"):
            assert {"retries", "retry_delay_seconds", "timeout_seconds"} <= set(schema["$defs"][where]["properties"])


class TestRoundTrip:
    def test_yaml_round_trip(self) -> None:
        """group_to_yaml writes the keys and loads back an equal group."""
        group = (
            PipelineGroup(name="g")
            .add("a", "p", retries=2, retry_delay_seconds=1.5, timeout_seconds=30)
            .add("b", "p", depends_on=["a"])
            .with_policy(retries=1, retry_delay_seconds=5, timeout_seconds=600)
        )
        text = group_to_yaml(group)
        assert "retries: 2" in text and "timeout_seconds: 600" in text
        assert load_group_from_text(text) == group

    def test_explicit_zero_retries_on_a_step_is_kept(self) -> None:
        """retries: 0 on a step is written back: it overrides a policy that retries."""
        group = PipelineGroup(name="g").add("a", "p", retries=0).with_policy(retries=3)
        assert group.to_dict()["spec"]["pipelines"][0]["retries"] == 0
        assert load_group_from_text(group_to_yaml(group)).steps[0].retries == 0

    def test_default_policy_writes_no_run_keys(self) -> None:
        """A policy with the default run keys does not write them."""
        data = PipelineGroup(name="g").add("a", "p").with_policy(execution="parallel").to_dict()
        assert not {"retries", "retry_delay_seconds", "timeout_seconds"} & set(data["spec"]["policy"])

    def test_dsl_step_equals_yaml_step(self) -> None:
        """PipelineStep(..., retries=…) equals the step read from YAML with the same keys."""
        group, _ = parse("      retries: 3\n      timeout_seconds: 60\n")
        assert group is not None
        assert group.steps[0] == PipelineStep("ingest", "x.ingest", retries=3, timeout_seconds=60)


class TestPlan:
    def test_steps_inherit_the_policy(self) -> None:
        """A planned step without its own values gets the policy's."""
        group = PipelineGroup(name="g").add("a", "p").with_policy(retries=2, retry_delay_seconds=3, timeout_seconds=90)
        step = PlanResolver().resolve(group).steps[0]
        assert (step.retries, step.retry_delay_seconds, step.timeout_seconds) == (2, 3, 90)

    def test_step_values_win(self) -> None:
        """A step's own values win over the policy's, an explicit 0 included."""
        group = (
            PipelineGroup(name="g")
            .add("a", "p", retries=0, retry_delay_seconds=0, timeout_seconds=5)
            .with_policy(retries=2, retry_delay_seconds=3, timeout_seconds=90)
        )
        step = PlanResolver().resolve(group).steps[0]
        assert (step.retries, step.retry_delay_seconds, step.timeout_seconds) == (0, 0, 5)

    def test_defaults_without_policy(self) -> None:
        """Without any run key, a planned step has no retries, no delay and no timeout."""
        step = PlanResolver().resolve(PipelineGroup(name="g").add("a", "p")).steps[0]
        assert (step.retries, step.retry_delay_seconds, step.timeout_seconds) == (0, 0, None)

    def test_plan_dict_carries_the_effective_values(self) -> None:
        """The plan's JSON gives every step its effective run keys."""
        group = PipelineGroup(name="g").add("a", "p", timeout_seconds=5).with_policy(retries=1)
        step = PlanResolver().resolve(group).to_dict()["steps"][0]
        assert (step["retries"], step["retry_delay_seconds"], step["timeout_seconds"]) == (1, 0, 5)
