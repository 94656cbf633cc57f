"""What the routes call: the store, the workspace, the groups, the run workers, the tokens.

:class:`Services` is ``app.state.spine``. :class:`RunService` runs groups **in this
server's own run workers**: a bounded thread pool in the server process calling the same
library as ``spine group run`` (:func:`spine.store.claim_run` then
:func:`spine.store.execute_claimed`). Starting a run:

1. resolves the plan with the checking pipeline (an invalid group or missing run
   params: :class:`~spine.core.errors.PlanResolutionError` with every finding, nothing
   stored);
2. claims the run in the store *in the request* — a ``running`` row under a fresh
   lease, with the ``max_active_runs`` guard — so ``GET /runs/{id}`` works the moment the
   202 is sent, and a refused run is a 409, not a run that fails later;
3. queues it for a worker. While it waits, one keeper thread renews the leases of every
   queued run in one transaction per heartbeat (:meth:`RunStore.heartbeat_many`) and
   carries cancel requests to them; once a worker takes it, the run's own lease thread does.

A server killed mid-run stops heartbeating: its runs (running or queued) become
*orphaned* after the lease and ``spine runs resume`` continues them as usual. A server
shut down gently cancels its running runs (they stop as on Ctrl-C; resumable) and
leaves its queued runs to be orphaned the same way.

**Reads** (listing and reading runs, event streams, dead letters, token lookups) go
through :meth:`Services.read`: a few dedicated reader threads, apart from anyio's pool of
up to 40 threads that the writes and the heavy work (checking, drawing) use. Under load,
forty threads contending for the GIL made every read wait its turn several times over
(``bench/bench_serve.py``: read p99 384 ms with anyio's pool, 156 ms with one reader
thread, 136 ms with reads inline on the event loop — which a slow database would stall).

Table of state::

    jobs[run_id]   Job(claimed, cancel token, state queued|running) until it ends
"""

from __future__ import annotations

import asyncio
import functools
import logging
import threading
from collections.abc import Callable, Mapping
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from types import MappingProxyType
from typing import TYPE_CHECKING, Any, TypeVar

from spine.core.errors import PlanResolutionError

if TYPE_CHECKING:
    from spine.api.auth import OpenMode, TokenCache
    from spine.api.catalog import GroupCatalog
    from spine.api.metrics import Metrics
    from spine.config import Settings
    from spine.framework import CancelToken
    from spine.runner import GroupRunner
    from spine.store import ClaimedRun, RunStore, StoreTuning
    from spine.store.tokens import ApiTokens
    from spine.workspace import Workspace

_log = logging.getLogger("spine.api.runs")
T = TypeVar("T")

#: Run-worker threads when ``--workers`` is not given.
DEFAULT_WORKERS = 4
#: Threads that answer the reads of the API and the dashboard (:meth:`Services.read`), by
#: database: SQLite answers from this process's CPU (more threads only contend for the GIL);
#: PostgreSQL's answers spend their time on the network, which more threads overlap.
READ_THREADS: Mapping[str, int] = MappingProxyType({"sqlite": 2, "postgresql": 4})
#: What a run started through the API may set, besides ``params``.
RUN_OPTIONS = ("executor", "max_concurrency", "on_failure", "grace_seconds")


@dataclass
class Job:
    """A run this server owns: waiting for a worker, or executing."""

    claimed: ClaimedRun
    cancel: CancelToken
    state: str = "queued"


class RunService:
    """Starts, cancels and resumes runs in this server's run workers (see the module docstring)."""

    def __init__(
        self,
        workspace: Workspace,
        store: RunStore,
        find_group: Callable[[str, int | None], Any],
        *,
        workers: int = DEFAULT_WORKERS,
        tuning: StoreTuning | None = None,
        metrics: Metrics | None = None,
    ) -> None:
        from spine.store import StoreTuning

        if workers < 1:
            raise ValueError(f"workers must be at least 1, got {workers}")
        self.workspace = workspace
        self.store = store
        self.find_group = find_group
        self.workers = workers
        self.tuning = tuning or StoreTuning.from_env()
        self.metrics = metrics
        self.jobs: dict[str, Job] = {}
        self._lock = threading.Lock()
        self._pool = ThreadPoolExecutor(max_workers=workers, thread_name_prefix="spine-run")
        self._stop = threading.Event()
        self._keeper = threading.Thread(target=self._keep_leases, name="spine-queue-leases", daemon=True)
        self._keeper.start()

    # -- starting ------------------------------------------------------------------------

    def plan(self, group_name: str, params: Mapping[str, Any], *, version: int | None = None, batch_id: str | None = None) -> Any:
        """The plan of ``group_name`` with ``params``, or :class:`PlanResolutionError` with every finding."""
        from spine.check import check_groups

        group = self.find_group(group_name, version)
        settings = self.workspace.check_settings(lint=False, run_params=dict(params), require_run_params=True, batch_id=batch_id)
        report = check_groups([group], settings)
        gc = report.groups[0]
        if gc.plan is None:
            from spine.core.findings import Severity

            findings = [f for f in (*gc.findings, *report.findings) if f.severity is Severity.ERROR] or [*gc.findings, *report.findings]
            raise PlanResolutionError(findings=findings)
        return gc.plan

    def _runner(self, options: Mapping[str, Any]) -> GroupRunner:
        from spine.framework import Dispatcher
        from spine.runner import GroupRunner

        ws = self.workspace
        grace: Any = options.get("grace_seconds")
        return GroupRunner(
            options.get("executor") or "threads", max_concurrency=options.get("max_concurrency"), on_failure=options.get("on_failure"),
            grace_seconds=float(grace) if grace is not None else 10.0,
            modules=tuple(ws.settings.pipelines), dispatcher=Dispatcher(ws.pipelines, ws.settings.pipelines),
        )

    def _needs_pipelines(self) -> None:
        if len(self.workspace.pipelines) == 0:
            raise PlanResolutionError(
                "no pipelines are registered, so nothing can run: list the modules that register them in "
                "[tool.spine] pipelines (or SPINE_PIPELINES) and restart the server"
            )

    def start(self, group_name: str, params: Mapping[str, Any], options: Mapping[str, Any] | None = None) -> str:
        """Claim a run of ``group_name`` and queue it; returns its run id at once."""
        from spine.store import claim_run

        options = dict(options or {})
        self._needs_pipelines()
        plan = self.plan(group_name, params, batch_id=options.pop("batch_id", None))
        runner = self._runner(options)
        claimed = claim_run(self.store, plan, runner, pools=self.workspace.settings.pools, tuning=self.tuning)
        return self._queue(claimed)

    def resume(self, run_id: str, options: Mapping[str, Any] | None = None) -> str:
        """Take ``run_id`` over (orphaned, failed, partial or cancelled) and queue what did not complete."""
        from spine.store import claim_resume

        self._needs_pipelines()
        overrides = {k: v for k, v in (options or {}).items() if v is not None}
        claimed = claim_resume(
            self.store, run_id, registry=self.workspace.pipelines, make_runner=lambda stored: self._runner({**stored, **overrides}),
            pools=self.workspace.settings.pools, tuning=self.tuning, groups=self.workspace.groups,
        )
        return self._queue(claimed)

    def replay(self, letter_id: int) -> str:
        """Replay a dead letter as a new run; returns the new run's id."""
        from spine.store import DeadLetters, claim_replay

        self._needs_pipelines()
        (letter,) = DeadLetters(self.store).get([letter_id])
        claimed = claim_replay(self.store, letter, registry=self.workspace.pipelines, make_runner=self._runner,
                               pools=self.workspace.settings.pools, tuning=self.tuning, groups=self.workspace.groups)
        return self._queue(claimed)

    def _queue(self, claimed: ClaimedRun) -> str:
        from spine.framework import CancelToken

        job = Job(claimed, CancelToken())
        with self._lock:
            self.jobs[claimed.run_id] = job
        if self.metrics is not None:
            self.metrics.runs_started.labels(claimed.plan.group.name).inc()
            self.metrics.queued_runs.inc()
        try:
            self._pool.submit(self._work, job)
        except RuntimeError:  # shutting down: the run is left to be orphaned, then resumed
            with self._lock:
                self.jobs.pop(claimed.run_id, None)
            raise
        return claimed.run_id

    def _work(self, job: Job) -> None:
        from spine.store import execute_claimed

        run_id = job.claimed.run_id
        group = job.claimed.plan.group.name
        with self._lock:
            job.state = "running"
        m = self.metrics
        if m is not None:
            m.queued_runs.dec()
            m.active_runs.inc()
        status = "failed"
        try:
            result = execute_claimed(job.claimed, cancel=job.cancel, on_event=self._observer(group))
            status = result.status.value
        except Exception as exc:  # the run is marked failed in the store (or left to be orphaned); the worker goes on
            _log.error("run %s ended with %s: %s", run_id, type(exc).__name__, exc)
        finally:
            with self._lock:
                self.jobs.pop(run_id, None)
            if m is not None:
                m.active_runs.dec()
                m.runs_finished.labels(group, status).inc()

    def _observer(self, group: str) -> Callable[[Any], None] | None:
        m = self.metrics
        if m is None:
            return None
        from spine.runner import RunEventKind

        def on_event(e: Any) -> None:
            if e.kind in (RunEventKind.STEP_FINISHED, RunEventKind.STEP_RETRYING):
                rec = e.record
                if rec is not None and rec.started_at is not None and rec.finished_at is not None:
                    status = e.status.value if e.kind is RunEventKind.STEP_FINISHED and e.status is not None else "failed"
                    m.step_duration.labels(group, status).observe(max(0.0, (rec.finished_at - rec.started_at).total_seconds()))

        return on_event

    # -- cancelling ----------------------------------------------------------------------

    def cancel(self, run_id: str, reason: str = "cancelled through the API") -> Any:
        """Ask ``run_id`` to stop (wherever it runs); returns its summary after the request."""
        summary = self.store.request_cancel(run_id, reason)
        with self._lock:
            job = self.jobs.get(run_id)
        if job is not None:
            job.cancel.cancel(reason)  # ours: no need to wait for the next heartbeat
        return summary

    # -- the queue's leases --------------------------------------------------------------

    def queued(self) -> list[str]:
        with self._lock:
            return [r for r, j in self.jobs.items() if j.state == "queued"]

    def active(self) -> list[str]:
        with self._lock:
            return [r for r, j in self.jobs.items() if j.state == "running"]

    def _keep_leases(self) -> None:
        from spine.store import StoreError

        while not self._stop.wait(self.tuning.heartbeat_seconds):
            with self._lock:
                waiting = [(r, j) for r, j in self.jobs.items() if j.state == "queued"]
            if not waiting:
                continue
            try:
                beats = self.store.heartbeat_many([(r, j.claimed.owner) for r, j in waiting])
            except StoreError as exc:
                _log.warning("could not renew the leases of %d queued run(s): %s", len(waiting), exc)
                continue
            for run_id, job in waiting:
                beat = beats.get(run_id)
                if beat is not None and beat.cancel_reason is not None:
                    job.cancel.cancel(beat.cancel_reason)

    def close(self, *, wait: bool = True, reason: str = "the server is shutting down") -> None:
        """Stop: queued runs are dropped (orphaned, resumable), running ones cancelled."""
        self._stop.set()
        with self._lock:
            jobs = list(self.jobs.values())
        self._pool.shutdown(wait=False, cancel_futures=True)
        for job in jobs:
            if job.state == "running":
                job.cancel.cancel(reason)
        if wait:
            self._pool.shutdown(wait=True)
        self._keeper.join(timeout=5)


@dataclass
class Services:
    """Everything a route needs (``app.state.spine``)."""

    settings: Settings
    workspace: Workspace
    store: RunStore
    tokens: ApiTokens
    groups: GroupCatalog
    runs: RunService
    metrics: Metrics
    open_mode: OpenMode = field(init=False)
    token_cache: TokenCache = field(init=False)
    #: How often an event stream looks at the store for changes (seconds).
    event_poll_seconds: float = 0.5
    #: The reader threads (see :meth:`read`; ``build_services`` sizes them by database).
    read_threads: int = 2
    _readers: ThreadPoolExecutor | None = field(default=None, init=False, repr=False)

    async def read(self, fn: Callable[..., T], *args: Any, **kwargs: Any) -> T:
        """``fn(*args, **kwargs)`` — a short, blocking store read — in the reader threads
        (see the module docstring), so the event loop never waits on the database."""
        if self._readers is None:
            self._readers = ThreadPoolExecutor(max_workers=self.read_threads, thread_name_prefix="spine-read")
        return await asyncio.get_running_loop().run_in_executor(self._readers, functools.partial(fn, *args, **kwargs))

    def close(self) -> None:
        self.runs.close()
        if self._readers is not None:
            self._readers.shutdown(wait=True)
        self.store.close()


def build_services(
    workspace: Workspace,
    *,
    database: str | None = None,
    workers: int = DEFAULT_WORKERS,
    open_mode: bool = False,
    tuning: StoreTuning | None = None,
) -> Services:
    """Open the store (creating its schema when empty) and build the services over it."""
    from spine.api.auth import OpenMode, TokenCache
    from spine.api.catalog import GroupCatalog
    from spine.api.metrics import Metrics
    from spine.store import RunStore
    from spine.store.tokens import ApiTokens

    url = (database if database is not None else workspace.settings.database).strip()
    if url.lower() == "none":
        from spine.store import StoreError

        raise StoreError("the server records every run, but the database is 'none': give --db URL or set [tool.spine] database")
    store = RunStore.open(url, root=workspace.settings.root)
    metrics = Metrics()
    catalog = GroupCatalog(workspace, store)
    runs = RunService(workspace, store, catalog.get, workers=workers, tuning=tuning, metrics=metrics)
    from spine.store import PoolSlots

    metrics.watch_pools(lambda: PoolSlots(store, dict(workspace.settings.pools)).in_use())
    services = Services(workspace.settings, workspace, store, ApiTokens(store), catalog, runs, metrics)
    services.open_mode = OpenMode(services, open_mode)
    services.token_cache = TokenCache()
    services.read_threads = READ_THREADS.get(store.dialect, 2)
    return services


__all__ = ["DEFAULT_WORKERS", "READ_THREADS", "RUN_OPTIONS", "Job", "RunService", "Services", "build_services"]
