"""The deployment: the connection settings for any Temporal service (TLS, mutual
TLS, API key) proven against a TLS-terminating proxy in front of a dev server.
Needs none of the session's servers."""

import asyncio
import contextlib
import datetime
import ssl
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path

import pytest
import pytest_asyncio
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID
from temporalio.api.workflowservice.v1 import GetSystemInfoRequest
from temporalio.service import TLSConfig
from temporalio.testing import WorkflowEnvironment

from complaints.settings import Settings
from complaints.temporal_client import TemporalSettingsError, connect, connect_options
from devstack.temporal_server import temporal_cli

ROOT = Path(__file__).resolve().parent.parent
SERVER_NAME = "temporal.test"  # deliberately not the address dialled: only the setting makes it match
CLIENT_NAME = "complaints-worker"


def _settings(**values: object) -> Settings:
    return Settings(_env_file=None, **values)


# --- connect_options: which settings make which connection -------------------


def test_plain_connection_by_default() -> None:
    assert connect_options(_settings()) == {"tls": False, "api_key": None}


def test_api_key_turns_tls_on() -> None:
    options = connect_options(_settings(temporal_api_key="secret-key"))
    assert options["api_key"] == "secret-key"
    assert isinstance(options["tls"], TLSConfig)
    assert options["tls"].client_cert is None  # server-side TLS, system roots


def test_tls_flag_alone_uses_system_roots() -> None:
    options = connect_options(_settings(temporal_tls=True))
    assert options["tls"] == TLSConfig()


def test_lone_certificate_is_refused(tmp_path: Path) -> None:
    cert = tmp_path / "client.pem"
    cert.write_text("not used")
    with pytest.raises(TemporalSettingsError) as refused:
        connect_options(_settings(temporal_tls_cert_file=cert))
    message = str(refused.value)
    assert "COMPLAINTS_TEMPORAL_TLS_CERT_FILE is set but COMPLAINTS_TEMPORAL_TLS_KEY_FILE is not" in message
    with pytest.raises(TemporalSettingsError, match="COMPLAINTS_TEMPORAL_TLS_KEY_FILE is set but"):
        connect_options(_settings(temporal_tls_key_file=cert))


def test_missing_file_is_named(tmp_path: Path) -> None:
    missing = tmp_path / "nowhere" / "ca.pem"
    with pytest.raises(TemporalSettingsError, match=f"COMPLAINTS_TEMPORAL_TLS_CA_FILE={missing}: no such file"):
        connect_options(_settings(temporal_tls_ca_file=missing))


def test_settings_come_from_the_environment(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    ca = tmp_path / "ca.pem"
    ca.write_bytes(b"CA")
    monkeypatch.setenv("COMPLAINTS_TEMPORAL_TLS_CA_FILE", str(ca))
    monkeypatch.setenv("COMPLAINTS_TEMPORAL_TLS_SERVER_NAME", SERVER_NAME)
    monkeypatch.setenv("COMPLAINTS_TEMPORAL_API_KEY", "from-env")
    options = connect_options(_settings())
    assert options["api_key"] == "from-env"
    assert options["tls"] == TLSConfig(server_root_ca_cert=b"CA", domain=SERVER_NAME)


# --- the real thing: mutual TLS through a proxy to a dev server --------------


@dataclass
class Pki:
    ca: Path
    server_cert: Path
    server_key: Path
    client_cert: Path
    client_key: Path
    other_ca: Path  # trusts nothing here


def _name(common_name: str) -> x509.Name:
    return x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, common_name)])


def _write_key(key: ec.EllipticCurvePrivateKey, path: Path) -> Path:
    path.write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
    )
    return path


def _write_cert(cert: x509.Certificate, path: Path) -> Path:
    path.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    return path


def _make_ca(common_name: str) -> tuple[x509.Certificate, ec.EllipticCurvePrivateKey]:
    key = ec.generate_private_key(ec.SECP256R1())
    now = datetime.datetime.now(datetime.UTC)
    cert = (
        x509.CertificateBuilder()
        .subject_name(_name(common_name))
        .issuer_name(_name(common_name))
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(hours=1))
        .not_valid_after(now + datetime.timedelta(days=1))
        .add_extension(x509.BasicConstraints(ca=True, path_length=0), critical=True)
        .add_extension(
            x509.KeyUsage(
                digital_signature=True, key_cert_sign=True, crl_sign=True,
                content_commitment=False, key_encipherment=False, data_encipherment=False,
                key_agreement=False, encipher_only=False, decipher_only=False,
            ),
            critical=True,
        )
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(key.public_key()), critical=False)
        .sign(key, hashes.SHA256())
    )  # fmt: skip
    return cert, key


def _issue(
    ca: x509.Certificate,
    ca_key: ec.EllipticCurvePrivateKey,
    common_name: str,
    usage: x509.ObjectIdentifier,
    names: list[x509.GeneralName],
) -> tuple[x509.Certificate, ec.EllipticCurvePrivateKey]:
    key = ec.generate_private_key(ec.SECP256R1())
    now = datetime.datetime.now(datetime.UTC)
    builder = (
        x509.CertificateBuilder()
        .subject_name(_name(common_name))
        .issuer_name(ca.subject)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(hours=1))
        .not_valid_after(now + datetime.timedelta(days=1))
        .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
        .add_extension(x509.ExtendedKeyUsage([usage]), critical=False)
        .add_extension(
            x509.AuthorityKeyIdentifier.from_issuer_public_key(ca_key.public_key()), critical=False
        )
    )
    if names:
        builder = builder.add_extension(x509.SubjectAlternativeName(names), critical=False)
    return builder.sign(ca_key, hashes.SHA256()), key


@pytest.fixture(scope="module")
def pki(tmp_path_factory: pytest.TempPathFactory) -> Pki:
    folder = tmp_path_factory.mktemp("pki")
    ca, ca_key = _make_ca("complaints test CA")
    server, server_key = _issue(
        ca, ca_key, SERVER_NAME, ExtendedKeyUsageOID.SERVER_AUTH,
        [x509.DNSName(SERVER_NAME)],
    )  # fmt: skip
    client, client_key = _issue(ca, ca_key, CLIENT_NAME, ExtendedKeyUsageOID.CLIENT_AUTH, [])
    other_ca, _ = _make_ca("some other CA")
    return Pki(
        ca=_write_cert(ca, folder / "ca.pem"),
        server_cert=_write_cert(server, folder / "server.pem"),
        server_key=_write_key(server_key, folder / "server.key"),
        client_cert=_write_cert(client, folder / "client.pem"),
        client_key=_write_key(client_key, folder / "client.key"),
        other_ca=_write_cert(other_ca, folder / "other-ca.pem"),
    )


class TlsProxy:
    """Terminates TLS (client certificate required, HTTP/2 by ALPN) and
    forwards the bytes to a plain backend; notes whom it let through."""

    def __init__(self, pki: Pki, backend: str) -> None:
        host, port = backend.rsplit(":", 1)
        self.backend = (host, int(port))
        self.clients: list[str] = []
        self.context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        self.context.load_cert_chain(pki.server_cert, pki.server_key)
        self.context.load_verify_locations(pki.ca)
        self.context.verify_mode = ssl.CERT_REQUIRED
        self.context.set_alpn_protocols(["h2"])
        self.server: asyncio.Server | None = None
        self.tasks: set[asyncio.Task[None]] = set()

    async def start(self) -> int:
        self.server = await asyncio.start_server(self._serve, "127.0.0.1", 0, ssl=self.context)
        return self.server.sockets[0].getsockname()[1]

    async def stop(self) -> None:
        assert self.server is not None
        self.server.close()
        for task in self.tasks:
            task.cancel()
        await asyncio.gather(*self.tasks, return_exceptions=True)

    async def _serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self.tasks.add(task := asyncio.current_task())  # type: ignore[arg-type]
        peer = writer.get_extra_info("peercert") or {}
        subject = dict(item for rdn in peer.get("subject", ()) for item in rdn)
        self.clients.append(subject.get("commonName", "?"))
        try:
            backend_reader, backend_writer = await asyncio.open_connection(*self.backend)
            await asyncio.gather(_pipe(reader, backend_writer), _pipe(backend_reader, writer))
        except (OSError, asyncio.CancelledError):
            pass
        finally:
            writer.close()
            self.tasks.discard(task)  # type: ignore[arg-type]


async def _pipe(source: asyncio.StreamReader, sink: asyncio.StreamWriter) -> None:
    try:
        while data := await source.read(65536):
            sink.write(data)
            await sink.drain()
    except (OSError, ssl.SSLError):
        pass
    finally:
        with contextlib.suppress(OSError, RuntimeError):
            sink.close()


@pytest_asyncio.fixture(scope="module")
async def dev_server() -> AsyncIterator[str]:
    """A throwaway plain dev server of its own; yields its address."""
    async with await WorkflowEnvironment.start_local(dev_server_existing_path=temporal_cli()) as env:
        yield env.client.service_client.config.target_host


@pytest_asyncio.fixture
async def proxy(pki: Pki, dev_server: str) -> AsyncIterator[tuple[TlsProxy, str]]:
    proxy = TlsProxy(pki, dev_server)
    port = await proxy.start()
    yield proxy, f"127.0.0.1:{port}"
    await proxy.stop()


async def _refused(settings: Settings) -> BaseException:
    """The connection fails (within a bound: a refused handshake must not hang)."""
    with pytest.raises(Exception) as failed:
        await asyncio.wait_for(connect(settings), timeout=60)
    assert not isinstance(failed.value, TimeoutError), "connecting hung instead of failing"
    return failed.value


async def test_mutual_tls_through_the_settings(pki: Pki, proxy: tuple[TlsProxy, str]) -> None:
    tls_proxy, address = proxy
    settings = _settings(
        temporal_address=address,
        temporal_tls_ca_file=pki.ca,
        temporal_tls_cert_file=pki.client_cert,
        temporal_tls_key_file=pki.client_key,
        temporal_tls_server_name=SERVER_NAME,
    )
    client = await connect(settings)
    info = await client.workflow_service.get_system_info(GetSystemInfoRequest())
    assert info.server_version
    assert [w async for w in client.list_workflows()] == []
    assert tls_proxy.clients and set(tls_proxy.clients) == {CLIENT_NAME}


async def test_no_client_certificate_is_refused(pki: Pki, proxy: tuple[TlsProxy, str]) -> None:
    tls_proxy, address = proxy
    await _refused(
        _settings(
            temporal_address=address,
            temporal_tls_ca_file=pki.ca,
            temporal_tls_server_name=SERVER_NAME,
        )
    )
    assert tls_proxy.clients == []


async def test_server_outside_the_trusted_ca_is_refused(pki: Pki, proxy: tuple[TlsProxy, str]) -> None:
    tls_proxy, address = proxy
    await _refused(
        _settings(
            temporal_address=address,
            temporal_tls_ca_file=pki.other_ca,
            temporal_tls_cert_file=pki.client_cert,
            temporal_tls_key_file=pki.client_key,
            temporal_tls_server_name=SERVER_NAME,
        )
    )
    assert tls_proxy.clients == []
