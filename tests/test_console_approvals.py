"""The managers' approvals queue: compensations waiting for a manager, oldest
request first, with the amount, the proposer and the justification; approved
or refused with a comment from the queue itself (the complaint page's own
command), never by the proposer."""

import html
import re

import asyncpg
import httpx
from temporalio.client import Client

from complaints.complaint_status import Phase
from tests.helpers.complaint_workflow import wait_for_phase
from tests.helpers.console import send_command, signed_in_as
from tests.helpers.examples import ARGUED
from tests.helpers.web import shown, taken_in


async def _proposed(http: httpx.AsyncClient, keys: dict, client: Client, amount: str, why: str) -> str:
    """A complaint whose compensation above the threshold waits for a manager (proposed by who is signed in)."""
    ref = await taken_in(http, keys, client)
    assert (await send_command(http, ref, "assessment", {})).status_code == 303
    await wait_for_phase(client, ref, Phase.HANDLING)
    decision = {
        "outcome": "accepted",
        "justification": f"{ARGUED} {why}",
        "compensation.kind": "refund",
        "compensation.amount": amount,
        "compensation.description": "prix du vase",
    }
    assert (await send_command(http, ref, "decision", decision)).status_code == 303
    await wait_for_phase(client, ref, Phase.AWAITING_APPROVAL)
    return ref


def _row(page: httpx.Response, ref: str) -> str:
    return page.text.split(f'<tr data-reference="{ref}">')[1].split("</tr>")[0]


def _form_fields(row: str) -> dict[str, str]:
    return {name: html.unescape(value) for name, value in re.findall(r'name="(\w+)" value="([^"]*)"', row)}


async def _events(pool: asyncpg.Pool, ref: str) -> list[tuple[str, str, str | None]]:
    rows = await pool.fetch(
        """SELECT event, actor, details->>'comment' AS comment FROM journal
            WHERE complaint_reference = $1 AND event IN ('compensation_approved', 'compensation_refused')
            ORDER BY id""",
        ref,
    )
    return [(row["event"], row["actor"], row["comment"]) for row in rows]


async def test_managers_approve_and_refuse_from_the_queue_never_their_own(
    http: httpx.AsyncClient, keys: dict, client: Client, pool: asyncpg.Pool, worker
) -> None:
    await signed_in_as(http, pool, "Chloé")
    first = await _proposed(http, keys, client, "250.00", "Le vase était fragile.")
    await signed_in_as(http, pool, "Denis")
    second = await _proposed(http, keys, client, "310.50", "Deuxième envoi raté.")

    queue = await http.get("/console/files/approbations")
    assert queue.status_code == 200
    assert queue.text.index(f'data-reference="{first}"') < queue.text.index(f'data-reference="{second}"')
    chloe_row, denis_row = _row(queue, first), _row(queue, second)
    assert "250.00 €" in chloe_row and "Chloé" in chloe_row and "Le vase était fragile." in chloe_row
    assert "Remboursement" in chloe_row and "prix du vase" in chloe_row
    assert "310.50 €" in denis_row and "Deuxième envoi raté." in denis_row
    assert "<form" not in denis_row and "un autre responsable doit l'approuver" in denis_row

    fields = _form_fields(chloe_row)
    approved = await http.post(
        f"/console/reclamations/{first}/commandes/approval",
        data={**fields, "approved": "true", "comment": "Geste justifié"},
    )
    assert approved.status_code == 303 and approved.headers["location"] == f"/console/files/approbations?fait={first}"
    again = await http.post(  # the same form posted twice: the verdict is recorded once
        f"/console/reclamations/{first}/commandes/approval",
        data={**fields, "approved": "true", "comment": "Geste justifié"},
    )
    assert again.status_code in (303, 409)
    await wait_for_phase(client, first, Phase.RESPONDED)
    assert await _events(pool, first) == [("compensation_approved", "Denis", "Geste justifié")]
    after = await http.get(approved.headers["location"])
    assert (
        f"Votre décision sur {first} est enregistrée." in shown(after) and f'data-reference="{first}"' not in after.text
    )
    assert "Appelez" not in shown(await http.get("/console/files/approbations?fait=Appelez%20le%200800"))

    await signed_in_as(http, pool, "Chloé")
    queue = await http.get("/console/files/approbations")
    refused = await http.post(
        f"/console/reclamations/{second}/commandes/approval",
        data={**_form_fields(_row(queue, second)), "approved": "false", "comment": "Trop élevé : 100 € au plus"},
    )
    assert refused.status_code == 303
    await wait_for_phase(client, second, Phase.HANDLING)
    assert await _events(pool, second) == [("compensation_refused", "Chloé", "Trop élevé : 100 € au plus")]
    assert "Aucune compensation n'attend" in (await http.get("/console/files/approbations")).text

    await signed_in_as(http, pool, "Alice")  # a handler has no approvals queue
    assert (await http.get("/console/files/approbations")).status_code == 403
