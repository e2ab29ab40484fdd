"""The complainant's pages over HTTP: the complaint form (errors in French
next to the fields, nothing lost, nothing stored), the confirmation, and the
status page's forms to reply with documents, accept or contest, and answer
the survey."""

import re

import asyncpg
import httpx
import pytest
from babel.dates import format_date
from pydantic import ValidationError
from temporalio.client import Client

from api.app import create_app
from api.body_limit import request_body_limit
from complaints.complaint_status import Phase
from complaints.policy import PriorityDeadlines, Span
from complaints.settings import Settings
from tests.helpers.complaint_workflow import wait_for_phase
from tests.helpers.examples import ARGUED, CUSTOMER
from tests.helpers.mailbox import Mailbox, body_of, status_link_in
from tests.helpers.register import table_counts
from tests.helpers.web import path_of, shown

FORM = {
    "nom": "Jeanne Martin",
    "email": CUSTOMER,
    "telephone": "",
    "adresse": "",
    "numero_client": "C-1234",
    "objet": "Colis abîmé",
    "produit": "Vase Médicis",
    "description": "Le colis est arrivé ouvert et le vase était cassé.",
    "solution": "Le remplacement du vase",
}


def _form_id(page: httpx.Response) -> str:
    return _found(r'name="form_id" value="([^"]+)"', page.text)


def _found(pattern: str, text: str) -> str:
    """The pattern's first group in the text, which must hold it."""
    found = re.search(pattern, text)
    assert found, f"{pattern!r} not in:\n{text}"
    return found[1]


async def test_the_form_records_a_web_complaint_once_and_confirms_it(
    http: httpx.AsyncClient, client: Client, pool: asyncpg.Pool, mailbox: Mailbox, settings: Settings, worker
) -> None:
    assert (await http.get("/")).headers["location"] == "/reclamation"
    form = await http.get("/reclamation")
    assert form.status_code == 200 and form.headers["content-type"].startswith("text/html")
    assert "Déposer une réclamation" in shown(form) and 'lang="fr"' in form.text
    data = {**FORM, "form_id": _form_id(form)}
    photo = ("documents", ("photo.jpg", b"\xff\xd8\xff fake jpeg", "image/jpeg"))

    sent = await http.post("/reclamation", data=data, files=[photo])
    assert sent.status_code == 303
    confirmation = await http.get(sent.headers["location"])
    assert confirmation.status_code == 200
    text = shown(confirmation)
    ref = _found(r"Référence : (\S+)", text)
    assert "Votre réclamation est enregistrée" in text and "Et maintenant ?" in text
    assert f"Vous recevez à {CUSTOMER} un accusé de réception" in text
    assert "Vous recevez une réponse argumentée au plus tard le" in text

    row = await pool.fetchrow("SELECT * FROM complaints WHERE reference = $1", ref)
    assert (row["channel"], row["complainant_name"], row["customer_id"], row["complainant_phone"]) == (
        "web",
        "Jeanne Martin",
        "C-1234",
        None,
    )
    assert await pool.fetchval("SELECT filename FROM documents WHERE complaint_reference = $1", ref) == "photo.jpg"

    resent = await http.post("/reclamation", data=data, files=[photo])  # back button, second click
    assert shown(await http.get(resent.headers["location"])).count(ref) == 1
    assert await pool.fetchval("SELECT count(*) FROM complaints") == 1
    [ack] = await mailbox.wait_for(CUSTOMER)
    assert ref in str(ack["Subject"])
    await wait_for_phase(client, ref, Phase.ASSESSMENT)
    status = await http.get(path_of(status_link_in(ack)))
    assert "Accusé de réception envoyé par email" in shown(status) and "Réclamation reçue" in shown(status)

    expired = await http.get("/reclamation/enregistree?token=forged")
    assert expired.status_code == 403


async def test_the_pages_give_the_regimes_answer_date_as_its_last_day(
    client: Client, pool: asyncpg.Pool, mailbox: Mailbox, settings: Settings, worker
) -> None:
    # Payment services: answered within 15 jours ouvrables, due at 24:00 of the last one;
    # internal response deadlines longer than that stop at it.
    late = PriorityDeadlines(assessment=Span.model_validate("5 days"), response=Span.model_validate("3 months"))
    payments = settings.model_copy(
        update={
            "default_regime": "payment_services",
            "priority_deadlines": dict.fromkeys(("P1", "P2", "P3", "P4"), late),
        }
    )
    transport = httpx.ASGITransport(app=create_app(payments, pool, client))
    async with httpx.AsyncClient(transport=transport, base_url="http://test") as web:
        sent = await web.post("/reclamation", data={**FORM, "form_id": "f-payments"})
        confirmation = shown(await web.get(sent.headers["location"]))
        ref = _found(r"Référence : (\S+)", confirmation)
        row = await pool.fetchrow("SELECT sent_at, received_at FROM complaints WHERE reference = $1", ref)
        policy = payments.complaint_policy_at(row["sent_at"])
        due = policy.regulatory_due("payment_services", row["sent_at"], row["received_at"])
        last_day = format_date(policy.calendar.last_day(due), format="long", locale=payments.locale)
        assert f"Vous recevez une réponse argumentée au plus tard le {last_day}." in confirmation
        [ack] = await mailbox.wait_for(CUSTOMER)
        assert f"au plus tard le {last_day}." in body_of(ack)
        await wait_for_phase(client, ref, Phase.ASSESSMENT)
        status = shown(await web.get(path_of(status_link_in(ack))))
        assert f"Vous recevrez notre réponse argumentée au plus tard le {last_day}." in status


async def test_invalid_or_oversize_forms_are_shown_again_with_french_errors_and_nothing_is_stored(
    http: httpx.AsyncClient, pool: asyncpg.Pool, settings: Settings
) -> None:
    before = await table_counts(pool)
    form_id = _form_id(await http.get("/reclamation"))
    invalid = {
        **FORM,
        "form_id": form_id,
        "email": "jeanne-at-example",
        "objet": "",
        "description": "<b>gras</b> cassé",
    }
    page = await http.post("/reclamation", data=invalid)
    assert page.status_code == 422
    text = shown(page)
    assert "Votre réclamation n'est pas encore envoyée : corrigez les champs signalés." in text
    assert "Cette adresse email n'est pas valide." in text and "Ce champ est obligatoire." in text
    # what was typed is kept (escaped), the same form id too
    assert "&lt;b&gt;gras&lt;/b&gt; cassé</textarea>" in page.text and "<b>gras" not in page.text
    assert 'value="jeanne-at-example"' in page.text and _form_id(page) == form_id

    unreachable = await http.post("/reclamation", data={**FORM, "form_id": form_id, "email": ""})
    assert "Indiquez au moins un moyen de vous joindre" in shown(unreachable)

    too_big = b"x" * (settings.max_document_bytes + 1)
    oversize = await http.post(
        "/reclamation",
        data={**FORM, "form_id": form_id},
        files=[("documents", ("scan.pdf", too_big, "application/pdf"))],
    )
    assert oversize.status_code == 413
    assert "scan.pdf : document trop volumineux (10.0 Mo au plus par document)." in shown(oversize)
    assert 'value="Colis abîmé"' in oversize.text  # the rest of the form is kept

    huge = await http.post(
        "/reclamation",
        content=b"x",
        headers={"Content-Length": str(request_body_limit(settings) + 1), "Accept": "text/html"},
    )
    assert huge.status_code == 413 and "rien n'a été enregistré" in shown(huge)

    executable = await http.post(
        "/reclamation",
        data={**FORM, "form_id": form_id},
        files=[("documents", ("setup.exe", b"MZ", "application/x-msdownload"))],
    )
    assert executable.status_code == 422 and "Ce type de fichier n'est pas accepté" in shown(executable)
    assert await table_counts(pool) == before


async def test_the_customer_replies_accepts_and_answers_the_survey_on_the_status_page(
    http: httpx.AsyncClient, keys, client: Client, pool: asyncpg.Pool, mailbox: Mailbox, worker
) -> None:
    sent = await http.post("/reclamation", data={**FORM, "form_id": "f-1"})
    ref = _found(r"Référence : (\S+)", shown(await http.get(sent.headers["location"])))
    await wait_for_phase(client, ref, Phase.ASSESSMENT)
    base = f"/complaints/{ref}"
    await http.post(f"{base}/assessment", json={}, headers=keys["handler"])
    await http.post(
        f"{base}/information-requests", json={"questions": "Le numéro de commande ?"}, headers=keys["handler"]
    )
    link = path_of(status_link_in((await mailbox.wait_for(CUSTOMER, count=2))[-1]))

    page = await http.get(link)
    assert "Le numéro de commande ?" in shown(page) and "Envoyer ma réponse" in shown(page)
    reply_action = _found(r'action="(/suivi/[^"]+/reponse\?token=[^"]+)"', page.text)
    empty = await http.post(
        reply_action, data={"message": " "}, files=[("documents", ("", b"", "application/octet-stream"))]
    )
    assert empty.status_code == 422 and "Écrivez un message ou joignez un document." in shown(empty)
    replied = await http.post(
        reply_action,
        data={"message": "Commande 8812"},
        files=[("documents", ("facture.pdf", b"%PDF-1.4", "application/pdf"))],
    )
    assert replied.status_code == 303
    thanked = await http.get(replied.headers["location"])
    assert "Merci : votre message nous est parvenu." in shown(thanked)
    await wait_for_phase(client, ref, Phase.HANDLING)
    assert (
        await pool.fetchval(
            "SELECT count(*) FROM documents WHERE complaint_reference = $1 AND source = 'customer_reply'", ref
        )
        == 1
    )

    await http.post(f"{base}/decision", json={"outcome": "accepted", "justification": ARGUED}, headers=keys["handler"])
    await wait_for_phase(client, ref, Phase.RESPONDED)
    page = await http.get(link)
    assert ARGUED in shown(page) and "J'accepte la réponse" in shown(page)
    verdict_action = _found(r'action="(/suivi/[^"]+/verdict\?token=[^"]+)"', page.text)
    # a message besides: "Nous écrire"; the same form sent twice is one message
    assert "Nous écrire" in shown(page)
    reply_id = _found(r'name="reply_id" value="([^"]+)"', page.text)
    for _ in range(2):
        sent = await http.post(reply_action, data={"message": "Le livreur était pressé.", "reply_id": reply_id})
        assert sent.status_code == 303
    accepted = await http.post(verdict_action, data={"choix": "accepter"})
    assert "Merci : vous avez accepté notre réponse." in shown(await http.get(accepted.headers["location"]))
    await wait_for_phase(client, ref, Phase.SURVEY)

    page = await http.get(link)
    survey_action = _found(r'action="(/suivi/[^"]+/enquete\?token=[^"]+)"', page.text)
    incomplete = await http.post(survey_action, data={"csat": "4"})
    assert incomplete.status_code == 422 and "Répondez aux trois premières questions" in shown(incomplete)
    answered = await http.post(survey_action, data={"csat": "4", "ces": "2", "nps": "9", "commentaire": "Merci"})
    assert answered.status_code == 303
    await wait_for_phase(client, ref, Phase.CLOSED)
    messages = await pool.fetchval(
        "SELECT count(*) FROM journal WHERE complaint_reference = $1 AND event = 'customer_message'", ref
    )
    assert messages == 1
    survey = await pool.fetchrow("SELECT csat, ces, nps, comment FROM surveys WHERE complaint_reference = $1", ref)
    assert tuple(survey) == (4, 2, 9, "Merci")
    closed = shown(await http.get(link))
    assert "Clôturée" in closed and "Vous avez accepté notre réponse" in closed and "Merci pour votre avis" in closed
    late = await http.post(verdict_action, data={"choix": "contester", "motif": "trop tard"})
    assert late.status_code == 409 and "Cette réclamation est clôturée." in shown(late)


async def test_a_flood_of_forms_from_one_address_is_refused(
    settings: Settings, pool: asyncpg.Pool, client: Client
) -> None:
    limited = settings.model_copy(update={"public_form_rate": "2/minute"})
    app = create_app(limited, pool, client)

    def browser(address: str) -> httpx.AsyncClient:
        transport = httpx.ASGITransport(app=app, client=(address, 40000))
        return httpx.AsyncClient(transport=transport, base_url="http://complaints.test")

    unnamed = {**FORM, "nom": "", "form_id": "flood"}  # refused by validation: nothing stored either way
    async with browser("203.0.113.7") as flooding, browser("198.51.100.4") as other:
        assert [(await flooding.post("/reclamation", data=unnamed)).status_code for _ in range(2)] == [422, 422]
        refused = await flooding.post("/reclamation", data=unnamed)
        elsewhere = await other.post("/reclamation", data=unnamed)

    assert refused.status_code == 429 and 0 < int(refused.headers["retry-after"]) <= 60
    assert "Trop de formulaires envoyés depuis votre connexion" in shown(refused)
    # refused before the body is read: the browser's back button keeps what was typed
    assert "Revenez à la page précédente (ce que vous avez écrit y est encore) et renvoyez-la dans une minute" in shown(
        refused
    )
    assert elsewhere.status_code == 422  # another address is not held back
    assert await table_counts(pool) == {"complaints": 0, "documents": 0, "journal": 0, "outbox": 0}


def test_a_rate_that_cannot_be_read_is_refused_at_start() -> None:
    with pytest.raises(ValidationError, match="couldn't parse rate limit string 'ten a minute'"):
        Settings(public_form_rate="ten a minute")
