"""Running with the store: a recorded run, a resume, a replay — the calls the CLI makes.

Each one checks everything it can before any step runs (pools defined, the plan
resolvable, the run claimable), then:

1. claims the run in the store (a new ``running`` row under this process's lease, or a
   conditional takeover of an old one) — the ``max_active_runs`` guard is part of that
   claim, so two processes cannot both pass it;
2. starts the heartbeat thread (:class:`~spine.store.leases.Lease`), which also carries
   ``spine runs cancel`` to the run's :class:`~spine.framework.CancelToken`;
3. runs the plan with a :class:`~spine.store.recorder.RunRecorder` as event watcher and
   loop hooks (grouped commits, pool slots, the invariant);
4. commits the end of the run, releases its pool slots, stops the heartbeat.

**Resume keeps the run id.** The same ``group_runs`` row goes back to ``running`` under
the new process (``resumes`` counts how often); new attempts are appended to its history
with attempt numbers continuing, and ``ctx.idempotency_key`` (``run_id:step``) is the
same in every execution. Completed steps — also a step completed by a replay of its dead
letter — are not run again; their stored results reach their dependents.

**A replay is a new run** (``kind = replay``, ``parent_run_id`` = the original run) of
just the dead-lettered step, with its dependencies' stored results as ``ctx.upstream``.

**Both plan the run as it started** (:func:`plan_of`): its own definition and the
definitions of the nested groups it expanded are stored with the run, so editing a
nested group's file does not change the steps a resume or a replay sees.
"""

from __future__ import annotations

import os
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, replace
from typing import Any

from spine.framework.context import CancelToken
from spine.runner.events import RunEvent
from spine.runner.results import GroupExecutionResult
from spine.runner.runner import GroupRunner, new_run_id
from spine.store.dlq import DeadLetters
from spine.store.errors import ActiveRunError, RunNotResumableError, RunStateError, StoreError, UnknownPoolError
from spine.store.leases import HEARTBEAT_SECONDS, LEASE_SECONDS, Lease
from spine.store.pools import PoolSlots
from spine.store.recorder import RunRecorder
from spine.store.records import DeadLetter, DeadLetterStatus, Owner, RunKind
from spine.store.store import RunStore


class WaitCancelled(StoreError):
    """Cancelled (Ctrl-C) while waiting for an active run of the group to finish (exit 130)."""

    exit_code = 130


@dataclass(frozen=True, slots=True)
class StoreTuning:
    """Timings of leases and waits. The defaults suit production; tests shorten them
    (``SPINE_HEARTBEAT_SECONDS``, ``SPINE_LEASE_SECONDS`` read by :meth:`from_env`)."""

    heartbeat_seconds: float = HEARTBEAT_SECONDS
    lease_seconds: float = LEASE_SECONDS
    #: How long the database may stay unreachable mid-run before the run fails
    #: (``None``: the lease, after which another process could take the run over).
    lost_after_seconds: float | None = None
    #: How often ``--wait`` looks again for a free place.
    wait_poll_seconds: float = 1.0

    @classmethod
    def from_env(cls, env: Mapping[str, str] | None = None) -> StoreTuning:
        env = os.environ if env is None else env
        values: dict[str, float] = {}
        for key, var in (("heartbeat_seconds", "SPINE_HEARTBEAT_SECONDS"), ("lease_seconds", "SPINE_LEASE_SECONDS"),
                         ("lost_after_seconds", "SPINE_DB_LOST_SECONDS")):
            raw = env.get(var)
            if raw:
                try:
                    values[key] = float(raw)
                except ValueError:
                    raise StoreError(f"{var} must be a number of seconds, got {raw!r}") from None
                if values[key] <= 0:
                    raise StoreError(f"{var} must be a positive number of seconds, got {raw!r}")
        tuning = cls(**values)
        if tuning.heartbeat_seconds >= tuning.lease_seconds:
            raise StoreError(
                f"the heartbeat ({tuning.heartbeat_seconds:g} s) must be shorter than the lease ({tuning.lease_seconds:g} s): "
                "check SPINE_HEARTBEAT_SECONDS and SPINE_LEASE_SECONDS"
            )
        return tuning

    @property
    def lost_after(self) -> float:
        return self.lost_after_seconds if self.lost_after_seconds is not None else self.lease_seconds


def runner_options(runner: GroupRunner) -> dict[str, Any]:
    """How a run was run, stored so a resume runs it the same way."""
    return {
        "executor": runner.executor_name,
        "max_concurrency": runner.max_concurrency,
        "on_failure": runner.on_failure.value if runner.on_failure is not None else None,
        "grace_seconds": runner.grace_seconds,
    }


def check_pools(plan: Any, pools: Mapping[str, int]) -> set[str]:
    """The pools the plan uses; :class:`UnknownPoolError` when one is not configured."""
    used = [(s.name, s.pool) for s in plan.steps if getattr(s, "pool", None)]
    unknown = [(name, pool) for name, pool in used if pool not in pools]
    if unknown:
        raise UnknownPoolError(unknown, sorted(pools))
    return {pool for _, pool in used}


def _pool_slots(store: RunStore, plan: Any, pools: Mapping[str, int] | None) -> PoolSlots:
    """The pools ``plan`` draws from, checked against ``pools`` and made to exist in the store."""
    sizes = dict(pools or {})
    used = check_pools(plan, sizes)
    slots = PoolSlots(store, sizes)
    slots.ensure(used)
    return slots


def _fanout(*watchers: Callable[[RunEvent], None] | None) -> Callable[[RunEvent], None]:
    live = [w for w in watchers if w is not None]

    def emit(e: RunEvent) -> None:
        for w in live:
            w(e)

    return emit


def _execute(
    store: RunStore, plan: Any, runner: GroupRunner, *, run_id: str, owner: Owner, tuning: StoreTuning, cancel: CancelToken,
    on_event: Callable[[RunEvent], None] | None, pools: PoolSlots, execution: int = 0, completed: Mapping[str, Any] | None = None,
    attempts_before: Mapping[str, int] | None = None, dlq_run: str | None = None, open_letters: Mapping[str, int] | None = None,
    preset_rows: Mapping[str, Any] | None = None, origin_run_id: str | None = None,
) -> GroupExecutionResult:
    lease = Lease(
        store, run_id, owner, interval=tuning.heartbeat_seconds,
        on_cancel=lambda reason: cancel.cancel(reason),
    )
    recorder = RunRecorder(
        store, plan, run_id=run_id, owner=owner, execution=execution, pools=pools, lease=lease, dlq_run=dlq_run,
        open_letters=open_letters, preset_rows=preset_rows, lost_after=tuning.lost_after,
    )
    with lease:
        try:
            result = runner.execute(
                plan, cancel=cancel, on_event=_fanout(recorder.event, on_event), run_id=run_id, completed=completed,
                hooks=recorder, attempts_before=attempts_before, origin_run_id=origin_run_id,
            )
        except BaseException as exc:  # the runner could not run it (no Dask cluster …): not a run left "running"
            recorder.abandon(f"the run ended before it finished: {type(exc).__name__}: {exc}")
            raise
        recorder.close(result)
    return result


@dataclass(frozen=True, slots=True)
class ClaimedRun:
    """A run claimed in the store (its row ``running`` under ``owner``'s lease), not yet
    executed: what :func:`execute_claimed` needs to run it. The ``claim_*`` functions make
    one; splitting claim from execution lets a server answer "202, here is the run id" at
    once and run it in a worker thread (keeping the lease alive meanwhile: :meth:`RunStore.heartbeat`)."""

    store: RunStore
    plan: Any
    runner: GroupRunner
    run_id: str
    owner: Owner
    tuning: StoreTuning
    slots: PoolSlots
    execution: int = 0
    completed: Mapping[str, Any] | None = None
    attempts_before: Mapping[str, int] | None = None
    dlq_run: str | None = None
    open_letters: Mapping[str, int] | None = None
    preset_rows: Mapping[str, Any] | None = None
    origin_run_id: str | None = None
    #: What the result says it was resumed from (a replay: the original run).
    resumed_from: str | None = None
    #: Return the whole stored history (a resume) rather than this execution's result.
    whole_history: bool = False


def claim_run(
    store: RunStore,
    plan: Any,
    runner: GroupRunner,
    *,
    cancel: CancelToken | None = None,
    pools: Mapping[str, int] | None = None,
    wait: bool = False,
    on_wait: Callable[[ActiveRunError], None] | None = None,
    tuning: StoreTuning | None = None,
    run_id: str | None = None,
    schedule: str | None = None,
    logical_date: Any = None,
) -> ClaimedRun:
    """Claim a new run of ``plan`` (the first half of :func:`record_run`)."""
    tuning = tuning or StoreTuning()
    cancel = cancel or CancelToken()
    slots = _pool_slots(store, plan, pools)
    run_id = run_id or new_run_id()
    owner = Owner.here(tuning.lease_seconds)
    told = False
    while True:
        try:
            store.start_run(
                plan, run_id=run_id, owner=owner, options=runner_options(runner), executor=runner.executor_name,
                max_active_runs=plan.group.policy.max_active_runs, schedule=schedule, logical_date=logical_date,
            )
            break
        except ActiveRunError as exc:
            if not wait:
                raise
            if not told and on_wait is not None:
                on_wait(exc)
            told = True
            _sleep(tuning.wait_poll_seconds, cancel)
    return ClaimedRun(store, plan, runner, run_id, owner, tuning, slots)


def execute_claimed(
    claimed: ClaimedRun, *, cancel: CancelToken | None = None, on_event: Callable[[RunEvent], None] | None = None
) -> GroupExecutionResult:
    """Run a claimed run and record it (the second half of :func:`record_run`,
    :func:`resume_run` and :func:`replay_dead_letter`)."""
    c = claimed
    result = _execute(
        c.store, c.plan, c.runner, run_id=c.run_id, owner=c.owner, tuning=c.tuning, cancel=cancel or CancelToken(), on_event=on_event,
        pools=c.slots, execution=c.execution, completed=c.completed, attempts_before=c.attempts_before, dlq_run=c.dlq_run,
        open_letters=c.open_letters, preset_rows=c.preset_rows, origin_run_id=c.origin_run_id,
    )
    if c.whole_history:
        return c.store.result(c.run_id)
    if c.resumed_from is not None:
        return replace(result, resumed_from=c.resumed_from)
    return result


def record_run(
    store: RunStore,
    plan: Any,
    runner: GroupRunner,
    *,
    cancel: CancelToken | None = None,
    on_event: Callable[[RunEvent], None] | None = None,
    pools: Mapping[str, int] | None = None,
    wait: bool = False,
    on_wait: Callable[[ActiveRunError], None] | None = None,
    tuning: StoreTuning | None = None,
    run_id: str | None = None,
    schedule: str | None = None,
    logical_date: Any = None,
) -> GroupExecutionResult:
    """Run ``plan`` and record it. Refuses with :class:`ActiveRunError` when the group has
    ``policy.max_active_runs`` active runs, unless ``wait`` (then ``on_wait`` is told once,
    and the claim is tried again until it succeeds or ``cancel`` is set). ``schedule`` and
    ``logical_date`` tag a run fired by a schedule or a backfill (:mod:`spine.scheduler`)."""
    cancel = cancel or CancelToken()
    claimed = claim_run(store, plan, runner, cancel=cancel, pools=pools, wait=wait, on_wait=on_wait, tuning=tuning, run_id=run_id,
                        schedule=schedule, logical_date=logical_date)
    return execute_claimed(claimed, cancel=cancel, on_event=on_event)


def _sleep(seconds: float, cancel: CancelToken) -> None:
    end = time.monotonic() + seconds
    while True:
        if cancel.is_set():
            raise WaitCancelled(f"stopped waiting: {cancel.reason or 'cancelled'}; nothing ran")
        left = end - time.monotonic()
        if left <= 0:
            return
        time.sleep(min(0.1, left))


def plan_of(stored: Any, registry: Any, groups: Any = None) -> Any:
    """The plan a stored run ran: its own definition, params and batch id, resolved again.

    The groups its steps call are the definitions stored with the run (as they were when
    it started), so a resume or a replay plans the very steps the run began with, however
    their files changed since. Only a run recorded before the store kept them (schema
    0004) has none: its nested groups are looked up in ``groups``, as they are now.
    """
    from spine.orchestration.models import PipelineGroup
    from spine.orchestration.nesting import GroupSource
    from spine.orchestration.planner import PlanResolver

    group = PipelineGroup.from_dict(stored.definition)
    if stored.nested:
        groups = GroupSource(PipelineGroup.from_dict(d) for d in stored.nested)
    return PlanResolver(registry, groups).resolve(group, stored.params, batch_id=stored.batch_id)


def claim_resume(
    store: RunStore,
    run_id: str,
    *,
    registry: Any,
    make_runner: Callable[[Mapping[str, Any]], GroupRunner],
    pools: Mapping[str, int] | None = None,
    tuning: StoreTuning | None = None,
    plan: Any = None,
    groups: Any = None,
) -> ClaimedRun:
    """Take ``run_id`` over for a resume (the first half of :func:`resume_run`)."""
    tuning = tuning or StoreTuning()
    stored = store.stored_run(run_id)
    if stored.summary.kind is RunKind.REPLAY:
        raise RunNotResumableError(run_id, f"it is a replay of a step of {stored.summary.parent_run_id}; replay the dead letter again instead")
    plan = plan if plan is not None else plan_of(stored, registry, groups)
    slots = _pool_slots(store, plan, pools)
    runner = make_runner(stored.options)
    owner = Owner.here(tuning.lease_seconds)
    execution = store.claim_resume(run_id, owner, max_active_runs=plan.group.policy.max_active_runs)
    state = store.resume_state(run_id)
    names = {s.name for s in plan.steps}
    completed = {s: r for s, r in state.completed.items() if s in names}
    open_letters = DeadLetters(store).open_for(run_id)
    return ClaimedRun(
        store, plan, runner, run_id, owner, tuning, slots, execution=execution, completed=completed,
        attempts_before={s: n for s, n in state.attempts.items() if s in names}, open_letters=open_letters, whole_history=True,
    )


def resume_run(
    store: RunStore,
    run_id: str,
    *,
    registry: Any,
    make_runner: Callable[[Mapping[str, Any]], GroupRunner],
    cancel: CancelToken | None = None,
    on_event: Callable[[RunEvent], None] | None = None,
    pools: Mapping[str, int] | None = None,
    tuning: StoreTuning | None = None,
    plan: Any = None,
    groups: Any = None,
) -> GroupExecutionResult:
    """Take ``run_id`` over and run what did not complete (see the module docstring).

    ``make_runner(options)`` builds the runner from the run's stored options (executor,
    max_concurrency, on_failure, grace_seconds), overridden as the caller likes. ``plan``
    is the run's plan when the caller already resolved it (:func:`plan_of`).
    """
    claimed = claim_resume(store, run_id, registry=registry, make_runner=make_runner, pools=pools, tuning=tuning, plan=plan, groups=groups)
    return execute_claimed(claimed, cancel=cancel, on_event=on_event)


def replay_plan(plan: Any, step: str) -> Any:
    """The plan of a replay: ``step`` alone, after its direct dependencies (which are
    preset as completed, so only ``step`` runs)."""
    target = plan.step(step)
    deps = tuple(replace(plan.step(d), depends_on=()) for d in target.depends_on)
    steps = (*deps, target)
    return replace(plan, steps=steps, generations=(tuple(s.name for s in deps), (target.name,)) if deps else ((target.name,),), critical_path=(*target.depends_on[:1], target.name))


def claim_replay(
    store: RunStore,
    letter: DeadLetter,
    *,
    registry: Any,
    make_runner: Callable[[Mapping[str, Any]], GroupRunner],
    pools: Mapping[str, int] | None = None,
    tuning: StoreTuning | None = None,
    groups: Any = None,
) -> ClaimedRun:
    """Claim the replay of a dead letter as a new run (the first half of :func:`replay_dead_letter`)."""
    tuning = tuning or StoreTuning()
    if letter.status is not DeadLetterStatus.OPEN:
        raise RunStateError(letter.run_id, f"dead letter {letter.id} ({letter.step!r}) is already resolved (by {letter.resolved_by}); nothing to replay")
    stored = store.stored_run(letter.run_id)
    plan = replay_plan(plan_of(stored, registry, groups), letter.step)
    state = store.resume_state(letter.run_id)
    inputs = {s.name: state.completed[s.name] for s in plan.steps[:-1] if s.name in state.completed}
    missing = [s.name for s in plan.steps[:-1] if s.name not in inputs]
    if missing:
        raise RunStateError(letter.run_id, f"cannot replay {letter.step!r}: its dependencies {', '.join(missing)} did not complete; resume the run instead")
    slots = _pool_slots(store, plan, pools)
    runner = make_runner(stored.options)
    run_id = new_run_id()
    owner = Owner.here(tuning.lease_seconds)
    store.start_run(
        plan, run_id=run_id, owner=owner, options=runner_options(runner), executor=runner.executor_name,
        kind=RunKind.REPLAY, parent_run_id=letter.run_id,
    )
    return ClaimedRun(
        store, plan, runner, run_id, owner, tuning, slots, completed=inputs, dlq_run=letter.run_id,
        open_letters={letter.step: letter.id}, preset_rows=inputs, attempts_before={letter.step: letter.attempts},
        origin_run_id=letter.run_id, resumed_from=letter.run_id,
    )


def replay_dead_letter(
    store: RunStore,
    letter: DeadLetter,
    *,
    registry: Any,
    make_runner: Callable[[Mapping[str, Any]], GroupRunner],
    cancel: CancelToken | None = None,
    on_event: Callable[[RunEvent], None] | None = None,
    pools: Mapping[str, int] | None = None,
    tuning: StoreTuning | None = None,
    groups: Any = None,
) -> GroupExecutionResult:
    """Run the dead-lettered step again as a new run linked to its original run; on
    success the entry is resolved (in the same transaction as the step's completion)."""
    claimed = claim_replay(store, letter, registry=registry, make_runner=make_runner, pools=pools, tuning=tuning, groups=groups)
    return execute_claimed(claimed, cancel=cancel, on_event=on_event)


__all__ = [
    "ClaimedRun",
    "StoreTuning",
    "WaitCancelled",
    "check_pools",
    "claim_replay",
    "claim_resume",
    "claim_run",
    "execute_claimed",
    "plan_of",
    "record_run",
    "replay_dead_letter",
    "replay_plan",
    "resume_run",
    "runner_options",
]
