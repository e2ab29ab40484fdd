"""Issue 14, finding 4: the codec server decodes for token holders only (the
Temporal UI's token rides in its endpoint's path), trusts no network unless
told to, and is no encryption oracle: /encode exists only when enabled."""

import base64
import json
from typing import Any

import httpx
from google.protobuf import json_format
from temporalio.api.common.v1 import Payloads
from temporalio.contrib.pydantic import pydantic_data_converter

from complaints.payload_codec import new_key_line
from complaints.settings import Settings
from tests.helpers.codec import codec_client, sealed_json

TOKEN = "codec-token-for-the-ui-0123456789abcdef"
SECRET = {"name": "Ophélie Durand", "email": "ophelie@example.com"}


def _settings(**values: Any) -> Settings:
    return Settings(_env_file=None, payload_keys=new_key_line("test-1"), **values)


def _decoded(response: httpx.Response) -> object:
    [payload] = json.loads(response.text)["payloads"]
    return json.loads(base64.b64decode(payload["data"]))


async def test_a_client_from_elsewhere_without_a_token_decodes_nothing() -> None:
    settings = _settings(codec_tokens=TOKEN, codec_trusted_networks=["172.16.0.0/12"])
    body = await sealed_json(settings, SECRET)
    async with codec_client(settings, peer="172.18.0.7") as other_container:
        bare = await other_container.post("/decode", content=body)
        guessed = await other_container.post("/decode", content=body, headers={"authorization": "Bearer guess"})
        wrong_path = await other_container.post("/not-the-token/decode", content=body)
    for refused in (bare, guessed, wrong_path):
        assert refused.status_code == 401
        assert "Ophélie" not in refused.text and "ophelie" not in refused.text


async def test_without_tokens_only_trusted_networks_and_never_a_path_token() -> None:
    settings = _settings()  # make run: loopback only
    body = await sealed_json(settings, SECRET)
    async with codec_client(settings, peer="192.168.1.20") as lan_host:
        assert (await lan_host.post("/decode", content=body)).status_code == 403
    async with codec_client(settings, peer="127.0.0.1") as local:
        assert _decoded(await local.post("/decode", content=body)) == SECRET
        assert (await local.post(f"/{TOKEN}/decode", content=body)).status_code == 403


async def test_with_the_token_it_decodes_as_a_header_or_in_the_ui_endpoint_path() -> None:
    settings = _settings(codec_tokens=f"{TOKEN},another-token-0123456789abcdefghijk")
    body = await sealed_json(settings, SECRET)
    async with codec_client(settings, peer="172.18.0.7") as ui:
        header = await ui.post("/decode", content=body, headers={"authorization": f"Bearer {TOKEN}"})
        in_path = await ui.post(f"/{TOKEN}/decode", content=body)
    assert _decoded(header) == SECRET and _decoded(in_path) == SECRET


async def test_encode_is_not_served_unless_enabled() -> None:
    plain = json_format.MessageToJson(Payloads(payloads=pydantic_data_converter.payload_converter.to_payloads(["x"])))
    headers = {"authorization": f"Bearer {TOKEN}"}
    async with codec_client(_settings(codec_tokens=TOKEN), peer="127.0.0.1") as local:
        assert (await local.post("/encode", content=plain, headers=headers)).status_code == 404
    async with codec_client(_settings(codec_tokens=TOKEN, codec_encode_enabled=True), peer="127.0.0.1") as local:
        encoded = await local.post("/encode", content=plain, headers=headers)
    assert encoded.status_code == 200
    assert (
        json.loads(encoded.text)["payloads"][0]["metadata"]["encoding"]
        == base64.b64encode(b"binary/encrypted").decode()
    )


def test_a_short_codec_token_is_refused_at_start() -> None:
    try:
        _settings(codec_tokens="engineer-token")
    except ValueError as error:
        assert "COMPLAINTS_CODEC_TOKENS" in str(error) and "32 bytes" in str(error)
    else:
        raise AssertionError("a 14-character codec token was accepted")
