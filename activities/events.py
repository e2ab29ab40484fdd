"""Events out and automation rules: what the event dispatcher does to the world.

`plan_events` reads the journal past the dispatcher's watermark and decides,
for each step, which subscribers receive its CloudEvent and which rules'
actions it calls for; the decision is the activity's result, kept in the
dispatcher's history, so a rule or subscriber changed later does not change a
replay. Journal ids are handed out before their transaction commits: a batch
stops before a missing id until the entry after it is EVENT_GAP_GRACE old (a
transaction still open may yet commit it; a rolled-back one never will).

`deliver_event` POSTs one event, signed as the alert webhook is (activities.alerts.sign);
a 4xx other than 408/429 is a refusal for good (not retried: dead-lettered at
once). Each rule action is done once, keyed by (rule, journal entry): an email
through the outbox, a command as a workflow update whose id derives from the key
and whose operator is named after the rule (it journals the step), a checklist
item in the register under that key. A rule calling a subscriber adds the step
to that subscriber's deliveries in the plan itself (in journal order with its
other events, once even when it chose that type too)."""

import json
import time
from collections import defaultdict
from datetime import UTC, datetime, timedelta
from typing import Any

import asyncpg
import httpx
from pydantic import BaseModel
from temporalio import activity
from temporalio.client import Client, WorkflowUpdateFailedError
from temporalio.exceptions import ApplicationError
from temporalio.service import RPCError, RPCStatusCode

from activities.alerts import SIGNATURE_HEADER, TIMESTAMP_HEADER, refused_for_good, sign
from activities.outbox import Outbox
from complaints import automation_rules, checklists, journal
from complaints.automation_rules import (
    ACTIONS,
    AddChecklistItem,
    AddNote,
    Assign,
    CallSubscriber,
    EmailTeam,
    RaisePriority,
)
from complaints.cloud_events import JournalEntry, cloud_event, event_type, wanted
from complaints.operator_commands import Assignment, ConfirmAssessment, InternalNote, Operator, Role

EVENT_GAP_GRACE = timedelta(seconds=5)
EVENT_REFUSED = "EventRefused"  # a subscriber's refusal for good: not retried
CONTENT_TYPE = "application/cloudevents+json"


# A dispatcher's first run starts from the journal as it is, or from where a
# subscriber added before it started asked to be sent the steps.
_FIRST_WATERMARK = """SELECT least(coalesce((SELECT max(id) FROM journal), 0),
                                 (SELECT min(after_journal_id) FROM subscribers WHERE active))"""


class PlanRequest(BaseModel):
    dispatcher: str
    source: str
    watermark: int | None  # None: where the register says the dispatcher stopped
    batch: int = 100


class Delivery(BaseModel):
    subscriber_id: int
    journal_id: int
    reference: str
    event: dict[str, Any]
    dead_letter_id: int | None = None  # a dead letter delivered again


class RuleAction(BaseModel):
    rule_id: int
    rule_name: str
    rule_version: int | None = None  # the rule's version planned (None in plans made before 0027)
    journal_id: int
    reference: str
    index: int  # the action's place in the rule
    action: dict[str, Any]


class EventPlan(BaseModel):
    watermark: int
    deliveries: list[Delivery]
    actions: list[RuleAction]


class DeadLetter(BaseModel):
    delivery: Delivery
    error: str


class EventActivities:
    def __init__(self, pool: asyncpg.Pool, client: Client, outbox: Outbox) -> None:
        self._pool = pool
        self._client = client
        self._outbox = outbox

    @activity.defn
    async def plan_events(self, request: PlanRequest) -> EventPlan:
        """The next steps past the watermark, with whom each goes to and what
        rules it calls for; records the watermark given (the steps before it
        are handled) so that a new run starts from there."""
        async with self._pool.acquire() as conn, conn.transaction():
            watermark = await self._watermark(conn, request)
            entries = _contiguous(await _entries(conn, watermark, request.batch), watermark, datetime.now(UTC))
            actions = await _rule_actions(conn, entries)
            deliveries = await _redeliveries(conn) + await _deliveries(conn, entries, request.source, _called(actions))
        return EventPlan(watermark=entries[-1].id if entries else watermark, deliveries=deliveries, actions=actions)

    async def _watermark(self, conn: asyncpg.Connection, request: PlanRequest) -> int:
        if request.watermark is None:
            found = await conn.fetchval(
                "SELECT watermark FROM event_dispatch_state WHERE dispatcher = $1", request.dispatcher
            )
            if found is not None:
                return int(found)
            request = request.model_copy(update={"watermark": await conn.fetchval(_FIRST_WATERMARK)})
        await conn.execute(
            """INSERT INTO event_dispatch_state (dispatcher, watermark) VALUES ($1, $2)
               ON CONFLICT (dispatcher) DO UPDATE SET watermark = excluded.watermark, updated_at = now()""",
            request.dispatcher,
            request.watermark,
        )
        return int(request.watermark or 0)

    @activity.defn
    async def deliver_event(self, delivery: Delivery) -> None:
        """POST the event to its subscriber, signed; nothing when the subscriber was removed."""
        row = await self._pool.fetchrow(
            "SELECT url, secret FROM subscribers WHERE id = $1 AND active", delivery.subscriber_id
        )
        if row is None:
            return
        body = json.dumps(delivery.event).encode()
        timestamp = str(int(time.time()))
        headers = {
            "Content-Type": CONTENT_TYPE,
            "Idempotency-Key": delivery.event["id"],
            TIMESTAMP_HEADER: timestamp,
            SIGNATURE_HEADER: sign(row["secret"], timestamp, body),
        }
        try:
            async with httpx.AsyncClient(timeout=10) as http:
                (await http.post(row["url"], content=body, headers=headers)).raise_for_status()
        except httpx.HTTPError as error:
            reason = refused_for_good(error)
            if reason is not None:
                raise ApplicationError(reason, type=EVENT_REFUSED, non_retryable=True) from None
            raise ApplicationError(f"the subscriber could not take the event ({type(error).__name__})") from None

    @activity.defn
    async def record_dead_letter(self, dead: DeadLetter) -> None:
        """Keep an event its subscriber did not take, for "deliver again"."""
        delivery = dead.delivery
        if delivery.dead_letter_id is not None:
            await self._pool.execute(
                "UPDATE dead_letters SET status = 'dead', error = $2, failed_at = now() WHERE id = $1",
                delivery.dead_letter_id,
                dead.error[:500],
            )
            return
        await self._pool.execute(
            """INSERT INTO dead_letters (subscriber_id, event_id, journal_id, reference, event_type, event, error)
               VALUES ($1, $2, $3, $4, $5, $6::jsonb, $7) ON CONFLICT (subscriber_id, event_id) DO NOTHING""",
            delivery.subscriber_id,
            delivery.event["id"],
            delivery.journal_id,
            delivery.reference,
            delivery.event["type"],
            json.dumps(delivery.event),
            dead.error[:500],
        )

    @activity.defn
    async def settle_dead_letter(self, dead_letter_id: int) -> None:
        await self._pool.execute(
            "UPDATE dead_letters SET status = 'delivered', delivered_at = now() WHERE id = $1", dead_letter_id
        )

    @activity.defn
    async def carry_out_rule_action(self, planned: RuleAction) -> None:
        """Do the action once; a command the complaint refuses now is journaled, not retried."""
        [action] = ACTIONS.validate_python([planned.action])
        key = f"rule:{planned.rule_id}:{planned.journal_id}:{planned.index}"
        by = Operator(name=automation_rules.actor(planned.rule_name), role=Role.HANDLER)
        if isinstance(action, EmailTeam):
            await self._email(planned, action, key)
            return
        if isinstance(action, AddChecklistItem):
            try:
                await checklists.add(self._pool, planned.reference, action.text, by.name, key)
            except checklists.ChecklistRefused as refused:
                await self._refused(planned, action.kind, key, str(refused))
            return
        if isinstance(action, CallSubscriber):
            await self._called(planned, action, key)
            return
        if isinstance(action, RaisePriority) and not await self._would_raise(planned.reference, action):
            return  # already at that priority or above: a rule raises, never lowers
        update, argument = _command(action, by)
        try:
            await self._client.get_workflow_handle(planned.reference).execute_update(update, argument, id=key)
        except WorkflowUpdateFailedError as error:
            await self._refused(planned, action.kind, key, str(error.cause or error))
        except RPCError as error:
            started = await self._pool.fetchval(
                "SELECT workflow_started_at FROM complaints WHERE reference = $1", planned.reference
            )
            if error.status != RPCStatusCode.NOT_FOUND or started is None:
                raise  # the service down, or the run not started yet: retried
            await self._refused(planned, action.kind, key, "the complaint's run is over")

    async def _refused(self, planned: RuleAction, kind: str, key: str, reason: str) -> None:
        """A command the complaint does not take now: journaled, not retried."""
        async with self._pool.acquire() as conn:
            await journal.append(
                conn,
                planned.reference,
                "rule_action_refused",
                automation_rules.actor(planned.rule_name),
                {**_rule(planned), "action": kind, "reason": reason[:500]},
                step_key=key,
            )

    async def _called(self, planned: RuleAction, action: CallSubscriber, key: str) -> None:
        """Journal the call: the plan put the event in the subscriber's deliveries
        (none when it was not active then: refused)."""
        active = await self._pool.fetchval("SELECT active FROM subscribers WHERE name = $1", action.subscriber)
        if not active:
            await self._refused(planned, action.kind, key, f"no active subscriber {action.subscriber}")
            return
        async with self._pool.acquire() as conn:
            await journal.append(
                conn,
                planned.reference,
                "rule_called_subscriber",
                automation_rules.actor(planned.rule_name),
                {**_rule(planned), "subscriber": action.subscriber},
                step_key=key,
            )

    async def _would_raise(self, reference: str, action: RaisePriority) -> bool:
        current = await self._pool.fetchval("SELECT priority FROM complaints WHERE reference = $1", reference)
        return current is None or action.priority.value < current  # "P1" < "P2": P1 is the higher

    async def _email(self, planned: RuleAction, action: EmailTeam, key: str) -> None:
        row = await self._pool.fetchrow(
            "SELECT subject, priority, category, product FROM complaints WHERE reference = $1", planned.reference
        )
        subject = f"[{planned.reference}] Règle « {planned.rule_name} » : {row['subject'] if row else ''}"
        body = (
            f"La règle « {planned.rule_name} » s'applique à la réclamation {planned.reference}.\n"
            f"Priorité : {row['priority'] or '—'} ; catégorie : {row['category'] or '—'} ; "
            f"produit : {row['product'] or '—'}.\n"
            if row
            else f"La règle « {planned.rule_name} » s'applique à la réclamation {planned.reference}.\n"
        )
        await self._outbox.send_once(
            key=key, reference=planned.reference, kind="rule", recipient=action.to, subject=subject, body=body
        )
        async with self._pool.acquire() as conn:
            await journal.append(
                conn,
                planned.reference,
                "rule_emailed",
                automation_rules.actor(planned.rule_name),
                {**_rule(planned), "to": action.to},
                step_key=key,
            )


def _rule(planned: RuleAction) -> dict[str, int]:
    """The journaled details naming the rule (and the version of it that was planned)."""
    return {"rule_id": planned.rule_id} | ({"rule_version": planned.rule_version} if planned.rule_version else {})


def _command(action: Assign | AddNote | RaisePriority, by: Operator) -> tuple[str, Any]:
    """The complaint workflow's update (by name: activities import no workflow) and its command."""
    if isinstance(action, Assign):
        return "assign", Assignment(by=by, handler=action.handler, team=action.team)
    if isinstance(action, AddNote):
        return "add_note", InternalNote(by=by, text=action.text)
    return "confirm_assessment", ConfirmAssessment(
        by=by, priority=action.priority, reason=f"priorité relevée par la {by.name}"
    )


async def _entries(conn: asyncpg.Connection, watermark: int, batch: int) -> list[JournalEntry]:
    rows = await conn.fetch(
        """SELECT id, complaint_reference, event, actor, occurred_at, details FROM journal
            WHERE id > $1 ORDER BY id LIMIT $2""",
        watermark,
        batch,
    )
    return [
        JournalEntry(
            id=row["id"],
            reference=row["complaint_reference"],
            event=row["event"],
            actor=row["actor"],
            occurred_at=row["occurred_at"],
            details=json.loads(row["details"]),
        )
        for row in rows
    ]


def _contiguous(entries: list[JournalEntry], watermark: int, now: datetime) -> list[JournalEntry]:
    """The entries up to the first missing id that may still be committed."""
    kept: list[JournalEntry] = []
    expected = watermark + 1
    for entry in entries:
        if entry.id != expected and now - entry.occurred_at < EVENT_GAP_GRACE:
            break
        kept.append(entry)
        expected = entry.id + 1
    return kept


async def _redeliveries(conn: asyncpg.Connection) -> list[Delivery]:
    rows = await conn.fetch(
        """SELECT d.id, d.subscriber_id, d.journal_id, d.reference, d.event FROM dead_letters d
             JOIN subscribers s ON s.id = d.subscriber_id
            WHERE d.status = 'redeliver' AND s.active ORDER BY d.journal_id"""
    )
    return [
        Delivery(
            subscriber_id=row["subscriber_id"],
            journal_id=row["journal_id"],
            reference=row["reference"],
            event=json.loads(row["event"]),
            dead_letter_id=row["id"],
        )
        for row in rows
    ]


def _called(actions: list[RuleAction]) -> set[tuple[int, str]]:
    """(journal entry, subscriber name) of the rules' calls to a subscriber."""
    return {(a.journal_id, a.action["subscriber"]) for a in actions if a.action["kind"] == "call"}


async def _deliveries(
    conn: asyncpg.Connection, entries: list[JournalEntry], source: str, called: set[tuple[int, str]]
) -> list[Delivery]:
    """Each entry to the subscribers that chose its type or that a rule calls with it."""
    if not entries:
        return []
    subscribers = await conn.fetch(
        "SELECT id, name, event_types, personal_data, after_journal_id FROM subscribers WHERE active ORDER BY id"
    )
    return [
        Delivery(
            subscriber_id=sub["id"],
            journal_id=entry.id,
            reference=entry.reference,
            event=cloud_event(entry, source, personal_data=sub["personal_data"]),
        )
        for entry in entries
        for sub in subscribers
        if entry.id > sub["after_journal_id"]
        and (wanted(list(sub["event_types"]), event_type(entry.event)) or (entry.id, sub["name"]) in called)
    ]


async def _rule_actions(conn: asyncpg.Connection, entries: list[JournalEntry]) -> list[RuleAction]:
    rules = await automation_rules.active(conn)
    if not entries or not rules:
        return []
    rows = await conn.fetch(
        """SELECT reference, priority, category, product, regime, channel FROM complaints
            WHERE reference = ANY($1)""",
        list({entry.reference for entry in entries}),
    )
    complaints = {row["reference"]: dict(row) for row in rows}
    return [
        RuleAction(
            rule_id=rule.id,
            rule_name=rule.name,
            rule_version=rule.version,
            journal_id=entry.id,
            reference=entry.reference,
            index=index,
            action=action.model_dump(mode="json"),
        )
        for entry in entries
        for rule in rules
        if automation_rules.matches(rule, entry.event, entry.actor, complaints.get(entry.reference, {}))
        for index, action in enumerate(rule.actions)
    ]


def by_subscriber(deliveries: list[Delivery]) -> dict[int, list[Delivery]]:
    """Each subscriber's deliveries in journal order (redeliveries first)."""
    grouped: dict[int, list[Delivery]] = defaultdict(list)
    for delivery in deliveries:
        grouped[delivery.subscriber_id].append(delivery)
    return dict(grouped)
