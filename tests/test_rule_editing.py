"""Automation rules edited in place: a rule keeps its id and counts its
versions, the versions replaced are kept; an edit from a version another edit
replaced since is refused, the same edit sent twice is saved once. The
dispatcher reads the rules when it plans a step, so a complaint already
running gets the edited rule from its next step, the steps planned before
keeping the version they were planned with."""

import json
from collections.abc import Callable

import asyncpg
import httpx
from temporalio.client import Client

from complaints import automation_rules, journal
from complaints.automation_rules import NewRule
from complaints.intake import submit_complaint
from complaints.settings import Settings
from complaints.submission import ComplaintSubmission
from tests.helpers.cli import complaints
from tests.helpers.console import hidden, sign_in, with_password
from tests.helpers.events import dispatching, quick
from tests.helpers.mailbox import Mailbox
from tests.helpers.polling import eventually

Make = Callable[..., ComplaintSubmission]
FIRST, SECOND = "qualite@example.org", "securite@example.org"


def relance(to: str) -> NewRule:
    return NewRule.model_validate({"name": "Relance", "event": "flagged", "actions": [{"kind": "email", "to": to}]})


async def test_an_edited_rule_applies_to_a_running_complaint_from_its_next_step(
    client: Client, pool: asyncpg.Pool, settings: Settings, complaint: Make, mailbox: Mailbox
) -> None:
    settings = quick(settings)
    rule_id = await automation_rules.add(pool, relance(FIRST))
    async with dispatching(client, pool, settings):
        ref = (await submit_complaint(pool, client, settings, complaint(), actor="t")).reference
        await _flag(pool, ref)
        await mailbox.wait_for(FIRST, timeout=30)
        assert await automation_rules.edit(pool, rule_id, relance(SECOND), 1, "Admin") == 2
        await _flag(pool, ref)
        await mailbox.wait_for(SECOND, timeout=30)
        emailed = await eventually(lambda: _emailed(pool, ref, 2), timeout=30)
    assert emailed == [
        {"rule_id": rule_id, "rule_version": 1, "to": FIRST},
        {"rule_id": rule_id, "rule_version": 2, "to": SECOND},
    ]
    assert len(mailbox.messages(FIRST)) == 1 and len(mailbox.messages(SECOND)) == 1
    description = await client.get_workflow_handle(ref).describe()
    assert description.status is not None and description.status.name == "RUNNING"  # the same run throughout


async def _flag(pool: asyncpg.Pool, reference: str) -> None:
    async with pool.acquire() as conn:
        await journal.append(conn, reference, "flagged", "Alice")


async def _emailed(pool: asyncpg.Pool, reference: str, count: int) -> list[dict[str, object]]:
    rows = await pool.fetch(
        "SELECT details FROM journal WHERE complaint_reference = $1 AND event = 'rule_emailed' ORDER BY id", reference
    )
    return [json.loads(row["details"]) for row in rows] if len(rows) >= count else []


async def test_an_administrator_edits_a_rule_once_and_a_save_from_an_older_version_is_refused(
    pool: asyncpg.Pool, http: httpx.AsyncClient, keys: dict
) -> None:
    rule_id = await automation_rules.add(pool, relance(FIRST))
    page_url = f"/console/evenements/regles/{rule_id}"
    await with_password(pool, "Chloé")
    await sign_in(http, "Chloé")  # a manager sees the rules, an administrator edits them
    shown = await http.get("/console/evenements")
    assert "Relance" in shown.text and page_url not in shown.text
    assert (await http.get(page_url)).status_code == 403
    assert (await http.post(page_url, data={"csrf": hidden(shown, "csrf"), "version": "1"})).status_code == 403
    http.cookies.clear()
    await with_password(pool, "Admin")
    await sign_in(http, "Admin")
    assert page_url in (await http.get("/console/evenements")).text
    page = await http.get(page_url)
    assert page.status_code == 200 and hidden(page, "version") == "1" and FIRST in page.text
    form = {"csrf": hidden(page, "csrf"), "version": "1", "nom": "Relance", "evenement": "flagged"}

    empty = await http.post(page_url, data=form)
    assert empty.status_code == 422 and "Modification refusée" in empty.text and "Value error" not in empty.text
    edited = {**form, "evenement": "decided", "category": "safety", "courriel": f"{FIRST}, {SECOND}"}
    for _ in range(2):  # a double post: saved once
        saved = await http.post(page_url, data=edited)
        assert saved.status_code == 303 and saved.headers["location"] == f"{page_url}?fait=1"
    stale = await http.post(page_url, data={**form, "note": "Autre chose"})

    assert stale.status_code == 409 and "modifiée entre-temps" in stale.text and "version 2" in stale.text
    assert hidden(stale, "version") == "2"  # the form shows the rule as it is now
    [rule] = await automation_rules.active(pool)
    assert (rule.id, rule.version, rule.event, rule.conditions) == (rule_id, 2, "decided", {"category": "safety"})
    assert [str(getattr(action, "to", "")) for action in rule.actions] == [FIRST, SECOND]
    [replaced] = await automation_rules.versions(pool, rule_id)
    assert (replaced["version"], replaced["event"], replaced["replaced_by"]) == (1, "flagged", "Admin")
    after = (await http.get(f"{page_url}?fait=1")).text
    assert "Règle enregistrée." in after and "Version 1, remplacée le" in after and "par Admin" in after


async def test_rules_are_edited_from_the_cli_keeping_what_is_not_given(pool: asyncpg.Pool, settings: Settings) -> None:
    added = await complaints(settings, "rules", "add", "Sécurité", "--event", "assessed", "--when", "category=safety")
    assert added.returncode == 2  # no action
    rule_id = await automation_rules.add(pool, relance(FIRST))
    edited = await complaints(settings, "rules", "edit", "Relance", "--when", "channel=social", "--version", "1")
    assert edited.returncode == 0, edited.stderr
    assert "version 2" in edited.stdout
    renamed = await complaints(settings, "rules", "edit", "Relance", "--name", "Relance réseaux", "--note", "Vu")
    assert renamed.returncode == 0, renamed.stderr
    stale = await complaints(settings, "rules", "edit", "Relance réseaux", "--always", "--version", "2")
    assert stale.returncode == 2 and "changed since" in stale.stderr and "version 3" in stale.stderr
    bad = await complaints(settings, "rules", "edit", "Relance réseaux", "--when", "colour=red")
    assert bad.returncode == 2 and "conditions" in bad.stderr and "Value error" not in bad.stderr
    unknown = await complaints(settings, "rules", "edit", "Personne", "--note", "n")
    assert unknown.returncode == 1 and "no active rule Personne" in unknown.stderr
    [rule] = await automation_rules.active(pool)
    assert (rule.id, rule.version, rule.name, rule.event) == (rule_id, 3, "Relance réseaux", "flagged")
    assert rule.conditions == {"channel": "social"} and [a.kind for a in rule.actions] == ["note"]
    assert [v["replaced_by"] for v in await automation_rules.versions(pool, rule_id)] == ["cli", "cli"]
    listed = (await complaints(settings, "rules", "list")).stdout
    assert "Relance réseaux\tversion 3" in listed
