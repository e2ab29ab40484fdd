"""Journal entries as CloudEvents 1.0: the event a subscriber receives for
each step. Pure: the dispatcher's activity builds them, the tests read them."""

from datetime import datetime
from typing import Any

from pydantic import BaseModel

SPEC_VERSION = "1.0"
TYPE_PREFIX = "org.complaints."
EVERY_TYPE = "*"

# Journal event names whose CloudEvents type reads better than the name itself;
# every other name maps to its words joined by dots ("customer_replied" →
# org.complaints.customer.replied).
_TYPES = {
    "received": "complaint.received",
    "acknowledged": "complaint.acknowledged",
    "assessed": "assessment.made",
    "assessment_confirmed": "assessment.confirmed",
    "assigned": "complaint.assigned",
    "internal_note": "note.added",
    "decided": "decision.made",
    "responded": "response.sent",
    "closed": "complaint.closed",
}


class JournalEntry(BaseModel):
    """One step as the journal keeps it."""

    id: int
    reference: str
    event: str
    actor: str
    occurred_at: datetime
    details: dict[str, Any]


def event_type(journal_event: str) -> str:
    """The CloudEvents type of a journal event name."""
    return TYPE_PREFIX + _TYPES.get(journal_event, journal_event.replace("_", "."))


def event_id(source: str, entry_id: int) -> str:
    """Stable across every attempt and redelivery: a receiver de-duplicates on it."""
    return f"{source}:journal:{entry_id}"


def cloud_event(entry: JournalEntry, source: str, *, personal_data: bool) -> dict[str, Any]:
    """The CloudEvent of a step. Without personal data, `data` holds only what
    the step is (its journal name, id and when), never its details, which may
    quote the complainant or name them."""
    data: dict[str, Any] = {"journal_id": entry.id, "event": entry.event, "reference": entry.reference}
    if personal_data:
        data |= {"actor": entry.actor, "details": entry.details}
    return {
        "specversion": SPEC_VERSION,
        "id": event_id(source, entry.id),
        "source": source,
        "type": event_type(entry.event),
        "time": entry.occurred_at.isoformat(),
        "subject": entry.reference,
        "datacontenttype": "application/json",
        "data": data,
    }


def wanted(types: list[str], type_: str) -> bool:
    return EVERY_TYPE in types or type_ in types
