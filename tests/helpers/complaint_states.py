"""Complaint states, deadlines and operators for unit tests of the workflow's
pure parts (rules, deadlines, entries): no server, no database."""

from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any

from complaints.assessment import Priority
from complaints.complaint_status import Deadline, DecisionRecord, Phase
from complaints.operator_commands import Compensation, Operator, Outcome
from complaints.policy import ComplaintPolicy, Mediator
from complaints.submission import Channel
from complaints.workflow_state import ComplaintStart, ComplaintState

RECEIVED = datetime(2026, 11, 2, 9, 0, tzinfo=UTC)
ACKNOWLEDGED = RECEIVED + timedelta(hours=2)
MEDIATOR = Mediator(name="Médiateur de la consommation", contact="https://www.economie.gouv.fr/mediation-conso")
POLICY = ComplaintPolicy(mediator=MEDIATOR)
ALICE = Operator(name="Alice", role="handler")
BRUNO = Operator(name="Bruno", role="handler")
CHLOE = Operator(name="Chloé", role="manager")
DENIS = Operator(name="Denis", role="manager")
ROOT = Operator(name="Root", role="admin")
ARGUED = "Le transporteur a reconnu avoir endommagé le colis lors de la livraison."


def start(policy: ComplaintPolicy = POLICY) -> ComplaintStart:
    return ComplaintStart(reference="REC-2026-000001", received_at=RECEIVED, channel=Channel("phone"), policy=policy)


def status(phase: Phase = Phase.HANDLING, **changes: Any) -> ComplaintState:
    """A complaint acknowledged and assessed P3, in `phase`."""
    values: dict[str, Any] = {
        "reference": "REC-2026-000001",
        "phase": phase,
        "channel": "phone",
        "received_at": RECEIVED,
        "ack_due_at": RECEIVED + timedelta(days=10),
        "acknowledged_at": ACKNOWLEDGED,
        "ack_method": "email",
        "response_due_at": RECEIVED + timedelta(days=30),
        "regulatory_due_at": RECEIVED + timedelta(days=61),
        "priority": Priority.P3,
    }
    return ComplaintState.model_validate({**values, **changes})


def deadline(name: str = "response", due_in: timedelta = timedelta(days=10), **changes: Any) -> Deadline:
    """A running clock started at acknowledgement, due `due_in` later."""
    values: dict[str, Any] = {"name": name, "started_at": ACKNOWLEDGED, "due_at": ACKNOWLEDGED + due_in}
    return Deadline.model_validate({**values, **changes})


def decision(
    outcome: str = "accepted", amount: str | None = None, by: Operator = ALICE, review: bool = False
) -> DecisionRecord:
    given = Compensation(kind="refund", amount=Decimal(amount), description="remboursement") if amount else None
    return DecisionRecord(
        outcome=Outcome(outcome),
        justification=ARGUED,
        compensation=given,
        decided_by=by.name,
        decided_at=ACKNOWLEDGED + timedelta(days=3),
        review=review,
    )
