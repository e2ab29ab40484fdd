"""Dates as people read them, in letters, on the pages and in the reports: in
the configured time zone and language (`COMPLAINTS_TIMEZONE`, `COMPLAINTS_LOCALE`)."""

import datetime as dt
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from babel.dates import format_date, format_datetime


class LocalDates:
    def __init__(self, timezone: str, locale: str) -> None:
        self._tz = ZoneInfo(timezone)
        self._locale = locale

    def date(self, value: datetime | str) -> str:
        """« 3 mars 2026 »"""
        value = _as_datetime(value)
        return format_date(value.astimezone(self._tz), format="long", locale=self._locale)

    def last_day(self, due_at: datetime | str) -> str:
        """The last day of a deadline due at `due_at`: a counted span is due at
        24:00 of its last day (00:00 of the next), the day the complainant is given."""
        return self.date(_as_datetime(due_at) - timedelta(microseconds=1))

    def due_day(self, due_at: datetime | str) -> dt.date | None:
        """The last day of a deadline due at local midnight (a counted span is
        due at 00:00 of the day after its last day); None for another time."""
        local = _as_datetime(due_at).astimezone(self._tz)
        return local.date() - timedelta(days=1) if local.time() == dt.time() else None

    def due(self, due_at: datetime | str) -> str:
        """When a deadline falls, as an operator reads it: « 11 décembre 2026
        inclus » when due at local midnight (its whole last day, never « 12
        décembre 2026, 00:00 », which reads as one day more), else its moment."""
        last = self.due_day(due_at)
        return f"{self.day(last)} inclus" if last else self.moment(due_at)

    def moment(self, value: datetime | str) -> str:
        """« 3 mars 2026, 14:05 »"""
        value = _as_datetime(value)
        return format_datetime(value.astimezone(self._tz), format="d MMMM y, HH:mm", locale=self._locale)

    def day(self, value: dt.date, pattern: str = "long") -> str:
        """A calendar day, in babel's `pattern`: « 3 mars 2026 », « mars 2026 » (MMMM y)."""
        return format_date(value, format=pattern, locale=self._locale)


def _as_datetime(value: datetime | str) -> datetime:
    """Values carried through workflow payloads arrive as ISO text."""
    return datetime.fromisoformat(value) if isinstance(value, str) else value


def parse_local_moment(text: str, zone: ZoneInfo) -> datetime:
    """A date or a moment as an operator or a spreadsheet writes it: ISO 8601
    (2026-03-14, 2026-03-14 09:30, 2026-03-14T09:30+01:00) or 14/03/2026
    [09:30]; without an offset, in `zone` (a date alone: its first instant)."""
    value = None
    text = text.strip()
    try:
        value = datetime.fromisoformat(text)
    except ValueError:
        for pattern in ("%d/%m/%Y %H:%M:%S", "%d/%m/%Y %H:%M", "%d/%m/%Y"):
            try:
                value = datetime.strptime(text, pattern)
                break
            except ValueError:
                continue
    if value is None:
        raise ValueError(f"{text!r} is not a date: write 2026-03-14, 2026-03-14 09:30 or 14/03/2026")
    return value.replace(tzinfo=zone) if value.tzinfo is None else value
