"""Report periods in local time: [start, end) as aware datetimes."""

from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo


def days(first: date, last: date, timezone: str) -> tuple[datetime, datetime]:
    """From the start of `first` to the end of `last` (inclusive), local time."""
    if last < first:
        raise ValueError(f"the period ends ({last}) before it starts ({first})")
    zone = ZoneInfo(timezone)
    return datetime.combine(first, time(), zone), datetime.combine(last + timedelta(days=1), time(), zone)


def quality_period(as_of: datetime, weeks: int, timezone: str) -> tuple[datetime, datetime]:
    """The `weeks` full weeks (Monday to Sunday, local) before the week of `as_of`."""
    today = as_of.astimezone(ZoneInfo(timezone)).date()
    monday = today - timedelta(days=today.weekday())
    return days(monday - timedelta(weeks=weeks), monday - timedelta(days=1), timezone)
