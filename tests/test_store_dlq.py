"""The dead-letter queue: what lands there, replays, resumes, purges."""

# ruff: noqa: F811 - the fixtures imported from _db are parameters of the tests below

from __future__ import annotations

import datetime as dt

import pytest
from _db import Pipes, chain_group, db_url, store  # noqa: F401 - fixtures

from spine.orchestration import PipelineGroup, PipelineStep
from spine.orchestration.models import ExecutionPolicy, FailurePolicy, GroupRunStatus, StepStatus
from spine.store import (
    DeadLetterNotFoundError,
    DeadLetters,
    DeadLetterStatus,
    RunKind,
    RunStateError,
    record_run,
    replay_dead_letter,
    resume_run,
)


def _failed_run(store, pipes: Pipes, retries: int = 0) -> str:
    """s0 -> s1 (fails) -> s2, with params on s1."""
    pipes.failing.add("s1")
    group = PipelineGroup(
        name="t.dlq",
        steps=(
            PipelineStep("s0", "t.maybe"),
            PipelineStep("s1", "t.maybe", depends_on=("s0",), params={"table": "trades", "day": dt.date(2024, 1, 5)}, retries=retries),
            PipelineStep("s2", "t.maybe", depends_on=("s1",)),
        ),
        policy=ExecutionPolicy(on_failure=FailurePolicy.CONTINUE),
    )
    return record_run(store, pipes.plan(group), pipes.runner()).run_id


def _make_runner(pipes: Pipes):
    return lambda options: pipes.runner()


class TestLanding:
    def test_a_step_that_exhausts_its_retries_lands_with_params_error_and_run(self, store) -> None:
        """A step failing its 3 attempts is one open entry: its run, step, params, error and attempt count."""
        pipes = Pipes()
        run_id = _failed_run(store, pipes, retries=2)
        [letter] = DeadLetters(store).list()
        assert (letter.run_id, letter.step, letter.status, letter.attempts) == (run_id, "s1", DeadLetterStatus.OPEN, 3)
        assert letter.params == {"table": "trades", "day": dt.date(2024, 1, 5)}
        assert letter.error.type == "RuntimeError" and "told to fail" in letter.error.message

    def test_completed_and_skipped_steps_do_not_land(self, store) -> None:
        """Only the failed step is dead-lettered, not its skipped dependent or completed dependency."""
        pipes = Pipes()
        _failed_run(store, pipes)
        assert [e.step for e in DeadLetters(store).list(status=None)] == ["s1"]

    def test_the_json_has_the_documented_keys(self, store) -> None:
        """An entry's to_dict has id, run_id, step, error and status (open or resolved)."""
        pipes = Pipes()
        _failed_run(store, pipes)
        data = DeadLetters(store).list()[0].to_dict()
        assert {"id", "run_id", "step", "error", "status"} <= set(data) and data["status"] == "open"


class TestReplay:
    def test_a_successful_replay_resolves_the_entry(self, store) -> None:
        """Replaying the entry after the cause is fixed runs only that step, with its dependency's result, and resolves it."""
        pipes = Pipes()
        run_id = _failed_run(store, pipes)
        pipes.failing.clear()
        pipes.calls.clear()
        letters = DeadLetters(store)
        [letter] = letters.list()
        result = replay_dead_letter(store, letter, registry=pipes.registry, make_runner=_make_runner(pipes))
        assert pipes.steps_called() == ["s1"] and result.status is GroupRunStatus.COMPLETED
        assert result.step("s1").result["upstream"] == {"s0": {"step": "s0", "attempt": 1, "key": f"{run_id}:s0", "upstream": {}}}
        [after] = letters.list(status=None)
        assert after.status is DeadLetterStatus.RESOLVED and after.resolved_by == result.run_id

    def test_a_replay_is_a_run_linked_to_its_original(self, store) -> None:
        """The replay is recorded as its own run of kind replay whose parent is the original run."""
        pipes = Pipes()
        run_id = _failed_run(store, pipes)
        pipes.failing.clear()
        result = replay_dead_letter(store, DeadLetters(store).list()[0], registry=pipes.registry, make_runner=_make_runner(pipes))
        summary = store.run(result.run_id)
        assert (summary.kind, summary.parent_run_id, result.resumed_from) == (RunKind.REPLAY, run_id, run_id)

    def test_a_replay_keeps_the_idempotency_key_and_counts_attempts_on(self, store) -> None:
        """The replayed step sees the original run's idempotency key and the attempt after the last one."""
        pipes = Pipes()
        run_id = _failed_run(store, pipes, retries=1)
        pipes.failing.clear()
        result = replay_dead_letter(store, DeadLetters(store).list()[0], registry=pipes.registry, make_runner=_make_runner(pipes))
        assert result.step("s1").result["key"] == f"{run_id}:s1" and result.step("s1").result["attempt"] == 3

    def test_a_failed_replay_keeps_the_entry_open_with_the_new_error(self, store) -> None:
        """A replay that fails again leaves one open entry, its attempts counted on."""
        pipes = Pipes()
        _failed_run(store, pipes)
        letters = DeadLetters(store)
        replay_dead_letter(store, letters.list()[0], registry=pipes.registry, make_runner=_make_runner(pipes))
        [entry] = letters.list(status=None)
        assert entry.status is DeadLetterStatus.OPEN and entry.attempts == 2

    def test_a_resolved_entry_is_not_replayed(self, store) -> None:
        """Replaying an entry that is already resolved raises RunStateError and runs nothing."""
        pipes = Pipes()
        _failed_run(store, pipes)
        pipes.failing.clear()
        letters = DeadLetters(store)
        replay_dead_letter(store, letters.list()[0], registry=pipes.registry, make_runner=_make_runner(pipes))
        pipes.calls.clear()
        with pytest.raises(RunStateError, match="already resolved"):
            replay_dead_letter(store, letters.list(status=None)[0], registry=pipes.registry, make_runner=_make_runner(pipes))
        assert pipes.calls == []

    def test_a_resume_after_a_replay_does_not_rerun_the_replayed_step(self, store) -> None:
        """After a successful replay, resuming the original run runs only the dependents, with the replay's result."""
        pipes = Pipes()
        run_id = _failed_run(store, pipes)
        pipes.failing.clear()
        replay_dead_letter(store, DeadLetters(store).list()[0], registry=pipes.registry, make_runner=_make_runner(pipes))
        pipes.calls.clear()
        result = resume_run(store, run_id, registry=pipes.registry, make_runner=_make_runner(pipes))
        assert pipes.steps_called() == ["s2"] and result.status is GroupRunStatus.COMPLETED
        assert result.step("s2").result["upstream"]["s1"]["attempt"] == 2


class TestResume:
    def test_a_resume_resolves_the_entry(self, store) -> None:
        """Resuming the run after the fix completes the step and resolves its entry, naming the run."""
        pipes = Pipes()
        run_id = _failed_run(store, pipes)
        pipes.failing.clear()
        resume_run(store, run_id, registry=pipes.registry, make_runner=_make_runner(pipes))
        [entry] = DeadLetters(store).list(status=None)
        assert (entry.status, entry.resolved_by) == (DeadLetterStatus.RESOLVED, run_id)

    def test_a_resume_reruns_failed_and_skipped_steps_only(self, store) -> None:
        """A resume runs the failed step and its skipped dependent; the completed one is not run again."""
        pipes = Pipes()
        run_id = _failed_run(store, pipes)
        pipes.failing.clear()
        pipes.calls.clear()
        result = resume_run(store, run_id, registry=pipes.registry, make_runner=_make_runner(pipes))
        assert pipes.steps_called() == ["s1", "s2"]
        assert [s.status for s in result.step_executions] == [StepStatus.COMPLETED] * 3
        assert result.run_id == run_id and store.run(run_id).resumes == 1

    def test_a_completed_run_is_not_resumable(self, store) -> None:
        """Resuming a completed run raises and runs nothing."""
        from spine.store import RunNotResumableError

        pipes = Pipes()
        run_id = record_run(store, pipes.plan(chain_group()), pipes.runner()).run_id
        with pytest.raises(RunNotResumableError, match="completed"):
            resume_run(store, run_id, registry=pipes.registry, make_runner=_make_runner(pipes))

    def test_a_failing_resume_updates_the_open_entry(self, store) -> None:
        """A resume that fails the step again keeps a single open entry with more attempts."""
        pipes = Pipes()
        run_id = _failed_run(store, pipes)
        resume_run(store, run_id, registry=pipes.registry, make_runner=_make_runner(pipes))
        [entry] = DeadLetters(store).list(status=None)
        assert (entry.status, entry.attempts) == (DeadLetterStatus.OPEN, 2)


class TestPurge:
    def test_purge_by_id(self, store) -> None:
        """purge(ids=…) deletes exactly those entries."""
        pipes = Pipes()
        _failed_run(store, pipes)
        _failed_run(store, pipes)
        letters = DeadLetters(store)
        first, second = letters.list()
        assert letters.purge(ids=[first.id]) == 1 and [e.id for e in letters.list()] == [second.id]

    def test_purge_resolved_keeps_open_entries(self, store) -> None:
        """purge(status=resolved) deletes resolved entries only."""
        pipes = Pipes()
        run_id = _failed_run(store, pipes)
        _failed_run(store, pipes)
        pipes.failing.clear()
        resume_run(store, run_id, registry=pipes.registry, make_runner=_make_runner(pipes))
        letters = DeadLetters(store)
        assert letters.purge(status=DeadLetterStatus.RESOLVED) == 1 and len(letters.list(status=None)) == 1

    def test_purge_before_a_time(self, store) -> None:
        """purge(before=…) deletes entries created before that time only."""
        pipes = Pipes()
        _failed_run(store, pipes)
        cut = dt.datetime.now(dt.UTC)
        _failed_run(store, pipes)
        letters = DeadLetters(store)
        assert letters.purge(before=cut) == 1 and len(letters.list()) == 1

    def test_purge_of_an_unknown_id_names_it_and_deletes_nothing(self, store) -> None:
        """purge(ids=[known, unknown]) raises DeadLetterNotFoundError naming the unknown id; nothing is deleted."""
        pipes = Pipes()
        _failed_run(store, pipes)
        letters = DeadLetters(store)
        known = letters.list()[0].id
        with pytest.raises(DeadLetterNotFoundError, match="9999"):
            letters.purge(ids=[known, 9999])
        assert len(letters.list()) == 1
