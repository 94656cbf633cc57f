"""The ``dask`` executor: each attempt is one task on a ``dask.distributed`` cluster.

Where the cluster comes from:

* ``address`` given (``--dask-scheduler tcp://HOST:PORT``): an existing scheduler; the
  run connects a client and leaves the cluster running when it ends.
* no address: a ``LocalCluster`` on 127.0.0.1 (worker processes, no dashboard) starts
  with the run and stops after it — whatever its workers still run is killed with them.

What each attempt becomes:

* **key** ``("spine-step", run_id, step, attempt)`` — one shared prefix (Dask's
  per-prefix bookkeeping stays small, dask/distributed#5965), the run id (on a
  long-lived cluster a key from an earlier run is never handed back as this run's
  result) and the attempt (a retry is a new task). ``pure=False``, Dask ``retries=0``:
  retries are the loop's.
* **the function** :func:`run_on_worker` with the :class:`AttemptTask` (plain data). The
  worker finds the pipeline by importing ``task.modules`` on a miss (the project's
  ``[tool.spine] pipelines``), so workers need the project installed, not pickled code.
* **cancel**: a ``distributed.Event`` named for the attempt (:func:`cancel_event_name`).
  The client sets it when the run is cancelled or the attempt times out; on the worker
  ``ctx.cancelled`` asks the scheduler at most every :data:`CANCEL_POLL_SECONDS` and only
  when the pipeline reads it (a short pipeline that never looks costs nothing). The
  event is removed from the scheduler when the attempt ends (by the client when the
  result arrives, by the worker when a given-up task finally returns).
* **stop** (a timeout, the end of a cancel's grace period): the event is set and the
  future cancelled. Dask cannot interrupt a running thread: the loop moves on at once,
  but the worker thread stays busy until the pipeline returns (on a LocalCluster, at the
  latest when the cluster stops with the run).
* **a worker that dies** mid-step: the scheduler runs the task again on another worker
  (at least once, ``distributed.scheduler.allowed-failures`` times, 3 by default), then
  gives up with ``KilledWorker`` — a failed attempt with a readable message. A lost
  scheduler connection cancels every future: failed attempts, never a hung run. On the
  run's own LocalCluster a task that no worker can run for
  :data:`NO_WORKERS_TIMEOUT_SECONDS` (a nanny that failed to restart its worker) fails.
"""

from __future__ import annotations

import datetime as dt
import os
import queue
import time
from collections.abc import Sequence
from dataclasses import replace
from typing import Any

from spine.core.errors import SpineError
from spine.runner.attempt import AttemptOutcome, AttemptTask, run_attempt
from spine.runner.capture import OutputTail, capturing, routed_output
from spine.runner.results import StepError

#: The prefix every spine task key shares on a Dask cluster.
KEY_PREFIX = "spine-step"
#: At most how often ``ctx.cancelled`` on a worker asks the scheduler (seconds).
CANCEL_POLL_SECONDS = 0.5
#: How long connecting to an existing scheduler may take before the run gives up (seconds).
CONNECT_TIMEOUT_SECONDS = 10.0
#: On a LocalCluster, how long a task may wait with no worker able to run it before it fails
#: (a nanny that could not restart a dead worker must not leave the run waiting forever).
NO_WORKERS_TIMEOUT_SECONDS = 60.0


class DaskUnavailableError(SpineError):
    """The dask executor cannot start: ``distributed`` is missing or the scheduler is unreachable."""

    def __init__(self, message: str, address: str | None = None) -> None:
        super().__init__(message)
        #: The scheduler address that was tried (``None`` for a LocalCluster).
        self.address = address


def task_key(task: AttemptTask) -> tuple[str, str, str, int]:
    """The Dask key of one attempt: ``("spine-step", run_id, step, attempt)``."""
    return (KEY_PREFIX, task.run_id, task.step, task.attempt)


def cancel_event_name(task: AttemptTask) -> str:
    """The name of the ``distributed.Event`` that tells this attempt it is cancelled."""
    return f"spine-cancel/{task.run_id}/{task.index}/{task.attempt}"


class DaskExecutor:
    """Attempts as tasks on a ``dask.distributed`` cluster (see the module docstring).

    ``address`` names an existing scheduler (``tcp://host:8786``); without one a
    ``LocalCluster`` of ``n_workers`` processes (default: one per core, at most the
    concurrency limit) with enough threads for the limit starts with the run.
    ``modules`` are the pipeline modules workers import when a pipeline is not registered
    there (used when the runner gives the task none).
    """

    name = "dask"

    def __init__(
        self,
        address: str | None = None,
        *,
        n_workers: int | None = None,
        modules: Sequence[str] = (),
        connect_timeout: float = CONNECT_TIMEOUT_SECONDS,
    ) -> None:
        self.address = address
        self.n_workers = n_workers
        self.modules = tuple(modules)
        self.connect_timeout = connect_timeout
        #: The LocalCluster of this run (``None`` when connected to an existing scheduler).
        self.cluster: Any = None
        #: The ``distributed.Client`` while the run is open.
        self.client: Any = None
        self._outcomes: queue.SimpleQueue[Any] | None = None
        self._submit_errors: tuple[type[BaseException], ...] = ()

    # -- the executor protocol -------------------------------------------------------

    def open(self, outcomes: queue.SimpleQueue[Any], limit: int) -> None:
        try:
            from distributed import Client, LocalCluster
        except ImportError as exc:
            raise DaskUnavailableError(
                "the dask executor needs dask.distributed, which is not installed: pip install 'spine-core[dask]'"
            ) from exc
        from distributed.client import ClosedClientError

        # what Client.submit raises when the cluster is gone (that step fails; the run goes on)
        self._submit_errors = (OSError, RuntimeError, ValueError, TimeoutError, ClosedClientError)
        self._outcomes = outcomes
        if self.address:
            try:
                self.client = Client(self.address, timeout=self.connect_timeout, set_as_default=False)
            except (OSError, TimeoutError, ValueError) as exc:  # refused, timed out, or not an address
                raise DaskUnavailableError(
                    f"cannot reach the Dask scheduler at {self.address} ({exc}); start one with "
                    "`dask scheduler` (and workers with `dask worker ADDRESS`), or leave out --dask-scheduler "
                    "to run on a local cluster",
                    self.address,
                ) from exc
            return
        import dask

        workers = self.n_workers or max(1, min(limit, os.cpu_count() or 1))
        try:
            with dask.config.set({"distributed.scheduler.no-workers-timeout": f"{NO_WORKERS_TIMEOUT_SECONDS}s"}):
                self.cluster = LocalCluster(
                    n_workers=workers,
                    threads_per_worker=max(1, -(-limit // workers)),
                    processes=True,
                    host="127.0.0.1",
                    dashboard_address=None,
                    # no dashboard; the scheduler's small HTTP server (health, metrics) still starts:
                    # on a free loopback port, not 8787 (two runs at once would fight over it)
                    scheduler_kwargs={"dashboard": False, "dashboard_address": "127.0.0.1:0"},
                )
        except (OSError, RuntimeError, TimeoutError) as exc:  # no free port, workers that fail to start
            raise DaskUnavailableError(f"could not start a local Dask cluster ({exc})") from exc
        try:
            self.client = Client(self.cluster, set_as_default=False)
        except BaseException:
            self.cluster.close()
            self.cluster = None
            raise

    def submit(self, task: AttemptTask) -> _DaskHandle:
        if self.modules and not task.modules:
            task = replace(task, modules=self.modules)
        started = dt.datetime.now(dt.UTC)
        handle = _DaskHandle(self, cancel_event_name(task))
        try:
            future = self.client.submit(run_on_worker, task, handle.event_name, key=task_key(task), pure=False, retries=0)
        except self._submit_errors as exc:  # a closed client, a lost scheduler
            self._put(_failed(task, started, StepError.from_exception(exc, ""), "could not submit the step to Dask"))
            return handle
        handle.future = future
        self.client.loop.add_callback(self._collect, self.client, future, task, handle, started)
        return handle

    def close(self) -> None:
        client, cluster = self.client, self.cluster
        self.client = self.cluster = None
        if client is not None:
            client.close()
        if cluster is not None:
            cluster.close()

    # -- internals ---------------------------------------------------------------------

    def _put(self, outcome: AttemptOutcome) -> None:
        assert self._outcomes is not None
        self._outcomes.put(outcome)

    async def _collect(self, client: Any, future: Any, task: AttemptTask, handle: _DaskHandle, started: dt.datetime) -> None:
        """On the client's event loop: wait for the task, fetch its outcome, hand it to the run.

        A coroutine per attempt, so outcomes that finish together are fetched together
        (a done-callback would fetch them one after the other in Dask's callback thread).
        """
        try:
            (outcome,) = await client.gather([future], asynchronous=True)
        except BaseException as exc:  # KilledWorker, CancelledError, a lost scheduler: data, like any failure
            outcome = _failed(task, started, *_explain(exc))
        if handle.was_set and not handle.stopped:
            # the task is over: forget its event on the scheduler. A task given up (stopped)
            # may still run on its worker and poll the event; the worker forgets it instead.
            try:
                await client.scheduler.event_clear(name=handle.event_name)
            except (OSError, TimeoutError, RuntimeError):  # the scheduler is gone: so is the event
                pass
        self._put(outcome)

    def _event_call(self, name: str, method: str) -> None:
        client = self.client
        if client is None:
            return
        try:
            getattr(_event(name, client), method)()
        except (OSError, TimeoutError, RuntimeError):  # the scheduler is gone: so is the task
            pass


class _DaskHandle:
    """Tells one attempt to wind down (its event) or gives it up (event + cancelled future)."""

    __slots__ = ("event_name", "executor", "future", "stopped", "was_set")

    def __init__(self, executor: DaskExecutor, event_name: str) -> None:
        self.executor = executor
        self.event_name = event_name
        self.future: Any = None
        self.was_set = False
        self.stopped = False

    def signal_cancel(self) -> None:
        if not self.was_set:
            self.was_set = True
            self.executor._event_call(self.event_name, "set")

    def stop(self) -> None:
        self.stopped = True
        self.signal_cancel()
        if self.future is not None and self.executor.client is not None:
            try:
                self.future.cancel()
            except (OSError, TimeoutError, RuntimeError):  # the scheduler is gone: nothing left to cancel
                pass


def _event(name: str, client: Any) -> Any:
    from distributed import Event

    return Event(name, client=client)


def _failed(task: AttemptTask, started: dt.datetime, error: StepError, context: str = "") -> AttemptOutcome:
    if context:
        error = StepError(error.type, f"{context}: {error.message}", error.traceback)
    return AttemptOutcome(task.index, task.attempt, False, started, dt.datetime.now(dt.UTC), error=error)


def _explain(exc: BaseException) -> tuple[StepError, str]:
    """A failure Dask reported (not the pipeline's own: those come back as outcomes)."""
    kind = type(exc).__name__
    error = StepError.from_exception(exc, "")
    if kind == "KilledWorker":
        return error, (
            "the Dask worker running this step died (a crash, os._exit, out of memory, or killed) "
            "as many times as the scheduler allows (distributed.scheduler.allowed-failures)"
        )
    if kind in ("NoWorkerError", "NoValidWorkerError"):
        return error, (
            "no Dask worker could run this step for too long (every worker died or left and none came back; "
            "distributed.scheduler.no-workers-timeout)"
        )
    if kind in ("CancelledError", "FutureCancelledError"):
        return error, "Dask cancelled this step's task (lost connection to the scheduler, or the cluster shut down)"
    return error, "Dask could not run this step"


# -- on the worker -----------------------------------------------------------------------


class WorkerCancel:
    """``ctx.cancelled`` on a Dask worker: the attempt's ``distributed.Event``, read lazily.

    The first read asks the scheduler; later reads reuse the answer for
    :data:`CANCEL_POLL_SECONDS`. Once set, it stays set without asking again. If the
    scheduler cannot be asked, the last answer stands.
    """

    __slots__ = ("_event", "_next", "_set", "name")

    def __init__(self, name: str) -> None:
        self.name = name
        self._event: Any = None
        self._next = 0.0
        self._set = False

    def _get_event(self) -> Any:
        if self._event is None:
            from distributed import Event

            self._event = Event(self.name)  # the worker's own client
        return self._event

    def is_set(self) -> bool:
        if self._set:
            return True
        now = time.monotonic()
        if now < self._next:
            return False
        self._next = now + CANCEL_POLL_SECONDS
        try:
            self._set = bool(self._get_event().is_set())
        except (OSError, TimeoutError, RuntimeError, ValueError):  # no scheduler reachable: unknown, so not yet
            pass
        return self._set

    def forget(self) -> None:
        """The attempt is over: remove its event from the scheduler, if it may exist there."""
        try:
            self._get_event().clear()
        except (OSError, TimeoutError, RuntimeError, ValueError):
            pass


def run_on_worker(task: AttemptTask, cancel_event: str) -> AttemptOutcome:
    """The function Dask runs: one attempt, its output kept like a thread's, never raises."""
    cancel = WorkerCancel(cancel_event)
    tail = OutputTail()
    began = time.monotonic()
    with routed_output(), capturing(tail):
        outcome = run_attempt(task, cancel)
    if cancel._set or time.monotonic() - began >= CANCEL_POLL_SECONDS:
        # the client may have set the event (a cancel, a timeout): one call removes it from
        # the scheduler. Left behind at most: a few bytes for an attempt given up less than
        # CANCEL_POLL_SECONDS after it started that never read ctx.cancelled.
        cancel.forget()
    if outcome.error is not None and outcome.error.type.endswith("PipelineNotFoundError"):
        hint = (
            f"{outcome.error.message} on the Dask worker (modules imported: {', '.join(task.modules) or 'none'}); "
            "register it in a module listed in [tool.spine] pipelines and install the project on every worker"
        )
        outcome = replace(outcome, error=StepError(outcome.error.type, hint, outcome.error.traceback))
    output = tail.text()
    return replace(outcome, output=output) if output else outcome
