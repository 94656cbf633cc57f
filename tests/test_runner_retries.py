"""Retries, attempt timeouts and the run timeout, on real plans and real executors."""

from __future__ import annotations

import time
from typing import Any

import pytest

from spine.framework import Dispatcher, PipelineRegistry, register_pipeline
from spine.orchestration import GroupRunStatus, PipelineGroup, PlanResolver, StepStatus
from spine.runner import RunEventKind, get_runner


def run(registry: PipelineRegistry, group: PipelineGroup, executor: str = "threads", **options: Any) -> Any:
    plan = PlanResolver(registry).resolve(group)
    on_event = options.pop("on_event", None)
    return get_runner(executor, dispatcher=Dispatcher(registry), **options).execute(plan, on_event=on_event)


@pytest.fixture
def registry() -> PipelineRegistry:
    reg = PipelineRegistry()

    @register_pipeline("t.flaky", registry=reg, allow_extra_params=True)
    def flaky(params: dict[str, Any], ctx: Any) -> Any:
        if ctx.attempt <= params.get("fail_times", 1):
            raise ConnectionError(f"attempt {ctx.attempt} refused")
        return {"attempt": ctx.attempt}

    @register_pipeline("t.sleep", registry=reg, allow_extra_params=True)
    def sleep(params: dict[str, Any], ctx: Any) -> Any:
        end = time.monotonic() + params.get("seconds", 5)
        while time.monotonic() < end:
            if params.get("polite") and ctx.cancelled:
                return {"cancelled_seen": True}
            time.sleep(0.01)
        return {"slept": True}

    @register_pipeline("t.ok", registry=reg)
    def ok(params: dict[str, Any], ctx: Any) -> Any:
        return {"ok": True}

    return reg


@pytest.mark.parametrize("executor", ["inline", "threads", "processes"])
def test_retry_then_success(registry: PipelineRegistry, executor: str) -> None:
    """A step that fails once and has a retry completes on attempt 2; both attempts are recorded."""
    group = PipelineGroup(name="r").add("a", "t.flaky", params={"fail_times": 1}, retries=1, retry_delay_seconds=0.01)
    result = run(registry, group, executor)
    a = result.step("a")
    assert a.status is StepStatus.COMPLETED and a.attempts == 2
    assert [h.status for h in a.history] == [StepStatus.FAILED, StepStatus.COMPLETED]
    assert a.history[0].error is not None and "attempt 1 refused" in a.history[0].error.message
    assert a.error is None and a.result == {"attempt": 2}


def test_retries_exhausted_fail_with_last_error(registry: PipelineRegistry) -> None:
    """After retries+1 failures the step fails with the last attempt's error."""
    group = PipelineGroup(name="r").add("a", "t.flaky", params={"fail_times": 9}, retries=2)
    a = run(registry, group).step("a")
    assert a.status is StepStatus.FAILED and a.attempts == 3
    assert a.error is not None and "attempt 3 refused" in a.error.message


def test_policy_retries_are_defaults(registry: PipelineRegistry) -> None:
    """policy.retries applies to steps that do not set their own; a step's own value wins."""
    group = (
        PipelineGroup(name="r")
        .add("a", "t.flaky", params={"fail_times": 2})
        .add("b", "t.flaky", params={"fail_times": 2}, retries=0)
        .with_policy(retries=2, on_failure="continue")
    )
    result = run(registry, group)
    assert result.step("a").status is StepStatus.COMPLETED and result.step("a").attempts == 3
    assert result.step("b").status is StepStatus.FAILED and result.step("b").attempts == 1


def test_retry_delay_doubles(registry: PipelineRegistry) -> None:
    """Retry delays double after each attempt (within the jitter), announced in events."""
    delays: list[float] = []
    group = PipelineGroup(name="r").add("a", "t.flaky", params={"fail_times": 3}, retries=3, retry_delay_seconds=0.02)
    run(registry, group, on_event=lambda e: e.kind is RunEventKind.STEP_RETRYING and delays.append(e.delay))
    assert len(delays) == 3
    for got, base in zip(delays, [0.02, 0.04, 0.08]):
        assert base * 0.89 <= got <= base * 1.11


@pytest.mark.parametrize("executor", ["threads", "processes"])
def test_attempt_timeout_fails_and_says_so(registry: PipelineRegistry, executor: str) -> None:
    """An attempt past timeout_seconds fails with a TimeoutError message; the run goes on."""
    group = (
        PipelineGroup(name="t")
        .add("slow", "t.sleep", params={"seconds": 30}, timeout_seconds=0.3)
        .add("other", "t.ok")
        .with_policy(on_failure="continue")
    )
    started = time.monotonic()
    result = run(registry, group, executor)
    assert time.monotonic() - started < 20  # not the 30 s the step wanted
    slow = result.step("slow")
    assert slow.status is StepStatus.FAILED
    assert slow.error is not None and slow.error.type == "TimeoutError" and "timed out after 0.3 s" in slow.error.message
    assert result.step("other").status is StepStatus.COMPLETED


def test_timeout_tells_a_thread_through_ctx_cancelled(registry: PipelineRegistry) -> None:
    """Under threads a timed-out attempt sees ctx.cancelled, and the pool keeps working."""
    group = (
        PipelineGroup(name="t")
        .add("slow", "t.sleep", params={"seconds": 30, "polite": True}, timeout_seconds=0.2, retries=1)
        .add("next", "t.ok", depends_on=[])
        .with_policy(execution="parallel", max_concurrency=1, on_failure="continue")
    )
    result = run(registry, group, "threads")
    slow = result.step("slow")
    assert slow.status is StepStatus.FAILED and slow.attempts == 2
    assert result.step("next").status is StepStatus.COMPLETED


def test_inline_late_attempt_fails_as_timed_out(registry: PipelineRegistry) -> None:
    """inline cannot interrupt: ctx.cancelled turns true at the deadline and the late attempt fails."""
    group = PipelineGroup(name="t").add("slow", "t.sleep", params={"seconds": 5, "polite": True}, timeout_seconds=0.2)
    slow = run(registry, group, "inline").step("slow")
    assert slow.status is StepStatus.FAILED
    assert slow.error is not None and "timed out" in slow.error.message


def test_run_timeout_fails_the_run(registry: PipelineRegistry) -> None:
    """policy.timeout_minutes bounds the run: what runs is stopped, what waits is cancelled, run failed."""
    group = (
        PipelineGroup(name="t")
        .add("slow", "t.sleep", params={"seconds": 30})
        .add("after", "t.ok", depends_on=["slow"])
        .add("later", "t.ok")
        .with_policy(timeout_minutes=0.005)  # 0.3 s
    )
    started = time.monotonic()
    result = run(registry, group, "processes")
    assert time.monotonic() - started < 20
    assert result.status is GroupRunStatus.FAILED
    assert "timed out after 0.005 minute" in (result.message or "")
    assert result.step("slow").status is StepStatus.FAILED
    assert result.step("after").status is StepStatus.SKIPPED
    assert result.step("later").status in (StepStatus.CANCELLED, StepStatus.COMPLETED)
