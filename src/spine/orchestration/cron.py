"""Cron ticks in a timezone: when a schedule fires, checked and computed without I/O.

A schedule's ``cron`` is read in the local time of its IANA ``timezone`` (croniter syntax,
five fields, or an alias such as ``@weekly``). Daylight-saving days fire exactly once:

- **spring forward**: a tick in the skipped hour (02:30 on the day clocks jump from 02:00
  to 03:00) fires at the first moment that exists after it (03:00);
- **fall back**: a wall-clock time that happens twice (01:30 on the day clocks go back)
  fires at its first occurrence only; the repeat is not a tick.

Ticks are timezone-aware datetimes in the schedule's zone, strictly increasing in real
time. The scheduler, backfills, ``spine schedule list`` and the HTML report all use these
functions, so they agree on every tick.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from functools import lru_cache
from typing import Any

#: Aliases croniter reads (``@hourly`` …) — besides five-field expressions.
ALIASES = ("@yearly", "@annually", "@monthly", "@weekly", "@daily", "@midnight", "@hourly")


def cron_problem(expr: Any) -> str | None:
    """Why ``expr`` is not a usable cron expression (``None``: it is)."""
    if not isinstance(expr, str) or not expr.strip():
        return "must be a cron expression such as '0 6 * * 1' (minute hour day-of-month month day-of-week)"
    text = expr.strip()
    if text.startswith("@"):
        if text.lower() not in ALIASES:
            from spine.core.suggest import did_you_mean

            return f"{text!r:.80} is not a cron alias{did_you_mean(text.lower(), ALIASES)} (aliases: {', '.join(ALIASES)})"
        return None
    fields = text.split()
    if len(fields) != 5:
        return (
            f"{text!r:.80} has {len(fields)} field(s); a cron expression has five: "
            "minute hour day-of-month month day-of-week (e.g. '0 6 * * 1': Mondays at 06:00)"
        )
    from croniter import croniter

    if not croniter.is_valid(text):
        return f"{text!r:.80} is not a valid cron expression (minute 0-59, hour 0-23, day 1-31, month 1-12, day-of-week 0-6)"
    if not next_ticks(text, "UTC", dt.datetime(2000, 1, 1, tzinfo=dt.UTC), 1):
        return f"{text!r:.80} never fires (no such date, e.g. February 30)"
    return None


def timezone_problem(name: Any) -> str | None:
    """Why ``name`` is not an IANA timezone this machine knows (``None``: it is one)."""
    if not isinstance(name, str) or not name.strip():
        return "must be an IANA timezone name such as 'America/New_York' or 'UTC'"
    try:
        zone(name)
    except (LookupError, ValueError) as exc:
        return f"{name!r:.80} is not an IANA timezone{_zone_hint(name)}" if isinstance(exc, LookupError) else f"{name!r:.80}: {exc}"
    return None


def _zone_hint(name: str) -> str:
    import zoneinfo

    from spine.core.suggest import did_you_mean

    return did_you_mean(name, sorted(zoneinfo.available_timezones())) or " (e.g. 'America/New_York', 'Europe/London', 'UTC')"


@lru_cache(maxsize=256)
def zone(name: str) -> dt.tzinfo:
    """The timezone called ``name``; :class:`LookupError` when there is none."""
    import zoneinfo

    if name.upper() == "UTC":
        return dt.UTC
    try:
        return zoneinfo.ZoneInfo(name)
    except zoneinfo.ZoneInfoNotFoundError as exc:
        raise LookupError(name) from exc
    except (ValueError, OSError) as exc:  # a path-like or malformed key
        raise LookupError(name) from exc


def _repeat(t: dt.datetime) -> bool:
    """``t`` is the second occurrence of a wall-clock time (the hour after a fall back)."""
    return t.fold == 1 and t.replace(fold=0).utcoffset() != t.utcoffset()


def ticks(cron: str, timezone: str, after: dt.datetime) -> Iterator[dt.datetime]:
    """Every tick strictly after ``after`` (any aware datetime), oldest first, for ever."""
    from croniter import croniter
    from croniter.croniter import CroniterError

    tz = zone(timezone)
    start = after.astimezone(tz)
    it = croniter(cron.strip(), start)
    last = after
    while True:
        try:
            t = it.get_next(dt.datetime)
        except (CroniterError, ValueError, OverflowError):  # no further date (e.g. 30 February): no more ticks
            return
        if _repeat(t) or t <= last:
            continue
        last = t
        yield t


def ticks_between(cron: str, timezone: str, after: dt.datetime, until: dt.datetime, *, limit: int | None = None) -> list[dt.datetime]:
    """Ticks ``t`` with ``after < t <= until``, oldest first (at most ``limit``: the oldest)."""
    out: list[dt.datetime] = []
    for t in ticks(cron, timezone, after):
        if t > until or (limit is not None and len(out) >= limit):
            break
        out.append(t)
    return out


def latest_tick(cron: str, timezone: str, at: dt.datetime, *, within: dt.timedelta = dt.timedelta(days=400)) -> dt.datetime | None:
    """The last tick at or before ``at`` (``None`` when none is within ``within`` before it)."""
    from croniter import croniter
    from croniter.croniter import CroniterError

    tz = zone(timezone)
    it = croniter(cron.strip(), (at + dt.timedelta(seconds=1)).astimezone(tz))
    floor = at - within
    while True:
        try:
            t = it.get_prev(dt.datetime)
        except (CroniterError, ValueError, OverflowError):
            return None
        if t < floor:
            return None
        if not _repeat(t) and t <= at:
            return t


def previous_tick(cron: str, timezone: str, t: dt.datetime) -> dt.datetime | None:
    """The tick before tick ``t`` (the start of its data interval)."""
    return latest_tick(cron, timezone, t - dt.timedelta(seconds=1))


def next_ticks(cron: str, timezone: str, after: dt.datetime, n: int) -> list[dt.datetime]:
    """The next ``n`` ticks strictly after ``after``."""
    out: list[dt.datetime] = []
    for t in ticks(cron, timezone, after):
        if len(out) >= n:
            break
        out.append(t)
    return out


__all__ = ["ALIASES", "cron_problem", "latest_tick", "next_ticks", "previous_tick", "ticks", "ticks_between", "timezone_problem", "zone"]
