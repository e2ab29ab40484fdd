"""The complainant's links open only their complaint, their action, and only
while they are current; what the pages and emails show cannot be turned into
markup, headers or extra recipients."""

import time
from datetime import timedelta
from urllib.parse import parse_qs, urlsplit

import httpx
import pytest
from temporalio.client import Client

from complaints.links import LinkAction, LinkSigner, link_secret
from complaints.settings import Settings
from tests.helpers.examples import COMPLAINT, CUSTOMER
from tests.helpers.mailbox import Mailbox, status_link_in
from tests.helpers.web import customer_api, path_of, shown, taken_in


def _token(link: str) -> str:
    return parse_qs(urlsplit(link).query)["token"][0]


async def test_tampered_expired_and_other_complaints_links_are_refused(
    http: httpx.AsyncClient, keys, client: Client, settings: Settings, mailbox: Mailbox, worker
) -> None:
    first = await taken_in(http, keys, client)
    second = await taken_in(
        http, keys, client, {**COMPLAINT, "complainant": {"name": "Luc", "email": "luc@example.com"}}
    )
    link = status_link_in((await mailbox.wait_for(CUSTOMER))[0])
    token = _token(link)
    page = await http.get(path_of(link))
    assert page.status_code == 200 and first in page.text

    tampered = token[:-3] + ("AAA" if not token.endswith("AAA") else "BBB")
    for path in (f"/suivi/{first}?token={tampered}", f"/suivi/{first}?token=", f"/suivi/{first}"):
        refused = await http.get(path)
        assert refused.status_code == 403 and "Ce lien n'est pas valide" in shown(refused), path
    other = await http.get(f"/suivi/{second}?token={token}")
    assert other.status_code == 403 and second not in other.text
    api_other = await http.get(f"/complaints/{second}/customer?token={token}")
    assert api_other.status_code == 403 and api_other.json()["detail"] == "this link belongs to another complaint"

    secret = link_secret(settings)
    long_ago = LinkSigner(secret, timedelta(days=90), clock=lambda: time.time() - 91 * 86400)
    expired = long_ago.sign(first, LinkAction.STATUS)
    page = await http.get(f"/suivi/{first}?token={expired}")
    assert page.status_code == 403 and "Ce lien a expiré" in page.text
    assert "expired" in (await http.get(f"/complaints/{first}/customer?token={expired}")).json()["detail"]
    forged = LinkSigner("not the secret", timedelta(days=90)).sign(first, LinkAction.STATUS)
    assert (await http.get(f"/suivi/{first}?token={forged}")).status_code == 403

    # a token allows one action: the status link cannot accept, reply or answer the survey
    for action in ("accept", "reply", "survey", "contest"):
        misused = await http.post(f"/complaints/{first}/customer/{action}?token={token}", json={})
        assert misused.status_code == 403, action
    confirmation = LinkSigner(secret, timedelta(days=90)).sign(first, LinkAction.CONFIRMATION)
    assert (await http.get(f"/suivi/{first}?token={confirmation}")).status_code == 403
    # and a valid action comes at its time only: nothing to accept yet
    verdict = LinkSigner(secret, timedelta(days=90)).sign(first, LinkAction.VERDICT)
    early = await http.post(f"/complaints/{first}/customer/accept?token={verdict}")
    assert early.status_code == 409
    status = await client.get_workflow_handle(first).query("status")
    assert status["verdict_received"] is None


async def test_the_customer_never_sees_internal_notes_or_who_handles_the_complaint(
    http: httpx.AsyncClient, keys, client: Client, mailbox: Mailbox, worker
) -> None:
    ref = await taken_in(http, keys, client)
    await http.post(f"/complaints/{ref}/assessment", json={}, headers=keys["handler"])
    await http.post(f"/complaints/{ref}/assignment", json={"handler": "Alice Secret"}, headers=keys["handler"])
    await http.post(
        f"/complaints/{ref}/notes", json={"text": "NOTE-INTERNE client procédurier"}, headers=keys["handler"]
    )
    await http.post(f"/complaints/{ref}/progress-updates", json={"message": "Nous avançons."}, headers=keys["handler"])
    link = status_link_in((await mailbox.wait_for(CUSTOMER, count=2))[-1])

    page = await http.get(path_of(link))
    assert page.status_code == 200
    assert "NOTE-INTERNE" not in page.text and "Alice Secret" not in page.text
    assert "Point d'avancement envoyé par email" in shown(page) and "En cours de traitement" in shown(page)
    view = await http.get(customer_api(link))
    assert "NOTE-INTERNE" not in view.text and "Alice" not in view.text
    operator_view = (await http.get(f"/complaints/{ref}", headers=keys["handler"])).json()
    [note] = [e for e in operator_view["timeline"] if e["event"] == "internal_note"]
    assert note["visible_to_customer"] is False and note["actor"] == "Alice"
    assert page.headers["referrer-policy"] == "no-referrer"  # the link's token stays out of Referer
    assert "script-src" not in page.headers["content-security-policy"]


INJECTED = {
    **COMPLAINT,
    "complainant": {"name": "Jeanne\r\nBcc: spy@evil.example", "email": CUSTOMER},
    "subject": "<script>alert('x')</script> Colis\r\nBcc: spy@evil.example\r\nX-Injected: yes",
    "description": "<img src=x onerror=alert(1)> le vase est cassé",
}


async def test_markup_and_header_injection_is_inert_in_pages_and_emails(
    http: httpx.AsyncClient, keys, client: Client, mailbox: Mailbox, worker, monkeypatch: pytest.MonkeyPatch
) -> None:
    recipients: list[str] = []
    original = mailbox.sink.handle_RCPT

    async def recording(server, session, envelope, address, options):
        recipients.append(address)
        return await original(server, session, envelope, address, options)

    monkeypatch.setattr(mailbox.sink, "handle_RCPT", recording)
    ref = await taken_in(http, keys, client, INJECTED)
    [ack] = await mailbox.wait_for(CUSTOMER)
    assert recipients == [CUSTOMER]  # the SMTP envelope: the complainant only
    assert ack["Bcc"] is None and ack["Cc"] is None and ack["X-Injected"] is None
    assert "\n" not in str(ack["Subject"]) and ref in str(ack["Subject"])
    assert ack["To"] == CUSTOMER

    page = await http.get(path_of(status_link_in(ack)))
    assert "<script>alert" not in page.text
    assert "&lt;script&gt;alert(&#39;x&#39;)&lt;/script&gt; Colis Bcc: spy@evil.example X-Injected: yes" in page.text

    for email in (f"{CUSTOMER}\r\nBcc: spy@evil.example", f"{CUSTOMER}, spy@evil.example", "spy@evil.example\nX: y"):
        refused = await http.post(
            "/complaints", json={**COMPLAINT, "complainant": {"name": "Jeanne", "email": email}}, headers=keys["intake"]
        )
        assert refused.status_code == 422 and refused.json()["errors"][0]["field"] == "complainant.email", email
    assert recipients == [CUSTOMER]
