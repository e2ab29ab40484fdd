"""Taking complaints in over the HTTP API, end to end on the real stack:
JSON and multipart, idempotent retries, the register's list and detail, and
bad input refused with its reason and nothing stored."""

import base64
import json
from collections.abc import AsyncIterator
from http import HTTPStatus

import asyncpg
import httpx
from temporalio.client import Client

from api.body_limit import request_body_limit
from complaints.complaint_status import Phase
from complaints.settings import Settings
from tests.helpers.complaint_workflow import wait_for_phase
from tests.helpers.examples import COMPLAINT, CUSTOMER
from tests.helpers.mailbox import Mailbox, body_of, status_link_in
from tests.helpers.register import table_counts

PDF = b"%PDF-1.4 the delivery slip"


async def test_json_complaint_is_recorded_started_acknowledged_and_readable(
    http: httpx.AsyncClient, keys, client: Client, pool: asyncpg.Pool, mailbox: Mailbox, worker
) -> None:
    body = {
        **COMPLAINT,
        "documents": [
            {
                "filename": "bordereau.pdf",
                "content_type": "application/pdf",
                "content_base64": base64.b64encode(PDF).decode(),
            },
        ],
    }
    answer = await http.post("/complaints", json=body, headers=keys["intake"])
    assert answer.status_code == 201, answer.text
    submitted = answer.json()
    ref = submitted["reference"]
    assert submitted["created"] is True
    assert answer.headers["location"] == submitted["links"]["self"] == f"http://localhost:8000/complaints/{ref}"

    await wait_for_phase(client, ref, Phase.ASSESSMENT)
    row = await pool.fetchrow("SELECT channel FROM complaints WHERE reference = $1", ref)
    assert row["channel"] == "api"
    received = await pool.fetchrow(
        "SELECT actor FROM journal WHERE complaint_reference = $1 AND event = 'received'", ref
    )
    assert received["actor"] == "Irène"  # the key's operator took it in

    [ack] = await mailbox.wait_for(CUSTOMER)
    assert ref in str(ack["Subject"]) and "bordereau.pdf" in body_of(ack)
    assert status_link_in(ack).startswith(f"http://localhost:8000/suivi/{ref}?token=")

    detail = (await http.get(f"/complaints/{ref}", headers=keys["handler"])).json()
    assert detail["phase"] == "assessment" and detail["channel"] == "api"
    assert detail["priority"] in ("P1", "P2", "P3", "P4") and detail["sla_status"] == "on_track"
    assert detail["complainant"]["email"] == CUSTOMER
    assert {d["name"] for d in detail["deadlines"]} >= {"acknowledgement", "assessment", "response"}
    assert "received" in [e["event"] for e in detail["timeline"]]
    assert "acknowledged" in [e["event"] for e in detail["timeline"]]
    [document] = detail["documents"]
    assert (document["filename"], document["source"], document["size_bytes"]) == ("bordereau.pdf", "intake", len(PDF))
    download = await http.get(httpx.URL(document["download"]).raw_path.decode(), headers=keys["intake"])
    assert download.content == PDF
    assert download.headers["content-disposition"].startswith("attachment")
    assert detail["workflow_state"]["reference"] == ref


async def test_multipart_complaint_with_documents(
    http: httpx.AsyncClient, keys, client: Client, pool: asyncpg.Pool, worker
) -> None:
    answer = await http.post(
        "/complaints",
        data={"complaint": json.dumps(COMPLAINT)},
        files=[
            ("documents", ("photo.png", b"\x89PNG fake image", "image/png")),
            ("documents", ("lettre.pdf", PDF, "application/pdf")),
        ],
        headers=keys["handler"],
    )
    assert answer.status_code == 201, answer.text
    ref = answer.json()["reference"]
    stored = await pool.fetch(
        "SELECT filename, content_type, content FROM documents WHERE complaint_reference = $1 ORDER BY id", ref
    )
    assert [(r["filename"], r["content_type"]) for r in stored] == [
        ("photo.png", "image/png"),
        ("lettre.pdf", "application/pdf"),
    ]
    assert stored[1]["content"] == PDF
    await wait_for_phase(client, ref, Phase.ASSESSMENT)


async def test_the_same_idempotency_key_returns_the_same_complaint(
    http: httpx.AsyncClient, keys, pool: asyncpg.Pool, mailbox: Mailbox, worker
) -> None:
    headers = {**keys["intake"], "Idempotency-Key": "crm-4711"}
    first = await http.post("/complaints", json=COMPLAINT, headers=headers)
    again = await http.post("/complaints", json=COMPLAINT, headers=headers)
    assert (first.status_code, again.status_code) == (201, 200)
    assert first.json()["reference"] == again.json()["reference"]
    assert again.json()["created"] is False
    assert await pool.fetchval("SELECT count(*) FROM complaints") == 1
    await mailbox.wait_for(CUSTOMER)
    assert len(mailbox.messages(CUSTOMER)) == 1  # one acknowledgement


async def test_invalid_complaint_lists_each_field_and_stores_nothing(
    http: httpx.AsyncClient, keys, pool: asyncpg.Pool
) -> None:
    before = await table_counts(pool)
    answer = await http.post(
        "/complaints",
        json={"complainant": {"name": "Jeanne", "email": "not-an-email"}, "subject": "", "colour": "blue"},
        headers=keys["intake"],
    )
    assert answer.status_code == 422
    assert answer.headers["content-type"] == "application/problem+json"
    problem = answer.json()
    assert problem["status"] == 422 and problem["title"] == HTTPStatus(422).phrase
    fields = {e["field"]: e["message"] for e in problem["errors"]}
    assert "complainant.email" in fields and "valid email" in fields["complainant.email"]
    assert "description" in fields and "subject" in fields and "colour" in fields
    assert "complainant.email" in problem["detail"]

    unreachable = await http.post(
        "/complaints", json={**COMPLAINT, "complainant": {"name": "Jeanne"}}, headers=keys["intake"]
    )
    assert unreachable.status_code == 422
    assert unreachable.json()["errors"] == [
        {
            "field": "complainant",
            "message": "no way to reach the complainant: give an email, a phone number or a postal address",
        },
    ]

    not_json = await http.post(
        "/complaints", content=b"{oops", headers={**keys["intake"], "Content-Type": "application/json"}
    )
    assert not_json.status_code == 422 and "not valid JSON" in not_json.json()["detail"]
    wrong_type = await http.post(
        "/complaints", content=b"name=x", headers={**keys["intake"], "Content-Type": "text/plain"}
    )
    assert wrong_type.status_code == 415
    assert await table_counts(pool) == before


async def test_oversize_and_disallowed_uploads_are_refused_and_nothing_is_stored(
    http: httpx.AsyncClient, keys, pool: asyncpg.Pool, settings: Settings
) -> None:
    before = await table_counts(pool)
    complaint = {"complaint": json.dumps(COMPLAINT)}
    too_big = b"x" * (settings.max_document_bytes + 1)

    one_big_file = await http.post(
        "/complaints",
        data=complaint,
        files=[("documents", ("scan.pdf", too_big, "application/pdf"))],
        headers=keys["intake"],
    )
    assert one_big_file.status_code == 413
    assert one_big_file.json()["detail"].startswith("scan.pdf: the document is larger than the 10,485,760 bytes")

    big_base64 = await http.post(
        "/complaints",
        json={
            **COMPLAINT,
            "documents": [
                {
                    "filename": "scan.pdf",
                    "content_type": "application/pdf",
                    "content_base64": base64.b64encode(too_big).decode(),
                }
            ],
        },
        headers=keys["intake"],
    )
    assert big_base64.status_code == 413

    limit = request_body_limit(settings)
    declared = await http.post(
        "/complaints",
        content=b"{}",
        headers={**keys["intake"], "Content-Length": str(limit + 1), "Content-Type": "application/json"},
    )
    assert declared.status_code == 413 and declared.headers["content-type"] == "application/problem+json"

    async def endless() -> AsyncIterator[bytes]:  # streamed without a Content-Length
        chunk = b"A" * (1024 * 1024)
        for _ in range(limit // len(chunk) + 2):
            yield chunk

    streamed = await http.post(
        "/complaints", content=endless(), headers={**keys["intake"], "Content-Type": "application/json"}
    )
    assert streamed.status_code == 413

    executable = await http.post(
        "/complaints",
        data=complaint,
        files=[("documents", ("setup.exe", b"MZ\x90\x00", "application/x-msdownload"))],
        headers=keys["intake"],
    )
    assert executable.status_code == 422
    [error] = executable.json()["errors"]
    assert (
        error["field"] == "documents.0.content_type"
        and "'application/x-msdownload' is not accepted" in error["message"]
    )

    unknown_name = await http.post(
        "/complaints",
        data=complaint,
        files=[("documents", ("notes.xyz", b"data", "application/octet-stream"))],
        headers=keys["intake"],
    )
    assert unknown_name.status_code == 422

    too_many = await http.post(
        "/complaints",
        data=complaint,
        files=[
            ("documents", (f"p{i}.txt", f"page {i}".encode(), "text/plain")) for i in range(settings.max_documents + 1)
        ],
        headers=keys["intake"],
    )
    assert too_many.status_code == 422 and "at most 10 are accepted" in too_many.text
    assert await table_counts(pool) == before


async def test_operators_list_the_register_with_filters_and_pages(
    http: httpx.AsyncClient, keys, client: Client, worker
) -> None:
    refs = []
    for number in range(3):
        answer = await http.post(
            "/complaints", json={**COMPLAINT, "subject": f"Réclamation {number}"}, headers=keys["intake"]
        )
        refs.append(answer.json()["reference"])
    for ref in refs:
        await wait_for_phase(client, ref, Phase.ASSESSMENT)
    await http.post(f"/complaints/{refs[0]}/assignment", json={"handler": "Alice"}, headers=keys["handler"])

    page = (await http.get("/complaints", params={"limit": 2}, headers=keys["intake"])).json()
    assert page["total"] == 3 and [i["reference"] for i in page["items"]] == [refs[2], refs[1]]
    assert page["next"].endswith("/complaints?limit=2&offset=2")
    rest = (await http.get("/complaints", params={"limit": 2, "offset": 2}, headers=keys["intake"])).json()
    assert [i["reference"] for i in rest["items"]] == [refs[0]] and rest["next"] is None

    mine = (await http.get("/complaints", params={"handler": "Alice"}, headers=keys["handler"])).json()
    assert [i["reference"] for i in mine["items"]] == [refs[0]]
    filtered = await http.get(
        "/complaints",
        params={"phase": "assessment", "channel": "api", "sla_status": "on_track"},
        headers=keys["handler"],
    )
    assert filtered.json()["total"] == 3
    assert (await http.get("/complaints", params={"channel": "fax"}, headers=keys["handler"])).json()["errors"][0][
        "field"
    ] == "query.channel"
    assert (await http.get("/complaints", params={"phase": "closed"}, headers=keys["handler"])).json()["total"] == 0


async def test_operator_endpoints_need_a_valid_key_of_the_right_role(
    http: httpx.AsyncClient, keys, pool: asyncpg.Pool
) -> None:
    no_key = await http.post("/complaints", json=COMPLAINT)
    assert no_key.status_code == 401 and no_key.headers["www-authenticate"] == "Bearer"
    assert "API key is required" in no_key.json()["detail"]
    wrong = await http.get("/complaints", headers={"Authorization": "Bearer cmp_not-a-key"})
    assert wrong.status_code == 401 and "unknown, revoked or expired" in wrong.json()["detail"]

    from complaints.operators import revoke_operator

    await revoke_operator(pool, "Irène")
    revoked = await http.post("/complaints", json=COMPLAINT, headers=keys["intake"])
    assert revoked.status_code == 401
    assert await pool.fetchval("SELECT count(*) FROM complaints") == 0

    unknown = await http.get("/complaints/REC-2026-999999", headers=keys["handler"])
    assert unknown.status_code == 404 and unknown.json()["detail"] == "no complaint REC-2026-999999 in the register"
    nowhere = await http.get("/nowhere")
    assert nowhere.status_code == 404 and nowhere.headers["content-type"] == "application/problem+json"


async def test_the_openapi_document_describes_every_endpoint_and_model(http: httpx.AsyncClient) -> None:
    document = (await http.get("/openapi.json")).json()
    paths = document["paths"]
    for path in (
        "/complaints",
        "/complaints/{ref}",
        "/complaints/{ref}/assessment",
        "/complaints/{ref}/assignment",
        "/complaints/{ref}/actions",
        "/complaints/{ref}/notes",
        "/complaints/{ref}/progress-updates",
        "/complaints/{ref}/information-requests",
        "/complaints/{ref}/analysis-extensions",
        "/complaints/{ref}/decision",
        "/complaints/{ref}/approval",
        "/complaints/{ref}/postal-acknowledgement",
        "/complaints/{ref}/closure",
        "/complaints/{ref}/customer/reply",
        "/complaints/{ref}/customer/accept",
        "/complaints/{ref}/customer/contest",
        "/complaints/{ref}/customer/survey",
    ):
        assert path in paths, path
    schemas = document["components"]["schemas"]
    for model in (
        "ComplaintRequest",
        "DocumentUpload",
        "Complainant",
        "Submitted",
        "ComplaintDetail",
        "ComplaintPage",
        "DecisionRequest",
        "ApprovalVerdictRequest",
        "SurveyAnswer",
        "Problem",
        "ComplaintStatus",
    ):
        assert model in schemas, model
    take_in = paths["/complaints"]["post"]
    assert set(take_in["requestBody"]["content"]) == {"application/json", "multipart/form-data"}
    assert take_in["responses"]["413"]["content"]["application/problem+json"]
    assert "by" not in schemas["DecisionRequest"]["properties"]  # the actor is the key's operator
    assert document["components"]["securitySchemes"]["ApiKey"]["scheme"] == "bearer"
    assert not any("/reclamation" in path or "/suivi" in path for path in paths)  # pages are not API
    # the public status leaves the run's own buffers out of the contract
    shown = set(schemas["ComplaintStatus"]["properties"])
    assert not shown & {"replies_pending", "reply_ids", "steps", "accepted_signal", "contest_signal", "decision"}
    assert {"phase", "deadlines", "decisions", "verdict_received"} <= shown
