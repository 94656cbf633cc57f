"""``pool`` (on a step and under ``spec.policy``) and ``policy.max_active_runs`` in the group format."""

from __future__ import annotations

import jsonschema
import pytest

from spine.orchestration import PlanResolver, group_schema, group_to_yaml, load_group_from_text
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


def _findings(step: str = "", policy: str = ""):
    (doc,) = read_documents(_doc(step, policy), "g.yaml")
    return parse_document(doc)[1]


def test_a_steps_pool_wins_over_the_policys() -> None:
    """The plan gives each step its own pool, else the policy's."""
    group = load_group_from_text(_doc(", pool: api", "pool: warehouse"))
    plan = PlanResolver().resolve(group)
    assert [(s.name, s.pool) for s in plan.steps] == [("a", "api"), ("b", "warehouse")]


def test_without_pools_steps_have_none() -> None:
    """No pool anywhere: every planned step's pool is None, and max_active_runs defaults to 1."""
    group = load_group_from_text(_doc())
    assert [s.pool for s in PlanResolver().resolve(group).steps] == [None, None] and group.policy.max_active_runs == 1


def test_keys_round_trip_through_yaml() -> None:
    """pool and max_active_runs survive group_to_yaml and back."""
    group = load_group_from_text(_doc(", pool: api", "pool: warehouse, max_active_runs: 3"))
    assert load_group_from_text(group_to_yaml(group)) == group


@pytest.mark.parametrize(
    "step, policy, code, where",
    [
        (", pool: 'has space'", "", "invalid-value", "g.yaml:7:"),
        (", pool: 3", "", "wrong-type", "g.yaml:7:"),
        ("", "max_active_runs: 0", "invalid-value", "g.yaml:5:"),
        ("", "max_active_runs: two", "wrong-type", "g.yaml:5:"),
        ("", "max_active_runs: 2.0", "wrong-type", "g.yaml:5:"),
        ("", "pool: ''", "invalid-value", "g.yaml:5:"),
    ],
)
def test_bad_values_are_findings_with_positions(step: str, policy: str, code: str, where: str) -> None:
    """A bad pool name or max_active_runs is one finding with its code and line."""
    [finding] = _findings(step, policy)
    assert finding.code == code and str(finding).startswith(where)


@pytest.mark.parametrize("step, policy, ok", [(", pool: api", "max_active_runs: 2", True), (", pool: 'a b'", "", False), ("", "max_active_runs: 0", False)])
def test_the_json_schema_agrees(step: str, policy: str, ok: bool) -> None:
    """The shipped JSON Schema accepts and refuses the same pool and max_active_runs values."""
    import yaml

    errors = list(jsonschema.Draft202012Validator(group_schema()).iter_errors(yaml.safe_load(_doc(step, policy))))
    assert (errors == []) is ok
