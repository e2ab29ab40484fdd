"""A deadline as the command line prints it, in the organisation's time zone:
one due at local midnight (a span counted in days) as its last day, whole,
by complaints.dates.LocalDates.due_day, the rule the console follows."""

from datetime import datetime
from zoneinfo import ZoneInfo

from complaints.dates import LocalDates
from complaints.settings import Settings


def due_text(value: datetime | None, settings: Settings) -> str:
    """« 2026-12-11, end of day (Europe/Paris) », « 2026-12-11 14:05 CET », or « — »."""
    if value is None:
        return "—"
    last = LocalDates(settings.timezone, settings.locale).due_day(value)
    if last is not None:
        return f"{last.isoformat()}, end of day ({settings.timezone})"
    return value.astimezone(ZoneInfo(settings.timezone)).strftime("%Y-%m-%d %H:%M %Z")
