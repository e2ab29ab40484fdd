"""Register writes made on the workflow's behalf; each is keyed by its step,
so a retried activity changes nothing twice."""

from datetime import datetime, timedelta
from decimal import Decimal
from typing import Any

import asyncpg
from pydantic import BaseModel, Field
from temporalio import activity

from complaints import journal
from complaints.alerts import DeadlineAlert
from complaints.assessment import Assessment, ComplaintFacts, EarlierComplaint, Priority, assess
from complaints.complaint_status import AckMethod, Phase, SlaStatus
from complaints.customer_signals import SurveyAnswer
from complaints.operator_commands import Outcome, PlannedAction

SYSTEM = "system"


class IntakeRecord(BaseModel):
    reference: str
    ack_due_at: datetime


class IntakeFacts(BaseModel):
    """What the workflow needs to know of the recorded complaint."""

    has_email: bool


class Acknowledgement(BaseModel):
    reference: str
    method: AckMethod
    acknowledged_at: datetime
    response_due_at: datetime
    actor: str


class AssessmentRequest(BaseModel):
    reference: str
    window: timedelta


class ComplaintChanges(BaseModel):
    """Register columns a step sets; None leaves a column as it is."""

    phase: Phase | None = None
    sla_status: SlaStatus | None = None
    escalation_level: int | None = None
    priority: Priority | None = None
    severity: int | None = None
    complexity: int | None = None
    recurring: bool | None = None
    category: str | None = None
    assessment: Assessment | None = None
    assessed_at: datetime | None = None
    assessment_due_at: datetime | None = None
    response_due_at: datetime | None = None
    regulatory_due_at: datetime | None = None
    regime: str | None = None
    handler: str | None = None
    team: str | None = None
    outcome: Outcome | None = None
    responded_at: datetime | None = None
    customer_verdict: str | None = None
    root_cause_category: str | None = None
    closed_at: datetime | None = None
    ack_deadline_met: bool | None = None
    assessment_deadline_met: bool | None = None
    response_deadline_met: bool | None = None
    compensation_total: Decimal | None = None
    sent_at: datetime | None = None  # a merge: the survivor takes the earlier sending date
    ack_due_at: datetime | None = None
    merged_into: str | None = None  # closed as merged into this complaint


class RegisterEntry(BaseModel):
    """One step of a complaint: journaled once (by `step_key`), with the
    register columns it changes."""

    reference: str
    event: str
    actor: str
    step_key: str
    details: dict[str, Any] = Field(default_factory=dict)
    changes: ComplaintChanges = Field(default_factory=ComplaintChanges)
    visible_to_customer: bool = False


class ActionRecord(BaseModel):
    reference: str
    step_key: str
    action: PlannedAction


class SurveyRecord(BaseModel):
    reference: str
    answer: SurveyAnswer


class RegisterActivities:
    def __init__(self, pool: asyncpg.Pool) -> None:
        self._pool = pool

    @activity.defn
    async def record_intake(self, intake: IntakeRecord) -> IntakeFacts:
        async with self._pool.acquire() as conn, conn.transaction():
            row = await conn.fetchrow(
                """UPDATE complaints
                      SET phase = CASE WHEN phase = 'received' THEN 'intake' ELSE phase END,
                          ack_due_at = $2,
                          intake_recorded_at = coalesce(intake_recorded_at, now()),
                          updated_at = now()
                    WHERE reference = $1
                RETURNING complainant_email""",
                intake.reference,
                intake.ack_due_at,
            )
            if row is None:
                raise LookupError(f"complaint {intake.reference} is not in the register")
            await journal.append(
                conn,
                intake.reference,
                "intake_recorded",
                SYSTEM,
                {"ack_due_at": intake.ack_due_at},
                step_key=f"{intake.reference}:intake",
            )
        return IntakeFacts(has_email=row["complainant_email"] is not None)

    @activity.defn
    async def record_acknowledgement(self, ack: Acknowledgement) -> None:
        async with self._pool.acquire() as conn, conn.transaction():
            await conn.execute(
                """UPDATE complaints
                      SET phase = 'acknowledged', acknowledged_at = $2, ack_method = $3,
                          response_due_at = $4, regulatory_due_at = $4,
                          ack_deadline_met = $2 <= ack_due_at, updated_at = now()
                    WHERE reference = $1 AND acknowledged_at IS NULL""",
                ack.reference,
                ack.acknowledged_at,
                ack.method,
                ack.response_due_at,
            )
            await journal.append(
                conn,
                ack.reference,
                "acknowledged",
                ack.actor,
                {"method": ack.method, "at": ack.acknowledged_at, "response_due_at": ack.response_due_at},
                step_key=f"{ack.reference}:acknowledged",
                visible_to_customer=True,
            )

    @activity.defn
    async def assess_complaint(self, request: AssessmentRequest) -> Assessment:
        """Score the complaint against the complainant's history in the register."""
        row = await self._pool.fetchrow(
            """SELECT c.*, (SELECT count(*) FROM documents d WHERE d.complaint_reference = c.reference)
                          AS document_count
                 FROM complaints c WHERE reference = $1""",
            request.reference,
        )
        history = await self._pool.fetch(
            """SELECT reference, received_at, product, subject FROM complaints
                WHERE reference <> $1 AND received_at < $2 AND received_at >= $2 - $5::interval
                  AND ((lower(complainant_email) = lower($3) AND $3 IS NOT NULL)
                       OR (customer_id = $4 AND $4 IS NOT NULL))
                ORDER BY received_at""",
            request.reference,
            row["received_at"],
            row["complainant_email"],
            row["customer_id"],
            request.window,
        )
        facts = ComplaintFacts(
            reference=row["reference"],
            received_at=row["received_at"],
            channel=row["channel"],
            subject=row["subject"],
            description=row["description"],
            desired_resolution=row["desired_resolution"],
            product=row["product"],
            persons_concerned=row["persons_concerned"],
            document_count=row["document_count"],
        )
        earlier = [EarlierComplaint(**dict(h)) for h in history]
        return assess(facts, earlier, window=request.window)

    @activity.defn
    async def record(self, entry: RegisterEntry) -> None:
        """Journal a step and apply the register changes it makes, once."""
        changes = entry.changes.model_dump(exclude_none=True)
        assessment = changes.pop("assessment", None)
        columns = list(changes) + (["assessment"] if assessment is not None else [])
        values = list(changes.values())
        if assessment is not None:
            values.append(entry.changes.assessment.model_dump_json())  # type: ignore[union-attr]
        assignments = ", ".join(
            f"{column} = ${i}" + ("::jsonb" if column == "assessment" else "")
            for i, column in enumerate(columns, start=2)
        )
        async with self._pool.acquire() as conn, conn.transaction():
            done = await conn.fetchval("SELECT 1 FROM journal WHERE step_key = $1", entry.step_key)
            if done:
                return  # a retry: the step is in the register already
            if columns:
                await conn.execute(
                    f"UPDATE complaints SET {assignments}, updated_at = now() WHERE reference = $1",
                    entry.reference,
                    *values,
                )
            await journal.append(
                conn,
                entry.reference,
                entry.event,
                entry.actor,
                entry.details,
                step_key=entry.step_key,
                visible_to_customer=entry.visible_to_customer,
            )

    @activity.defn
    async def record_alert(self, alert: DeadlineAlert) -> None:
        async with self._pool.acquire() as conn, conn.transaction():
            await conn.execute(
                """INSERT INTO alerts (key, complaint_reference, deadline, kind, due_at, generation)
                   VALUES ($1, $2, $3, $4, $5, $6) ON CONFLICT (key) DO NOTHING""",
                alert.key,
                alert.reference,
                alert.deadline,
                alert.kind,
                alert.due_at,
                alert.generation,
            )
            status = "breached" if alert.kind == "breach" else "warning"
            await conn.execute(
                # a warning of one deadline never hides another's breach
                """UPDATE complaints SET sla_status = CASE WHEN sla_status = 'breached' THEN sla_status ELSE $2 END,
                          escalation_level = escalation_level + CASE WHEN $2 = 'breached' THEN 1 ELSE 0 END,
                          updated_at = now()
                    WHERE reference = $1
                      AND NOT EXISTS (SELECT 1 FROM journal WHERE step_key = $3)""",
                alert.reference,
                status,
                alert.key,
            )
            await journal.append(
                conn,
                alert.reference,
                f"{alert.deadline}_deadline_{'breached' if alert.kind == 'breach' else 'warning'}",
                SYSTEM,
                {"due_at": alert.due_at, "generation": alert.generation},
                step_key=alert.key,
            )

    @activity.defn
    async def record_action(self, record: ActionRecord) -> None:
        action = record.action
        async with self._pool.acquire() as conn, conn.transaction():
            await conn.execute(
                """INSERT INTO actions (step_key, complaint_reference, kind, description, owner, due_on,
                                        root_cause_category, root_cause_analysis, created_by)
                   VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9) ON CONFLICT (step_key) DO NOTHING""",
                record.step_key,
                record.reference,
                action.kind,
                action.description,
                action.owner,
                action.due_on,
                action.root_cause.category if action.root_cause else None,
                action.root_cause.analysis if action.root_cause else None,
                action.by.name,
            )
            if action.root_cause:
                await conn.execute(
                    "UPDATE complaints SET root_cause_category = $2 WHERE reference = $1",
                    record.reference,
                    action.root_cause.category,
                )
            await journal.append(
                conn,
                record.reference,
                f"{action.kind}_action_planned",
                action.by.name,
                {"owner": action.owner, "due_on": action.due_on, "root_cause": bool(action.root_cause)},
                step_key=record.step_key,
            )

    @activity.defn
    async def record_survey(self, record: SurveyRecord) -> None:
        answer = record.answer
        async with self._pool.acquire() as conn, conn.transaction():
            await conn.execute(
                """INSERT INTO surveys (complaint_reference, csat, ces, nps, comment,
                                     problem_score, actions_score, relationship_score)
                   VALUES ($1, $2, $3, $4, $5, $6, $7, $8) ON CONFLICT (complaint_reference) DO NOTHING""",
                record.reference,
                answer.csat,
                answer.ces,
                answer.nps,
                answer.comment,
                answer.problem,
                answer.actions,
                answer.relationship,
            )
            await journal.append(
                conn,
                record.reference,
                "survey_answered",
                "complainant",
                answer.model_dump(
                    include={"csat", "ces", "nps", "problem", "actions", "relationship"}, exclude_none=True
                ),
                step_key=f"{record.reference}:survey",
                visible_to_customer=True,
            )
