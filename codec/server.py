"""`complaints codec-server`: Temporal's remote codec protocol (POST /encode,
/decode with JSON Payloads) over the project's payload codec.

Authenticated: a token from COMPLAINTS_CODEC_TOKENS, as a bearer token or as
the first segment of the path (`/<token>/decode`: the Temporal UI can send no
static header, so its codec endpoint carries the token); with none configured,
only clients from COMPLAINTS_CODEC_TRUSTED_NETWORKS (this machine, by
default) are served. `/encode` exists only with COMPLAINTS_CODEC_ENCODE_ENABLED:
the UI only decodes, and an encoder is an oracle for forging payloads. CORS is
limited to the configured Temporal UI origins, since the browser calls it."""

import hmac
import ipaddress

from fastapi import FastAPI, HTTPException, Request, Response
from fastapi.middleware.cors import CORSMiddleware
from google.protobuf import json_format
from temporalio.api.common.v1 import Payloads
from temporalio.converter import PayloadCodec

from complaints.process import configure_logging
from complaints.settings import Settings
from complaints.temporal_client import payload_codec


def create_app(settings: Settings, codec: PayloadCodec | None = None) -> FastAPI:
    codec = codec or payload_codec(settings)
    tokens = [t.strip() for t in (settings.codec_tokens or "").split(",") if t.strip()]
    trusted = [ipaddress.ip_network(network) for network in settings.codec_trusted_networks]
    app = FastAPI(title="Complaints payload codec", docs_url=None, redoc_url=None)
    app.add_middleware(
        CORSMiddleware,
        allow_origins=settings.codec_cors_origins,
        allow_methods=["POST"],
        allow_headers=["content-type", "x-namespace", "authorization"],
        allow_credentials=True,
    )

    def authorise(request: Request, path_token: str | None) -> None:
        if tokens:
            given = path_token or request.headers.get("authorization", "").removeprefix("Bearer ").strip()
            if not any(hmac.compare_digest(given, token) for token in tokens):
                raise HTTPException(401, "a valid bearer token is required")
        elif path_token is not None or not _is_trusted(request.client.host if request.client else "", trusted):
            raise HTTPException(403, "no codec token configured: only trusted networks are served")

    async def transform(request: Request, decode: bool, path_token: str | None = None) -> Response:
        authorise(request, path_token)
        payloads = Payloads()
        try:
            json_format.Parse(await request.body(), payloads)
        except json_format.ParseError as error:
            raise HTTPException(400, f"not a Payloads JSON document: {error}") from error
        done = await (codec.decode if decode else codec.encode)(payloads.payloads)
        body = json_format.MessageToJson(Payloads(payloads=done))
        return Response(body, media_type="application/json")

    @app.post("/decode")
    async def decode(request: Request) -> Response:
        return await transform(request, decode=True)

    @app.post("/{token}/decode")
    async def decode_with_token(token: str, request: Request) -> Response:
        return await transform(request, decode=True, path_token=token)

    if settings.codec_encode_enabled:

        @app.post("/encode")
        async def encode(request: Request) -> Response:
            return await transform(request, decode=False)

    return app


def _is_trusted(host: str, networks: list[ipaddress.IPv4Network | ipaddress.IPv6Network]) -> bool:
    try:
        address = ipaddress.ip_address(host)
    except ValueError:
        return False
    return any(address in network for network in networks)


def main(settings: Settings | None = None) -> None:
    import uvicorn

    configure_logging()
    settings = settings or Settings()
    host, _, port = settings.codec_server_address.rpartition(":")
    uvicorn.run(create_app(settings), host=host, port=int(port), log_level="info")
