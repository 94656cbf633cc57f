"""The pure scheduler: readiness, plan order, the limit, retries, skips, stop."""

from __future__ import annotations

import pytest

from spine.orchestration import FailurePolicy, StepStatus
from spine.runner import Scheduler, StepSlot

S = StepStatus


def chain_and_leaf() -> list[StepSlot]:
    # 0 -> 1 -> 2, and 3 independent
    return [StepSlot("a", ()), StepSlot("b", (0,)), StepSlot("c", (1,)), StepSlot("d", ())]


class TestReadiness:
    def test_roots_first_in_plan_order(self) -> None:
        """Only steps without dependencies are ready at first, in plan order."""
        s = Scheduler(chain_and_leaf(), limit=4, on_failure=FailurePolicy.STOP)
        assert s.get_ready() == [0, 3]

    def test_dependent_ready_after_completion(self) -> None:
        """A step becomes ready only once its dependency completed."""
        s = Scheduler(chain_and_leaf(), limit=4, on_failure=FailurePolicy.STOP)
        s.get_ready()
        assert s.get_ready() == []
        s.done(0, True)
        assert s.get_ready() == [1]

    def test_limit_bounds_in_flight(self) -> None:
        """No more than ``limit`` steps are handed out before one finishes."""
        steps = [StepSlot(str(i), ()) for i in range(5)]
        s = Scheduler(steps, limit=2, on_failure=FailurePolicy.STOP)
        assert s.get_ready() == [0, 1]
        s.done(1, True)
        assert s.get_ready() == [2]

    def test_plan_order_wins_among_ready(self) -> None:
        """When a slot frees, the ready step earliest in plan order starts, not the newest."""
        steps = [StepSlot("a", ()), StepSlot("b", ()), StepSlot("c", (0,)), StepSlot("d", ())]
        s = Scheduler(steps, limit=1, on_failure=FailurePolicy.STOP)
        assert s.get_ready() == [0]
        s.done(0, True)
        assert s.get_ready() == [1]  # b (position 1) before c (2) and d (3)

    def test_limit_below_one_is_refused(self) -> None:
        """A limit of 0 would never start anything: refused."""
        with pytest.raises(ValueError, match="at least 1"):
            Scheduler([], limit=0, on_failure=FailurePolicy.STOP)


class TestFailure:
    def test_failure_skips_everything_downstream(self) -> None:
        """A failed step's direct and indirect dependents are skipped at once."""
        s = Scheduler(chain_and_leaf(), limit=4, on_failure=FailurePolicy.CONTINUE)
        s.get_ready()
        s.done(0, False)
        assert s.status[:3] == [S.FAILED, S.SKIPPED, S.SKIPPED]
        assert "'a' failed" in (s.reason[2] or "")

    def test_continue_keeps_running_the_rest(self) -> None:
        """Under continue, the independent step still completes and the run ends."""
        s = Scheduler(chain_and_leaf(), limit=4, on_failure=FailurePolicy.CONTINUE)
        s.get_ready()
        s.done(0, False)
        s.done(3, True)
        assert not s.is_active()
        assert s.status[3] is S.COMPLETED

    def test_stop_starts_nothing_new(self) -> None:
        """Under stop, no step starts after a failure and never-started steps end cancelled."""
        steps = [StepSlot("a", ()), StepSlot("b", ()), StepSlot("c", ())]
        s = Scheduler(steps, limit=1, on_failure=FailurePolicy.STOP)
        s.get_ready()
        s.done(0, False)
        assert s.get_ready() == []
        assert not s.is_active()
        s.finish()
        assert s.status == [S.FAILED, S.CANCELLED, S.CANCELLED]
        assert "on_failure is stop" in (s.reason[1] or "")


class TestRetries:
    def test_retry_keeps_slot_then_completes(self) -> None:
        """A failed attempt with retries left asks for a retry and keeps its slot."""
        steps = [StepSlot("a", (), retries=1), StepSlot("b", ())]
        s = Scheduler(steps, limit=1, on_failure=FailurePolicy.STOP)
        assert s.get_ready() == [0]
        assert s.done(0, False) is True
        assert s.get_ready() == []  # the slot is still a's
        assert s.retry_started(0) == 2
        assert s.done(0, True) is False
        assert s.get_ready() == [1]

    def test_retries_exhausted_fail(self) -> None:
        """After retries+1 failed attempts the step fails for good."""
        s = Scheduler([StepSlot("a", (), retries=1)], limit=1, on_failure=FailurePolicy.STOP)
        s.get_ready()
        assert s.done(0, False) is True
        s.retry_started(0)
        assert s.done(0, False) is False
        assert s.status[0] is S.FAILED


def test_preset_completed_resumes() -> None:
    """Steps completed in an earlier run are not handed out, and their dependents are ready."""
    s = Scheduler(chain_and_leaf(), limit=4, on_failure=FailurePolicy.STOP)
    s.preset_completed({0, 1})
    assert s.get_ready() == [2, 3]
