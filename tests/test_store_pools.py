"""Pools and run guards through the store: slot claims, dead holders, max_active_runs."""

# ruff: noqa: F811 - the fixtures imported from _db are parameters of the tests below

from __future__ import annotations

import datetime as dt
import threading
import time

import pytest
from _db import Pipes, chain_group, db_url, store  # noqa: F401 - fixtures

from spine.framework import register_pipeline
from spine.orchestration import PipelineGroup, PipelineStep
from spine.orchestration.models import ExecutionMode, ExecutionPolicy, GroupRunStatus
from spine.store import ActiveRunError, Owner, PoolSlots, StoreTuning, UnknownPoolError, WaitCancelled, record_run
from spine.store.schema import group_runs


def _running(store, pipes: Pipes, run_id: str, group=None) -> Owner:
    """A run held as running in the store by a fresh owner (no process behind it)."""
    owner = Owner.here(30.0)
    store.start_run(pipes.plan(group or chain_group()), run_id=run_id, owner=owner, options={}, executor="inline")
    return owner


def _expire(store, run_id: str) -> None:
    past = dt.datetime.now(dt.UTC) - dt.timedelta(hours=1)
    store.write(lambda c: c.execute(group_runs.update().where(group_runs.c.run_id == run_id).values(lease_expires_at=past)))


class TestSlots:
    def test_claims_stop_at_the_pool_size(self, store) -> None:
        """A pool of 2 gives slots 0 and 1, then nothing while both are held."""
        pipes = Pipes()
        owner = _running(store, pipes, "run_a")
        slots = PoolSlots(store, {"warehouse": 2})
        slots.ensure()
        got = [slots.claim("warehouse", "run_a", f"s{i}", owner) for i in range(3)]
        assert got == [0, 1, None]

    def test_releasing_an_owner_frees_its_slots(self, store) -> None:
        """release_owner frees every slot the owner held, so they can be claimed again."""
        pipes = Pipes()
        owner = _running(store, pipes, "run_a")
        slots = PoolSlots(store, {"warehouse": 1})
        slots.ensure()
        slots.claim("warehouse", "run_a", "s0", owner)
        assert slots.release_owner(owner) == 1 and slots.claim("warehouse", "run_a", "s1", owner) == 0

    def test_a_dead_holders_slot_is_free(self, store) -> None:
        """A slot held by a run whose lease expired is claimed by another run."""
        pipes = Pipes()
        dead = _running(store, pipes, "run_dead")
        alive = _running(store, pipes, "run_alive", chain_group("t.other"))
        slots = PoolSlots(store, {"warehouse": 1})
        slots.ensure()
        assert slots.claim("warehouse", "run_dead", "s0", dead) == 0
        assert slots.claim("warehouse", "run_alive", "s0", alive) is None
        _expire(store, "run_dead")
        assert slots.claim("warehouse", "run_alive", "s0", alive) == 0
        assert [(h.run_id, h.step) for h in slots.holders("warehouse")] == [("run_alive", "s0")]

    def test_a_shrunk_pool_never_hands_out_its_old_slots(self, store) -> None:
        """Slots numbered at or above a smaller configured size are never claimed."""
        pipes = Pipes()
        owner = _running(store, pipes, "run_a")
        PoolSlots(store, {"warehouse": 3}).ensure()
        small = PoolSlots(store, {"warehouse": 1})
        assert [small.claim("warehouse", "run_a", f"s{i}", owner) for i in range(2)] == [0, None]


def _pooled_group(name: str, n: int, pool: str = "warehouse", retries: int = 0) -> PipelineGroup:
    steps = tuple(PipelineStep(f"p{i}", "t.busy", retries=retries) for i in range(n))
    return PipelineGroup(name=name, steps=steps, policy=ExecutionPolicy(execution=ExecutionMode.PARALLEL, max_concurrency=n, pool=pool))


class TestPooledRuns:
    def test_two_runs_in_threads_never_exceed_the_pool(self, store) -> None:
        """Two runs of different groups in parallel threads, pool of 1: their pool steps never overlap."""
        pipes = Pipes()
        spans: list[tuple[float, float]] = []
        lock = threading.Lock()

        @register_pipeline("t.busy", registry=pipes.registry)
        def busy(params, ctx):
            start = time.monotonic()
            time.sleep(0.05)
            with lock:
                spans.append((start, time.monotonic()))
            return None

        results = []
        threads = [
            threading.Thread(target=lambda n=n: results.append(record_run(store, pipes.plan(_pooled_group(n, 3)), pipes.runner("threads"), pools={"warehouse": 1})))
            for n in ("g.one", "g.two")
        ]
        for t in threads:
            t.start()
        for t in threads:
            t.join(60)
        assert [r.status for r in results] == [GroupRunStatus.COMPLETED] * 2 and len(spans) == 6
        ordered = sorted(spans)
        assert all(a_end <= b_start for (_, a_end), (b_start, _) in zip(ordered, ordered[1:]))

    def test_slots_are_released_when_steps_end(self, store) -> None:
        """After a pooled run, nobody holds a slot of its pool."""
        pipes = Pipes()

        @register_pipeline("t.busy", registry=pipes.registry)
        def busy(params, ctx):
            return None

        record_run(store, pipes.plan(_pooled_group("g.one", 3)), pipes.runner(), pools={"warehouse": 2})
        assert PoolSlots(store, {"warehouse": 2}).holders("warehouse") == []

    def test_a_retrying_step_keeps_its_slot(self, store) -> None:
        """A pool-of-1 step that fails once and retries keeps the slot: the other step waits for both attempts."""
        pipes = Pipes()
        order: list[tuple[str, int]] = []

        @register_pipeline("t.busy", registry=pipes.registry)
        def busy(params, ctx):
            order.append((ctx.step, ctx.attempt))
            if ctx.step == "p0" and ctx.attempt == 1:
                raise RuntimeError("once")
            return None

        record_run(store, pipes.plan(_pooled_group("g.one", 2, retries=1)), pipes.runner("threads"), pools={"warehouse": 1})
        assert order == [("p0", 1), ("p0", 2), ("p1", 1)]

    def test_an_undefined_pool_is_refused_before_anything_runs(self, store) -> None:
        """A step naming a pool the configuration lacks raises UnknownPoolError; nothing runs or is recorded."""
        pipes = Pipes()

        @register_pipeline("t.busy", registry=pipes.registry)
        def busy(params, ctx):
            raise AssertionError("must not run")

        with pytest.raises(UnknownPoolError, match="step 'p0' uses pool 'warehouse'"):
            record_run(store, pipes.plan(_pooled_group("g.one", 1)), pipes.runner(), pools={"other": 1})
        assert store.runs() == []


class TestGuard:
    def test_a_second_active_run_is_refused_naming_the_first(self, store) -> None:
        """With max_active_runs 1, a run of a group that has an active run raises ActiveRunError naming it; nothing runs."""
        pipes = Pipes()
        _running(store, pipes, "run_first")
        with pytest.raises(ActiveRunError, match="run_first") as info:
            record_run(store, pipes.plan(chain_group()), pipes.runner())
        assert info.value.active == ("run_first",) and pipes.calls == []

    def test_an_orphaned_run_does_not_block(self, store) -> None:
        """A run whose lease expired is not active: a new run of its group starts."""
        pipes = Pipes()
        _running(store, pipes, "run_dead")
        _expire(store, "run_dead")
        assert record_run(store, pipes.plan(chain_group()), pipes.runner()).status is GroupRunStatus.COMPLETED

    def test_max_active_runs_2_allows_a_second(self, store) -> None:
        """With max_active_runs 2 one active run does not block another; two do."""
        pipes = Pipes()
        group = chain_group(max_active_runs=2)
        _running(store, pipes, "run_one", group)
        assert record_run(store, pipes.plan(group), pipes.runner()).status is GroupRunStatus.COMPLETED
        _running(store, pipes, "run_two", group)
        with pytest.raises(ActiveRunError):
            record_run(store, pipes.plan(group), pipes.runner())

    def test_other_groups_do_not_count(self, store) -> None:
        """An active run of another group does not block this one."""
        pipes = Pipes()
        _running(store, pipes, "run_other", chain_group("t.other"))
        assert record_run(store, pipes.plan(chain_group()), pipes.runner()).status is GroupRunStatus.COMPLETED

    def test_wait_starts_when_the_active_run_ends(self, store) -> None:
        """wait=True tells the caller once, then runs as soon as the active run is no longer active."""
        pipes = Pipes()
        _running(store, pipes, "run_first")
        told: list[str] = []
        threading.Timer(0.3, lambda: _expire(store, "run_first")).start()
        result = record_run(store, pipes.plan(chain_group()), pipes.runner(), wait=True, on_wait=lambda e: told.append(e.active[0]),
                            tuning=StoreTuning(wait_poll_seconds=0.05))
        assert result.status is GroupRunStatus.COMPLETED and told == ["run_first"]

    def test_cancel_while_waiting_runs_nothing(self, store) -> None:
        """A cancel while waiting raises WaitCancelled (exit 130) and runs nothing."""
        from spine.framework import CancelToken

        pipes = Pipes()
        _running(store, pipes, "run_first")
        token = CancelToken()
        threading.Timer(0.2, token.cancel).start()
        with pytest.raises(WaitCancelled) as info:
            record_run(store, pipes.plan(chain_group()), pipes.runner(), wait=True, cancel=token, tuning=StoreTuning(wait_poll_seconds=0.05))
        assert info.value.exit_code == 130 and pipes.calls == []
