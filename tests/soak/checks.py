"""What the soak verifies once the load and the faults are over, each check a
row of the table it prints: nothing lost, nothing twice, no run stuck, no 500."""

import asyncio
import json
import re
from collections import Counter
from dataclasses import dataclass
from email.parser import BytesHeaderParser
from pathlib import Path

import asyncpg
from temporalio.api.enums.v1 import EventType, WorkflowTaskFailedCause
from temporalio.client import Client
from temporalio.service import RPCError

from tests.soak.load import COMPENSATIONS, Lifecycle, Tally, expected_alerts
from tests.soak.parts import SoakSystem

# A workflow task failed because a signal or update came in while it completed
# (the server's ordinary way of having it done again), or because the SDK's
# deadlock detector found the workflow code 2 s without yielding, which on a
# CPU-starved machine is the machine's load: retried, not a failing workflow.
# Any other failure is counted against the soak; a run left retrying, always.
BENIGN_TASK_FAILURES = {"WORKFLOW_TASK_FAILED_CAUSE_UNHANDLED_COMMAND", "_DeadlockError"}
LOGGED_ALERT = re.compile(r"SLA (warning|breach): (\{.*\})")


@dataclass
class Check:
    name: str
    expected: int
    found: int
    note: str = ""

    @property
    def ok(self) -> bool:
        return self.expected == self.found


@dataclass
class Runs:
    missing: list[str]
    failed_tasks: Counter[str]  # WorkflowTaskFailed events by cause
    stuck: list[str]  # runs whose pending workflow task is on its second attempt or more


async def read_runs(client: Client, refs: list[str]) -> Runs:
    gate, runs = asyncio.Semaphore(16), Runs([], Counter(), [])

    async def one(ref: str) -> None:
        handle = client.get_workflow_handle(ref)
        async with gate:
            try:
                description = await handle.describe()
                history = await handle.fetch_history()
            except RPCError:
                runs.missing.append(ref)
                return
        pending = description.raw_description.pending_workflow_task
        if description.raw_description.HasField("pending_workflow_task") and pending.attempt > 1:
            runs.stuck.append(f"{ref} (attempt {pending.attempt})")
        for event in history.events:
            if event.event_type == EventType.EVENT_TYPE_WORKFLOW_TASK_FAILED:
                failed = event.workflow_task_failed_event_attributes
                kind = failed.failure.application_failure_info.type  # not encrypted, unlike the message
                runs.failed_tasks[kind or WorkflowTaskFailedCause.Name(failed.cause)] += 1

    await asyncio.gather(*(one(ref) for ref in refs))
    return runs


def sink_message_ids(folder: Path) -> Counter[str]:
    parser, found = BytesHeaderParser(), Counter[str]()
    for path in folder.glob("*.eml"):
        with path.open("rb") as file:
            found[str(parser.parse(file)["Message-ID"]).strip()] += 1
    return found


def logged_alerts(data: Path) -> Counter[str]:
    """The log sink's alerts, over every worker's log: reference:deadline:kind."""
    found = Counter[str]()
    for log in data.glob("worker-*.log"):
        for match in LOGGED_ALERT.finditer(log.read_text(errors="replace")):
            facts = json.loads(match[2])
            found[f"{facts['reference']}:{facts['deadline']}:{facts['kind']}"] += 1
    return found


async def verify(
    system: SoakSystem, pool: asyncpg.Pool, client: Client, lives: list[Lifecycle], tally: Tally
) -> list[Check]:
    refs = [life.reference for life in lives if life.reference]
    register = {
        row["reference"]: row
        for row in await pool.fetch(
            "SELECT reference, complainant_email, acknowledged_at FROM complaints WHERE reference = ANY($1)", refs
        )
    }
    emails = Counter(row["complainant_email"] for row in await pool.fetch("SELECT complainant_email FROM complaints"))
    runs = await read_runs(client, refs)
    checks = [
        Check("complaints taken in through the API", len(lives), len(refs)),
        Check("  in the register", len(refs), len(register)),
        Check("  recorded twice (same complainant)", 0, sum(n - 1 for n in emails.values() if n > 1)),
        Check("  with a run in Temporal", len(refs), len(refs) - len(runs.missing)),
        Check("  acknowledged", len(refs), sum(1 for row in register.values() if row["acknowledged_at"])),
        Check(
            "lifecycles carried out as scripted",
            len(lives),
            sum(1 for life in lives if life.done),
            "; ".join(sorted({(life.failure or "")[:90] for life in lives if life.failure})[:3]),
        ),
    ]
    checks += await _emails(system, pool)
    checks += await _alerts(system, pool, lives)
    checks += await _compensations(pool, lives)
    benign = sum(n for cause, n in runs.failed_tasks.items() if cause in BENIGN_TASK_FAILURES)
    checks += [
        Check(
            "WorkflowTaskFailed events (but unhandled command, deadlock)",
            0,
            sum(runs.failed_tasks.values()) - benign,
            ", ".join(f"{c} {n}" for c, n in runs.failed_tasks.items()),
        ),
        Check("runs stuck retrying a workflow task", 0, len(runs.stuck), ", ".join(runs.stuck[:3])),
        Check(
            "HTTP answers 500 (or any 5xx but 503)",
            0,
            len(tally.server_errors),
            "; ".join(tally.server_errors[:3]),
        ),
        Check(
            "HTTP 503 without Retry-After", 0, len(tally.without_retry_after), "; ".join(tally.without_retry_after[:3])
        ),
    ]
    return checks


async def _emails(system: SoakSystem, pool: asyncpg.Pool) -> list[Check]:
    in_sink = sink_message_ids(system.sink.folder)
    rows = await pool.fetch("SELECT kind, status, message_id, last_error FROM outbox")
    sent = [row for row in rows if row["status"] == "sent"]
    unsent = [row for row in rows if row["status"] != "sent"]
    known = {row["message_id"] for row in rows}
    return [
        Check("emails in the outbox, sent", len(rows), len(sent), "; ".join({r["kind"] for r in unsent})),
        Check("  sent and in the SMTP sink", len(sent), sum(1 for row in sent if in_sink[row["message_id"]])),
        Check("  in the SMTP sink twice or more", 0, sum(1 for n in in_sink.values() if n > 1)),
        Check("  in the SMTP sink, unknown to the outbox", 0, sum(1 for mid in in_sink if mid not in known)),
    ]


async def _alerts(system: SoakSystem, pool: asyncpg.Pool, lives: list[Lifecycle]) -> list[Check]:
    alerts = await pool.fetch("SELECT key, complaint_reference, deadline, kind FROM alerts")
    deliveries = Counter(
        (row["alert_key"], row["sink"], row["status"])
        for row in await pool.fetch("SELECT alert_key, sink, status FROM alert_deliveries")
    )
    webhook = Counter(event["id"] for event in system.webhook.events())
    in_sink = sink_message_ids(system.sink.folder)
    alert_mails = {
        row["key"].removesuffix(":email"): row["message_id"]
        for row in await pool.fetch("SELECT key, message_id FROM outbox WHERE kind = 'alert'")
    }
    logged = logged_alerts(system.data)
    keys = [row["key"] for row in alerts]
    raised = {(row["complaint_reference"], row["deadline"], row["kind"]) for row in alerts}
    expected = expected_alerts(lives)
    by_kind = Counter(row["kind"] for row in alerts)
    return [
        Check(
            "deadline alerts expected (left unassessed / unanswered)",
            len(expected),
            len(expected & raised),
            f"{by_kind['warning']} warnings, {by_kind['breach']} breaches raised in all; missing: "
            + ", ".join(":".join(alert) for alert in sorted(expected - raised)[:3]),
        ),
        Check(
            "alerts delivered to every sink (register)",
            3 * len(keys),
            sum(deliveries[(key, sink, "delivered")] for key in keys for sink in ("email", "webhook", "log")),
        ),
        Check(
            "  alerts emailed exactly once (SMTP sink)",
            len(keys),
            sum(1 for k in keys if in_sink[alert_mails.get(k, "")] == 1),
        ),
        Check("  alerts posted exactly once (webhook, 2xx)", len(keys), sum(1 for k in keys if webhook[k] == 1)),
        Check(
            "  alerts logged exactly once (worker logs)",
            len(keys),
            sum(1 for row in alerts if logged[f"{row['complaint_reference']}:{row['deadline']}:{row['kind']}"] == 1),
        ),
    ]


async def _compensations(pool: asyncpg.Pool, lives: list[Lifecycle]) -> list[Check]:
    ledger = Counter(
        row["complaint_reference"] for row in await pool.fetch("SELECT complaint_reference FROM compensations")
    )
    scripted = [life for life in lives if life.reference and life.done]
    expected = sum(COMPENSATIONS.get(life.scenario, 0) for life in scripted)
    right = sum(
        COMPENSATIONS.get(life.scenario, 0)
        for life in scripted
        if ledger[life.reference] == COMPENSATIONS.get(life.scenario, 0)
    )
    return [
        Check("compensations in the ledger exactly once", expected, right, f"{sum(ledger.values())} rows"),
    ]


def table(checks: list[Check]) -> str:
    width = max(len(check.name) for check in checks)
    lines = [f"{'check':<{width}}  {'expected':>8}  {'found':>8}  result", "-" * (width + 32)]
    for check in checks:
        result = "ok" if check.ok else "FAILED"
        lines.append(f"{check.name:<{width}}  {check.expected:>8}  {check.found:>8}  {result}  {check.note}".rstrip())
    return "\n".join(lines)
