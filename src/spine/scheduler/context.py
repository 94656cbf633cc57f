"""What a fire's params templates see, and rendering them: the run params of one fire.

A schedule's ``params`` (and a backfill's ``--param`` values) are rendered *before* the
plan, once per logical date, with the same sandboxed Jinja as every other template
(:func:`spine.orchestration.params.render_value`). The context:

``schedule.name``, ``schedule.cron``, ``schedule.timezone``
    the schedule (``every:7d`` and no cron for a backfill at a fixed interval);
``schedule.logical_date``
    the tick the fire is for: an aware datetime in the schedule's timezone (the Monday
    06:00 New York of ``0 6 * * 1``);
``schedule.data_interval_start``, ``schedule.data_interval_end``
    the tick before it and the tick itself: the data interval the fire covers;
``timedelta``
    :class:`datetime.timedelta`, for date arithmetic (``schedule.logical_date - timedelta(days=3)``);
``group``
    name, version, domain, tags.

A lone ``{{ … }}`` keeps its native type (a datetime stays a datetime; ``.date()`` makes
it a date, which a ``date`` param wants).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from spine.core.errors import PlanResolutionError
from spine.core.findings import Code, Finding
from spine.orchestration.models import PipelineGroup


def local_iso(t: dt.datetime | None) -> str | None:
    """ISO-8601 with the time's own offset (``2024-01-08T06:00:00-05:00``); ``None`` stays ``None``."""
    return t.isoformat() if t is not None else None


@dataclass(frozen=True, slots=True)
class FireTime:
    """One logical date of a schedule: the tick, and the data interval it closes."""

    logical_date: dt.datetime
    data_interval_start: dt.datetime
    data_interval_end: dt.datetime


def fire_time(cron: str, timezone: str, tick: dt.datetime) -> FireTime:
    """The :class:`FireTime` of a cron tick (its interval starts at the tick before)."""
    from spine.orchestration.cron import previous_tick, zone

    local = tick.astimezone(zone(timezone))
    before = previous_tick(cron, timezone, local)
    return FireTime(local, before if before is not None else local, local)


def interval_time(tick: dt.datetime, every: dt.timedelta) -> FireTime:
    """The :class:`FireTime` of a fixed-interval logical date."""
    return FireTime(tick, tick - every, tick)


def context(group: PipelineGroup, name: str, when: FireTime, *, cron: str | None = None, timezone: str = "UTC") -> dict[str, Any]:
    """The template context of one fire (see the module docstring)."""
    return {
        "schedule": {
            "name": name, "cron": cron, "timezone": timezone, "logical_date": when.logical_date,
            "data_interval_start": when.data_interval_start, "data_interval_end": when.data_interval_end,
        },
        "timedelta": dt.timedelta,
        "group": {"name": group.name, "version": group.version, "domain": group.domain, "tags": list(group.tags)},
    }


def render_params(group: PipelineGroup, params: Mapping[str, Any], ctx: Mapping[str, Any], *, what: str) -> dict[str, Any]:
    """``params`` with every template rendered in ``ctx``; :class:`PlanResolutionError` (code
    ``schedule-template``, naming ``what`` and the key) when one fails."""
    from spine.core.frozen import thaw
    from spine.orchestration.params import TemplateProblem, render_value

    out: dict[str, Any] = {}
    problems: list[Finding] = []
    for key, value in params.items():
        try:
            out[key] = render_value(thaw(value), ctx)
        except TemplateProblem as exc:
            where = group.source.file if group.source is not None else None
            problems.append(Finding(Code.SCHEDULE_TEMPLATE, f"{what} param {key!r}: {exc}", file=where, group=group.name))
    if problems:
        raise PlanResolutionError(findings=problems)
    return out


__all__ = ["FireTime", "local_iso", "context", "fire_time", "interval_time", "render_params"]
