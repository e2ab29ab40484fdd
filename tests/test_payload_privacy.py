"""Customer data out of sight: workflow payloads are encrypted; the codec
server decodes them for authorised engineers only."""

import base64
import json
from collections.abc import Callable

import asyncpg
from temporalio.client import Client
from temporalio.contrib.pydantic import pydantic_data_converter

from complaints.complaint_status import Phase
from complaints.customer_signals import CustomerReply
from complaints.operator_commands import ConfirmAssessment, Decision, InformationRequest
from complaints.payload_codec import EncryptionCodec, new_key_line, parse_keys
from complaints.settings import Settings
from complaints.submission import ComplaintSubmission
from tests.helpers.codec import codec_client, sealed_json
from tests.helpers.complaint_workflow import execute_update, start, wait_for_phase
from tests.helpers.examples import ALICE
from tests.helpers.settings import tuned
from workflows.complaint import ComplaintWorkflow

Make = Callable[..., ComplaintSubmission]
SECRET_STORY = "Mon voisin Gérard Lambert a vu le livreur jeter le colis"
JUSTIFICATION = "Après vérification auprès du transporteur Lambert, le colis a été jeté."


async def test_the_raw_history_holds_no_personal_data(
    client: Client, pool: asyncpg.Pool, settings: Settings, worker, complaint: Make
) -> None:
    submission = complaint(
        complainant={"name": "Ophélie Vasseur-Quintin", "email": "ophelie.vq@example.net"},
        description=SECRET_STORY,
    )
    handle = await start(client, pool, tuned(settings), submission)
    await execute_update(handle, ComplaintWorkflow.confirm_assessment, ConfirmAssessment(by=ALICE))
    await execute_update(
        handle, ComplaintWorkflow.request_information, InformationRequest(by=ALICE, questions="Adresse de Gérard ?")
    )
    await handle.signal(ComplaintWorkflow.customer_reply, CustomerReply(message="Gérard habite au 12 rue Pasteur"))
    await wait_for_phase(client, handle.id, Phase.HANDLING)
    await execute_update(
        handle, ComplaintWorkflow.decide, Decision(by=ALICE, outcome="accepted", justification=JUSTIFICATION)
    )
    await wait_for_phase(client, handle.id, Phase.RESPONDED)

    plain = await Client.connect(
        client.service_client.config.target_host,
        namespace=client.namespace,
        data_converter=pydantic_data_converter,  # no codec: what the UI shows without it
    )
    raw = (await plain.get_workflow_handle(handle.id).fetch_history()).to_json()
    for secret in ("Ophélie", "ophelie.vq", "Gérard", "Pasteur", "transporteur Lambert", "Alice"):
        assert secret not in raw
        assert base64.b64encode(secret.encode()).decode()[:8] not in raw
    assert base64.b64encode(b"binary/encrypted").decode() in raw

    status = await handle.query(ComplaintWorkflow.status)  # the session client has the codec
    assert status.decisions[0].justification == JUSTIFICATION


async def test_old_keys_still_decode_after_rotation() -> None:
    old, new = new_key_line("2026-a"), new_key_line("2026-b")
    before = EncryptionCodec(parse_keys(old), "2026-a")
    after = EncryptionCodec(parse_keys(f"{new},{old}"), "2026-b")
    sealed = await before.encode(pydantic_data_converter.payload_converter.to_payloads(["RGPD"]))
    assert (await after.decode(sealed))[0].data == b'"RGPD"'
    assert (await after.encode(await after.decode(sealed)))[0].metadata["encryption-key-id"] == b"2026-b"


ENGINEER_TOKEN = "engineer-token-0123456789abcdefghijklmnop"


async def test_the_codec_server_decodes_for_a_token_holder_and_refuses_others(settings: Settings) -> None:
    settings = settings.model_copy(update={"codec_tokens": ENGINEER_TOKEN})
    body = await sealed_json(settings, {"name": "Ophélie"})
    async with codec_client(settings) as http:
        refused = await http.post("/decode", content=body, headers={"content-type": "application/json"})
        assert refused.status_code == 401
        wrong = await http.post("/decode", content=body, headers={"authorization": "Bearer guess"})
        assert wrong.status_code == 401
        decoded = await http.post("/decode", content=body, headers={"authorization": f"Bearer {ENGINEER_TOKEN}"})
    assert decoded.status_code == 200
    [payload] = json.loads(decoded.text)["payloads"]
    assert json.loads(base64.b64decode(payload["data"])) == {"name": "Ophélie"}


async def test_the_codec_server_serves_only_the_ui_origins_and_local_clients(settings: Settings) -> None:
    async with codec_client(settings) as http:
        preflight = {
            "access-control-request-method": "POST",
            "access-control-request-headers": "content-type,x-namespace",
        }
        ui = await http.options("/decode", headers={"origin": "http://localhost:8233", **preflight})
        other = await http.options("/decode", headers={"origin": "http://evil.example", **preflight})
        assert ui.headers.get("access-control-allow-origin") == "http://localhost:8233"
        assert "access-control-allow-origin" not in other.headers
    async with codec_client(settings, peer="203.0.113.5") as remote:
        far = await remote.post("/decode", content=await sealed_json(settings, "x"))
    assert far.status_code == 403  # no token configured: this machine only
