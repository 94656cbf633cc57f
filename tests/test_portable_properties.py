"""Groups and plans a runner can ship to another process: pickle, deepcopy, hash and dict round trips of generated ones."""

from __future__ import annotations

import copy
import pickle

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from spine.core.frozen import FrozenDict
from spine.orchestration import ExecutionPlan, PipelineGroup, PlannedStep, PlanResolver
from spine.testing import groups, run_params

PROPERTY = settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow], report_multiple_bugs=False)


@st.composite
def plans(draw: st.DrawFn) -> ExecutionPlan:
    """A plan of a generated templated group, resolved with generated run params."""
    group = draw(groups(templates=True, max_steps=6))
    return PlanResolver().resolve(group, draw(run_params(group)), batch_id="group_g_20240105T000000_00000000")


def _mutable_inside(value: object) -> list[str]:
    """Type names of mutable containers anywhere inside ``value``."""
    found: list[str] = []
    stack = [value]
    while stack:
        v = stack.pop()
        if isinstance(v, (list, set, bytearray)) or (isinstance(v, dict) and type(v) is not FrozenDict):
            found.append(type(v).__name__)
        if isinstance(v, dict):
            stack.extend(v.values())
        elif isinstance(v, (list, tuple, set, frozenset)):
            stack.extend(v)
    return found


@PROPERTY
@given(groups(templates=True, max_steps=6))
def test_groups_pickle_to_equal_groups(group):
    """``pickle.loads(pickle.dumps(g)) == g`` and hashes equal, for any valid group."""
    back = pickle.loads(pickle.dumps(group))
    assert back == group and hash(back) == hash(group)


@PROPERTY
@given(groups(templates=True, max_steps=6))
def test_groups_deepcopy_to_equal_groups(group):
    """``copy.deepcopy(g) == g`` for any valid group."""
    assert copy.deepcopy(group) == group


@PROPERTY
@given(groups(templates=True, max_steps=6))
def test_group_params_are_immutable_all_the_way_down(group):
    """No list, set or plain dict hides anywhere in a group's defaults or step params."""
    assert _mutable_inside(group.defaults) == []
    assert [_mutable_inside(s.params) for s in group.steps] == [[] for _ in group.steps]


@PROPERTY
@given(groups(templates=True, max_steps=6))
def test_group_dict_round_trip_through_the_steps(group):
    """Every step and the policy round-trip through their own ``to_dict``/``from_dict``, and the group through its document."""
    assert [type(s).from_dict(s.to_dict()) for s in group.steps] == list(group.steps)
    assert type(group.policy).from_dict(group.policy.to_dict()) == group.policy
    assert PipelineGroup.from_dict(group.to_dict()) == group


@PROPERTY
@given(plans())
def test_plans_pickle_to_equal_plans(plan):
    """``pickle.loads(pickle.dumps(plan)) == plan`` and hashes equal, for any resolved plan."""
    back = pickle.loads(pickle.dumps(plan))
    assert back == plan and hash(back) == hash(plan)


@PROPERTY
@given(plans())
def test_plans_deepcopy_to_equal_plans(plan):
    """``copy.deepcopy(plan) == plan`` for any resolved plan."""
    assert copy.deepcopy(plan) == plan


@PROPERTY
@given(plans())
def test_plan_dict_round_trip(plan):
    """``ExecutionPlan.from_dict(plan.to_dict()) == plan`` and each step round-trips on its own."""
    assert ExecutionPlan.from_dict(plan.to_dict()) == plan
    assert [PlannedStep.from_dict(s.to_dict()) for s in plan.steps] == list(plan.steps)


@PROPERTY
@given(plans())
def test_planned_params_are_immutable_all_the_way_down(plan):
    """No list, set or plain dict hides in a plan's run params or any step's resolved params."""
    assert _mutable_inside(plan.params) == []
    assert [_mutable_inside(s.params) for s in plan.steps] == [[] for _ in plan.steps]
