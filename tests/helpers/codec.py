"""The codec server as the Temporal UI reaches it, and payloads sealed as a
worker seals them."""

import httpx
from google.protobuf import json_format
from temporalio.api.common.v1 import Payloads
from temporalio.contrib.pydantic import pydantic_data_converter

from codec.server import create_app
from complaints.settings import Settings
from complaints.temporal_client import payload_codec


def codec_client(settings: Settings, peer: str = "127.0.0.1") -> httpx.AsyncClient:
    """The codec server in-process, called from `peer`."""
    transport = httpx.ASGITransport(app=create_app(settings), client=(peer, 50000))
    return httpx.AsyncClient(transport=transport, base_url="http://codec")


async def sealed_json(settings: Settings, value: object) -> str:
    """`value` encrypted with the settings' payload key, as the UI posts it to /decode."""
    payloads = await payload_codec(settings).encode(pydantic_data_converter.payload_converter.to_payloads([value]))
    return json_format.MessageToJson(Payloads(payloads=payloads))
