"""Issue 14's attacks on the HTTP API and the customer endpoints, each made
through the real app and shown refused with nothing stored or changed."""

import httpx
from temporalio.client import Client

from tests.helpers.examples import COMPLAINT
from tests.helpers.web import taken_in


async def test_operator_answers_never_carry_a_customer_token(
    http: httpx.AsyncClient, keys, client: Client, worker
) -> None:
    """Finding 2: a token in an operator's answer would let any intake key
    accept a response or fill the survey as the complainant."""
    created = await http.post("/complaints", json=_complaint("Nadia"), headers=keys["intake"])
    assert created.status_code == 201, created.text
    ref = await taken_in(http, keys, client)
    answers = [
        created,
        await http.get(f"/complaints/{ref}", headers=keys["intake"]),
        await http.get("/complaints", headers=keys["handler"]),
        await http.post(f"/complaints/{ref}/assignment", json={"handler": "Alice"}, headers=keys["handler"]),
    ]
    for answer in answers:
        assert answer.status_code < 300, answer.text
        assert "token=" not in answer.text and "/suivi/" not in answer.text, answer.request.url


def _complaint(name: str) -> dict:
    return {**COMPLAINT, "complainant": {"name": name, "email": f"{name.lower()}@example.com"}}
