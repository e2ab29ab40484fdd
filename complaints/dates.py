"""Dates as the complainant reads them, in letters and on the customer pages:
in the configured time zone and language (`COMPLAINTS_TIMEZONE`, `COMPLAINTS_LOCALE`)."""

from datetime import datetime
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

    def moment(self, value: datetime | str) -> str:
        """« 3 mars 2026, 14:05 »"""
        value = _as_datetime(value)
        return format_datetime(value.astimezone(self._tz), format="d MMMM y, HH:mm", locale=self._locale)


def _as_datetime(value: datetime | str) -> datetime:
    """Values carried through workflow payloads arrive as ISO text."""
    return datetime.fromisoformat(value) if isinstance(value, str) else value
