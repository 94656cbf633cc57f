"""The run's lease: a heartbeat from a background thread of the process that runs it.

Every ``interval`` seconds the thread writes ``heartbeat_at`` and pushes
``lease_expires_at`` to now + ``lease_seconds`` — but only while the run is still this
owner's (the ``UPDATE`` names the owner's token). Three things can come back:

- a cancel request (``spine runs cancel`` from anywhere): the thread cancels the run's
  :class:`~spine.framework.CancelToken`, and the run stops as on Ctrl-C;
- "not yours any more": the lease expired and another process resumed the run; the
  thread sets :attr:`Lease.lost` and the recorder ends this execution;
- an error: the database is unreachable; :attr:`failing_since` is set, and the recorder
  fails the run if it stays that way longer than its bound (the lease would expire, and
  someone else could take the run over).

A process killed with ``kill -9`` simply stops beating: after ``lease_seconds`` its run
counts as orphaned, its pool slots free, and ``spine runs resume`` may take it over.
The lease is many heartbeats long (default 2 s beats, a 30 s lease) so a slow database
or a long GC pause does not orphan a healthy run. Times come from the clocks of the
machines that write them: machines sharing a database keep them in sync (NTP).
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from typing import TYPE_CHECKING

from spine.store.errors import StoreError

if TYPE_CHECKING:
    from spine.store.records import Owner
    from spine.store.store import RunStore

#: Default seconds between heartbeats.
HEARTBEAT_SECONDS = 2.0
#: Default seconds without a heartbeat after which a run is orphaned.
LEASE_SECONDS = 30.0


class Lease:
    """Keeps ``owner``'s lease on ``run_id`` alive from a daemon thread."""

    def __init__(
        self,
        store: RunStore,
        run_id: str,
        owner: Owner,
        *,
        interval: float = HEARTBEAT_SECONDS,
        on_cancel: Callable[[str], None] | None = None,
        on_lost: Callable[[], None] | None = None,
    ) -> None:
        if interval <= 0 or interval >= owner.lease_seconds:
            raise ValueError(f"the heartbeat interval ({interval:g} s) must be positive and shorter than the lease ({owner.lease_seconds:g} s)")
        self.store = store
        self.run_id = run_id
        self.owner = owner
        self.interval = interval
        self.on_cancel = on_cancel
        self.on_lost = on_lost
        #: Another process took the run over.
        self.lost = False
        #: ``time.monotonic()`` of the first failed heartbeat in a row, or ``None``.
        self.failing_since: float | None = None
        self.last_error = ""
        self.beats = 0
        self._stop = threading.Event()
        self._cancelled = False
        self._thread = threading.Thread(target=self._run, name=f"spine-heartbeat-{run_id}", daemon=True)

    def start(self) -> Lease:
        self._thread.start()
        return self

    def stop(self) -> None:
        self._stop.set()
        if self._thread.is_alive():
            self._thread.join(timeout=10)

    def __enter__(self) -> Lease:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    def beat(self) -> None:
        """One heartbeat (the thread's body; callable directly in tests)."""
        try:
            answer = self.store.heartbeat(self.run_id, self.owner)
        except StoreError as exc:
            self.last_error = getattr(exc, "why", None) or str(exc)
            if self.failing_since is None:
                self.failing_since = time.monotonic()
            return
        self.failing_since = None
        self.beats += 1
        if not answer.owned:
            self.lost = True
            self._stop.set()
            if self.on_lost is not None:
                self.on_lost()
            return
        if answer.cancel_reason is not None and not self._cancelled:
            self._cancelled = True
            if self.on_cancel is not None:
                self.on_cancel(answer.cancel_reason)

    def _run(self) -> None:
        while not self._stop.wait(self.interval):
            self.beat()


__all__ = ["HEARTBEAT_SECONDS", "LEASE_SECONDS", "Lease"]
