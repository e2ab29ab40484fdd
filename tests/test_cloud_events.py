"""The pure parts of events out: a journal step as a CloudEvent (its stable id,
its type, personal data only when allowed), which event types a subscriber
chose, the journal read up to a missing id still in flight, and the rules'
matching (never on a step a rule caused)."""

from datetime import UTC, datetime, timedelta

import pydantic
import pytest

from activities.events import EVENT_GAP_GRACE, _contiguous
from complaints.automation_rules import NewRule, Rule, actor, matches
from complaints.cloud_events import JournalEntry, cloud_event, event_type, wanted
from complaints.subscribers import NewSubscriber

NOW = datetime(2026, 3, 2, 10, 0, tzinfo=UTC)


def entry(id_: int, age: timedelta = timedelta(seconds=1), event: str = "decided") -> JournalEntry:
    return JournalEntry(
        id=id_,
        reference="REC-2026-000001",
        event=event,
        actor="Alice",
        occurred_at=NOW - age,
        details={"justification": "Jeanne Martin a raison"},
    )


def test_a_step_is_a_cloud_event_with_a_stable_id_and_no_personal_data_by_default() -> None:
    event = cloud_event(entry(42), "urn:complaints", personal_data=False)
    assert event == cloud_event(entry(42), "urn:complaints", personal_data=False)
    assert event["id"] == "urn:complaints:journal:42" and event["type"] == "org.complaints.decision.made"
    assert event["specversion"] == "1.0" and event["subject"] == "REC-2026-000001"
    assert "Jeanne" not in str(event) and "Alice" not in str(event)
    allowed = cloud_event(entry(42), "urn:complaints", personal_data=True)
    assert allowed["data"]["details"] == {"justification": "Jeanne Martin a raison"}


def test_event_types_and_a_subscriber_s_choice() -> None:
    assert event_type("customer_replied") == "org.complaints.customer.replied"
    assert event_type("assessed") == "org.complaints.assessment.made"
    assert wanted(["*"], "org.complaints.x") and not wanted(["org.complaints.a"], "org.complaints.b")
    with pytest.raises(pydantic.ValidationError):
        NewSubscriber(name="x", url="https://x.example", event_types=["decision.made"])
    with pytest.raises(pydantic.ValidationError):
        NewSubscriber.model_validate({"name": "x", "url": "ftp://x.example"})


def test_the_journal_is_read_up_to_a_missing_id_that_may_still_commit() -> None:
    young, old = timedelta(seconds=1), EVENT_GAP_GRACE + timedelta(seconds=1)
    assert [e.id for e in _contiguous([entry(11), entry(12), entry(14, young)], 10, NOW)] == [11, 12]
    assert [e.id for e in _contiguous([entry(11), entry(14, old), entry(15)], 10, NOW)] == [11, 14, 15]
    assert _contiguous([entry(12, young)], 10, NOW) == []


def test_a_rule_matches_its_step_and_conditions_never_a_step_a_rule_caused() -> None:
    rule = Rule(
        id=1,
        **NewRule.model_validate(
            {
                "name": "Qualité",
                "event": "assessed",
                "conditions": {"category": "safety", "priority": "P1"},
                "actions": [{"kind": "email", "to": "qualite@example.org"}],
            }
        ).model_dump(),
    )
    safety = {"category": "safety", "priority": "P1", "channel": "phone"}
    assert matches(rule, "assessed", "system", safety)
    assert not matches(rule, "assessed", "system", {**safety, "priority": "P2"})
    assert not matches(rule, "decided", "system", safety)
    assert not matches(rule, "assessed", actor("Autre"), safety)
    with pytest.raises(pydantic.ValidationError):
        NewRule.model_validate({"name": "x", "event": "assessed", "actions": []})
