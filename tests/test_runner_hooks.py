"""The loop's optional hooks (admit / turn_done / abort_reason) and resume numbering."""

from __future__ import annotations

import threading
import time

from spine.framework import Dispatcher, PipelineRegistry, register_pipeline
from spine.orchestration import PipelineGroup, PipelineStep, PlanResolver
from spine.orchestration.models import ExecutionMode, ExecutionPolicy, FailurePolicy, GroupRunStatus, StepStatus
from spine.runner import RunHooks, Scheduler, StepSlot, get_runner


def _registry(log: list) -> PipelineRegistry:
    reg = PipelineRegistry()

    @register_pipeline("h.ok", registry=reg)
    def ok(params, ctx):
        log.append((ctx.step, ctx.attempt, ctx.idempotency_key))
        return ctx.attempt

    return reg


def _run(group, hooks=None, executor="inline", **kw):
    log: list = []
    reg = _registry(log)
    plan = PlanResolver(reg).resolve(group)
    result = get_runner(executor, dispatcher=Dispatcher(reg)).execute(plan, hooks=hooks, **kw)
    return result, log


def _group(n=3, parallel=False, deps=False):
    steps = tuple(PipelineStep(f"s{i}", "h.ok", depends_on=(f"s{i - 1}",) if deps and i else ()) for i in range(n))
    policy = ExecutionPolicy(execution=ExecutionMode.PARALLEL if parallel else ExecutionMode.SEQUENTIAL, max_concurrency=4)
    return PipelineGroup(name="h.group", steps=steps, policy=policy)


class TestSchedulerAdmit:
    def test_a_refused_step_stays_ready_and_keeps_its_place(self) -> None:
        """A step admit refuses is not started, takes no slot, and is first in line on the next call."""
        refused = {0}
        s = Scheduler([StepSlot("a", ()), StepSlot("b", ())], limit=2, on_failure=FailurePolicy.STOP, admit=lambda i: i not in refused)
        assert s.get_ready() == [1] and s.deferred == 1 and s.in_flight == 1
        refused.clear()
        assert s.get_ready() == [0] and s.deferred == 0

    def test_sequential_nothing_overtakes_a_refused_step(self) -> None:
        """With limit 1, a refused step blocks the steps behind it (plan order holds)."""
        s = Scheduler([StepSlot("a", ()), StepSlot("b", ())], limit=1, on_failure=FailurePolicy.STOP, admit=lambda i: i != 0)
        assert s.get_ready() == [] and s.status[1] is StepStatus.PENDING

    def test_a_refused_step_is_cancelled_when_the_run_stops(self) -> None:
        """A step still refused when the run stops ends cancelled, like any never-started step."""
        s = Scheduler([StepSlot("a", ())], limit=1, on_failure=FailurePolicy.STOP, admit=lambda i: False)
        s.get_ready()
        s.stop("cancelled")
        s.finish()
        assert s.status == [StepStatus.CANCELLED] and not s.is_active()


class _Gate(RunHooks):
    """Refuses every step until ``open_at`` (monotonic); counts turns."""

    retry_seconds = 0.02

    def __init__(self, delay: float) -> None:
        self.open_at = time.monotonic() + delay
        self.turns = 0
        self.asked = 0

    def admit(self, i: int) -> bool:
        self.asked += 1
        return time.monotonic() >= self.open_at

    def turn_done(self) -> float | None:
        self.turns += 1
        return None


class TestLoopHooks:
    def test_refused_steps_are_asked_again_until_admitted(self) -> None:
        """Steps refused for a while start once admit says yes: the loop wakes by itself to ask again."""
        gate = _Gate(0.2)
        result, log = _run(_group(3), gate)
        assert result.status is GroupRunStatus.COMPLETED and [s for s, _, _ in log] == ["s0", "s1", "s2"]
        assert gate.asked > 3

    def test_turn_done_runs_every_turn(self) -> None:
        """turn_done is called at least once per step of a sequential run."""
        gate = _Gate(0)
        _run(_group(4), gate)
        assert gate.turns >= 4

    def test_abort_reason_fails_the_run_with_its_message(self) -> None:
        """An abort reason stops the run: it fails with that message and running steps fail with it."""
        release = threading.Event()
        reg = PipelineRegistry()

        @register_pipeline("h.slow", registry=reg)
        def slow(params, ctx):
            release.wait(5)
            return None

        class Abort(RunHooks):
            def abort_reason(self):
                return "the store is gone"

        group = PipelineGroup(name="h.abort", steps=(PipelineStep("a", "h.slow"), PipelineStep("b", "h.slow", depends_on=("a",))))
        plan = PlanResolver(reg).resolve(group)
        try:
            result = get_runner("threads", dispatcher=Dispatcher(reg)).execute(plan, hooks=Abort())
        finally:
            release.set()
        assert result.status is GroupRunStatus.FAILED and result.message == "the store is gone"
        assert result.step("a").status is StepStatus.FAILED and "the store is gone" in result.step("a").error.message
        assert result.step("b").status is StepStatus.SKIPPED

    def test_without_hooks_the_loop_is_unchanged(self) -> None:
        """A run without hooks completes every step in plan order."""
        result, log = _run(_group(3, deps=True))
        assert result.status is GroupRunStatus.COMPLETED and [s for s, _, _ in log] == ["s0", "s1", "s2"]


class TestResumeNumbering:
    def test_attempts_continue_after_earlier_ones(self) -> None:
        """attempts_before makes a step's first attempt in this execution attempt n+1 (ctx.attempt and history)."""
        result, log = _run(_group(2), attempts_before={"s0": 2})
        assert [(s, a) for s, a, _ in log] == [("s0", 3), ("s1", 1)]
        assert [a.attempt for a in result.step("s0").history] == [3]

    def test_origin_run_id_keeps_the_idempotency_key(self) -> None:
        """With origin_run_id, ctx.idempotency_key names the original run, not this one."""
        _, log = _run(_group(1), run_id="run_replay", origin_run_id="run_original")
        assert log[0][2] == "run_original:s0"

    def test_the_key_is_the_run_and_step_otherwise(self) -> None:
        """Without origin_run_id, ctx.idempotency_key is run_id:step."""
        _, log = _run(_group(1), run_id="run_one")
        assert log[0][2] == "run_one:s0"
