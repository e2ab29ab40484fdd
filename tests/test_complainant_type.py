"""Consumer or professional, as the complainant says at intake: through the
API, the public form, the console's phone intake and a CSV import, kept in the
register and given in its export for the supervisor; a value that is neither
is refused with the field named and nothing stored."""

import csv
import io
import re
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import asyncpg
import httpx
from temporalio.client import Client

from bulk_import.csv_rows import read_rows
from bulk_import.importer import import_rows
from complaints.settings import Settings
from complaints.submission import Channel
from tests.helpers.console import hidden, sign_in, with_password
from tests.helpers.examples import COMPLAINT, CUSTOMER

PERSON: dict[str, Any] = {"name": "Jeanne Martin", "email": CUSTOMER}


async def _type_of(pool: asyncpg.Pool, reference: str) -> str | None:
    return await pool.fetchval("SELECT complainant_type FROM complaints WHERE reference = $1", reference)


async def test_the_api_keeps_the_type_and_the_export_gives_it(
    http: httpx.AsyncClient, keys: dict, pool: asyncpg.Pool
) -> None:
    body = {**COMPLAINT, "complainant": {**PERSON, "type": "professional"}}
    answer = await http.post("/complaints", json=body, headers=keys["intake"])
    assert answer.status_code == 201, answer.text
    reference = answer.json()["reference"]
    assert await _type_of(pool, reference) == "professional"
    detail = (await http.get(f"/complaints/{reference}", headers=keys["handler"])).json()
    assert detail["complainant"]["type"] == "professional"

    today = datetime.now(UTC).date()
    period = f"from={today - timedelta(days=1)}&to={today + timedelta(days=1)}"
    exported = await http.get(f"/reports/register?{period}", headers=keys["manager"])
    [row] = list(csv.DictReader(io.StringIO(exported.text)))
    assert (row["reference"], row["complainant_type"]) == (reference, "professional")


async def test_a_type_that_is_neither_is_refused_with_the_field(
    http: httpx.AsyncClient, keys: dict, pool: asyncpg.Pool
) -> None:
    body = {**COMPLAINT, "complainant": {**PERSON, "type": "company"}}
    answer = await http.post("/complaints", json=body, headers=keys["intake"])
    assert answer.status_code == 422
    assert "complainant.type" in answer.text
    assert await pool.fetchval("SELECT count(*) FROM complaints") == 0


async def test_the_public_form_asks_it_and_it_may_be_left_unsaid(
    http: httpx.AsyncClient, client: Client, pool: asyncpg.Pool
) -> None:
    references = []
    for chosen in ("consumer", ""):
        form = await http.get("/reclamation")
        assert 'name="qualite" value="consumer"' in form.text and "un professionnel" in form.text
        form_id = re.search(r'name="form_id" value="([^"]+)"', form.text)
        assert form_id
        data = {
            "form_id": form_id[1],
            "nom": "Jeanne Martin",
            "email": CUSTOMER,
            "objet": "Colis abîmé",
            "description": "Le vase est cassé.",
            **({"qualite": chosen} if chosen else {}),
        }
        sent = await http.post("/reclamation", data=data)
        assert sent.status_code == 303, sent.text
        references.append(await pool.fetchval("SELECT reference FROM complaints ORDER BY received_at DESC LIMIT 1"))
    assert [await _type_of(pool, reference) for reference in references] == ["consumer", None]


async def test_the_console_takes_it_in_from_a_phone_call(
    http: httpx.AsyncClient, keys: dict, pool: asyncpg.Pool
) -> None:
    await with_password(pool, "Irène")
    await sign_in(http, "Irène")
    form = await http.get("/console/nouvelle")
    assert '<option value="professional">professionnel</option>' in form.text
    fields = {
        "csrf": hidden(form, "csrf"),
        "form_id": hidden(form, "form_id"),
        "canal": "phone",
        "nom": "Garage Martin",
        "qualite": "professional",
        "telephone": "0102030405",
        "objet": "Facture",
        "description": "La facture compte deux fois la pièce.",
    }
    taken = await http.post("/console/nouvelle", data=fields)
    assert taken.status_code == 303
    reference = taken.headers["location"].split("/")[-1].split("?")[0]
    assert await _type_of(pool, reference) == "professional"
    page = await http.get(f"/console/reclamations/{reference}")
    assert "Garage Martin (professionnel)" in page.text


async def test_a_csv_import_reads_it_from_its_column(
    pool: asyncpg.Pool, client: Client, settings: Settings, tmp_path: Path
) -> None:
    path = tmp_path / "reclamations.csv"
    path.write_text(
        "name,email,complainant_type,subject,description\n"
        "Jeanne Martin,jeanne@example.com,consumer,Colis abîmé,Le vase est cassé.\n"
        "Garage Martin,garage@example.com,professional,Facture,La facture est fausse.\n"
        "Paul Durand,paul@example.com,societe,Retard,Livré en retard.\n",
        encoding="utf-8",
    )
    rows = read_rows(path, Channel.IMPORT, settings.document_limits, settings.timezone, datetime.now(UTC))
    report = await import_rows(pool, client, settings, rows, actor="t", source=path.name)
    assert [line for line, _ in report.imported] == [2, 3]
    [invalid] = report.invalid
    assert invalid.line == 4 and "complainant.type" in str(invalid.problems)
    stored = dict(await pool.fetch("SELECT complainant_name, complainant_type FROM complaints"))
    assert stored == {"Jeanne Martin": "consumer", "Garage Martin": "professional"}
