"""``queue`` (on a step and under ``spec.policy``) in the group format: the Celery queue a step is sent to."""

from __future__ import annotations

import jsonschema
import pytest

from spine.orchestration import PipelineGroup, PlanResolver, group_schema, group_to_yaml, load_group_from_text
from spine.orchestration.spec import parse_document
from spine.yamlio.reader import read_documents

TEXT = """\
apiVersion: spine.io/v1
kind: PipelineGroup
metadata: {{name: demo}}
spec:
  policy: {{{policy}}}
  pipelines:
    - {{name: a, pipeline: x.a{step}}}
    - {{name: b, pipeline: x.b}}
"""


def _doc(step: str = "", policy: str = "") -> str:
    return TEXT.format(step=step, policy=policy)


def test_a_steps_queue_wins_over_the_policys() -> None:
    """The plan gives each step its own queue, else the policy's, else None."""
    plan = PlanResolver().resolve(load_group_from_text(_doc(", queue: gpu", "queue: etl")))
    assert [(s.name, s.queue) for s in plan.steps] == [("a", "gpu"), ("b", "etl")]
    assert [s.queue for s in PlanResolver().resolve(load_group_from_text(_doc())).steps] == [None, None]


def test_queue_round_trips_and_is_hashable() -> None:
    """queue survives group_to_yaml and back, the DSL builds the same group, and groups stay hashable."""
    group = load_group_from_text(_doc(", queue: gpu", "queue: etl"))
    assert load_group_from_text(group_to_yaml(group)) == group
    dsl = PipelineGroup(name="demo").add("a", "x.a", queue="gpu").add("b", "x.b").with_policy(queue="etl")
    assert dsl == group and hash(dsl.steps[0]) == hash(group.steps[0])


def test_a_group_without_queues_writes_none() -> None:
    """A group that names no queue does not grow a queue key when written."""
    assert "queue" not in group_to_yaml(load_group_from_text(_doc()))


@pytest.mark.parametrize(
    "step, policy, code, where",
    [
        (", queue: 'has space'", "", "invalid-value", "g.yaml:7:"),
        (", queue: [gpu]", "", "wrong-type", "g.yaml:7:"),
        ("", "queue: ''", "invalid-value", "g.yaml:5:"),
    ],
)
def test_bad_queues_are_findings_with_positions(step: str, policy: str, code: str, where: str) -> None:
    """A bad queue name is one finding with its code, its line, and the word queue."""
    (doc,) = read_documents(_doc(step, policy), "g.yaml")
    [finding] = parse_document(doc)[1]
    assert finding.code == code and str(finding).startswith(where) and "queue" in finding.message


@pytest.mark.parametrize("step, policy, ok", [(", queue: gpu", "queue: etl", True), (", queue: 'a b'", "", False), ("", "queue: 3", False)])
def test_the_json_schema_agrees(step: str, policy: str, ok: bool) -> None:
    """The shipped JSON Schema accepts and refuses the same queue values."""
    import yaml

    errors = list(jsonschema.Draft202012Validator(group_schema()).iter_errors(yaml.safe_load(_doc(step, policy))))
    assert (errors == []) is ok
