import json
import re
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from pydantic import ValidationError

from complaints.policy import ComplaintPolicy, Span, add_months
from complaints.settings import Settings


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


# --- a policy carried by a run started before the regimes -----------------------------

BEFORE = json.loads((Path(__file__).parent / "fixtures" / "policy_before_regimes.json").read_text(encoding="utf-8"))


@pytest.mark.parametrize("carried", ["policy", "settings_policy"])
def test_a_policy_from_before_the_regimes_gives_the_very_same_dates(carried: str) -> None:
    policy = ComplaintPolicy.model_validate_json(json.dumps(BEFORE[carried]))
    for case in BEFORE["dates"]:
        received = datetime.fromisoformat(case["received_at"])
        acknowledged = received + timedelta(hours=5)
        assert policy.acknowledgement_due(received).isoformat() == case["acknowledgement_due"]
        assert policy.response_due(received).isoformat() == case["response_due"]
        assert policy.regulatory_due("general", None, received).isoformat() == case["response_due"]
        assert policy.acknowledgement_due_for("general", received, received).isoformat() == case["acknowledgement_due"]
        for priority, due in case["by_priority"].items():
            assert policy.assessment_due(priority, acknowledged).isoformat() == due["assessment_due"]
            assert (
                policy.priority_response_due(priority, acknowledged, received).isoformat()
                == due["priority_response_due"]
            )
    assert policy.default_regime == "general"
    # Serialized again, it is what it was plus the new fields and their defaults.
    assert _without_new_fields(json.loads(policy.model_dump_json())) == BEFORE[carried]


NEW_FIELDS = {"calendar", "regimes", "regime_rules", "default_regime", "mediation_window", "days", "counting", "review"}


def _without_new_fields(value: object) -> object:
    if isinstance(value, dict):
        return {key: _without_new_fields(item) for key, item in value.items() if key not in NEW_FIELDS}
    return value


def test_todays_settings_give_todays_policy(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("COMPLAINTS_ACK_DEADLINE", "5 days")
    monkeypatch.setenv("COMPLAINTS_RESPONSE_DEADLINE", "1 month")
    monkeypatch.setenv("COMPLAINTS_PRIORITY_DEADLINES", '{"P1": {"assessment": "2 hours", "response": "3 days"}}')
    policy = Settings(_env_file=None).complaint_policy
    received = datetime(2026, 11, 30, 23, 30, tzinfo=UTC)
    assert policy.acknowledgement_due(received) == received + timedelta(days=5)
    # 1 December 00:30 in Paris + 1 month: 1 January 00:30 there (months are added in COMPLAINTS_TIMEZONE).
    assert policy.response_due(received) == datetime(2026, 12, 31, 23, 30, tzinfo=UTC)
    assert policy.assessment_due("P1", received) == received + timedelta(hours=2)
    assert policy.regime().answer.span == Span(months=1)
