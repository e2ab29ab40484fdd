"""`complaints subscribers` and `complaints rules`: added, listed (a secret shown
once, never listed), refused with the reason and nothing stored, removed."""

import asyncpg

from complaints.settings import Settings
from tests.helpers.cli import complaints


async def test_subscribers_are_added_with_a_secret_shown_once_listed_and_removed(
    pool: asyncpg.Pool, settings: Settings
) -> None:
    added = await complaints(
        settings, "subscribers", "add", "CRM", "https://crm.example.org/hooks", "--type", "org.complaints.decision.made"
    )
    assert added.returncode == 0, added.stderr
    secret = added.stdout.strip().splitlines()[-1]
    assert secret.startswith("whsec_")
    assert await pool.fetchval("SELECT secret FROM subscribers WHERE name = 'CRM'") == secret
    listed = await complaints(settings, "subscribers", "list")
    assert "CRM" in listed.stdout and "org.complaints.decision.made" in listed.stdout and secret not in listed.stdout
    assert "no personal data" in listed.stdout
    bad = await complaints(settings, "subscribers", "add", "ERP", "ftp://erp", "--type", "decision")
    assert bad.returncode == 2 and "url" in bad.stderr and "event_types" in bad.stderr
    assert "Value error" not in bad.stderr  # the reason as written, without pydantic's prefix
    assert await pool.fetchval("SELECT count(*) FROM subscribers") == 1
    removed = await complaints(settings, "subscribers", "remove", "CRM")
    assert removed.returncode == 0
    assert await pool.fetchval("SELECT active FROM subscribers WHERE name = 'CRM'") is False


async def test_rules_are_added_listed_refused_and_removed(pool: asyncpg.Pool, settings: Settings) -> None:
    added = await complaints(
        settings,
        "rules",
        "add",
        "Sécurité",
        "--event",
        "assessed",
        "--when",
        "category=safety",
        "--assign",
        "Équipe qualité",
        "--team",
        "qualité",
        "--email",
        "qualite@example.org",
    )
    assert added.returncode == 0, added.stderr
    listed = await complaints(settings, "rules", "list")
    assert "Sécurité" in listed.stdout and "qualite@example.org" in listed.stdout and "safety" in listed.stdout
    no_action = await complaints(settings, "rules", "add", "Vide", "--event", "assessed")
    bad_field = await complaints(
        settings, "rules", "add", "X", "--event", "assessed", "--when", "colour=red", "--note", "n"
    )
    assert no_action.returncode == 2 and "actions" in no_action.stderr
    assert bad_field.returncode == 2 and "conditions" in bad_field.stderr
    assert "Value error" not in no_action.stderr + bad_field.stderr
    assert await pool.fetchval("SELECT count(*) FROM automation_rules") == 1
    assert (await complaints(settings, "rules", "remove", "Sécurité")).returncode == 0
    assert await pool.fetchval("SELECT count(*) FROM automation_rules WHERE active") == 0


async def test_rules_call_a_subscriber_and_add_a_checklist_item_from_the_cli(
    pool: asyncpg.Pool, settings: Settings
) -> None:
    rule = ["rules", "add", "Sécurité", "--event", "assessed", "--call", "CRM", "--checklist", "Vérifier le lot"]
    unknown = await complaints(settings, *rule)
    assert unknown.returncode == 2 and "no active subscriber named 'CRM'" in unknown.stderr
    assert await pool.fetchval("SELECT count(*) FROM automation_rules") == 0
    assert (await complaints(settings, "subscribers", "add", "CRM", "https://crm.example.org/h")).returncode == 0
    added = await complaints(settings, *rule)
    assert added.returncode == 0, added.stderr
    listed = (await complaints(settings, "rules", "list")).stdout
    assert (
        '"kind": "call", "subscriber": "CRM"' in listed and '"kind": "checklist", "text": "Vérifier le lot"' in listed
    )
    edited = await complaints(settings, "subscribers", "edit", "CRM", "--type", "org.complaints.decision.made")
    assert edited.returncode == 0, edited.stderr
    assert await pool.fetchval("SELECT event_types FROM subscribers") == ["org.complaints.decision.made"]
    assert await pool.fetchval("SELECT changed_by FROM subscriber_changes WHERE change = 'edited'") == "cli"
