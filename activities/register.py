"""Register writes made on the workflow's behalf; each is keyed by its step,
so a retried activity changes nothing twice."""

import asyncpg
from temporalio import activity

from complaints import journal
from complaints.lifecycle import Acknowledgement, DeadlineBreach, IntakeFacts, IntakeRecord

SYSTEM = "system"


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
                          response_due_at = $4, updated_at = now()
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
            )

    @activity.defn
    async def record_breach(self, breach: DeadlineBreach) -> None:
        key = f"{breach.reference}:{breach.deadline}:breach"
        async with self._pool.acquire() as conn, conn.transaction():
            await conn.execute(
                """INSERT INTO alerts (key, complaint_reference, deadline, kind, due_at)
                   VALUES ($1, $2, $3, 'breach', $4) ON CONFLICT (key) DO NOTHING""",
                key,
                breach.reference,
                breach.deadline,
                breach.due_at,
            )
            await conn.execute(
                "UPDATE complaints SET sla_status = 'breached', updated_at = now() WHERE reference = $1",
                breach.reference,
            )
            await journal.append(
                conn,
                breach.reference,
                f"{breach.deadline}_deadline_breached",
                SYSTEM,
                {"due_at": breach.due_at},
                step_key=key,
            )
