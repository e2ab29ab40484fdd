"""Dates as operators read them: a deadline due at local midnight is shown as
its last day, whole, never as the next day at 00:00."""

from datetime import UTC, datetime

from complaints.dates import LocalDates
from complaints.policy import Span
from complaints.working_days import WorkingCalendar

PARIS = LocalDates("Europe/Paris", "fr_FR")


def test_a_deadline_due_at_local_midnight_is_shown_as_its_last_day() -> None:
    # 24:00 on 11 December in Paris (winter, UTC+1), 24:00 on 10 July (summer, UTC+2)
    assert PARIS.due(datetime(2026, 12, 11, 23, 0, tzinfo=UTC)) == "11 décembre 2026 inclus"
    assert PARIS.due("2026-07-10T22:00:00+00:00") == "10 juillet 2026 inclus"


def test_a_counted_span_is_due_on_the_day_the_letters_give() -> None:
    received = datetime(2026, 11, 27, 15, 30, tzinfo=UTC)
    due = Span.model_validate("10 working days").after(received, WorkingCalendar())
    assert PARIS.due(due) == f"{PARIS.last_day(due)} inclus"
    assert "00:00" not in PARIS.due(due)


def test_a_deadline_at_another_time_is_shown_as_its_moment() -> None:
    assert PARIS.due(datetime(2026, 12, 11, 13, 5, tzinfo=UTC)) == "11 décembre 2026, 14:05"
    # midnight in UTC is 01:00 in Paris: not a day's end there
    assert PARIS.due(datetime(2026, 12, 12, 0, 0, tzinfo=UTC)) == "12 décembre 2026, 01:00"
    assert PARIS.due_day(datetime(2026, 12, 12, 0, 0, tzinfo=UTC)) is None
