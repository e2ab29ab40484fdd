"""Days counted as French texts count them: jours ouvrables, jours ouvrés,
calendar days and months, from the day after the event to the end (24:00) of
the last day, in the organisation's time zone.

Pure and deterministic, so workflow code can use it: the closed days (public
holidays and the organisation's own) are data of the calendar, which travels
in the complaint's policy. Nothing here reads a holiday library, the clock or
the settings; `complaints.holidays_fr` builds a calendar from the settings at
intake.
"""

import bisect
import calendar as _calendar
from datetime import UTC, date, datetime, time, timedelta
from enum import StrEnum
from zoneinfo import ZoneInfo

from pydantic import BaseModel, field_validator


class Counting(StrEnum):
    """How a span counts."""

    ELAPSED = "elapsed"  # time from the instant: "10 days" is 240 hours (the policy's historical meaning)
    CALENDAR = "calendar"  # calendar days or months, to the end of the last day
    WORKING = "working"  # jours ouvrables: every day but Sunday and the closed days
    BUSINESS = "business"  # jours ouvrés: Monday to Friday but the closed days


class WorkingCalendar(BaseModel):
    """The time zone and the closed days of one organisation.

    `closed_days` are known for the years `first_year` to `last_year`; outside
    them a count skips only the weekly rest days, so a date beyond the years
    the calendar covers is never later than the legal one (it may be earlier).
    """

    timezone: str = "Europe/Paris"
    closed_days: list[date] = []  # sorted, no repeats: public holidays and the organisation's own
    first_year: int | None = None
    last_year: int | None = None
    # Made at intake by code that counts every span of the policy here: an
    # elapsed span's months on the local date and time (1 December 00:30 in
    # Paris + 2 months is 1 February 00:30 there), a wait's counted days on these
    # closed days. False in a calendar carried by a run started before: months
    # in UTC, waits in the default calendar, as that run counted them.
    every_span: bool = False

    @field_validator("closed_days")
    @classmethod
    def _sorted(cls, value: list[date]) -> list[date]:
        return sorted(set(value))

    @property
    def zone(self) -> ZoneInfo:
        return ZoneInfo(self.timezone)

    def covers(self, day: date) -> bool:
        if self.first_year is None or self.last_year is None:
            return False
        return self.first_year <= day.year <= self.last_year

    def is_closed(self, day: date) -> bool:
        """One of the closed days (a public holiday or the organisation's own)."""
        index = bisect.bisect_left(self.closed_days, day)
        return index < len(self.closed_days) and self.closed_days[index] == day

    def is_open(self, day: date, counting: Counting) -> bool:
        """Whether `day` counts in a span counted that way."""
        if counting is Counting.WORKING:
            return day.weekday() != 6 and not self.is_closed(day)
        if counting is Counting.BUSINESS:
            return day.weekday() < 5 and not self.is_closed(day)
        return True

    def local_date(self, moment: datetime) -> date:
        """The day `moment` falls on in the calendar's zone (a naive moment is read as UTC)."""
        if moment.tzinfo is None:
            moment = moment.replace(tzinfo=UTC)
        return moment.astimezone(self.zone).date()

    def end_of(self, day: date) -> datetime:
        """24:00 of `day` in the zone: the first instant after it, in UTC."""
        return datetime.combine(day + timedelta(days=1), time(0), tzinfo=self.zone).astimezone(UTC)

    def last_day(self, due_at: datetime) -> date:
        """The last day of a span ending at `due_at` (its 24:00): the date a
        letter gives."""
        return self.local_date(due_at - timedelta(microseconds=1))

    def add_months(self, moment: datetime, months: int) -> datetime:
        """`moment` `months` later on the local date, at the same local time
        (clamped to the month's last day), given in UTC."""
        if moment.tzinfo is None:
            moment = moment.replace(tzinfo=UTC)
        local = moment.astimezone(self.zone)
        day = add_months_to_date(local.date(), months)
        return local.replace(year=day.year, month=day.month, day=day.day).astimezone(UTC)

    def add_days(self, start: date, days: int, counting: Counting) -> date:
        """The `days`-th counted day after `start` (the count starts the day
        after); `start` itself for 0."""
        day = start
        while days > 0:
            day += timedelta(days=1)
            if self.is_open(day, counting):
                days -= 1
        return day


def add_months_to_date(start: date, months: int) -> date:
    """Same day `months` later, clamped to the month's last day (31 Jan + 1 → 28/29 Feb)."""
    month_index = start.month - 1 + months
    year, month = start.year + month_index // 12, month_index % 12 + 1
    return start.replace(year=year, month=month, day=min(start.day, _calendar.monthrange(year, month)[1]))
