"""Automation rules: a rule matching a step of a complaint has its actions done
once each, journaled with the rule that caused them; the rules a dispatcher
used are in its history, so a rule changed afterwards does not alter a replay."""

import json
import os
from collections.abc import Callable

import asyncpg
from temporalio.client import Client, WorkflowHistory
from temporalio.worker import Replayer

from complaints import automation_rules, journal
from complaints.automation_rules import AddNote, NewRule
from complaints.intake import submit_complaint
from complaints.settings import Settings
from complaints.submission import ComplaintSubmission
from complaints.temporal_client import data_converter
from tests.helpers.events import dispatched_past, dispatching, quick
from tests.helpers.histories import FOLDER, HISTORY_CONVERTER, HISTORY_PAYLOAD_KEYS
from tests.helpers.mailbox import Mailbox
from tests.helpers.polling import eventually
from tests.helpers.session import PAYLOAD_KEYS
from worker.event_dispatch import event_dispatcher_id
from workflows.event_dispatch import EventDispatchWorkflow

Make = Callable[..., ComplaintSubmission]
QUALITY = "qualite@example.org"
# Apart from the complaint histories (each replayed as ComplaintWorkflow).
RECORDED = FOLDER / "event_dispatch" / "safety_rule.json"
SAFETY_RULE = NewRule.model_validate(
    {
        "name": "Sécurité vers la qualité",
        "event": "assessed",
        "conditions": {"category": "safety"},
        "actions": [
            {"kind": "assign", "handler": "Équipe qualité", "team": "qualité"},
            {"kind": "email", "to": QUALITY},
        ],
    }
)


def burn(complaint: Make) -> ComplaintSubmission:
    return complaint(
        subject="Brûlure avec la bouilloire",
        description="Mon fils a eu une brûlure à la main en servant le thé.",
        product="Bouilloire Alto",
    )


async def test_a_safety_complaint_is_assigned_to_quality_and_its_address_emailed_once(
    client: Client, pool: asyncpg.Pool, settings: Settings, complaint: Make, mailbox: Mailbox
) -> None:
    settings = quick(settings)
    await automation_rules.add(pool, SAFETY_RULE)
    async with dispatching(client, pool, settings):
        safety = (await submit_complaint(pool, client, settings, burn(complaint), actor="t")).reference
        other = (await submit_complaint(pool, client, settings, complaint(), actor="t")).reference
        await mailbox.wait_for(QUALITY, timeout=30)
        row = await eventually(
            lambda: pool.fetchrow(
                "SELECT handler, team FROM complaints WHERE reference = $1 AND handler IS NOT NULL", safety
            ),
            timeout=30,
        )
        await eventually(lambda: _assessed(pool, other), timeout=30)
        # a round later: nothing more was done
        watermark = await pool.fetchval("SELECT max(id) FROM journal")
        await eventually(lambda: dispatched_past(pool, settings, watermark), timeout=30)
    assert (row["handler"], row["team"]) == ("Équipe qualité", "qualité")
    assert len(mailbox.messages(QUALITY)) == 1
    steps = await pool.fetch(
        "SELECT event, actor FROM journal WHERE complaint_reference = $1 AND actor LIKE 'règle %' ORDER BY id", safety
    )
    assert [(s["event"], s["actor"]) for s in steps] == [
        ("assigned", "règle Sécurité vers la qualité"),
        ("rule_emailed", "règle Sécurité vers la qualité"),
    ]
    assert await pool.fetchval("SELECT handler FROM complaints WHERE reference = $1", other) is None


async def test_a_rule_changed_afterwards_does_not_alter_a_replay_of_the_dispatcher(
    client: Client, pool: asyncpg.Pool, settings: Settings, complaint: Make, mailbox: Mailbox
) -> None:
    """The run is encrypted with the recorded histories' key; RECORD_HISTORIES=1
    writes it to RECORDED (the file the next test replays)."""
    settings = quick(settings)
    # writes with the histories' key, reads the session's too (the complaints' runs)
    both = data_converter(Settings(_env_file=None, payload_keys=f"{HISTORY_PAYLOAD_KEYS},{PAYLOAD_KEYS}"))
    recording = await Client.connect(
        client.service_client.config.target_host, namespace=client.namespace, data_converter=both
    )
    await automation_rules.add(pool, SAFETY_RULE)
    async with dispatching(recording, pool, settings):
        await submit_complaint(pool, client, settings, burn(complaint), actor="t")
        await mailbox.wait_for(QUALITY, timeout=30)
        history = await recording.get_workflow_handle(event_dispatcher_id(settings)).fetch_history()
    rule_id = await automation_rules.id_of(pool, SAFETY_RULE.name)
    assert rule_id is not None
    changed = SAFETY_RULE.model_copy(update={"actions": [AddNote(text="Autre chose")]})
    assert await automation_rules.edit(pool, rule_id, changed, 1, "t") == 2
    await automation_rules.remove(pool, SAFETY_RULE.name)
    replayer = Replayer(workflows=[EventDispatchWorkflow], data_converter=HISTORY_CONVERTER)
    result = await replayer.replay_workflow(history, raise_on_replay_failure=False)
    assert result.replay_failure is None
    if os.environ.get("RECORD_HISTORIES") == "1":
        RECORDED.parent.mkdir(exist_ok=True)
        RECORDED.write_text(history.to_json())


async def test_the_recorded_dispatcher_history_still_replays() -> None:
    """A change to the dispatcher that breaks determinism fails here: use workflow.patched."""
    history = WorkflowHistory.from_json(RECORDED.stem, json.loads(RECORDED.read_text()))
    await Replayer(workflows=[EventDispatchWorkflow], data_converter=HISTORY_CONVERTER).replay_workflow(history)


async def _assessed(pool: asyncpg.Pool, reference: str) -> bool:
    return bool(
        await pool.fetchval("SELECT 1 FROM journal WHERE complaint_reference = $1 AND event = 'assessed'", reference)
    )


async def test_a_rule_raises_the_priority_and_adds_a_note_each_journaled_by_the_rule(
    client: Client, pool: asyncpg.Pool, settings: Settings, complaint: Make
) -> None:
    settings = quick(settings)
    rule = NewRule.model_validate(
        {
            "name": "Réseaux sociaux",
            "event": "assessed",
            "conditions": {"channel": "social"},
            "actions": [{"kind": "priority", "priority": "P1"}, {"kind": "note", "text": "Vu sur les réseaux"}],
        }
    )
    await automation_rules.add(pool, rule)
    async with dispatching(client, pool, settings):
        ref = (await submit_complaint(pool, client, settings, complaint(channel="social"), actor="t")).reference
        steps = await eventually(lambda: _by_rule(pool, ref, 2), timeout=30)
    assert steps == [("priority_overridden", "règle Réseaux sociaux"), ("internal_note", "règle Réseaux sociaux")]
    assert await pool.fetchval("SELECT priority FROM complaints WHERE reference = $1", ref) == "P1"


async def _by_rule(pool: asyncpg.Pool, reference: str, count: int) -> list[tuple[str, str]]:
    rows = await pool.fetch(
        "SELECT event, actor FROM journal WHERE complaint_reference = $1 AND actor LIKE 'règle %' ORDER BY id",
        reference,
    )
    return [(row["event"], row["actor"]) for row in rows] if len(rows) >= count else []


async def test_an_action_on_a_complaint_whose_run_is_over_is_journaled_refused_and_the_rules_go_on(
    client: Client, pool: asyncpg.Pool, settings: Settings, complaint: Make, mailbox: Mailbox
) -> None:
    settings = quick(settings)
    await automation_rules.add(
        pool,
        NewRule.model_validate(
            {"name": "Relance", "event": "flagged", "actions": [{"kind": "assign", "handler": "Bruno"}]}
        ),
    )
    await automation_rules.add(pool, SAFETY_RULE)
    async with dispatching(client, pool, settings):
        over = (await submit_complaint(pool, client, settings, complaint(), actor="t")).reference
        await eventually(lambda: _assessed(pool, over), timeout=30)
        await client.get_workflow_handle(over).terminate("test")
        async with pool.acquire() as conn:
            await journal.append(conn, over, "flagged", "Alice")
        await submit_complaint(pool, client, settings, burn(complaint), actor="t")
        await mailbox.wait_for(QUALITY, timeout=30)  # the next rule went on
        steps = await eventually(lambda: _by_rule(pool, over, 1), timeout=30)
    assert steps == [("rule_action_refused", "règle Relance")]
    assert await pool.fetchval("SELECT handler FROM complaints WHERE reference = $1", over) is None
