"""Server-sent events of one run: one event per state change, resumable.

The stream is derived from the store alone (the run may execute in this server, another
server or a CLI process), by polling. Each row of ``group_run_executions`` is one attempt
of a step (or a step that ended without one); a row is *started* (``running``) and later
*ended* (a final status) — the end may update the same row. So the state a client has
seen is fully described by a **watermark** ``W`` (the highest row id seen) and the rows
seen started but not yet ended (at most the steps running at once). The event id is
exactly that, ``W`` or ``W:r1.r2…``; a client that reconnects with ``Last-Event-ID`` gets
precisely the changes it missed: new rows (``id > W``) and the ends of its open rows.

Events:

- ``run`` — the run (``spine runs list --json``'s shape): once when a stream starts
  fresh, and when the run ends (completed, failed, partial, cancelled, or orphaned: its
  process stopped). The stream closes after it; its id ends in ``!``, and a reconnect
  with that id to a run that is still over is answered ``204 No Content`` (which tells
  ``EventSource`` to stop reconnecting).
- ``step`` — a step attempt started or ended: ``step``, ``attempt``, ``status``,
  ``started_at``, ``finished_at``, ``error``, ``reason``.

A comment line (``: keep-alive``) is sent when nothing happened for a while.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import sqlalchemy as sa

if TYPE_CHECKING:
    from spine.store import RunStore, RunSummary

_TERMINAL = frozenset({"completed", "failed", "skipped", "cancelled"})
_ID = re.compile(r"^(\d{1,18})(?::((?:\d{1,18}\.)*\d{1,18}))?(!)?$")
#: Open rows named in an event id before the stream falls back to re-sending their state.
MAX_OPEN_IN_ID = 256


class BadEventId(ValueError):
    """A ``Last-Event-ID`` this server did not send."""


@dataclass
class Cursor:
    """What a client has seen (see the module docstring)."""

    watermark: int = 0
    open: set[int] = field(default_factory=set)
    ended: bool = False

    @classmethod
    def parse(cls, text: str) -> Cursor:
        m = _ID.match(text.strip())
        if m is None:
            raise BadEventId(f"Last-Event-ID {text!r} is not an id this server sent (W, W:r1.r2…, or either ending in '!')")
        rows = {int(r) for r in m.group(2).split(".")} if m.group(2) else set()
        return cls(int(m.group(1)), rows, bool(m.group(3)))

    def text(self) -> str:
        out = str(self.watermark)
        if self.open:
            out += ":" + ".".join(str(r) for r in sorted(self.open)[:MAX_OPEN_IN_ID])
        return out + ("!" if self.ended else "")


def fetch(store: RunStore, run_id: str, cursor: Cursor) -> tuple[RunSummary, list[Any]]:
    """The run, and its rows the cursor has not seen in full (new ones, and its open ones)."""
    from spine.store.schema import group_run_executions as e

    summary = store.run(run_id)

    def q(conn: sa.Connection) -> list[Any]:
        cond = e.c.id > cursor.watermark
        if cursor.open:
            cond = cond | e.c.id.in_(sorted(cursor.open))
        cols = (e.c.id, e.c.step, e.c.attempt, e.c.status, e.c.started_at, e.c.finished_at, e.c.error, e.c.reason)
        return list(conn.execute(sa.select(*cols).where(e.c.run_id == run_id, cond).order_by(e.c.id)))

    return summary, store.read(q)


def advance(cursor: Cursor, run_id: str, rows: Iterable[Any]) -> list[tuple[str, str, dict[str, Any]]]:
    """The ``(id, event, data)`` of every change in ``rows`` (moving the cursor along)."""
    from spine.runner.results import iso

    out: list[tuple[str, str, dict[str, Any]]] = []
    for row_id, step, attempt, status, started, finished, error, reason in rows:
        known = row_id in cursor.open
        if not known and row_id <= cursor.watermark:
            continue
        ended = status in _TERMINAL
        if known and not ended:
            continue  # still running: nothing new
        if known:
            cursor.open.discard(row_id)
        else:
            cursor.watermark = max(cursor.watermark, row_id)
            if not ended:
                cursor.open.add(row_id)
        data = {
            "run_id": run_id, "step": step, "attempt": attempt, "status": status, "started_at": iso(started),
            "finished_at": iso(finished), "error": error, "reason": reason,
        }
        out.append((cursor.text(), "step", data))
    return out


def over(summary: RunSummary) -> bool:
    """The run will not change by itself any more (finished, or its process is gone)."""
    from spine.orchestration.models import GroupRunStatus

    return summary.orphaned or summary.status is not GroupRunStatus.RUNNING


def frame(event_id: str, event: str, data: dict[str, Any]) -> bytes:
    """One SSE frame."""
    return f"id: {event_id}\nevent: {event}\ndata: {json.dumps(data, separators=(',', ':'), default=str)}\n\n".encode()


__all__ = ["MAX_OPEN_IN_ID", "BadEventId", "Cursor", "advance", "fetch", "frame", "over"]
