"""Letters the workflow emails to the complainant. Content is read from the
register, never from workflow history.

A letter the complainant's mail server refuses for good (a 5xx reply) is kept
as refused on its outbox row and fails its activity with a non-retryable
ApplicationError of type `EmailRefused` (activities.outbox.EMAIL_REFUSED): the
workflow journals it and sends the letter by post instead."""

from datetime import datetime
from typing import Any

import asyncpg
from pydantic import BaseModel, Field
from temporalio import activity

from activities.outbox import EmailingActivities
from complaints import journal

# What the acknowledgement echoes of the complainant's own words (anyone can set
# the recipient, so the organisation's mail must not relay a long text).
ECHO_MAX = 300
NAME_MAX = 100


class AcknowledgementEmail(BaseModel):
    reference: str
    response_due_at: datetime


class CustomerEmail(BaseModel):
    """A templated email to the complainant, sent once per `step_key`."""

    reference: str
    template: str
    step_key: str
    values: dict[str, Any] = Field(default_factory=dict)
    # By post although the register has an address (the address refused mail for good).
    by_post: bool = False


class MailActivities(EmailingActivities):
    @activity.defn
    async def send_acknowledgement(self, request: AcknowledgementEmail) -> datetime:
        """Email the acknowledgement; returns when it was sent."""
        complaint = await self._complaint(request.reference)
        documents = await self._pool.fetch(
            "SELECT filename FROM documents WHERE complaint_reference = $1 ORDER BY id",
            request.reference,
        )
        sent_at = await self._to_complainant(
            complaint,
            CustomerEmail(
                reference=request.reference,
                template="acknowledgement",
                step_key=f"{request.reference}:acknowledgement",
                values={
                    "name": _excerpt(complaint["complainant_name"], NAME_MAX),
                    "subject": _excerpt(complaint["subject"], ECHO_MAX),
                    "desired_resolution": _excerpt(complaint["desired_resolution"] or "", ECHO_MAX) or None,
                    "description_excerpt": _excerpt(complaint["description"], ECHO_MAX),
                    "documents": [_excerpt(row["filename"], NAME_MAX) for row in documents[:20]],
                    "response_due_at": request.response_due_at,
                },
            ),
            daily_limit=self._settings.acknowledgements_per_address_per_day,
        )
        assert sent_at is not None  # the workflow emails only complainants who have an address
        return sent_at

    @activity.defn
    async def send_customer_email(self, email: CustomerEmail) -> datetime | None:
        """Send a letter to the complainant by email, once; None when they
        have no email address (the letter goes by post, journaled as such)."""
        complaint = await self._complaint(email.reference)
        return await self._to_complainant(complaint, email)

    async def _to_complainant(
        self, complaint: asyncpg.Record, email: CustomerEmail, daily_limit: int | None = None
    ) -> datetime | None:
        from complaints.links import status_link

        values = {
            "reference": email.reference,
            "name": complaint["complainant_name"],
            "received_at": complaint["received_at"],
            "subject": complaint["subject"],
            "product": complaint["product"],
            "desired_resolution": complaint["desired_resolution"],
            "mediator_name": self._settings.mediator_name,
            "mediator_contact": self._settings.mediator_contact,
            "currency": self._settings.currency,
            # every letter carries the signed link to the complaint's status page
            "status_link": status_link(self._settings, email.reference),
        }
        subject, body = self._letters.render(email.template, **{**values, **email.values})
        recipient = None if email.by_post else complaint["complainant_email"]
        sent_at = None
        if recipient:
            sent_at = await self._outbox.send_once(  # EmailRefused when refused for good
                key=email.step_key,
                reference=email.reference,
                kind=email.template,
                recipient=recipient,
                subject=subject,
                body=body,
                daily_limit=daily_limit,
            )
        async with self._pool.acquire() as conn:
            await journal.append(
                conn,
                email.reference,
                f"{email.template}_{'emailed' if recipient else 'to_post'}",
                "system",
                {"subject": subject, "sent_at": sent_at},
                step_key=f"{email.step_key}:sent",
                visible_to_customer=True,
            )
        return sent_at

    async def _complaint(self, reference: str) -> asyncpg.Record:
        row = await self._pool.fetchrow("SELECT * FROM complaints WHERE reference = $1", reference)
        if row is None:
            raise LookupError(f"complaint {reference} is not in the register")
        return row


def _excerpt(text: str, limit: int) -> str:
    if len(text) <= limit:
        return text
    return text[:limit].rsplit(" ", 1)[0] + " […]"
