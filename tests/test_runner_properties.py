"""Property tests of the runner on random DAGs with randomly failing steps (threads, for real)."""

from __future__ import annotations

import threading
import time
from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st

from spine.framework import Dispatcher, PipelineRegistry, register_pipeline
from spine.orchestration import FailurePolicy, GroupRunStatus, PipelineGroup, PlanResolver, StepStatus
from spine.runner import get_runner
from spine.testing import dags


class Journal:
    """What really happened, recorded by the pipelines themselves (thread-safe)."""

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.running = 0
        self.peak = 0
        self.started: dict[str, float] = {}
        self.finished: dict[str, float] = {}

    def body(self, params: dict[str, Any], ctx: Any) -> Any:
        with self.lock:
            self.started[ctx.step] = time.perf_counter()
            self.running += 1
            self.peak = max(self.peak, self.running)
        time.sleep(0.0005)
        fail = params.get("fail", False)
        with self.lock:
            self.running -= 1
            self.finished[ctx.step] = time.perf_counter()
        if fail:
            raise RuntimeError("planned failure")
        return {"ok": ctx.step}


def descendants(dag: list[tuple[str, tuple[str, ...]]], roots: set[str]) -> set[str]:
    children: dict[str, list[str]] = {n: [] for n, _ in dag}
    for n, deps in dag:
        for d in deps:
            children[d].append(n)
    out: set[str] = set()
    stack = [c for r in roots for c in children[r]]
    while stack:
        n = stack.pop()
        if n not in out:
            out.add(n)
            stack.extend(children[n])
    return out


@st.composite
def runs(draw: st.DrawFn) -> tuple[Any, set[str], int, FailurePolicy]:
    dag = draw(dags(min_steps=1, max_steps=20, max_dependencies=3))
    names = [n for n, _ in dag]
    failing = set(draw(st.lists(st.sampled_from(names), max_size=3)))
    limit = draw(st.integers(1, 4))
    policy = draw(st.sampled_from(list(FailurePolicy)))
    return dag, failing, limit, policy


@settings(max_examples=60, deadline=None)
@given(runs())
def test_runner_guarantees(case: tuple[Any, set[str], int, FailurePolicy]) -> None:
    """On any DAG with any failing steps, any limit and either policy: no step starts before
    all its dependencies completed; no dependent of a failure starts; concurrency never
    exceeds the limit; under continue every step not downstream of a failure completes;
    the run's status follows the aggregation rules."""
    dag, failing, limit, policy = case
    journal = Journal()
    registry = PipelineRegistry()
    register_pipeline("p.step", registry=registry, allow_extra_params=True)(journal.body)
    group = PipelineGroup(name="prop").with_policy(execution="parallel", max_concurrency=limit, on_failure=policy.value)
    for name, deps in dag:
        group = group.add(name, "p.step", depends_on=list(deps), params={"fail": name in failing})
    plan = PlanResolver(registry).resolve(group)
    result = get_runner("threads", dispatcher=Dispatcher(registry)).execute(plan)
    status = {s.name: s.status for s in result.step_executions}

    for name, deps in dag:
        if name in journal.started:
            for d in deps:
                assert status[d] is StepStatus.COMPLETED, (name, d)
                assert journal.finished[d] <= journal.started[name], (name, d)
    downstream = descendants(dag, failing)
    assert not (downstream & set(journal.started))
    assert journal.peak <= limit
    failed = {n for n in failing if n in journal.started}
    assert {n for n, s in status.items() if s is StepStatus.FAILED} == failed
    if policy is FailurePolicy.CONTINUE:
        for name, _ in dag:
            if name not in failing and name not in downstream:
                assert status[name] is StepStatus.COMPLETED, name
    if not failed:
        assert result.status is GroupRunStatus.COMPLETED
    elif policy is FailurePolicy.CONTINUE and StepStatus.COMPLETED in status.values():
        assert result.status is GroupRunStatus.PARTIAL
    else:
        assert result.status is GroupRunStatus.FAILED
    assert all(s is not StepStatus.PENDING and s is not StepStatus.RUNNING for s in status.values())


@settings(max_examples=40, deadline=None)
@given(dags(min_steps=1, max_steps=15, max_dependencies=3))
def test_sequential_follows_plan_order(dag: list[tuple[str, tuple[str, ...]]]) -> None:
    """A sequential run starts its steps exactly in plan order, one at a time."""
    order: list[str] = []
    registry = PipelineRegistry()
    register_pipeline("p.s", registry=registry)(lambda params, ctx: order.append(ctx.step))
    group = PipelineGroup(name="seq")
    for name, deps in dag:
        group = group.add(name, "p.s", depends_on=list(deps))
    plan = PlanResolver(registry).resolve(group)
    get_runner("threads", dispatcher=Dispatcher(registry)).execute(plan)
    assert order == plan.order
