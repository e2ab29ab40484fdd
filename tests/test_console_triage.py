"""The triage queue of the console: inbound mail nobody could match, kept
by the inbound mailbox, attached to a complaint (its run gets it once, as the
customer's message), made a new complaint, or discarded; each journaled and
recorded on its row, each idempotent, a bad request refused with nothing changed."""

from email.utils import parseaddr

import asyncpg
import httpx
from temporalio.client import Client

from complaints.settings import Settings
from inbound.mailbox import InboundMailbox
from tests.helpers.console import hidden, sign_in, with_password
from tests.helpers.history import history_of, wait_until_idle
from tests.helpers.inbound_mail import email, inbound_settings, journal_of
from tests.helpers.polling import eventually
from tests.helpers.web import shown, taken_in


async def _kept(pool: asyncpg.Pool, client: Client, settings: Settings, subject: str, sender: str) -> str:
    """A message the inbound mailbox keeps for triage; its Message-ID."""
    message = email(subject, f"Message de {sender} au sujet de « {subject} ».", sender=sender)
    mailbox = InboundMailbox(pool, client, inbound_settings(settings))
    try:
        outcome = await mailbox.take_in(bytes(message), parseaddr(sender)[1])
    finally:
        mailbox.close()
    assert outcome.kind == "triage", outcome
    return outcome.message_id


async def _resolution(pool: asyncpg.Pool, message_id: str) -> tuple:
    row = await pool.fetchrow(
        """SELECT resolution, resolved_reference, resolved_by, resolution_note FROM inbound_triage
            WHERE message_id = $1""",
        message_id,
    )
    return tuple(row)


async def test_a_message_is_attached_made_a_complaint_or_discarded_once(
    http: httpx.AsyncClient, keys: dict, client: Client, pool: asyncpg.Pool, settings: Settings, worker
) -> None:
    ref = await taken_in(http, keys, client)
    third_party = await _kept(pool, client, settings, f"Re: {ref}", "Roy <roy@example.net>")
    missing = f"{settings.reference_prefix}-2026-999999"
    unknown = await _kept(pool, client, settings, f"Re: {missing}", "Paul <paul@example.net>")
    noise = await _kept(pool, client, settings, f"Re: {ref} (copie)", "Zoé <zoe@example.net>")
    before = len((await history_of(client.get_workflow_handle(ref))).signals)

    await with_password(pool, "Irène")
    await sign_in(http, "Irène")
    assert (await http.get("/console/tri")).status_code == 403  # intake does not handle
    http.cookies.clear()
    await with_password(pool, "Alice")
    await sign_in(http, "Alice")
    page = await http.get("/console/tri")
    assert page.status_code == 200
    assert all(
        f'data-message="{m}"' in page.text.replace("&lt;", "<").replace("&gt;", ">")
        for m in (third_party, unknown, noise)
    )
    assert "n'est pas de l'adresse du réclamant" in shown(page)
    assert "cite une référence absente du registre" in shown(page)
    csrf = hidden(page, "csrf")
    nowhere = await http.post("/console/tri/rattacher", data={"csrf": csrf, "message": noise, "reference": missing})
    assert nowhere.status_code == 409 and "Aucune réclamation de cette référence" in shown(nowhere)
    assert await _resolution(pool, noise) == (None, None, None, None)

    # attached: the run gets the message once, however often the form is posted
    for _ in range(2):
        attached = await http.post(
            "/console/tri/rattacher", data={"csrf": csrf, "message": third_party, "reference": ref}
        )
        assert attached.status_code == 303, attached.text
    assert await _resolution(pool, third_party) == ("attached", ref, "Alice", None)
    assert f"Message rattaché à {ref}." in shown(await http.get(attached.headers["location"]))
    spoofed = await http.get("/console/tri", params={"fait": "Appelez le 0800", "ref": "Appelez le 0800"})
    assert "Appelez" not in shown(spoofed)  # only a known word and a reference of the register are shown
    [entry] = await journal_of(pool, ref, "triage_attached")
    assert entry["actor"] == "Alice" and entry["details"]["from"] == "roy@example.net"
    await eventually(lambda: journal_of(pool, ref, "customer_message"))
    [filed] = await journal_of(pool, ref, "customer_message")
    assert "Message de Roy <roy@example.net>" in filed["details"]["message"]
    history = await wait_until_idle(client.get_workflow_handle(ref))
    assert history.signals[before:] == ["customer_reply"]

    # made a new complaint, once, its sender the complainant
    for _ in range(2):
        made = await http.post("/console/tri/creer", data={"csrf": csrf, "message": unknown})
        assert made.status_code == 303
    resolution, new_ref, by, _ = await _resolution(pool, unknown)
    assert (resolution, by) == ("new_complaint", "Alice") and new_ref != ref
    assert await pool.fetchval("SELECT complainant_email FROM complaints WHERE reference = $1", new_ref) == (
        "paul@example.net"
    )
    assert len(await journal_of(pool, new_ref, "triage_made_complaint")) == 1
    assert await pool.fetchval("SELECT count(*) FROM complaints") == 2

    # discarded: a reason is required; journaled on the complaint it named
    no_reason = await http.post("/console/tri/ecarter", data={"csrf": csrf, "message": noise, "motif": " "})
    assert no_reason.status_code == 422 and "Dites pourquoi" in shown(no_reason)
    assert await _resolution(pool, noise) == (None, None, None, None)
    discarded = await http.post("/console/tri/ecarter", data={"csrf": csrf, "message": noise, "motif": "Doublon"})
    assert discarded.status_code == 303
    assert await _resolution(pool, noise) == ("discarded", None, "Alice", "Doublon")
    [dropped] = await journal_of(pool, ref, "triage_discarded")
    assert dropped["details"]["note"] == "Doublon"

    # a message resolved one way is not resolved another; a form without its token is refused
    other = await http.post("/console/tri/rattacher", data={"csrf": csrf, "message": noise, "reference": ref})
    assert other.status_code == 409 and "déjà été traité autrement" in shown(other)
    forged = await http.post("/console/tri/ecarter", data={"csrf": "faux", "message": noise, "motif": "x"})
    assert forged.status_code in (400, 403)
    assert len(await journal_of(pool, ref, "triage_attached")) == 1
    assert "Aucun message à trier." in shown(await http.get("/console/tri"))
