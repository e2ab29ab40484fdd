"""Operators handle a complaint from the console's pages, over HTTP on the
real stack: each command goes to the workflow signed by the signed-in
operator; a form without its CSRF token, a role that may not, an approval by
the proposer and a command from a stale page are each refused, nothing changed."""

import html
import re

import asyncpg
import httpx
from temporalio.client import Client

from complaints.complaint_status import Phase
from complaints.operator_commands import InternalNote, Operator, Role
from tests.helpers.complaint_workflow import wait_for_phase
from tests.helpers.console import complaint_page, hidden, send_command, signed_in_as
from tests.helpers.examples import ARGUED
from tests.helpers.web import shown, taken_in
from workflows.complaint import ComplaintWorkflow


async def _journal(pool: asyncpg.Pool, ref: str) -> list[tuple[str, str]]:
    rows = await pool.fetch("SELECT event, actor FROM journal WHERE complaint_reference = $1 ORDER BY id", ref)
    return [(row["event"], row["actor"]) for row in rows]


def _others(page: httpx.Response) -> str:
    """The page's "someone else is on it" line."""
    found = re.search(r'<p[^>]*id="autres">(.*?)</p>', page.text, re.S)
    return " ".join(html.unescape(found[1]).split()) if found else ""


async def test_a_handler_handles_a_complaint_from_its_page(
    http: httpx.AsyncClient, keys: dict, client: Client, pool: asyncpg.Pool, worker
) -> None:
    ref = await taken_in(http, keys, client)
    await signed_in_as(http, pool, "Alice")
    unassigned = await http.get("/console/files/non-attribuees")
    assert ref in shown(unassigned) and "Non attribuées 1" in shown(unassigned)

    page = await complaint_page(http, ref)
    text = shown(page)
    assert "Évaluation" in text and "Confirmer ou corriger l'évaluation" in text
    assert "Clôturer" not in text  # not possible before the response
    assert 'class="command internal"' in page.text and 'class="command customer"' in page.text

    override = await send_command(http, ref, "assessment", {"priority": "P1"})
    assert override.status_code == 409 and "Changer la priorité en P1 demande un motif" in shown(override)
    assert 'name="priority"' in override.text and '<option value="P1" selected>' in override.text  # kept
    confirmed = await send_command(http, ref, "assessment", {})
    assert confirmed.status_code == 303, confirmed.text
    await wait_for_phase(client, ref, Phase.HANDLING)
    assert (await send_command(http, ref, "assignment", {"handler": "Alice"})).status_code == 303
    assert (await send_command(http, ref, "notes", {"text": "Client fidèle"})).status_code == 303
    progress = await send_command(http, ref, "progress-updates", {"message": "Le transporteur enquête."})
    assert progress.status_code == 303
    journal = await _journal(pool, ref)
    assert ("assessment_confirmed", "Alice") in journal and ("assigned", "Alice") in journal
    assert ("internal_note", "Alice") in journal and ("progress_update_requested", "Alice") in journal
    assert await pool.fetchval("SELECT handler FROM complaints WHERE reference = $1", ref) == "Alice"
    mine = await http.get("/console/files/mes-reclamations")
    assert ref in shown(mine)
    timeline = (await complaint_page(http, ref)).text
    assert '<li class="internal">' in timeline and '<li class="customer">' in timeline
    note = timeline.split("Note interne — Alice")[1].split("</li>")[0]
    assert "<blockquote>Client fidèle</blockquote>" in note


async def test_refused_commands_change_nothing(
    http: httpx.AsyncClient, keys: dict, client: Client, pool: asyncpg.Pool, worker
) -> None:
    ref = await taken_in(http, keys, client)
    before = await _journal(pool, ref)

    await signed_in_as(http, pool, "Alice")
    page = await complaint_page(http, ref)
    no_csrf = await http.post(
        f"/console/reclamations/{ref}/commandes/assignment",
        data={"version": hidden(page, "version"), "handler": "Alice"},
    )
    assert no_csrf.status_code == 403 and "Ce formulaire a expiré" in shown(no_csrf)
    wrong_csrf = await http.post(
        f"/console/reclamations/{ref}/commandes/assignment",
        data={"csrf": "forged", "version": hidden(page, "version"), "handler": "Alice"},
    )
    assert wrong_csrf.status_code == 403

    stale = page  # another handler acts meanwhile
    _ = await client.get_workflow_handle(ref).execute_update(
        ComplaintWorkflow.add_note, InternalNote(by=Operator(name="Bruno", role=Role.HANDLER), text="Je regarde.")
    )
    refused = await send_command(http, ref, "assignment", {"handler": "Alice"}, page=stale)
    assert refused.status_code == 409 and "a changé depuis l'affichage" in shown(refused)
    assert hidden(refused, "version") != hidden(stale, "version")  # the page shows the current state

    await signed_in_as(http, pool, "Irène")  # intake may not handle
    intake_page = await complaint_page(http, ref)
    assert "Attribuer" not in shown(intake_page)
    by_intake = await http.post(
        f"/console/reclamations/{ref}/commandes/assignment",
        data={"csrf": hidden(intake_page, "csrf"), "version": hidden(refused, "version"), "handler": "Irène"},
    )
    assert by_intake.status_code == 403 and "ne permet pas de traiter les réclamations" in shown(by_intake)

    after = await _journal(pool, ref)
    assert [entry for entry in after if entry not in before] == [("internal_note", "Bruno")]
    assert await pool.fetchval("SELECT handler FROM complaints WHERE reference = $1", ref) is None


async def test_the_proposer_cannot_approve_their_own_compensation(
    http: httpx.AsyncClient, keys: dict, client: Client, pool: asyncpg.Pool, worker
) -> None:
    ref = await taken_in(http, keys, client)
    await signed_in_as(http, pool, "Chloé")
    assert (await send_command(http, ref, "assessment", {})).status_code == 303
    await wait_for_phase(client, ref, Phase.HANDLING)
    decision = {
        "outcome": "accepted",
        "justification": ARGUED,
        "compensation.kind": "refund",
        "compensation.amount": "250.00",
        "compensation.description": "prix du vase",
    }
    assert (await send_command(http, ref, "decision", decision)).status_code == 303
    await wait_for_phase(client, ref, Phase.AWAITING_APPROVAL)
    approvals = await http.get("/console/files/approbations")
    assert ref in shown(approvals)

    own = await send_command(http, ref, "approval", {"approved": "true"})
    assert own.status_code == 409 and "un autre manager doit le faire" in shown(own)
    await signed_in_as(http, pool, "Bruno")  # a handler has no approvals
    assert (await http.get("/console/files/approbations")).status_code == 403
    assert "Approuver ou refuser" not in shown(await complaint_page(http, ref))
    assert (await client.get_workflow_handle(ref).query(ComplaintWorkflow.status)).phase is Phase.AWAITING_APPROVAL

    await signed_in_as(http, pool, "Denis")
    approved = await send_command(http, ref, "approval", {"approved": "true", "comment": "d'accord"})
    assert approved.status_code == 303, approved.text
    await wait_for_phase(client, ref, Phase.RESPONDED)
    status = await client.get_workflow_handle(ref).query(ComplaintWorkflow.status)
    assert status.decisions[-1].approved_by == "Denis"


async def test_an_intake_operator_takes_a_phone_complaint_in(
    http: httpx.AsyncClient, keys: dict, client: Client, pool: asyncpg.Pool, worker
) -> None:
    await signed_in_as(http, pool, "Irène")
    form = await http.get("/console/nouvelle")
    fields = {"csrf": hidden(form, "csrf"), "form_id": hidden(form, "form_id"), "canal": "phone", "nom": "Jeanne"}
    incomplete = await http.post("/console/nouvelle", data={**fields, "objet": "Colis abîmé"})
    assert incomplete.status_code == 422 and "Indiquez au moins un moyen" in shown(incomplete)
    assert 'value="Colis abîmé"' in incomplete.text  # what was typed is kept
    assert await pool.fetchval("SELECT count(*) FROM complaints") == 0

    complete = {**fields, "telephone": "0102030405", "objet": "Colis abîmé", "description": "Le vase est cassé."}
    for _ in range(2):  # sent twice: one complaint
        taken = await http.post("/console/nouvelle", data=complete)
        assert taken.status_code == 303
    ref = taken.headers["location"].split("/")[-1].split("?")[0]
    assert await pool.fetchval("SELECT count(*) FROM complaints") == 1
    assert await pool.fetchval("SELECT channel FROM complaints WHERE reference = $1", ref) == "phone"
    assert ("received", "Irène") in await _journal(pool, ref)
    await wait_for_phase(client, ref, Phase.INTAKE)  # no email: the acknowledgement goes by post

    page = await complaint_page(http, ref)
    postal = {"csrf": hidden(page, "csrf"), "form_id": "ack-1"}
    assert (await http.post(f"/console/reclamations/{ref}/accuse-postal", data=postal)).status_code == 303
    await wait_for_phase(client, ref, Phase.ASSESSMENT)
    assert await pool.fetchval("SELECT ack_method FROM complaints WHERE reference = $1", ref) == "post"
    again = await http.post(f"/console/reclamations/{ref}/accuse-postal", data={**postal, "form_id": "ack-2"})
    assert again.status_code == 409 and "déjà reçu son accusé" in shown(again)


async def test_the_page_says_who_else_is_on_the_complaint(
    http: httpx.AsyncClient, keys: dict, client: Client, pool: asyncpg.Pool, worker
) -> None:
    ref = await taken_in(http, keys, client)
    await signed_in_as(http, pool, "Bruno")
    first = _others(await complaint_page(http, ref))
    assert first.startswith("Quelqu'un d'autre est sur ce dossier : Irène (a agi")  # she took it in
    assert "Bruno" not in first
    await signed_in_as(http, pool, "Alice")
    page = _others(await complaint_page(http, ref))
    assert page.startswith("Quelqu'un d'autre est sur ce dossier : Bruno (l'a ouvert") and "Irène (a agi" in page
    assert "Alice" not in page
