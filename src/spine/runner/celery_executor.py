"""The ``celery`` executor: each attempt is one Celery task on workers started with ``spine worker``.

The run's own process keeps scheduling (order, ``max_concurrency``, pools, retries,
timeouts, cancel — the same loop as every executor); Celery only carries attempts to
workers and their outcomes back. Nothing is pickled: the task, the outcome and every
error travel as JSON (``task_serializer``/``result_serializer`` ``json``,
``accept_content=["json"]``).

Where things go:

* **broker** ``redis://…`` or ``amqp://…`` (``--broker``, ``[tool.spine] celery.broker``,
  ``SPINE_CELERY_BROKER``). One task name, :data:`TASK_NAME`; the step's ``queue``
  (default :data:`DEFAULT_QUEUE`) routes it to workers started with ``--queue``.
* **results**: the Redis result backend when the broker is Redis (the same server: a
  result is published to the run, which subscribed before sending); ``rpc://`` when the
  broker is RabbitMQ (the worker sends the outcome straight to the run's own reply
  queue, nothing is stored). ``celery.result_backend`` overrides it (same on workers).
* **delivery**: ``task_acks_late`` + ``task_reject_on_worker_lost`` +
  ``worker_prefetch_multiplier=1``: a message is acknowledged only after the attempt
  ended, so a worker killed mid-step gives it back to the broker and another worker runs
  it — at least once. RabbitMQ redelivers when the dead worker's connection closes;
  Redis when the message was unacknowledged for ``visibility_timeout`` seconds (default
  3600: ``celery.visibility_timeout``; an attempt running longer than it is delivered a
  second time). A redelivered attempt sees ``ctx.attempt`` one higher than the run
  records, so the pipeline knows an earlier delivery may have run.
* **cancel** (``ctx.cancelled``): a broadcast ``spine_cancel`` control command; each
  worker marks the task in a folder of its own that the attempt's process reads (at most
  every :data:`CANCEL_POLL_SECONDS`, only when the pipeline asks). **stop** (a timeout,
  the end of a cancel's grace period) also revokes the task, so a queued attempt never
  starts; a running one cannot be interrupted and runs on until its pipeline returns.
* **a worker that never answers** (none serves the queue, a step that keeps killing its
  worker): the step's ``timeout_seconds``; the timeout says when no worker serves the
  step's queue.
* **a broker that goes away**: nothing new is sent; if it is back within
  ``broker_wait_seconds`` (default :data:`BROKER_WAIT_SECONDS`) the run goes on, else
  the run fails saying so. What completed is in the store; ``spine runs resume``
  continues.

The result channel is drained by one thread of the executor, which is the only thread
that touches the result consumer (registration and delivery of results happen in the
same thread, so a result that arrives before it is waited for is buffered, not lost).
"""

from __future__ import annotations

import datetime as dt
import os
import queue
import socket
import threading
import time
import uuid
from collections.abc import Mapping, Sequence
from dataclasses import replace
from pathlib import Path
from typing import Any

from spine.core.errors import SpineError
from spine.runner.attempt import AttemptOutcome, AttemptTask, run_attempt
from spine.runner.capture import OutputTail, capturing, routed_output
from spine.runner.results import StepError

#: The one Celery task name every attempt is sent as.
TASK_NAME = "spine.attempt"
#: The queue of a step that names none (``spine worker`` serves it unless told ``--queue``).
DEFAULT_QUEUE = "spine"
#: How long a broker may be gone before the run fails (seconds).
BROKER_WAIT_SECONDS = 30.0
#: How long connecting to the broker may take when the run starts (seconds).
CONNECT_TIMEOUT_SECONDS = 10.0
#: At most how often ``ctx.cancelled`` on a worker looks at its cancel mark (seconds).
CANCEL_POLL_SECONDS = 0.2
#: The worker environment variable naming the folder where cancel marks are kept.
CANCEL_DIR_ENV = "SPINE_CELERY_CANCEL_DIR"
#: How long a finished result waits in the Redis backend for a run that lost it (seconds).
RESULT_EXPIRES_SECONDS = 3600


class CeleryUnavailableError(SpineError):
    """The celery executor cannot start: celery is missing, no broker is named, or it is unreachable."""

    def __init__(self, message: str, broker: str | None = None) -> None:
        super().__init__(message)
        #: The broker URL that was tried (password hidden), if any.
        self.broker = broker


def safe_url(url: str) -> str:
    """``url`` with its password hidden (``amqp://guest:**@host//``)."""
    from kombu.utils.url import maybe_sanitize_url

    return str(maybe_sanitize_url(url))


def result_backend_for(broker: str) -> str:
    """The result backend that goes with ``broker``: the same Redis, or ``rpc://`` for AMQP."""
    scheme = broker.split("://", 1)[0].lower() if "://" in broker else ""
    if scheme in ("redis", "rediss"):
        return broker
    if scheme in ("amqp", "amqps", "pyamqp"):
        return "rpc://"
    raise CeleryUnavailableError(
        f"the Celery broker {safe_url(broker)!r} is neither Redis (redis://HOST:6379/0) nor RabbitMQ "
        "(amqp://USER:PASSWORD@HOST:5672//); spine supports those two", safe_url(broker),
    )


def make_app(
    broker: str, *, result_backend: str | None = None, visibility_timeout: float | None = None, for_worker: bool = False,
) -> Any:
    """A Celery app for ``broker`` with spine's settings (the run and every worker use the same).

    JSON only; late acknowledgement, reject on a lost worker, prefetch 1; results in
    :func:`result_backend_for` unless ``result_backend`` says otherwise. On the run's
    side, connection attempts are bounded (a broker that is gone fails fast and the
    executor decides how long to wait); a worker keeps Celery's own reconnecting.
    """
    try:
        from celery import Celery
    except ImportError as exc:
        raise CeleryUnavailableError(
            "the celery executor needs Celery, which is not installed: pip install 'spine-core[celery]'"
        ) from exc
    backend = result_backend or result_backend_for(broker)
    app = Celery("spine", broker=broker, backend=backend, set_as_current=False)
    transport: dict[str, Any] = {}
    if visibility_timeout is not None:
        transport["visibility_timeout"] = float(visibility_timeout)
        # restore messages of dead workers about as often as the timeout allows (Redis only)
        transport["unacked_restore_interval"] = max(1, min(10, int(visibility_timeout // 4) or 1))
        transport["unacked_restore_throttle"] = 1
    if not for_worker:
        transport.update(max_retries=2, interval_start=0, interval_step=0.5, interval_max=1)
    app.conf.update(
        task_serializer="json",
        result_serializer="json",
        accept_content=["json"],
        result_accept_content=["json"],
        task_acks_late=True,
        task_reject_on_worker_lost=True,
        worker_prefetch_multiplier=1,
        task_default_queue=DEFAULT_QUEUE,
        result_expires=RESULT_EXPIRES_SECONDS,
        result_extended=False,
        task_track_started=False,
        broker_transport_options=transport,
        broker_connection_retry_on_startup=for_worker,
        broker_connection_max_retries=None if for_worker else 2,
        task_publish_retry_policy={"max_retries": 2, "interval_start": 0, "interval_step": 0.5, "interval_max": 1},
        result_backend_transport_options={"retry_policy": {"max_retries": 2, "interval_start": 0, "interval_step": 0.5, "interval_max": 1}},
        # one backend (and result consumer) for the whole run, not one per thread: the run
        # sends from its loop thread and collects in the executor's result thread
        result_backend_thread_safe=not for_worker,
        worker_hijack_root_logger=False,
        worker_send_task_events=False,
        enable_utc=True,
    )
    app.task(name=TASK_NAME, bind=True, acks_late=True, reject_on_worker_lost=True)(_attempt_task)
    return app


# -- what travels: JSON both ways ---------------------------------------------------------


def task_to_json(task: AttemptTask) -> dict[str, Any]:
    """The attempt as the JSON the task carries."""
    return {
        "index": task.index, "run_id": task.run_id, "batch_id": task.batch_id, "step": task.step, "pipeline": task.pipeline,
        "params": task.params, "attempt": task.attempt, "upstream": task.upstream, "modules": list(task.modules),
        "timeout_seconds": task.timeout_seconds, "origin_run_id": task.origin_run_id, "queue": task.queue,
    }


def task_from_json(data: Mapping[str, Any]) -> AttemptTask:
    return AttemptTask(
        index=int(data["index"]), run_id=str(data["run_id"]), batch_id=str(data["batch_id"]), step=str(data["step"]),
        pipeline=str(data["pipeline"]), params=dict(data.get("params") or {}), attempt=int(data["attempt"]),
        upstream=dict(data.get("upstream") or {}), modules=tuple(data.get("modules") or ()),
        timeout_seconds=data.get("timeout_seconds"), origin_run_id=data.get("origin_run_id"), queue=data.get("queue"),
    )


def outcome_to_json(outcome: AttemptOutcome) -> dict[str, Any]:
    return {
        "index": outcome.index, "attempt": outcome.attempt, "ok": outcome.ok,
        "started_at": outcome.started_at.isoformat(), "finished_at": outcome.finished_at.isoformat(),
        "result": outcome.result, "error": outcome.error.to_dict() if outcome.error is not None else None, "output": outcome.output,
    }


def outcome_from_json(data: Mapping[str, Any]) -> AttemptOutcome:
    error = data.get("error")
    return AttemptOutcome(
        int(data["index"]), int(data["attempt"]), bool(data["ok"]),
        dt.datetime.fromisoformat(data["started_at"]), dt.datetime.fromisoformat(data["finished_at"]),
        result=data.get("result"), error=StepError.from_dict(error) if error else None, output=str(data.get("output") or ""),
    )


# -- the run's side -----------------------------------------------------------------------


class CeleryExecutor:
    """Attempts as Celery tasks (see the module docstring).

    ``broker`` is a Redis or RabbitMQ URL; ``result_backend`` overrides the backend chosen
    for it; ``visibility_timeout`` (Redis) must match the workers'. ``modules`` are the
    pipeline modules workers import when a pipeline is not registered there.
    ``broker_wait_seconds`` bounds how long a broker may be gone before the run fails;
    ``default_queue`` is where steps that name no queue go.
    """

    name = "celery"

    def __init__(
        self,
        broker: str | None = None,
        *,
        result_backend: str | None = None,
        visibility_timeout: float | None = None,
        modules: Sequence[str] = (),
        broker_wait_seconds: float = BROKER_WAIT_SECONDS,
        connect_timeout: float = CONNECT_TIMEOUT_SECONDS,
        default_queue: str = DEFAULT_QUEUE,
    ) -> None:
        self.broker = broker
        #: The queue of steps that name none.
        self.default_queue = default_queue
        self.result_backend = result_backend
        self.visibility_timeout = visibility_timeout
        self.modules = tuple(modules)
        self.broker_wait_seconds = broker_wait_seconds
        self.connect_timeout = connect_timeout
        #: The Celery app while the run is open.
        self.app: Any = None
        self._outcomes: queue.SimpleQueue[Any] | None = None
        self._handoff: queue.SimpleQueue[Any] = queue.SimpleQueue()
        self._held: list[tuple[AttemptTask, _CeleryHandle, dt.datetime]] = []
        self._held_lock = threading.Lock()
        self._lost_since: float | None = None
        self._lost_why = ""
        self._abort: str | None = None
        self._closing = threading.Event()
        self._thread: threading.Thread | None = None
        self._queues_seen: tuple[float, set[str]] | None = None
        self._errors: tuple[type[BaseException], ...] = (OSError,)
        self._reply_to: str | None = None

    # -- the executor protocol -------------------------------------------------------

    def open(self, outcomes: queue.SimpleQueue[Any], limit: int) -> None:
        if not self.broker:
            raise CeleryUnavailableError(
                "the celery executor needs a broker: --broker URL, [tool.spine] celery.broker or SPINE_CELERY_BROKER "
                "(redis://127.0.0.1:6379/0, amqp://guest:guest@127.0.0.1:5672//)"
            )
        self._outcomes = outcomes
        _guard_forks()
        app = make_app(self.broker, result_backend=self.result_backend, visibility_timeout=self.visibility_timeout)
        where = safe_url(self.broker)
        errors = _connection_errors(app)
        self._errors = errors
        try:
            with app.connection_for_write() as conn:
                conn.ensure_connection(max_retries=1, timeout=self.connect_timeout)
            _ping_backend(app)
        except errors as exc:
            app.close()
            raise CeleryUnavailableError(
                f"cannot reach the Celery broker at {where} ({_say(exc)}); start it, or name another with --broker, "
                "[tool.spine] celery.broker or SPINE_CELERY_BROKER",
                where,
            ) from exc
        self.app = app
        backend = app.backend
        #: The reply queue of the ``rpc://`` backend (the same whichever thread sends).
        self._reply_to = str(backend.oid) if hasattr(backend, "oid") else None
        self._thread = threading.Thread(target=self._collect, name="spine-celery-results", daemon=True)
        self._thread.start()

    def submit(self, task: AttemptTask) -> _CeleryHandle:
        if self.modules and not task.modules:
            task = replace(task, modules=self.modules)
        handle = _CeleryHandle(self, str(uuid.uuid4()), task.queue or self.default_queue)
        started = dt.datetime.now(dt.UTC)
        if self._lost_since is not None:
            self._hold(task, handle, started)  # the broker is gone: nothing new is sent
            return handle
        self._send(task, handle, started)
        return handle

    def close(self) -> None:
        self._closing.set()
        if self._thread is not None:
            self._handoff.put(None)
            self._thread.join(5)
            self._thread = None
        app, self.app = self.app, None
        if app is not None:
            quiet: tuple[type[BaseException], ...] = (*self._errors, AttributeError, TypeError)
            try:
                app.backend.result_consumer.stop()
            except quiet:  # never started, or the broker is gone
                pass
            app.close()

    def abort_reason(self) -> str | None:
        """Why the run must stop (the broker is gone for too long), or ``None``."""
        return self._abort

    # -- sending -------------------------------------------------------------------------

    def _send(self, task: AttemptTask, handle: _CeleryHandle, started: dt.datetime) -> None:
        try:
            result = self.app.send_task(TASK_NAME, args=[task_to_json(task)], task_id=handle.task_id, queue=handle.queue,
                                        reply_to=self._reply_to)
        except self._errors as exc:  # the broker went away: hold it, wait for it to come back
            self._lost(exc)
            self._hold(task, handle, started)
            return
        self._handoff.put((result, task, started))

    def _hold(self, task: AttemptTask, handle: _CeleryHandle, started: dt.datetime) -> None:
        with self._held_lock:
            self._held.append((task, handle, started))

    def _lost(self, exc: BaseException) -> None:
        if self._lost_since is None:
            self._lost_since = time.monotonic()
            self._lost_why = _say(exc)

    # -- the result thread -------------------------------------------------------------------

    def _collect(self) -> None:
        """Register sent attempts and deliver their outcomes; watch the broker (one thread)."""
        consumer = self.app.backend.result_consumer
        waiting = 0
        next_probe = 0.0
        while not self._closing.is_set():
            try:
                item = self._handoff.get(timeout=0.5) if waiting == 0 and self._lost_since is None else self._handoff.get_nowait()
            except queue.Empty:
                item = None
            while item is not None:
                result, task, started = item
                waiting += 1
                result.then(self._deliver_callback(task, started))
                try:
                    item = self._handoff.get_nowait()
                except queue.Empty:
                    item = None
            waiting -= self._delivered
            self._delivered = 0
            if self._lost_since is not None:
                now = time.monotonic()
                if now >= next_probe:
                    next_probe = now + 1.0
                    self._probe(consumer)
                if self._lost_since is not None and now - self._lost_since > self.broker_wait_seconds and self._abort is None:
                    self._abort = (
                        f"the Celery broker at {safe_url(str(self.broker))} is unreachable ({self._lost_why}) and did not come back "
                        f"within {self.broker_wait_seconds:g} s; what completed is recorded: resume the run when the broker is back"
                    )
                    self._put(None)  # wake the loop: it asks abort_reason()
                time.sleep(0.2)
                continue
            if waiting <= 0:
                continue
            try:
                consumer.drain_events(timeout=0.5)
            except socket.timeout:
                pass
            except self._errors as exc:
                self._lost(exc)

    _delivered = 0

    def _deliver_callback(self, task: AttemptTask, started: dt.datetime) -> Any:
        def deliver(result: Any) -> None:
            self._delivered += 1
            self._put(_outcome_of(result, task, started))

        return deliver

    def _probe(self, consumer: Any) -> None:
        """Is the broker back? Then reconnect the result channel and send what was held."""
        try:
            with self.app.connection_for_write() as conn:
                conn.ensure_connection(max_retries=1, timeout=2)
            _ping_backend(self.app)
            # Celery's own reconnect of the result channel: Redis resubscribes every pending
            # result (reading those that finished meanwhile); rpc:// rebuilds its consumer
            if hasattr(consumer, "subscribed_to") or getattr(consumer, "_consumer", None) is not None:
                consumer._reconnect()
        except self._errors:
            return
        self._lost_since = None
        with self._held_lock:
            held, self._held = self._held, []
        for task, handle, started in held:
            if not handle.stopped:
                self._send(task, handle, started)

    def _put(self, outcome: AttemptOutcome | None) -> None:
        assert self._outcomes is not None
        self._outcomes.put(outcome)

    # -- cancel, stop, and what a timeout says ---------------------------------------------

    def _broadcast(self, command: str, **arguments: Any) -> None:
        if self.app is None or self._lost_since is not None:
            return  # no broker: nothing to tell (a worker cut off from it is cut off from the run too)
        try:
            if command == "revoke":
                self.app.control.revoke(arguments["task_id"])
            else:
                self.app.control.broadcast(command, arguments=arguments)
        except self._errors as exc:
            self._lost(exc)

    def queue_note(self, queue_name: str) -> str:
        """Why a timed-out attempt may never have started: no worker serves its queue."""
        if self.app is None or self._lost_since is not None:
            return ""
        now = time.monotonic()
        if self._queues_seen is None or now - self._queues_seen[0] > 5:
            try:
                replies = self.app.control.inspect(timeout=1.0).active_queues() or {}
            except self._errors:
                return ""
            served = {q.get("name") for queues in replies.values() for q in (queues or [])}
            self._queues_seen = (now, {str(s) for s in served if s})
        if queue_name in self._queues_seen[1]:
            return ""
        option = "" if queue_name == DEFAULT_QUEUE else f" --queue {queue_name}"
        return f"; no Celery worker serves queue {queue_name!r}, so nothing ran it (start one: spine worker{option})"


class _CeleryHandle:
    """Tells one attempt to wind down (a broadcast) or gives it up (and revokes it)."""

    __slots__ = ("executor", "queue", "signalled", "stopped", "task_id")

    def __init__(self, executor: CeleryExecutor, task_id: str, queue_name: str) -> None:
        self.executor = executor
        self.task_id = task_id
        self.queue = queue_name
        self.signalled = False
        self.stopped = False

    def signal_cancel(self) -> None:
        if not self.signalled:
            self.signalled = True
            self.executor._broadcast("spine_cancel", task_id=self.task_id)

    def stop(self) -> None:
        if not self.stopped:
            self.stopped = True
            self.signal_cancel()
            self.executor._broadcast("revoke", task_id=self.task_id)

    def timeout_note(self) -> str:
        return self.executor.queue_note(self.queue)


def _outcome_of(result: Any, task: AttemptTask, started: dt.datetime) -> AttemptOutcome:
    """The attempt's outcome from a ready Celery result (the worker's JSON, or Celery's failure)."""
    state = result.state
    value = result.result
    if state == "SUCCESS" and isinstance(value, Mapping) and "ok" in value:
        try:
            return outcome_from_json(value)
        except (KeyError, TypeError, ValueError) as exc:
            error = StepError("CeleryResultError", f"the worker's answer could not be read: {exc}")
    elif state == "REVOKED":
        error = StepError("TaskRevokedError", "the Celery task was revoked before it ran")
    else:
        error = StepError(
            type(value).__name__ if isinstance(value, BaseException) else str(state),
            f"Celery could not run this step ({state}): {value}",
        )
    return AttemptOutcome(task.index, task.attempt, False, started, dt.datetime.now(dt.UTC), error=error)


def _connection_errors(app: Any) -> tuple[type[BaseException], ...]:
    conn = app.connection_for_write()
    try:
        errors = tuple(conn.connection_errors) + tuple(conn.channel_errors)
    finally:
        conn.release()
    backend_errors = tuple(getattr(app.backend, "connection_errors", ()) or ())
    from kombu.exceptions import OperationalError

    return (*errors, *backend_errors, OperationalError, OSError, TimeoutError, RuntimeError)


_fork_guarded = False


def _guard_forks() -> None:
    """In a process forked from the run's (``--executor processes``), skip kombu's and
    Celery's multiprocessing after-fork cleanups. They close the parent's pooled broker
    connections from the child — a Redis ``BRPOP`` read or an AMQP close handshake on a
    socket the parent still uses — and can hang the child before it runs its step. The
    child never uses them. (Celery's own prefork pool, billiard, does not run these.)"""
    global _fork_guarded
    if not _fork_guarded:
        os.register_at_fork(after_in_child=_drop_broker_after_fork_hooks)
        _fork_guarded = True


def _drop_broker_after_fork_hooks() -> None:
    from multiprocessing import util as mp_util

    registry = mp_util._afterfork_registry  # type: ignore[attr-defined]
    for key in list(registry.keys()):
        func = key[2]
        if str(getattr(func, "__module__", "")).startswith(("kombu.", "celery.")):
            registry.pop(key, None)


def _ping_backend(app: Any) -> None:
    client = getattr(app.backend, "client", None)
    if client is not None and hasattr(client, "ping"):
        client.ping()


def _say(exc: BaseException) -> str:
    text = str(exc).strip() or type(exc).__name__
    return text.splitlines()[0][:300]


# -- the worker's side ----------------------------------------------------------------------


class FileCancel:
    """``ctx.cancelled`` on a worker: the cancel mark of this task in the worker's folder.

    Looked at lazily (only when the pipeline reads ``ctx.cancelled``), at most every
    :data:`CANCEL_POLL_SECONDS`; once set it stays set.
    """

    __slots__ = ("_next", "_set", "path")

    def __init__(self, path: Path | None) -> None:
        self.path = path
        self._next = 0.0
        self._set = False

    def is_set(self) -> bool:
        if self._set or self.path is None:
            return self._set
        now = time.monotonic()
        if now >= self._next:
            self._next = now + CANCEL_POLL_SECONDS
            self._set = self.path.exists()
        return self._set

    def forget(self) -> None:
        if self.path is not None:
            try:
                self.path.unlink()
            except OSError:  # never marked
                pass


def cancel_mark(task_id: str) -> Path | None:
    """Where this worker keeps the cancel mark of ``task_id`` (``None`` outside ``spine worker``)."""
    folder = os.environ.get(CANCEL_DIR_ENV)
    if not folder or "/" in task_id or task_id.startswith("."):
        return None
    return Path(folder) / task_id


def _attempt_task(self: Any, payload: Mapping[str, Any]) -> dict[str, Any]:
    """The Celery task: one attempt, its output kept, its outcome as JSON; never raises."""
    task = task_from_json(payload)
    delivery = getattr(self.request, "delivery_info", None) or {}
    seen = task
    if delivery.get("redelivered"):
        seen = replace(task, attempt=task.attempt + 1)  # an earlier delivery may have run: ctx.attempt says so
    cancel = FileCancel(cancel_mark(str(self.request.id)))
    tail = OutputTail()
    with routed_output(), capturing(tail):
        outcome = run_attempt(seen, cancel)
    cancel.forget()
    outcome = replace(outcome, attempt=task.attempt)
    if outcome.error is not None and outcome.error.type.endswith("PipelineNotFoundError"):
        hint = (
            f"{outcome.error.message} on the Celery worker {socket.gethostname()} (modules imported: {', '.join(task.modules) or 'none'}); "
            "register it in a module listed in [tool.spine] pipelines and start spine worker in the project"
        )
        outcome = replace(outcome, error=StepError(outcome.error.type, hint, outcome.error.traceback))
    output = tail.text()
    return outcome_to_json(replace(outcome, output=output) if output else outcome)


_registered = False


def register_worker_commands() -> None:
    """The ``spine_cancel`` remote control command (once per process)."""
    global _registered
    if _registered:
        return
    from celery.worker.control import control_command

    @control_command(args=[("task_id", str)], signature="<task_id>")
    def spine_cancel(state: Any, task_id: str) -> dict[str, Any]:
        """Mark a spine attempt cancelled: its ctx.cancelled becomes true."""
        path = cancel_mark(task_id)
        if path is not None:
            try:
                path.touch()
                _prune(path.parent)
            except OSError:
                pass
        return {"ok": "marked"}

    _registered = True


def _prune(folder: Path, older_than: float = 3600.0) -> None:
    """Remove cancel marks of attempts that never ran here (they would otherwise pile up)."""
    cutoff = time.time() - older_than
    for mark in folder.iterdir():
        try:
            if mark.stat().st_mtime < cutoff:
                mark.unlink()
        except OSError:
            pass


def wait_for_broker(broker: str, *, seconds: float = BROKER_WAIT_SECONDS, say: Any = None, every: float = 1.0) -> None:
    """Return once ``broker`` accepts a connection (``spine worker``'s start). While it does
    not, say so once through ``say(line)`` and try again every ``every`` s; after ``seconds``
    raise :class:`CeleryUnavailableError` naming the broker and why. Celery's own start
    would retry forever, one log paragraph at a time, on a mistyped host or port."""
    from kombu import Connection
    from kombu.exceptions import OperationalError

    where = safe_url(broker)
    deadline = time.monotonic() + seconds
    told = False
    while True:
        conn = Connection(broker, connect_timeout=2)
        try:
            errors = (*conn.connection_errors, *conn.channel_errors, OperationalError, OSError, TimeoutError)
            conn.ensure_connection(max_retries=1, timeout=2)
            return
        except errors as exc:
            left = deadline - time.monotonic()
            if left <= 0:
                waited = f" within {seconds:g} s" if seconds else ""
                raise CeleryUnavailableError(
                    f"cannot reach the Celery broker at {where} ({_say(exc)}){waited}; start it, or name another with --broker, "
                    "[tool.spine] celery.broker or SPINE_CELERY_BROKER",
                    where,
                ) from exc
            if not told and say is not None:
                say(f"cannot reach the Celery broker at {where} ({_say(exc)}); waiting up to {seconds:g} s for it")
                told = True
            time.sleep(min(every, left))
        finally:
            conn.release()


def run_worker(
    broker: str, *, queues: Sequence[str] = (), concurrency: int | None = None, result_backend: str | None = None,
    visibility_timeout: float | None = None, hostname: str | None = None, loglevel: str = "INFO", pool: str | None = None,
) -> None:
    """Run a Celery worker for spine's attempts until it is stopped (``spine worker``)."""
    import shutil
    import tempfile

    register_worker_commands()
    app = make_app(broker, result_backend=result_backend, visibility_timeout=visibility_timeout, for_worker=True)
    folder = tempfile.mkdtemp(prefix="spine-celery-cancel-")
    os.environ[CANCEL_DIR_ENV] = folder  # the pool's processes inherit it
    argv = ["worker", f"--loglevel={loglevel}", "--without-gossip", "--without-mingle", "--without-heartbeat"]
    argv.append("--queues=" + ",".join(queues or (DEFAULT_QUEUE,)))
    if concurrency:
        argv.append(f"--concurrency={concurrency}")
    if hostname:
        argv.append(f"--hostname={hostname}")
    if pool:
        argv.append(f"--pool={pool}")
    try:
        app.worker_main(argv)
    finally:
        shutil.rmtree(folder, ignore_errors=True)
