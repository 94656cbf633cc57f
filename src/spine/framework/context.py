"""What a pipeline sees of its run: :class:`ExecutionContext`, and :class:`CancelToken`.

A pipeline is ``fn(params, ctx)``. ``ctx`` names the attempt (``run_id``, ``batch_id``,
``step``, ``attempt`` — 1 for the first try), carries a logger bound with those names,
the results of the step's dependencies (``upstream``, by step name), and ``cancelled``:
true once the run is being stopped (Ctrl-C, ``on_failure: stop`` elsewhere does *not*
set it) or this attempt timed out. A long pipeline polls it and returns early::

    for chunk in chunks:
        if ctx.cancelled:
            return {"stopped_after": n}
        ...

Steps run at least once: a step in flight when its process dies runs again on resume,
so ``ctx.idempotency_key`` (the same on every attempt and every resume of one step of
one run, and in a replay of that step from the dead-letter queue) is what a pipeline
uses to make its writes idempotent.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from types import MappingProxyType
from typing import Any, Protocol


class CancelSignal(Protocol):
    """Anything with ``is_set()``: a ``threading.Event``, a ``multiprocessing.Event``…"""

    def is_set(self) -> bool: ...


class CancelToken:
    """A one-way switch: once cancelled, stays cancelled. Safe to set from a signal handler.

    Callbacks registered with :meth:`on_cancel` run in the thread that cancels (for the
    runner: put a wake-up item on its queue, which ``queue.SimpleQueue.put`` allows from a
    signal handler).
    """

    __slots__ = ("_callbacks", "_event", "reason")

    def __init__(self) -> None:
        self._event = threading.Event()
        self._callbacks: list[Callable[[], None]] = []
        self.reason: str | None = None

    def cancel(self, reason: str = "cancelled") -> None:
        if self._event.is_set():
            return
        self.reason = reason
        self._event.set()
        for callback in list(self._callbacks):
            callback()

    def is_set(self) -> bool:
        return self._event.is_set()

    @property
    def cancelled(self) -> bool:
        return self._event.is_set()

    def on_cancel(self, callback: Callable[[], None]) -> None:
        self._callbacks.append(callback)
        if self._event.is_set():
            callback()


class _Never:
    """The cancel signal of a context made outside a run: never set."""

    def is_set(self) -> bool:
        return False


_NEVER = _Never()


@dataclass(frozen=True, slots=True)
class ExecutionContext:
    """One attempt of one step of one run, as the pipeline sees it."""

    run_id: str
    batch_id: str
    step: str
    pipeline: str = ""
    #: 1 for the first try, 2 for the first retry …
    attempt: int = 1
    #: The results of the step's dependencies, by step name (what their pipelines returned).
    upstream: Mapping[str, Any] = field(default_factory=lambda: MappingProxyType({}))
    #: For a replay (``spine dlq replay``): the run whose step this runs again.
    origin_run_id: str | None = None
    _cancel: CancelSignal = field(default=_NEVER, repr=False, compare=False)
    _log: logging.LoggerAdapter[logging.Logger] | None = field(default=None, init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        if not isinstance(self.upstream, MappingProxyType):
            object.__setattr__(self, "upstream", MappingProxyType(dict(self.upstream)))

    @property
    def log(self) -> logging.LoggerAdapter[logging.Logger]:
        """A logger (``spine.pipeline.<pipeline>``) bound with run_id, batch_id, step and attempt."""
        log = self._log
        if log is None:  # made on first use: most attempts never log
            logger = logging.getLogger(f"spine.pipeline.{self.pipeline or self.step}")
            bound = {"run_id": self.run_id, "batch_id": self.batch_id, "step": self.step, "attempt": self.attempt}
            log = logging.LoggerAdapter(logger, bound)
            object.__setattr__(self, "_log", log)
        return log

    @property
    def cancelled(self) -> bool:
        """True once the run is stopping or this attempt ran out of time: return early."""
        return self._cancel.is_set()

    @property
    def idempotency_key(self) -> str:
        """``run_id:step`` — equal across retries, resumes and replays of this step of this run
        (a replay uses the original run's id)."""
        return f"{self.origin_run_id or self.run_id}:{self.step}"

    @property
    def logger(self) -> logging.LoggerAdapter[logging.Logger]:
        return self.log
