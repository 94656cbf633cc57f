"""Real runs for the run-report tests: real plans run by the real runner, in this process.

Pipelines live in private registries. ``mixed_run`` has every kind of step the report
draws: completed, retried (fails once, then passes), failed with a traceback and printed
output, skipped because of that failure, a large result, and hostile names.
"""

from __future__ import annotations

import threading
from typing import Any

from spine.framework import CancelToken, Dispatcher, PipelineRegistry, register_pipeline
from spine.orchestration import PipelineGroup, PipelineStep, PlanResolver
from spine.orchestration.models import ExecutionMode, ExecutionPolicy, FailurePolicy
from spine.orchestration.planner import ExecutionPlan
from spine.runner import GroupExecutionResult, get_runner

XSS = "<script>alert(1)</script>"
XSS_IMG = "<img src=x onerror=alert(1)>"
QUOTED = 'fetch "quotes" it\'s'
ARROW = "a -> b"
UNICODE = "שלום 数据 🚀"
#: What the failing pipeline raises: markup, and a right-to-left override (U+202E).
BOOM_MESSAGE = f"bad row 7: {XSS_IMG} \u202egnp.exe"
#: What the failing pipeline prints: an ANSI colour and a NUL.
BOOM_OUTPUT = "reading rows\n\x1b[31mred alert\x1b[0m\x00\n"
BIG_CHARS = 50_000


def registry() -> PipelineRegistry:
    reg = PipelineRegistry()

    @register_pipeline("p.ok", registry=reg, allow_extra_params=True)
    def ok(params: dict[str, Any], ctx: Any) -> Any:
        print(f"loaded 3 rows for {ctx.step}")
        return {"step": ctx.step, "rows": 3, "upstream": sorted(ctx.upstream)}

    @register_pipeline("p.flaky", registry=reg)
    def flaky(params: dict[str, Any], ctx: Any) -> Any:
        if ctx.attempt == 1:
            raise ConnectionError("upstream API timed out")
        return {"attempt": ctx.attempt}

    @register_pipeline("p.boom", registry=reg)
    def boom(params: dict[str, Any], ctx: Any) -> Any:
        print(BOOM_OUTPUT, end="")
        raise ValueError(BOOM_MESSAGE)

    @register_pipeline("p.big", registry=reg)
    def big(params: dict[str, Any], ctx: Any) -> Any:
        return {"blob": "x" * BIG_CHARS}

    return reg


def mixed_group() -> PipelineGroup:
    return PipelineGroup(
        name="report.mixed",
        version=3,
        steps=(
            PipelineStep("ingest", "p.ok"),
            PipelineStep(QUOTED, "p.flaky", depends_on=("ingest",), retries=1),
            PipelineStep(XSS, "p.boom", depends_on=("ingest",)),
            PipelineStep(ARROW, "p.ok", depends_on=(XSS,)),
            PipelineStep(UNICODE, "p.ok", depends_on=(QUOTED,)),
            PipelineStep("report", "p.ok", depends_on=(ARROW, UNICODE)),
            PipelineStep("big", "p.big"),
        ),
        policy=ExecutionPolicy(on_failure=FailurePolicy.CONTINUE),
    )


def mixed_run() -> tuple[ExecutionPlan, GroupExecutionResult]:
    """A partial run: see the module docstring."""
    reg = registry()
    plan = PlanResolver(reg).resolve(mixed_group(), {"week_ending": "2024-01-05", "tier": XSS})
    return plan, get_runner("inline", dispatcher=Dispatcher(reg)).execute(plan)


def stop_run() -> tuple[ExecutionPlan, GroupExecutionResult]:
    """A sequential ``on_failure: stop`` run: ``a`` fails, so ``b`` (independent) never starts."""
    reg = registry()
    group = PipelineGroup(name="report.stop", steps=(PipelineStep("a", "p.boom"), PipelineStep("b", "p.ok")))
    plan = PlanResolver(reg).resolve(group)
    return plan, get_runner("inline", dispatcher=Dispatcher(reg)).execute(plan)


def cancelled_run() -> tuple[ExecutionPlan, GroupExecutionResult]:
    """A run cancelled while ``slow`` runs: ``trigger`` cancels it, and after a short grace
    period ``slow`` (which ignores ``ctx.cancelled``) is given up: a cancelled attempt."""
    reg = PipelineRegistry()
    token = CancelToken()
    release = threading.Event()

    @register_pipeline("p.slow", registry=reg)
    def slow(params: dict[str, Any], ctx: Any) -> Any:
        release.wait(30)
        return None

    @register_pipeline("p.trigger", registry=reg)
    def trigger(params: dict[str, Any], ctx: Any) -> Any:
        token.cancel("cancelled by the test")
        return {"cancelled": True}

    group = PipelineGroup(
        name="report.cancelled",
        steps=(PipelineStep("slow", "p.slow"), PipelineStep("trigger", "p.trigger"), PipelineStep("after", "p.trigger", depends_on=("slow",))),
        policy=ExecutionPolicy(execution=ExecutionMode.PARALLEL, max_concurrency=2),
    )
    plan = PlanResolver(reg).resolve(group)
    try:
        result = get_runner("threads", dispatcher=Dispatcher(reg), grace_seconds=0.05).execute(plan, cancel=token)
    finally:
        release.set()
    return plan, result
