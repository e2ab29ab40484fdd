"""Compensation: exactly once in effect, by its key in the register's ledger."""

from datetime import datetime

import asyncpg
from pydantic import BaseModel
from temporalio import activity

from complaints import journal
from complaints.operator_commands import Compensation


class CompensationGrant(BaseModel):
    reference: str
    key: str
    compensation: Compensation
    proposed_by: str
    approved_by: str | None = None


class CompensationActivities:
    def __init__(self, pool: asyncpg.Pool, currency: str) -> None:
        self._pool = pool
        self._currency = currency

    @activity.defn
    async def grant_compensation(self, grant: CompensationGrant) -> datetime:
        """Enter the compensation in the ledger (once per key); returns when it was granted."""
        given = grant.compensation
        async with self._pool.acquire() as conn, conn.transaction():
            await conn.execute(
                """INSERT INTO compensations (key, complaint_reference, kind, amount, currency,
                                              description, proposed_by, approved_by)
                   VALUES ($1, $2, $3, $4, $5, $6, $7, $8) ON CONFLICT (key) DO NOTHING""",
                grant.key,
                grant.reference,
                given.kind.value,
                given.amount,
                self._currency,
                given.description,
                grant.proposed_by,
                grant.approved_by,
            )
            await journal.append(
                conn,
                grant.reference,
                "compensation_granted",
                grant.approved_by or grant.proposed_by,
                {"kind": given.kind.value, "amount": given.amount, "currency": self._currency},
                step_key=grant.key,
                visible_to_customer=True,
            )
            return await conn.fetchval("SELECT granted_at FROM compensations WHERE key = $1", grant.key)
