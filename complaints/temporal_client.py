"""The one way every process connects to Temporal, with the shared data
converter: pydantic models, payloads encrypted."""

import dataclasses
from pathlib import Path
from typing import Any
from urllib.parse import quote

from temporalio.client import Client
from temporalio.contrib.pydantic import pydantic_data_converter
from temporalio.converter import DataConverter, DefaultFailureConverterWithEncodedAttributes
from temporalio.runtime import Runtime
from temporalio.service import TLSConfig
from temporalio.workflow import UpdateMethodMultiParam

from complaints.payload_codec import EncryptionCodec, local_key, parse_keys
from complaints.settings import Settings

# A workflow update taking one argument, as callers hold it. The SDK types an
# async update declared with a description as returning a coroutine, which no
# caller's types can match; callers name the result type they expect.
Update = UpdateMethodMultiParam[[Any, Any], Any]


def payload_codec(settings: Settings) -> EncryptionCodec:
    keys = parse_keys(settings.payload_keys or local_key(settings.data_dir))
    return EncryptionCodec(keys, settings.payload_key_id or next(iter(keys)))


def data_converter(settings: Settings) -> DataConverter:
    """The converter of every client: worker, starters, tests, replayer.
    Failures' messages and stack traces go through the codec too: an error's
    text may quote what a complainant wrote or their address."""
    return dataclasses.replace(
        pydantic_data_converter,
        payload_codec=payload_codec(settings),
        failure_converter_class=DefaultFailureConverterWithEncodedAttributes,
    )


def workflow_ui_url(settings: Settings, reference: str) -> str:
    """The Temporal UI's page of a complaint's workflow (its id is the reference)."""
    return f"{settings.temporal_ui_url}/namespaces/{settings.temporal_namespace}/workflows/{quote(reference)}"


class TemporalSettingsError(ValueError):
    """The Temporal connection settings do not fit together."""


def connect_options(settings: Settings) -> dict[str, Any]:
    """The `tls` and `api_key` arguments of `Client.connect` for these settings.

    Plain TCP for the local dev server. TLS when `temporal_tls` is set or when
    any TLS file, the server name or an API key is given (Temporal Cloud takes
    API keys over TLS only). A client certificate and its key make it mutual TLS;
    without a CA file the system's trusted roots verify the server."""
    cert, key = settings.temporal_tls_cert_file, settings.temporal_tls_key_file
    if (cert is None) != (key is None):
        given, missing = (
            ("COMPLAINTS_TEMPORAL_TLS_CERT_FILE", "COMPLAINTS_TEMPORAL_TLS_KEY_FILE")
            if cert is not None
            else ("COMPLAINTS_TEMPORAL_TLS_KEY_FILE", "COMPLAINTS_TEMPORAL_TLS_CERT_FILE")
        )
        raise TemporalSettingsError(
            f"{given} is set but {missing} is not: a client certificate for mutual TLS "
            "needs both the certificate and its private key"
        )
    files = {
        "COMPLAINTS_TEMPORAL_TLS_CA_FILE": settings.temporal_tls_ca_file,
        "COMPLAINTS_TEMPORAL_TLS_CERT_FILE": cert,
        "COMPLAINTS_TEMPORAL_TLS_KEY_FILE": key,
    }
    contents = {name: _read(name, path) for name, path in files.items() if path is not None}

    use_tls = (
        settings.temporal_tls
        or bool(contents)
        or settings.temporal_tls_server_name is not None
        or settings.temporal_api_key is not None
    )
    tls: TLSConfig | bool = False
    if use_tls:
        tls = TLSConfig(
            server_root_ca_cert=contents.get("COMPLAINTS_TEMPORAL_TLS_CA_FILE"),
            domain=settings.temporal_tls_server_name,
            client_cert=contents.get("COMPLAINTS_TEMPORAL_TLS_CERT_FILE"),
            client_private_key=contents.get("COMPLAINTS_TEMPORAL_TLS_KEY_FILE"),
        )
    return {"tls": tls, "api_key": settings.temporal_api_key}


def _read(name: str, path: Path) -> bytes:
    if not path.is_file():
        raise TemporalSettingsError(f"{name}={path}: no such file")
    return path.read_bytes()


class TemporalUnavailable(RuntimeError):
    """The Temporal service cannot be reached."""


async def connect(settings: Settings, runtime: Runtime | None = None) -> Client:
    try:
        return await Client.connect(
            settings.temporal_address,
            namespace=settings.temporal_namespace,
            data_converter=data_converter(settings),
            runtime=runtime,
            **connect_options(settings),
        )
    except RuntimeError as error:
        raise TemporalUnavailable(
            f"cannot reach Temporal at {settings.temporal_address} "
            f"(namespace {settings.temporal_namespace}): is `make run` or the Temporal service up?"
        ) from error
