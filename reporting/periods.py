"""Report periods in local time: [start, end) as aware datetimes."""

from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

DEFAULT_DAYS = 30  # a report's period when its first day is not given, the last day included
FIRST_DAY_HELP = f"first day (default: {DEFAULT_DAYS - 1} days before the last day, {DEFAULT_DAYS} days in all)"
LAST_DAY_HELP = "last day, included (default: today)"


def days(first: date, last: date, timezone: str) -> tuple[datetime, datetime]:
    """From the start of `first` to the end of `last` (inclusive), local time."""
    if last < first:
        raise ValueError(f"the period ends ({last}) before it starts ({first})")
    zone = ZoneInfo(timezone)
    return datetime.combine(first, time(), zone), datetime.combine(last + timedelta(days=1), time(), zone)


def report_period(first: date | None, last: date | None, timezone: str) -> tuple[datetime, datetime]:
    """From `first` to `last` (inclusive), local time; by default the last day
    is today and the period DEFAULT_DAYS days long."""
    last = last or datetime.now(ZoneInfo(timezone)).date()
    first = first or last - timedelta(days=DEFAULT_DAYS - 1)
    return days(first, last, timezone)


def quality_period(as_of: datetime, weeks: int, timezone: str) -> tuple[datetime, datetime]:
    """The `weeks` full weeks (Monday to Sunday, local) before the week of `as_of`."""
    today = as_of.astimezone(ZoneInfo(timezone)).date()
    monday = today - timedelta(days=today.weekday())
    return days(monday - timedelta(weeks=weeks), monday - timedelta(days=1), timezone)
