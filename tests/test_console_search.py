"""The console's search: a reference or an email exactly, else French full
text over the name, email, subject and description (stemmed: « cassés »
finds « cassé »), through the register's index."""

import asyncpg
import httpx

from complaints.intake import record_complaint
from complaints.settings import Settings
from tests.helpers.console import sign_in, with_password
from tests.helpers.web import shown


async def test_search_by_reference_email_name_and_words(
    http: httpx.AsyncClient, pool: asyncpg.Pool, settings: Settings, complaint, keys: dict
) -> None:
    vase = await record_complaint(pool, settings, complaint(), actor="test")
    invoice = await record_complaint(
        pool,
        settings,
        complaint(
            complainant={"name": "Paul Durand", "email": "paul@example.com"},
            subject="Facture erronée",
            description="Les frais de livraison sont comptés deux fois.",
        ),
        actor="test",
    )
    await with_password(pool, "Alice")
    await sign_in(http, "Alice")

    async def found(text: str) -> set[str]:
        page = await http.get("/console/recherche", params={"q": text})
        assert page.status_code == 200
        return {ref for ref in (vase.reference, invoice.reference) if ref in shown(page)}

    assert await found(invoice.reference.lower()) == {invoice.reference}
    assert await found("PAUL@example.com") == {invoice.reference}
    assert await found("durand") == {invoice.reference}
    assert await found("factures") == {invoice.reference}  # French stemming
    assert await found("colis") == {vase.reference}
    assert await found("livraison") == {invoice.reference}
    assert await found("introuvable") == set()
    assert await pool.fetchval("SELECT count(*) FROM pg_indexes WHERE indexname = 'complaints_search'") == 1
