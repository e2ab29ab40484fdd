"""Corrective and improvement actions tracked to completion: open, done and
overdue, and whether their root cause recurs after completion.

An action is overdue when it is open and its due day (local time) is over.
Its effect shows as the complaints of its root-cause category received in the
30 days before its completion against those received in the days since (up to
30): a complaint counts once its root cause is recorded (by a root-cause
analysis, or at closure)."""

from datetime import datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import asyncpg

from complaints import journal
from complaints.alerts import DeadlineAlert
from reporting import projection
from reporting.model import ActionItem, ActionRecurrence, Actions, OwnerActions

RECURRENCE_WINDOW = timedelta(days=30)
LISTED_OPEN = 100  # the report lists this many open actions (the counts cover all)
LISTED_DONE = 50

_COLUMNS = (
    "a.id, a.kind, a.description, a.owner, a.due_on, a.status, a.complaint_reference, a.root_cause_category, a.done_at,"
    " a.done_note, a.done_by"
)
# Complaints of the root cause before and after completion (done actions
# only; a duplicate merged into another is not one more): both read the
# projection's (root_cause_category, received_at) index.
_RECURRENCE = """
    (SELECT count(*) FROM {source} c
      WHERE a.status = 'done' AND c.root_cause_category = a.root_cause_category AND c.merged_into IS NULL
        AND c.received_at >= a.done_at - $2::interval AND c.received_at < a.done_at) AS before,
    (SELECT count(*) FROM {source} c
      WHERE a.status = 'done' AND c.root_cause_category = a.root_cause_category AND c.merged_into IS NULL
        AND c.received_at >= a.done_at AND c.received_at < least(a.done_at + $2::interval, $1)) AS after"""


def local_day(moment: datetime, timezone: str) -> Any:
    return moment.astimezone(ZoneInfo(timezone)).date()


def _item(row: asyncpg.Record, as_of: datetime, timezone: str) -> ActionItem:
    recurrence = None
    if row["status"] == "done" and row["root_cause_category"]:
        observed = min(row["done_at"] + RECURRENCE_WINDOW, max(as_of, row["done_at"])) - row["done_at"]
        recurrence = ActionRecurrence(
            before=row["before"], after=row["after"], after_days=observed.total_seconds() / 86400
        )
    return ActionItem(
        id=row["id"],
        kind=row["kind"],
        description=row["description"],
        owner=row["owner"],
        due_on=row["due_on"],
        status=row["status"],
        complaint_reference=row["complaint_reference"],
        root_cause_category=row["root_cause_category"],
        done_at=row["done_at"],
        done_note=row["done_note"],
        done_by=row["done_by"],
        overdue=row["status"] == "open" and row["due_on"] < local_day(as_of, timezone),
        recurrence=recurrence,
    )


async def _fetch_items(
    conn: asyncpg.Connection, where: str, order: str, limit: int | None, as_of: datetime, timezone: str, *args: Any
) -> list[ActionItem]:
    """Actions matching `where` (its parameters from $3), with their recurrence."""
    recurrence = _RECURRENCE.format(source=await projection.reading_source(conn))
    rows = await conn.fetch(
        f"""SELECT a.*, {recurrence}
              FROM (SELECT {_COLUMNS} FROM actions a
                     WHERE {where} ORDER BY {order} {"LIMIT " + str(limit) if limit else ""}) a
             ORDER BY {order}""",
        as_of,
        RECURRENCE_WINDOW,
        *args,
    )
    return [_item(row, as_of, timezone) for row in rows]


async def actions_summary(
    conn: asyncpg.Connection, period_from: datetime, period_to: datetime, as_of: datetime, timezone: str
) -> Actions:
    today = local_day(as_of, timezone)
    counts = await conn.fetchrow(
        """SELECT count(*) FILTER (WHERE status = 'open') AS open,
                  count(*) FILTER (WHERE status = 'open' AND due_on < $3) AS overdue,
                  count(*) FILTER (WHERE status = 'done' AND done_at >= $1 AND done_at < $2) AS done
             FROM actions""",
        period_from,
        period_to,
        today,
    )
    owners = await conn.fetch(
        """SELECT owner, count(*) AS open, count(*) FILTER (WHERE due_on < $1) AS overdue
             FROM actions WHERE status = 'open' GROUP BY owner ORDER BY open DESC, owner""",
        today,
    )
    return Actions(
        open=counts["open"],
        overdue=counts["overdue"],
        done_in_period=counts["done"],
        by_owner=[OwnerActions(**dict(row)) for row in owners],
        open_items=await _fetch_items(conn, "a.status = 'open'", "a.due_on, a.id", LISTED_OPEN, as_of, timezone),
        done_items=await _fetch_items(
            conn,
            "a.status = 'done' AND a.done_at >= $3 AND a.done_at < $4",
            "a.done_at DESC, a.id DESC",
            LISTED_DONE,
            as_of,
            timezone,
            period_from,
            period_to,
        ),
    )


async def list_actions(
    pool: asyncpg.Pool, *, as_of: datetime, timezone: str, overdue_only: bool = False, include_done: bool = False
) -> list[ActionItem]:
    """Every open action by due date (only the overdue ones, or also the done ones)."""
    if overdue_only:
        where, args = "a.status = 'open' AND a.due_on < $3", [local_day(as_of, timezone)]
    else:
        where, args = ("true" if include_done else "a.status = 'open'"), []
    async with pool.acquire() as conn:
        return await _fetch_items(conn, where, "a.status DESC, a.due_on, a.id", None, as_of, timezone, *args)


async def complete_action(
    pool: asyncpg.Pool, action_id: int, by: str, as_of: datetime, timezone: str, note: str | None = None
) -> ActionItem | None:
    """Mark the action done, once, with what was done (`note`): done again, it
    keeps its first completion, its note and who confirmed it. None when there
    is no such action."""
    async with pool.acquire() as conn, conn.transaction():
        row = await conn.fetchrow(
            """UPDATE actions SET status = 'done', done_at = coalesce(done_at, now()),
                      done_note = CASE WHEN done_at IS NULL THEN $2 ELSE done_note END,
                      done_by = CASE WHEN done_at IS NULL THEN $3 ELSE done_by END
                WHERE id = $1 RETURNING complaint_reference, done_note""",
            action_id,
            note,
            by,
        )
        if row is None:
            return None
        await journal.append(
            conn,
            row["complaint_reference"],
            "action_done",
            by,
            {"action": action_id, "what_was_done": row["done_note"]},
            step_key=f"action:{action_id}:done",
        )
        [item] = await _fetch_items(conn, "a.id = $3", "a.id", None, as_of, timezone, action_id)
        return item


async def overdue_alerts(pool: asyncpg.Pool, as_of: datetime, timezone: str, sinks: list[str]) -> list[DeadlineAlert]:
    """Record one alert per overdue action (keyed by the action) and journal
    it; return the alerts some configured sink has not had yet."""
    zone = ZoneInfo(timezone)
    async with pool.acquire() as conn, conn.transaction():
        overdue = await conn.fetch(
            "SELECT id, complaint_reference, due_on, owner FROM actions WHERE status = 'open' AND due_on < $1",
            local_day(as_of, timezone),
        )
        alerts = [
            DeadlineAlert(
                reference=row["complaint_reference"],
                deadline="action",
                kind="breach",
                # the end of the due day, local time
                due_at=datetime.combine(row["due_on"], time(23, 59, 59), tzinfo=zone),
                generation=row["id"],  # one alert per action
            )
            for row in overdue
        ]
        for alert, row in zip(alerts, overdue, strict=True):
            await conn.execute(
                """INSERT INTO alerts (key, complaint_reference, deadline, kind, due_at, generation)
                   VALUES ($1, $2, 'action', 'breach', $3, $4) ON CONFLICT (key) DO NOTHING""",
                alert.key,
                alert.reference,
                alert.due_at,
                alert.generation,
            )
            await journal.append(
                conn,
                alert.reference,
                "action_overdue",
                "system",
                {"action": row["id"], "owner": row["owner"], "due_on": row["due_on"]},
                step_key=alert.key,
            )
        delivered = await conn.fetch(
            """SELECT alert_key FROM alert_deliveries
                WHERE alert_key = ANY($1::text[]) AND sink = ANY($2::text[])
                GROUP BY alert_key HAVING count(*) >= cardinality($2::text[])""",
            [alert.key for alert in alerts],
            sinks,
        )
    done = {row["alert_key"] for row in delivered}
    return [alert for alert in alerts if alert.key not in done]
