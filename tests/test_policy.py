import re
from datetime import UTC, datetime, timedelta

import pytest
from pydantic import ValidationError

from complaints.policy import ComplaintPolicy, Span, add_months


def test_two_months_from_receipt_clamps_to_month_end() -> None:
    received = datetime(2026, 12, 31, 15, 30, tzinfo=UTC)
    assert ComplaintPolicy().response_due(received) == datetime(2027, 2, 28, 15, 30, tzinfo=UTC)
    assert add_months(datetime(2027, 12, 31, tzinfo=UTC), 2) == datetime(2028, 2, 29, tzinfo=UTC)


def test_acknowledgement_is_due_ten_days_after_receipt() -> None:
    received = datetime(2026, 11, 23, 9, 0, tzinfo=UTC)
    assert ComplaintPolicy().acknowledgement_due(received) == received + timedelta(days=10)


@pytest.mark.parametrize(
    ("text", "span"),
    [
        ("10 days", Span(delta=timedelta(days=10))),
        ("2 months", Span(months=2)),
        ("3 seconds", Span(delta=timedelta(seconds=3))),
        ("1 week", Span(delta=timedelta(weeks=1))),
    ],
)
def test_spans_read_as_people_write_them(text: str, span: Span) -> None:
    assert Span.model_validate(text) == span


def test_a_duration_that_cannot_be_read_says_how_to_write_one() -> None:
    with pytest.raises(ValidationError, match=re.escape("write e.g. '10 days'")):
        Span.model_validate("soon")
