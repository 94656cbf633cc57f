"""Property tests for our group definitions, with spine's hypothesis strategies."""

from pathlib import Path

from hypothesis import given, settings

import prices_pipelines  # noqa: F401  (registers prices.load and prices.report)
from spine.core import CycleDetectedError, GroupError
from spine.framework import default_pipeline_registry as registry
from spine.orchestration import PipelineGroup, PipelineStep, PlanResolver, load_groups, validate_group
from spine.testing import (
    cyclic_groups,
    groups,
    invalid_run_params,
    mutations,
    run_params,
    step_names,
)

DAILY = load_groups(Path(__file__).parents[1] / "groups" / "daily.yaml")[0]


# 1. spine itself, on random groups: every valid group plans, dependencies first.
@given(groups(max_steps=8))
def test_any_valid_group_plans_with_dependencies_first(group):
    plan = PlanResolver().resolve(group)
    position = {s.name: s.sequence_order for s in plan.steps}
    assert sorted(position) == sorted(s.name for s in group.steps)
    for step in plan.steps:
        assert all(position[dep] < step.sequence_order for dep in step.depends_on)


# 2. Our real group, resolved with any run params our pipelines accept.
@given(run_params(DAILY, registry))
def test_daily_resolves_for_any_valid_run_params(params):
    plan = PlanResolver(registry).resolve(DAILY, params, batch_id="test")
    assert isinstance(plan.step("load").params["first_symbol"], str)


# 3. Run params our pipelines reject are rejected with the expected finding.
@given(invalid_run_params(DAILY, registry))
def test_daily_rejects_invalid_run_params(case):
    params, expected = case
    try:
        PlanResolver(registry).resolve(DAILY, params, batch_id="test")
    except GroupError as exc:  # carries every finding
        assert expected.codes <= {f.code for f in exc.findings}
    else:
        raise AssertionError(f"{expected.kind}: {params!r} was accepted")


# 4. Every small edit of our group (back edge, dropped step, typo …) is caught.
@given(mutations(DAILY, registry))
def test_every_mutation_of_daily_is_caught(case):
    mutated, expected = case
    errors = {f.code for f in validate_group(mutated, registry) if f.severity.value == "error"}
    assert expected.codes <= errors, expected.kind


# 5. Cycles: one closed path per tangle of steps, through real dependencies.
@given(cyclic_groups(max_steps=10))
def test_each_cycle_is_reported_once_as_a_closed_path(case):
    group, expected = case
    try:
        PlanResolver().resolve(group)
    except CycleDetectedError as exc:
        assert len(exc.cycles) == len(expected.cycles)
        for path in exc.cycles:
            assert path[0] == path[-1]
            assert any(set(path) <= component for component in expected.cycles)
    else:
        raise AssertionError("a cyclic group planned")


# 6. Our own renderer: a Markdown table of steps must survive any step name.
def steps_table(group: PipelineGroup) -> str:
    def cell(text: str) -> str:
        return text.replace("\\", "\\\\").replace("|", "\\|")

    rows = [f"| {cell(s.name)} | {cell(s.pipeline)} |" for s in group.steps]
    return "\n".join(["| step | pipeline |", "| --- | --- |", *rows])


@settings(max_examples=300)
@given(step_names())
def test_steps_table_has_one_row_and_two_cells_per_step(name):
    table = steps_table(PipelineGroup(name="t", steps=[PipelineStep(name, "x.run")]))
    lines = table.splitlines()
    assert len(lines) == 3
    unescaped = lines[2].replace("\\\\", "").replace("\\|", "")
    assert unescaped.count("|") == 3
