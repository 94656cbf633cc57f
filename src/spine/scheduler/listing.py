"""``spine schedule list``: every schedule with its next and last fire; finding one by ``GROUP/NAME``."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from spine.core.errors import SpineError
from spine.orchestration.models import PipelineGroup, Schedule
from spine.scheduler.context import local_iso as iso
from spine.store.schedules import Fire, ScheduleFires, ScheduleState


class ScheduleNotFoundError(SpineError):
    """``GROUP/NAME`` names no schedule (a usage error: exit 2)."""

    exit_code = 2


@dataclass(frozen=True, slots=True)
class ScheduleRow:
    """One schedule as ``spine schedule list`` shows it."""

    group: str
    schedule: Schedule
    paused: bool
    next_fire: dt.datetime | None
    last_fire: dt.datetime | None
    last: Fire | None

    @property
    def state(self) -> str:
        if not self.schedule.enabled:
            return "disabled"
        return "paused" if self.paused else "active"

    def to_dict(self) -> dict[str, Any]:
        s = self.schedule
        return {
            "group": self.group, "name": s.name, "cron": s.cron, "timezone": s.timezone, "state": self.state,
            "enabled": s.enabled, "paused": self.paused, "catchup": s.catchup,
            "next_fire": iso(self.next_fire), "last_fire": iso(self.last_fire),
            "last_status": self.last.status.value if self.last is not None else None,
            "last_run_id": self.last.run_id if self.last is not None else None,
        }


def find_schedule(groups: Sequence[PipelineGroup], ref: str) -> tuple[PipelineGroup, Schedule]:
    """The group and schedule ``GROUP/NAME`` names; :class:`ScheduleNotFoundError` with a suggestion."""
    from spine.core.suggest import did_you_mean

    every = [f"{g.name}/{s.name}" for g in groups for s in g.schedules]
    if "/" not in ref:
        raise ScheduleNotFoundError(f"{ref!r}: name a schedule as GROUP/NAME{did_you_mean(ref, every)} (see `spine schedule list`)")
    group_name, _, name = ref.rpartition("/")
    for g in groups:
        if g.name == group_name:
            for s in g.schedules:
                if s.name == name:
                    return g, s
    known = ", ".join(every) if every else "none: no group has spec.schedules"
    raise ScheduleNotFoundError(f"no schedule {ref!r}{did_you_mean(ref, every)} (schedules: {known})")


def schedule_rows(groups: Sequence[PipelineGroup], fires: ScheduleFires | None, now: dt.datetime) -> list[ScheduleRow]:
    """A row per schedule of ``groups``, by group and schedule name; times in each
    schedule's timezone. ``fires=None`` (no store): no pause flags or last fires."""
    from spine.orchestration.cron import next_ticks, zone

    states = fires.states() if fires is not None else {}
    rows = []
    for g in sorted(groups, key=lambda g: g.name):
        for s in g.schedules:
            state = states.get((g.name, s.name), ScheduleState())
            nxt = next_ticks(s.cron, s.timezone, now, 1) if s.enabled else []
            last = fires.last(g.name, s.name) if fires is not None else None
            last_fire = state.last_fire.astimezone(zone(s.timezone)) if state.last_fire is not None else None
            rows.append(ScheduleRow(g.name, s, state.paused, nxt[0] if nxt else None, last_fire, last))
    return rows


__all__ = ["ScheduleNotFoundError", "ScheduleRow", "find_schedule", "schedule_rows"]
