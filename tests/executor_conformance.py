"""The executor conformance suite: behaviour every executor must share (style.md, point 15).

Like Dask's ``GetFunctionTestMixin``, this is a base class of tests that each executor's
test module inherits, supplying only how to build a runner::

    from executor_conformance import ExecutorConformance

    class TestThreadsConformance(ExecutorConformance):
        def runner(self, **options):
            return GroupRunner("threads", **options)

``runner(**options)`` gets :class:`~spine.runner.GroupRunner` keyword options
(``max_concurrency``, ``on_failure``, ``modules`` …) and must pass them on. The pipelines
are in ``_conformance_pipelines`` (passed as ``modules`` on every run, so an executor whose
workers are other processes imports them there). Two class attributes say what an
executor cannot do: ``captures_output`` (keeps what a step prints with the step) and
``runs_in_parallel`` (steps overlap when the policy allows; not ``inline``).

The file is not named ``test_*`` so pytest collects the tests only through subclasses.
"""

from __future__ import annotations

import dataclasses
import json
from collections.abc import Sequence
from typing import Any, ClassVar

import _conformance_pipelines as pipes
import pytest

from spine.framework import default_pipeline_registry
from spine.orchestration import PipelineGroup, PlanResolver
from spine.orchestration.models import GroupRunStatus, StepStatus
from spine.orchestration.planner import ExecutionPlan, PlannedStep
from spine.runner import GroupExecutionResult, GroupRunner, StepExecution

#: Modules every conformance run passes to the runner.
MODULES = (pipes.MODULE,)

# Importing the module registered its pipelines (as it does on a worker). In this process
# they are registered only while a conformance test runs (see ``_pipelines`` below), so the
# rest of the suite sees the default registry as it was.
_SPECS = tuple(default_pipeline_registry.get(name) for name in pipes.NAMES)
for _name in pipes.NAMES:
    default_pipeline_registry._specs.pop(_name, None)


def with_step_options(plan: ExecutionPlan, step: str, **options: Any) -> ExecutionPlan:
    """A copy of ``plan`` whose step ``step`` carries ``retries``, ``timeout_seconds`` …

    Uses the planner's own fields where :class:`PlannedStep` has them, else a subclass
    that adds them (the runner reads them with ``getattr``).
    """
    known = {f.name for f in dataclasses.fields(PlannedStep)}
    steps = []
    for s in plan.steps:
        if s.name == step:
            if set(options) <= known:
                s = dataclasses.replace(s, **options)
            else:
                fields = {f.name: getattr(s, f.name) for f in dataclasses.fields(PlannedStep)}
                s = _StepWithOptions(**fields, **options)
        steps.append(s)
    return dataclasses.replace(plan, steps=tuple(steps))


@dataclasses.dataclass(frozen=True)
class _StepWithOptions(PlannedStep):
    retries: int | None = None
    retry_delay_seconds: float | None = None
    timeout_seconds: float | None = None


def group(*steps: tuple[str, str, Sequence[str], dict[str, Any]], parallel: int | None = None, on_failure: str = "stop") -> PipelineGroup:
    """A group from ``(name, pipeline, depends_on, params)``; ``parallel=N`` runs up to N at once."""
    g = PipelineGroup(name="conformance")
    for name, pipeline, deps, params in steps:
        g = g.add(name, f"conformance.{pipeline}", depends_on=list(deps), params=params)
    if parallel is not None:
        g = g.with_policy(execution="parallel", max_concurrency=parallel)
    return g.with_policy(on_failure=on_failure)


def max_overlap(executions: Sequence[StepExecution]) -> int:
    """The largest number of attempts running at one instant (times measured where they ran)."""
    edges = []
    for e in executions:
        for a in e.history:
            edges.append((a.started_at, 1))
            edges.append((a.finished_at, -1))
    edges.sort(key=lambda x: (x[0], x[1]))  # an end at the same instant as a start comes first
    running = peak = 0
    for _, delta in edges:
        running += delta
        peak = max(peak, running)
    return peak


class ExecutorConformance:
    """Behaviour tests every executor inherits; subclasses define :meth:`runner`."""

    #: What a step prints is kept in ``StepExecution.output``.
    captures_output: ClassVar[bool] = True
    #: Steps overlap in time when the policy allows it.
    runs_in_parallel: ClassVar[bool] = True

    def runner(self, **options: Any) -> GroupRunner:
        raise NotImplementedError("a conformance subclass says how to build its runner")

    @pytest.fixture(autouse=True)
    def _pipelines(self) -> Any:
        """The conformance pipelines are registered in this process for this test only."""
        for spec in _SPECS:
            default_pipeline_registry.register(spec, replace=True)
        yield
        for name in pipes.NAMES:
            default_pipeline_registry._specs.pop(name, None)

    def run(self, g: PipelineGroup | ExecutionPlan, **options: Any) -> GroupExecutionResult:
        plan = g if isinstance(g, ExecutionPlan) else PlanResolver().resolve(g)
        return self.runner(modules=MODULES, **options).execute(plan)

    # -- order and data flow -------------------------------------------------------------

    def test_a_step_starts_only_after_its_dependencies_finished(self) -> None:
        """Every attempt starts after the last attempt of each dependency finished."""
        g = group(
            ("a", "sleep", [], {"seconds": 0.04}),
            ("b", "sleep", [], {"seconds": 0.01}),
            ("c", "sleep", ["a"], {"seconds": 0.02}),
            ("d", "sleep", ["a", "b"], {"seconds": 0.01}),
            ("e", "sleep", ["b"], {"seconds": 0.03}),
            ("f", "sleep", ["c", "d", "e"], {"seconds": 0.0}),
            ("g", "sleep", ["a"], {"seconds": 0.01}),
            ("h", "sleep", ["f", "g"], {"seconds": 0.0}),
            parallel=3,
        )
        result = self.run(g)
        assert result.status is GroupRunStatus.COMPLETED
        by_name = {e.name: e for e in result.step_executions}
        for step in g.steps:
            started = by_name[step.name].history[0].started_at
            for dep in step.depends_on:
                assert started >= by_name[dep].history[-1].finished_at, (step.name, dep)

    def test_results_of_dependencies_reach_ctx_upstream(self) -> None:
        """A step's ctx.upstream maps each dependency's name to what its pipeline returned."""
        g = group(
            ("a", "echo", [], {"n": 1}),
            ("b", "echo", ["a"], {"n": 2}),
            ("c", "echo", ["a"], {"n": 3}),
            ("d", "echo", ["b", "c"], {}),
            parallel=2,
        )
        result = self.run(g)
        res = {e.name: e.result for e in result.step_executions}
        assert res["a"]["upstream"] == {}
        assert res["b"]["upstream"] == {"a": res["a"]}
        assert res["d"]["upstream"] == {"b": res["b"], "c": res["c"]}

    def test_a_step_sees_its_params_name_and_attempt(self) -> None:
        """The pipeline receives its resolved params and a context naming the step and attempt 1."""
        result = self.run(group(("only", "echo", [], {"k": "v", "n": [1, 2]})))
        out = result.step("only").result
        assert (out["step"], out["attempt"], out["params"], out["run_id"]) == ("only", 1, {"k": "v", "n": [1, 2]}, result.run_id)

    def test_sequential_runs_one_step_at_a_time_in_plan_order(self) -> None:
        """Sequential execution starts steps in plan order and never overlaps two."""
        g = group(*[(f"s{i}", "sleep", [], {"seconds": 0.02}) for i in range(5)])
        result = self.run(g)
        starts = [e.history[0].started_at for e in result.step_executions]
        assert starts == sorted(starts)
        assert max_overlap(result.step_executions) == 1

    # -- failures as data --------------------------------------------------------------

    def test_a_failure_becomes_data_with_its_traceback(self) -> None:
        """A pipeline that raises fails its step with the exception's type, message and traceback."""
        result = self.run(group(("bad", "fail", [], {})))
        bad = result.step("bad")
        assert result.status is GroupRunStatus.FAILED
        assert bad.status is StepStatus.FAILED
        assert bad.error is not None
        assert bad.error.type.endswith("ValueError")
        assert bad.error.message == "boom in bad"
        assert "raise ValueError" in bad.error.traceback and "_conformance_pipelines" in bad.error.traceback

    def test_dependents_of_a_failure_are_skipped_and_others_run(self) -> None:
        """Under on_failure continue, everything downstream of a failure is skipped and the rest completes."""
        g = group(
            ("bad", "fail", [], {}),
            ("child", "echo", ["bad"], {}),
            ("grandchild", "echo", ["child"], {}),
            ("sibling", "echo", [], {}),
            parallel=2,
            on_failure="continue",
        )
        result = self.run(g)
        status = {e.name: e.status for e in result.step_executions}
        assert status == {
            "bad": StepStatus.FAILED, "child": StepStatus.SKIPPED, "grandchild": StepStatus.SKIPPED, "sibling": StepStatus.COMPLETED,
        }
        assert result.status is GroupRunStatus.PARTIAL
        assert result.step("child").attempts == 0 and "'bad' failed" in (result.step("child").reason or "")

    def test_stop_on_failure_cancels_steps_not_started(self) -> None:
        """Under on_failure stop, a step that had not started when another failed ends cancelled."""
        result = self.run(group(("bad", "fail", [], {}), ("later", "echo", [], {})))
        assert result.step("later").status is StepStatus.CANCELLED
        assert result.step("later").attempts == 0

    def test_a_result_that_is_not_json_fails_its_step(self) -> None:
        """A pipeline returning something JSON cannot hold fails with ResultNotJSONError."""
        result = self.run(group(("odd", "not_json", [], {})))
        odd = result.step("odd")
        assert odd.status is StepStatus.FAILED
        assert odd.error is not None and odd.error.type.endswith("ResultNotJSONError")
        assert "not JSON-able" in odd.error.message

    def test_a_failed_attempt_is_retried_as_a_new_attempt(self) -> None:
        """A step with retries left runs again with ctx.attempt counting up, each attempt recorded."""
        plan = with_step_options(PlanResolver().resolve(group(("flaky", "flaky", [], {"succeed_on": 2}))), "flaky", retries=1)
        result = self.run(plan)
        flaky = result.step("flaky")
        assert flaky.status is StepStatus.COMPLETED
        assert flaky.result == {"attempt": 2}
        assert [a.status for a in flaky.history] == [StepStatus.FAILED, StepStatus.COMPLETED]

    def test_the_result_is_json_and_reads_back(self) -> None:
        """The run's to_dict() is JSON, and from_dict reads back every status, result and error."""
        g = group(("a", "echo", [], {"x": 1.5}), ("bad", "fail", ["a"], {}), ("c", "echo", ["bad"], {}), on_failure="continue")
        result = self.run(g)
        back = GroupExecutionResult.from_dict(json.loads(json.dumps(result.to_dict(), allow_nan=False)))
        assert (back.run_id, back.status) == (result.run_id, result.status)
        assert [(e.name, e.status, e.result, e.error) for e in back.step_executions] == [
            (e.name, e.status, e.result, e.error) for e in result.step_executions
        ]

    # -- output ------------------------------------------------------------------------

    def test_what_a_step_prints_is_kept_with_the_step(self) -> None:
        """stdout and stderr of a step end up in its StepExecution.output."""
        if not self.captures_output:
            pytest.skip("this executor does not capture a step's output")
        result = self.run(group(("loud", "print", [], {"text": "conformance-marker-42"})))
        output = result.step("loud").output
        assert "conformance-marker-42" in output and "24-rekram-ecnamrofnoc" in output

    # -- concurrency -------------------------------------------------------------------

    def test_concurrency_never_exceeds_the_limit(self) -> None:
        """With max_concurrency 2, no more than two attempts ever run at once."""
        g = group(*[(f"p{i}", "sleep", [], {"seconds": 0.15}) for i in range(6)], parallel=2)
        result = self.run(g)
        assert result.status is GroupRunStatus.COMPLETED
        assert max_overlap(result.step_executions) <= 2

    def test_independent_steps_run_at_the_same_time(self) -> None:
        """Independent steps overlap up to the limit when the policy is parallel."""
        if not self.runs_in_parallel:
            pytest.skip("this executor runs one step at a time")
        g = group(*[(f"p{i}", "sleep", [], {"seconds": 0.3}) for i in range(4)], parallel=2)
        result = self.run(g)
        assert max_overlap(result.step_executions) == 2

    def test_max_concurrency_option_overrides_the_policy(self) -> None:
        """GroupRunner(max_concurrency=1) runs a parallel group one step at a time."""
        g = group(*[(f"p{i}", "sleep", [], {"seconds": 0.05}) for i in range(4)], parallel=4)
        result = self.run(g, max_concurrency=1)
        assert max_overlap(result.step_executions) == 1
