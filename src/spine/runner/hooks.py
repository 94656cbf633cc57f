"""What someone outside the loop may decide inside it: :class:`RunHooks`.

The store uses this (``spine.store.recorder``) to keep three promises the loop cannot
keep alone; the loop itself stays free of I/O:

- ``admit(i)`` — before a ready step starts: ``False`` means "not now" (its pool has no
  free slot in the database, or the database is unreachable). The step stays ready; the
  loop asks again when something finishes, or after at most ``retry_seconds``.
- ``turn_done()`` — once per turn of the loop, after it started what it could and before
  it blocks: the store commits what the turn recorded (grouped commits). It returns the
  longest the loop may now block (``None``: no limit), so a hook that needs to act later
  (retry a commit, re-ask for a pool slot) is woken in time.
- ``abort_reason()`` — checked every turn: a text ends the run as ``failed`` with that
  message, like a run timeout (nothing new starts; running attempts are stopped and fail
  with it). The store uses it when the database stayed unreachable too long.

The default implementation admits everything and never aborts.
"""

from __future__ import annotations


class RunHooks:
    """Hooks with no effect; subclass and override what you need."""

    #: How long to wait before asking ``admit`` again about refused steps, when nothing
    #: else wakes the loop (seconds).
    retry_seconds: float = 0.5

    def admit(self, i: int) -> bool:
        """May the step at plan position ``i`` start now?"""
        return True

    def turn_done(self) -> float | None:
        """A turn of the loop ended; return the longest the loop may block now."""
        return None

    def abort_reason(self) -> str | None:
        """Why the run must end as failed now, or ``None``."""
        return None


__all__ = ["RunHooks"]
