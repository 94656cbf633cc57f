"""GroupRunner on real executors: order, results, failures as data, faults, cancel."""

from __future__ import annotations

import os
import threading
import time
from collections.abc import Callable
from typing import Any

import pytest

from spine.framework import CancelToken, Dispatcher, PipelineRegistry, register_pipeline
from spine.orchestration import GroupRunStatus, PipelineGroup, PlanResolver, StepStatus
from spine.runner import GroupExecutionResult, RunEventKind, get_runner

LOCAL = ["inline", "threads", "processes"]


class Pipes:
    """A private registry of test pipelines and a way to run groups against it."""

    def __init__(self) -> None:
        self.registry = PipelineRegistry()

    def add(self, name: str, fn: Callable[[dict[str, Any], Any], Any]) -> None:
        register_pipeline(name, registry=self.registry, allow_extra_params=True)(fn)

    def run(self, group: PipelineGroup, executor: str = "threads", params: dict[str, Any] | None = None, **options: Any) -> GroupExecutionResult:
        plan = PlanResolver(self.registry).resolve(group, params or {})
        run_options = _execute_options(options)
        return get_runner(executor, dispatcher=Dispatcher(self.registry), **options).execute(plan, **run_options)


def _execute_options(options: dict[str, Any]) -> dict[str, Any]:
    return {k: options.pop(k) for k in ("cancel", "on_event") if k in options}


@pytest.fixture
def pipes() -> Pipes:
    p = Pipes()
    p.add("t.echo", lambda params, ctx: {"step": ctx.step, "upstream": dict(ctx.upstream), "params": params})
    p.add("t.boom", _boom)
    return p


def _boom(params: dict[str, Any], ctx: Any) -> Any:
    raise ValueError(f"boom in {ctx.step}")


def diamond() -> PipelineGroup:
    return (
        PipelineGroup(name="diamond")
        .add("a", "t.echo")
        .add("b", "t.echo", depends_on=["a"])
        .add("c", "t.echo", depends_on=["a"])
        .add("d", "t.echo", depends_on=["b", "c"])
        .with_policy(execution="parallel", max_concurrency=2)
    )


@pytest.mark.parametrize("executor", LOCAL)
class TestOnEveryLocalExecutor:
    def test_completes_and_passes_upstream_results(self, pipes: Pipes, executor: str) -> None:
        """Every step completes and ctx.upstream holds exactly the dependencies' results."""
        result = pipes.run(diamond(), executor)
        assert result.status is GroupRunStatus.COMPLETED
        d = result.step("d")
        assert set(d.result["upstream"]) == {"b", "c"}
        assert d.result["upstream"]["b"]["step"] == "b"

    def test_failure_is_data_with_traceback(self, pipes: Pipes, executor: str) -> None:
        """A raising pipeline fails its step with type, message and traceback; dependents are skipped."""
        group = diamond().add("e", "t.boom", depends_on=["a"]).add("f", "t.echo", depends_on=["e"])
        result = pipes.run(group.with_policy(on_failure="continue"), executor)
        e = result.step("e")
        assert e.status is StepStatus.FAILED
        assert e.error is not None and e.error.type == "ValueError" and e.error.message == "boom in e"
        assert "_boom" in e.error.traceback
        assert result.step("f").status is StepStatus.SKIPPED
        assert result.status is GroupRunStatus.PARTIAL

    def test_params_reach_the_pipeline(self, pipes: Pipes, executor: str) -> None:
        """Resolved params (templates rendered) are what the pipeline receives."""
        group = PipelineGroup(name="p").with_defaults(day="{{ params.day }}").add("a", "t.echo", params={"n": [1, 2]})
        result = pipes.run(group, executor, params={"day": "2024-01-05"})
        assert result.step("a").result["params"] == {"day": "2024-01-05", "n": [1, 2]}

    def test_output_is_captured_not_printed(self, pipes: Pipes, executor: str, capfd: pytest.CaptureFixture[str]) -> None:
        """What a step prints is kept with the step and does not reach the run's stdout."""
        pipes.add("t.loud", lambda params, ctx: print("x" * 200_000 + "END") or {"ok": True})
        result = pipes.run(PipelineGroup(name="loud").add("a", "t.loud"), executor)
        out, _ = capfd.readouterr()
        assert "xxxxxxxxxx" not in out
        step = result.step("a")
        assert step.output.rstrip().endswith("END")
        assert "earlier characters not kept" in step.output

    def test_not_json_result_fails(self, pipes: Pipes, executor: str) -> None:
        """A result that is not JSON-able fails the step with a message that says so."""
        pipes.add("t.obj", lambda params, ctx: {"when": object()})
        result = pipes.run(PipelineGroup(name="obj").add("a", "t.obj"), executor)
        err = result.step("a").error
        assert err is not None and "not JSON-able" in err.message

    def test_system_exit_and_keyboard_interrupt_fail_their_step(self, pipes: Pipes, executor: str) -> None:
        """sys.exit and KeyboardInterrupt raised by a pipeline fail its step, not the run."""
        pipes.add("t.exit", lambda params, ctx: exec("raise SystemExit(3)"))
        pipes.add("t.kbd", lambda params, ctx: exec("raise KeyboardInterrupt"))
        group = PipelineGroup(name="x").add("a", "t.exit").add("b", "t.kbd").add("c", "t.echo").with_policy(on_failure="continue")
        result = pipes.run(group, executor)
        assert "sys.exit(3)" in result.step("a").error.message
        assert "KeyboardInterrupt" in result.step("b").error.message
        assert result.step("c").status is StepStatus.COMPLETED

    def test_deep_recursion_is_a_readable_failure(self, pipes: Pipes, executor: str) -> None:
        """A runaway recursion fails with RecursionError and a bounded traceback."""

        def recurse(params: dict[str, Any], ctx: Any, n: int = 0) -> Any:
            return recurse(params, ctx, n + 1)

        pipes.add("t.rec", recurse)
        result = pipes.run(PipelineGroup(name="r").add("a", "t.rec"), executor)
        err = result.step("a").error
        assert err is not None and err.type == "RecursionError"
        assert err.traceback.count("\n") < 200

    def test_sequential_runs_one_at_a_time(self, pipes: Pipes, executor: str) -> None:
        """execution: sequential never has two steps running at once."""
        events: list[tuple[str, str]] = []
        group = PipelineGroup(name="seq").add("a", "t.echo").add("b", "t.echo").add("c", "t.echo")
        pipes.run(group, executor, on_event=lambda e: events.append((e.kind.value, e.step or "")))
        starts_finishes = [k for k, _ in events if k in ("step_started", "step_finished")]
        assert starts_finishes == ["step_started", "step_finished"] * 3


class TestProcesses:
    def test_os_exit_fails_only_its_step(self, pipes: Pipes) -> None:
        """A pipeline that calls os._exit fails its step; the run goes on by its policy."""
        pipes.add("t.die", lambda params, ctx: os._exit(7))
        group = PipelineGroup(name="die").add("a", "t.die").add("b", "t.echo").with_policy(on_failure="continue")
        result = pipes.run(group, "processes")
        err = result.step("a").error
        assert err is not None and err.type == "ProcessDied" and "code 7" in err.message
        assert result.step("b").status is StepStatus.COMPLETED

    def test_segfault_fails_only_its_step(self, pipes: Pipes) -> None:
        """A crash in native code (SIGSEGV) fails its step with the signal's name."""
        import ctypes

        pipes.add("t.segv", lambda params, ctx: ctypes.string_at(0))
        group = PipelineGroup(name="segv").add("a", "t.segv").add("b", "t.echo").with_policy(on_failure="continue")
        result = pipes.run(group, "processes")
        err = result.step("a").error
        assert err is not None and "SIGSEGV" in err.message
        assert result.status is GroupRunStatus.PARTIAL


class TestStop:
    def test_stop_cancels_unstarted_and_fails_the_run(self, pipes: Pipes) -> None:
        """on_failure: stop — dependents skipped, other unstarted steps cancelled, run failed."""
        group = PipelineGroup(name="stop").add("a", "t.boom").add("b", "t.echo", depends_on=["a"]).add("c", "t.echo")
        result = pipes.run(group, "inline")
        assert [s.status for s in result.step_executions] == [StepStatus.FAILED, StepStatus.SKIPPED, StepStatus.CANCELLED]
        assert result.status is GroupRunStatus.FAILED
        assert "on_failure is stop" in (result.step("c").reason or "")

    def test_on_failure_override(self, pipes: Pipes) -> None:
        """The runner's on_failure overrides the group's policy."""
        group = PipelineGroup(name="stop").add("a", "t.boom").add("c", "t.echo")
        result = pipes.run(group, "inline", on_failure="continue")
        assert result.step("c").status is StepStatus.COMPLETED
        assert result.status is GroupRunStatus.PARTIAL


class TestCancel:
    def test_cancel_tells_running_steps_and_cancels_the_rest(self, pipes: Pipes) -> None:
        """A cancel reaches running steps through ctx.cancelled; nothing new starts; run cancelled."""
        started = threading.Event()

        def polite(params: dict[str, Any], ctx: Any) -> Any:
            started.set()
            while not ctx.cancelled:
                time.sleep(0.01)
            return {"stopped": True}

        pipes.add("t.polite", polite)
        token = CancelToken()
        group = PipelineGroup(name="c").add("a", "t.polite").add("b", "t.echo", depends_on=["a"])
        threading.Thread(target=lambda: started.wait(5) and token.cancel("cancelled by test"), daemon=True).start()
        result = pipes.run(group, "threads", cancel=token)
        assert result.status is GroupRunStatus.CANCELLED
        assert result.step("a").status is StepStatus.COMPLETED  # it finished within the grace period
        assert result.step("b").status is StepStatus.CANCELLED
        assert "cancelled by test" in (result.message or "")

    def test_grace_period_gives_up_stubborn_steps(self, pipes: Pipes) -> None:
        """A step that ignores ctx.cancelled is given up after the grace period and marked cancelled."""
        started = threading.Event()
        release = threading.Event()

        def stubborn(params: dict[str, Any], ctx: Any) -> Any:
            started.set()
            release.wait(10)
            return {}

        pipes.add("t.stubborn", stubborn)
        token = CancelToken()
        threading.Thread(target=lambda: started.wait(5) and token.cancel(), daemon=True).start()
        result = pipes.run(PipelineGroup(name="s").add("a", "t.stubborn"), "threads", cancel=token, grace_seconds=0.2)
        release.set()
        a = result.step("a")
        assert a.status is StepStatus.CANCELLED
        assert "after the run was cancelled" in (a.reason or "")
        assert result.status is GroupRunStatus.CANCELLED


def test_events_tell_the_story(pipes: Pipes) -> None:
    """Events arrive in order: run started, per-step start/finish, skipped, run finished with the result."""
    kinds: list[RunEventKind] = []
    group = PipelineGroup(name="ev").add("a", "t.boom").add("b", "t.echo", depends_on=["a"])
    pipes.run(group, "inline", on_event=lambda e: kinds.append(e.kind))
    assert kinds == [
        RunEventKind.RUN_STARTED, RunEventKind.STEP_STARTED, RunEventKind.STEP_FINISHED,
        RunEventKind.STEP_SKIPPED, RunEventKind.RUN_FINISHED,
    ]


def test_result_round_trips_through_dict(pipes: Pipes) -> None:
    """GroupExecutionResult.from_dict(to_dict()) gives the same JSON (one serialisation path)."""
    result = pipes.run(diamond().add("e", "t.boom", depends_on=["a"]).with_policy(on_failure="continue"), "threads")
    data = result.to_dict()
    assert GroupExecutionResult.from_dict(data).to_dict() == data


def test_resume_skips_completed_steps(pipes: Pipes) -> None:
    """Steps given as completed are not run again and their results reach dependents."""
    calls: list[str] = []
    pipes.add("t.count", lambda params, ctx: calls.append(ctx.step) or {"up": dict(ctx.upstream)})
    group = PipelineGroup(name="r").add("a", "t.count").add("b", "t.count", depends_on=["a"])
    plan = PlanResolver(pipes.registry).resolve(group)
    result = get_runner("inline", dispatcher=Dispatcher(pipes.registry)).execute(plan, completed={"a": {"from": "before"}})
    assert calls == ["b"]
    assert result.step("b").result == {"up": {"a": {"from": "before"}}}
    assert result.status is GroupRunStatus.COMPLETED


def test_original_names_importable_from_orchestration() -> None:
    """The original spine-core's runner names import from spine.orchestration, lazily."""
    import subprocess
    import sys

    code = (
        "import sys, spine.orchestration as o\n"
        "assert 'spine.runner' not in sys.modules\n"
        "from spine.orchestration import GroupRunner, GroupExecutionResult, GroupExecutionStatus, StepExecution, StepStatus, get_runner\n"
        "import spine.runner as r\n"
        "assert get_runner is r.get_runner and GroupExecutionStatus is o.GroupRunStatus\n"
    )
    subprocess.run([sys.executable, "-c", code], check=True)
