"""Cron schedules and backfills: runs fired from ``spec.schedules``, claimed in the store.

:class:`Scheduler` (:mod:`.scheduler`) fires due schedules (``spine scheduler run``);
:func:`plan_backfill` and :func:`run_backfill` (:mod:`.backfill`) run a group once per
logical date (``spine group backfill``); :func:`schedule_rows` (:mod:`.listing`) is
``spine schedule list``; :mod:`.context` renders a fire's params templates
(``schedule.logical_date`` …). The ticks themselves come from
:mod:`spine.orchestration.cron`; the claims from :mod:`spine.store.schedules`.
"""

from spine.scheduler.backfill import BackfillDate, BackfillOutcome, parse_every, plan_backfill, run_backfill
from spine.scheduler.context import FireTime, context, fire_time, interval_time, render_params
from spine.scheduler.listing import ScheduleRow, find_schedule, schedule_rows
from spine.scheduler.scheduler import Due, FireAction, FireOutcome, ScheduledGroup, Scheduler, due_ticks, scheduled

__all__ = [
    "BackfillDate",
    "BackfillOutcome",
    "Due",
    "FireAction",
    "FireOutcome",
    "FireTime",
    "ScheduleRow",
    "ScheduledGroup",
    "Scheduler",
    "context",
    "due_ticks",
    "find_schedule",
    "fire_time",
    "interval_time",
    "parse_every",
    "plan_backfill",
    "render_params",
    "run_backfill",
    "schedule_rows",
    "scheduled",
]
