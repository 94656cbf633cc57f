"""Executors: *where* an attempt runs. The scheduling loop (:mod:`spine.runner.runner`)
decides *what* runs and *when*; an executor only starts attempts and reports outcomes.

Every executor puts one :class:`~spine.runner.attempt.AttemptOutcome` per submitted
attempt on the loop's queue (a ``queue.SimpleQueue``), from whatever thread learns of it,
and returns a :class:`Handle` per attempt to tell it to wind down (``ctx.cancelled``) or
to give it up (:meth:`Handle.stop`: a process is killed, a Dask future cancelled, a
thread abandoned — Python cannot stop a thread).

==========  ==========================================  ============================
executor    an attempt runs in                          stop() of a running attempt
==========  ==========================================  ============================
inline      the calling thread, at submit               cannot (runs to the end)
threads     a pool thread (``limit`` of them)           abandoned; a thread replaces it
processes   a forked child process per attempt          SIGKILL
dask        a task on a ``dask.distributed`` cluster    future cancelled; the thread runs on
                                                        (:mod:`spine.runner.dask_executor`)
celery      a Celery task on a ``spine worker``         revoked; a running one runs on
                                                        (:mod:`spine.runner.celery_executor`)
==========  ==========================================  ============================
"""

from __future__ import annotations

import datetime as dt
import os
import queue
import signal
import tempfile
import threading
from collections.abc import Sequence
from typing import Any, Protocol

from spine.framework.dispatcher import Dispatcher
from spine.runner.attempt import AttemptOutcome, AttemptTask, run_attempt
from spine.runner.capture import TAIL_CHARS, OutputTail, capturing
from spine.runner.dask_executor import DaskExecutor
from spine.runner.results import StepError

EXECUTORS = ("inline", "threads", "processes", "dask", "celery")


class Handle(Protocol):
    def signal_cancel(self) -> None:
        """Make ``ctx.cancelled`` true for this attempt."""

    def stop(self) -> None:
        """Give the attempt up: kill it where the executor can."""


class Executor(Protocol):
    #: ``inline``, ``threads``, ``processes``, ``dask`` or ``celery``.
    name: str

    def open(self, outcomes: queue.SimpleQueue[Any], limit: int) -> None: ...

    def submit(self, task: AttemptTask) -> Handle: ...

    def close(self) -> None: ...


class _Flag:
    """A one-way cancel flag for an attempt in this process (``ctx.cancelled`` reads it).

    Cheaper than a ``threading.Event`` (no lock or condition to build per attempt); nobody
    waits on it, and setting or reading one attribute is atomic.
    """

    __slots__ = ("_on",)

    def __init__(self) -> None:
        self._on = False

    def set(self) -> None:
        self._on = True

    def is_set(self) -> bool:
        return self._on


class _EventHandle:
    __slots__ = ("event",)

    def __init__(self, event: _Flag) -> None:
        self.event = event

    def signal_cancel(self) -> None:
        self.event.set()

    def stop(self) -> None:
        self.event.set()


class InlineExecutor:
    """Runs each attempt in the calling thread as it is submitted (tests, debugging, pdb)."""

    name = "inline"

    def __init__(self, dispatcher: Dispatcher | None = None) -> None:
        self.dispatcher = dispatcher or Dispatcher()

    def open(self, outcomes: queue.SimpleQueue[Any], limit: int) -> None:
        self._outcomes = outcomes

    def submit(self, task: AttemptTask) -> Handle:
        handle = _EventHandle(_Flag())
        tail = OutputTail()
        # the loop is blocked while the attempt runs here: a timer tells it it is late
        timer = threading.Timer(task.timeout_seconds, handle.event.set) if task.timeout_seconds else None
        if timer is not None:
            timer.daemon = True
            timer.start()
        try:
            with capturing(tail):
                outcome = run_attempt(task, handle.event, self.dispatcher)
        finally:
            if timer is not None:
                timer.cancel()
        self._outcomes.put(_with_output(outcome, tail))
        return handle

    def close(self) -> None:
        pass


class ThreadExecutor:
    """A pool of ``limit`` daemon threads fed from one queue.

    A timed-out attempt's thread cannot be stopped: it is *abandoned* (its outcome, when it
    comes, is ignored by the loop) and a new thread takes its place, so the pool keeps its
    width. Threads are daemons, so a pipeline that never returns cannot keep the process
    alive after the run.
    """

    name = "threads"

    def __init__(self, dispatcher: Dispatcher | None = None) -> None:
        self.dispatcher = dispatcher or Dispatcher()
        self._jobs: queue.SimpleQueue[Any] = queue.SimpleQueue()
        self._threads: list[threading.Thread] = []

    def open(self, outcomes: queue.SimpleQueue[Any], limit: int) -> None:
        self._outcomes = outcomes
        for _ in range(limit):
            self._spawn()

    def _spawn(self) -> None:
        t = threading.Thread(target=self._work, name=f"spine-step-{len(self._threads)}", daemon=True)
        t.start()
        self._threads.append(t)

    def _work(self) -> None:
        jobs, outcomes, dispatcher = self._jobs, self._outcomes, self.dispatcher
        while True:
            job = jobs.get()
            if job is None:
                return
            task, handle = job
            tail = OutputTail()
            with capturing(tail):
                outcome = run_attempt(task, handle.event, dispatcher)
            outcomes.put(_with_output(outcome, tail))
            if handle.abandoned:
                return  # a replacement was started when this attempt was given up

    def submit(self, task: AttemptTask) -> Handle:
        handle = _ThreadHandle(self)
        self._jobs.put((task, handle))
        return handle

    def close(self) -> None:
        for _ in self._threads:
            self._jobs.put(None)


class _ThreadHandle(_EventHandle):
    __slots__ = ("abandoned", "pool")

    def __init__(self, pool: ThreadExecutor) -> None:
        super().__init__(_Flag())
        self.pool = pool
        self.abandoned = False

    def stop(self) -> None:
        self.event.set()
        if not self.abandoned:
            self.abandoned = True
            self.pool._spawn()


class ProcessExecutor:
    """One forked child process per attempt: a crash, ``os._exit`` or a segfault fails that
    attempt only, and a timed-out attempt is killed.

    Forking inherits the registered pipelines and the parent's ``sys.path``. What the
    child prints goes to a temporary file whose tail is kept with the step. The parent
    learns the outcome through a pipe; a child that dies without writing one is reported
    with its exit code or signal.
    """

    name = "processes"

    def __init__(self, dispatcher: Dispatcher | None = None) -> None:
        import multiprocessing

        self.dispatcher = dispatcher or Dispatcher()
        self._mp = multiprocessing.get_context("fork")

    def open(self, outcomes: queue.SimpleQueue[Any], limit: int) -> None:
        self._outcomes = outcomes

    def submit(self, task: AttemptTask) -> Handle:
        mp = self._mp
        receive, send = mp.Pipe(duplex=False)
        cancel = mp.Event()
        out = tempfile.TemporaryFile()
        proc = mp.Process(
            target=_child_main, args=(task, send, cancel, out.fileno(), self.dispatcher), name=f"spine-step-{task.index}", daemon=True
        )
        started = dt.datetime.now(dt.UTC)
        proc.start()
        send.close()
        handle = _ProcessHandle(proc, cancel)
        threading.Thread(target=self._reap, args=(task, proc, receive, out, started), daemon=True).start()
        return handle

    def _reap(self, task: AttemptTask, proc: Any, receive: Any, out: Any, started: dt.datetime) -> None:
        outcome: AttemptOutcome | None = None
        try:
            outcome = receive.recv()
        except (EOFError, OSError):  # the child died before it could answer
            pass
        finally:
            receive.close()
        proc.join()
        output = _tail_of(out)
        if outcome is None:
            outcome = AttemptOutcome(
                task.index, task.attempt, False, started, dt.datetime.now(dt.UTC), error=_death(proc.exitcode)
            )
        self._outcomes.put(_replace_output(outcome, output))

    def close(self) -> None:
        pass


class _ProcessHandle:
    __slots__ = ("cancel", "proc")

    def __init__(self, proc: Any, cancel: Any) -> None:
        self.proc = proc
        self.cancel = cancel

    def signal_cancel(self) -> None:
        self.cancel.set()

    def stop(self) -> None:
        self.cancel.set()
        if self.proc.is_alive():
            self.proc.kill()


def _child_main(task: AttemptTask, send: Any, cancel: Any, out_fd: int, dispatcher: Dispatcher) -> None:
    """The body of a child process: fds 1 and 2 to the output file, run, answer, exit."""
    import faulthandler
    import sys

    faulthandler.disable()  # a crash is reported by the parent, from the exit status
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # Ctrl-C is the parent's to handle
    signal.signal(signal.SIGTERM, signal.SIG_DFL)
    sys.stdout.flush()
    sys.stderr.flush()
    os.dup2(out_fd, 1)
    os.dup2(out_fd, 2)
    # the parent may have routed sys.stdout through step tails: write straight to the fds
    sys.stdout = open(1, "w", encoding="utf-8", errors="replace", closefd=False, buffering=1)
    sys.stderr = open(2, "w", encoding="utf-8", errors="replace", closefd=False, buffering=1)
    outcome = run_attempt(task, cancel, dispatcher)
    sys.stdout.flush()
    sys.stderr.flush()
    try:
        send.send(outcome)
    except Exception as exc:
        send.send(
            AttemptOutcome(task.index, task.attempt, False, outcome.started_at, outcome.finished_at,
                           error=StepError(type(exc).__name__, f"the outcome could not be sent to the run: {exc}"))
        )
    send.close()
    os._exit(0)  # no atexit handlers or inherited finalizers of the parent


def _death(code: int | None) -> StepError:
    if code is not None and code < 0:
        try:
            name = signal.Signals(-code).name
        except ValueError:
            name = f"signal {-code}"
        hint = " (a crash in native code?)" if name in ("SIGSEGV", "SIGBUS", "SIGABRT", "SIGILL", "SIGFPE") else ""
        return StepError("ProcessDied", f"the step's process was killed by {name}{hint}")
    return StepError("ProcessDied", f"the step's process exited with code {code} before it reported a result (os._exit?)")


def _tail_of(out: Any, limit: int = TAIL_CHARS) -> str:
    try:
        size = out.seek(0, os.SEEK_END)
        out.seek(max(0, size - limit * 4))
        data = out.read().decode("utf-8", errors="replace")
    except OSError:
        return ""
    finally:
        out.close()
    tail = OutputTail(limit)
    if size > limit * 4:
        tail.dropped = size - limit * 4
    tail.write(data)
    return tail.text()


def _with_output(outcome: AttemptOutcome, tail: OutputTail) -> AttemptOutcome:
    if tail.dropped == 0 and not tail._chunks:
        return outcome
    return _replace_output(outcome, tail.text())


def _replace_output(outcome: AttemptOutcome, output: str) -> AttemptOutcome:
    from dataclasses import replace

    return replace(outcome, output=output) if output else outcome


def make_executor(
    name: str, *, dask_address: str | None = None, broker: str | None = None, modules: Sequence[str] = (), dispatcher: Dispatcher | None = None,
) -> Executor:
    """The executor called ``name`` (one of :data:`EXECUTORS`)."""
    if name == "inline":
        return InlineExecutor(dispatcher)
    if name == "threads":
        return ThreadExecutor(dispatcher)
    if name == "processes":
        return ProcessExecutor(dispatcher)
    if name == "dask":
        return DaskExecutor(dask_address, modules=modules)
    if name == "celery":
        from spine.runner.celery_executor import CeleryExecutor

        return CeleryExecutor(broker, modules=modules)
    raise ValueError(f"unknown executor {name!r}; choose one of {', '.join(EXECUTORS)}")
