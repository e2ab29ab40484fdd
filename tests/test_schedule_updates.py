"""A schedule follows its setting: a worker started with a changed cron or
interval updates the existing schedule's spec (its action and state kept); the
same settings change nothing."""

import asyncio
from collections.abc import Sequence
from datetime import timedelta

from temporalio.client import Client, ScheduleCalendarSpec, ScheduleHandle, ScheduleIntervalSpec, ScheduleRange

from complaints.settings import Settings
from worker.schedules import (
    ensure_reporting_schedules,
    ensure_schedules,
    report_refresh_schedule_id,
    sla_digest_schedule_id,
)


def _at(calendar: ScheduleCalendarSpec) -> tuple[tuple[ScheduleRange, ...], ...]:
    fields: tuple[Sequence[ScheduleRange], ...] = (calendar.hour, calendar.minute, calendar.day_of_week)
    return tuple(tuple(ranges) for ranges in fields)


async def _delete(*handles: ScheduleHandle) -> None:
    for handle in handles:
        await handle.delete()


async def test_a_changed_cron_setting_updates_the_existing_schedule(client: Client, settings: Settings) -> None:
    digest = client.get_schedule_handle(sla_digest_schedule_id(settings))
    await ensure_schedules(client, settings.model_copy(update={"sla_digest_cron": "0 7 * * *"}))
    try:
        first = await digest.describe()
        [calendar] = first.schedule.spec.calendars
        assert _at(calendar) == ((ScheduleRange(7),), (ScheduleRange(0),), (ScheduleRange(0, 6),))

        again = settings.model_copy(update={"sla_digest_cron": "0 7 * * *"})
        await asyncio.gather(*(ensure_schedules(client, again) for _ in range(3)))  # the same: nothing to update
        assert (await digest.describe()).info.last_updated_at == first.info.last_updated_at

        changed = settings.model_copy(update={"sla_digest_cron": "30 6 * * 1-5"})
        await asyncio.gather(*(ensure_schedules(client, changed) for _ in range(3)))  # three workers start
        updated = await digest.describe()
        [calendar] = updated.schedule.spec.calendars
        assert _at(calendar) == ((ScheduleRange(6),), (ScheduleRange(30),), (ScheduleRange(1, 5),))
        assert updated.schedule.spec.time_zone_name == settings.timezone
        assert updated.info.next_action_times[0].minute == 30
        # the action and the state are the schedule's own, as they were
        assert updated.schedule.action == first.schedule.action
        assert updated.schedule.state.paused == first.schedule.state.paused
    finally:
        await _delete(digest)


async def test_a_changed_interval_setting_updates_the_existing_schedule(client: Client, settings: Settings) -> None:
    refresh = client.get_schedule_handle(report_refresh_schedule_id(settings))
    await ensure_reporting_schedules(client, settings.model_copy(update={"report_refresh_minutes": 10}))
    others = [client.get_schedule_handle(f"{settings.task_queue}-{n}") for n in ("quality-report", "actions-review")]
    try:
        assert (await refresh.describe()).schedule.spec.intervals == [ScheduleIntervalSpec(every=timedelta(minutes=10))]
        untouched = [(await other.describe()).info.last_updated_at for other in others]

        await ensure_reporting_schedules(client, settings.model_copy(update={"report_refresh_minutes": 3}))

        assert (await refresh.describe()).schedule.spec.intervals == [ScheduleIntervalSpec(every=timedelta(minutes=3))]
        assert [(await other.describe()).info.last_updated_at for other in others] == untouched
    finally:
        await _delete(refresh, *others)
