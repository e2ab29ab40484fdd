"""The deployment: docker-compose.yml, the Dockerfile and .env.example checked
against the code they deploy; the connection settings for any Temporal service
(TLS, mutual TLS, API key) proven through a TLS-terminating proxy in front of a
dev server of its own. Needs none of the session's servers."""

import asyncio
import contextlib
import datetime
import re
import ssl
import tomllib
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import pytest
import pytest_asyncio
import yaml
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID
from pydantic import AliasChoices
from temporalio.api.workflowservice.v1 import GetSystemInfoRequest
from temporalio.service import TLSConfig
from temporalio.testing import WorkflowEnvironment

from complaints import search_attributes
from complaints.settings import Settings
from complaints.temporal_client import TemporalSettingsError, connect, connect_options
from devstack.temporal_server import temporal_cli
from tests.helpers.settings import without_outside_settings

ROOT = Path(__file__).resolve().parent.parent
# Deliberately not the address dialled: only the server-name setting makes it match.
SERVER_NAME = "temporal.test"
CLIENT_NAME = "complaints-worker"


def _settings(**values: Any) -> Settings:
    return Settings(_env_file=None, **values)


@pytest.fixture(autouse=True)
def _no_settings_from_outside(monkeypatch: pytest.MonkeyPatch) -> None:
    without_outside_settings(monkeypatch)


# --- docker-compose.yml, the Dockerfile, .env.example ----------------------------

COMPOSE = yaml.safe_load((ROOT / "docker-compose.yml").read_text())
SERVICES: dict[str, dict[str, Any]] = COMPOSE["services"]
ENV_EXAMPLE = ROOT / ".env.example"
_INTERPOLATION = re.compile(r"\$\{(\w+)(?::?-([^}]*)|:?\?[^}]*)?\}")
# an exact release: 1.32.0, v1.29.7; never "latest" or "1.32"
_EXACT_TAG = re.compile(r"^v?\d+\.\d+\.\d+(-[a-z0-9.]+)?$")
# PostgreSQL numbers its releases major.minor: 16.15 is exact, "16" is not
_EXACT_POSTGRES_TAG = re.compile(r"^\d+\.\d+(-[a-z0-9.]+)?$")
_ENV_LINE = re.compile(r"^#?\s*((?:COMPLAINTS_|DATABASE_URL)\w*)=(.*)$")


def _resolved(value: object) -> str:
    """A compose value as `docker compose config` gives it without a .env (a
    required secret, ${NAME:?...}, as its name)."""
    return _INTERPOLATION.sub(
        lambda m: m[2] or ("" if "?" not in m[0] else f"{m[1].lower()}_from_dot_env_placeholder"), str(value)
    )


def _environment(service: str) -> dict[str, str]:
    env = SERVICES[service].get("environment", {})
    if isinstance(env, list):
        env = dict(item.split("=", 1) for item in env)
    return {key: _resolved(value) for key, value in env.items()}


def _published(service: str) -> set[int]:
    """Container ports published on the same host port."""
    ports = set()
    for mapping in SERVICES[service].get("ports", []):
        host, container = _resolved(mapping).rsplit(":", 2)[-2:]
        assert host == container, f"{service}: {mapping} publishes on another port"
        ports.add(int(container))
    return ports


def _documented_ports() -> dict[str, set[int]]:
    """The Ports table of docs/deployment.md: | `service` | port | what |"""
    documented: dict[str, set[int]] = {}
    for line in (ROOT / "docs" / "deployment.md").read_text().splitlines():
        row = re.match(r"^\|\s*`([\w-]+)`\s*\|\s*(\d+|—)\s*\|", line)
        if row:
            ports = documented.setdefault(row[1], set())
            if row[2] != "—":
                ports.add(int(row[2]))
    return documented


def _env_example() -> dict[str, str]:
    """Every setting .env.example lists (commented or not) and its value."""
    listed = {}
    for line in ENV_EXAMPLE.read_text().splitlines():
        if match := _ENV_LINE.match(line):
            assert match[1] not in listed, f"{match[1]} is listed twice"
            listed[match[1]] = match[2]
    return listed


def _setting_names() -> dict[str, str]:
    """Environment variable → Settings field, for every field."""
    names = {}
    for field, info in Settings.model_fields.items():
        alias = info.validation_alias
        if alias is None:
            names[f"COMPLAINTS_{field.upper()}"] = field
        elif isinstance(alias, str):
            names[alias] = field
        else:
            assert isinstance(alias, AliasChoices), f"{field}: {alias!r}"
            names[str(alias.choices[0])] = field
    return names


def test_every_image_is_pinned_to_a_release() -> None:
    images = {name: service["image"] for name, service in SERVICES.items() if "image" in service}
    assert set(SERVICES) - set(images) == set(), "every service names its image"
    for name, image in images.items():
        repository, _, tag = image.rpartition(":")
        exact = _EXACT_POSTGRES_TAG if repository == "postgres" else _EXACT_TAG
        assert repository and exact.match(tag), f"{name}: {image} is not an exact release tag"
    # the same release of the admin tools as of the server they set up
    server_tag = images["temporal"].rpartition(":")[2]
    for job in ("temporal-schema", "temporal-namespace", "temporal-search-attributes"):
        assert images[job] == f"temporalio/admin-tools:{server_tag}"
    version = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]["version"]
    assert images["worker"] == f"complaints:{version}", "the built image carries the package version"


def test_dockerfile_bases_are_pinned_and_it_runs_unprivileged() -> None:
    lines = [line.strip() for line in (ROOT / "Dockerfile").read_text().splitlines()]
    bases = [line.split()[1] for line in lines if line.startswith("FROM ")]
    assert len(bases) >= 2, "multi-stage"
    for base in bases:
        assert _EXACT_TAG.match(base.rpartition(":")[2]), f"FROM {base} is not an exact release"
    final_stage = lines[max(i for i, line in enumerate(lines) if line.startswith("FROM ")) :]
    users = [line.split()[1] for line in final_stage if line.startswith("USER ")]
    assert users and users[-1].split(":")[0] not in ("root", "0"), "the final stage runs as a non-root user"
    assert 'ENTRYPOINT ["complaints"]' in final_stage
    assert 'CMD ["worker"]' in final_stage
    ignored = (ROOT / ".dockerignore").read_text().splitlines()
    assert {".env", ".git", ".venv", "data"} <= set(ignored), "no secrets or local state in the build"


def _dockerfile_instructions() -> list[str]:
    """The Dockerfile's instructions, continuation lines joined, comments left out."""
    instructions: list[str] = []
    current = ""
    for line in (ROOT / "Dockerfile").read_text().splitlines():
        if not current and line.lstrip().startswith("#"):
            continue
        current += line.rstrip().removesuffix("\\") + " "
        if not line.rstrip().endswith("\\"):
            if current.strip():
                instructions.append(" ".join(current.split()))
            current = ""
    return instructions


def test_the_image_leaves_the_local_stack_out() -> None:
    """The embedded PostgreSQL (pgserver) is an optional extra that `make run` and
    `make test` install and the image does not: deployed processes are given
    DATABASE_URL."""
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    assert not [d for d in project["dependencies"] if d.startswith("pgserver")], "pgserver is not a dependency"
    assert [d for d in project["optional-dependencies"]["local"] if d.startswith("pgserver")]
    assert "-e '.[local," in (ROOT / "Makefile").read_text(), "make installs the local extra"
    installs = [i for i in _dockerfile_instructions() if i.startswith("RUN ") and "pip install" in i]
    assert installs, "the image installs the package"
    for instruction in installs:
        # no `.[local]` (nor any extra), no optional-dependencies table, no pgserver
        assert not re.search(r"\.\[|optional-dependencies|pgserver", instruction), f"installs an extra: {instruction}"
    # and every deployed process that opens the register is given its URL
    for name, service in SERVICES.items():
        if "build" in service and service["command"][0] not in ("codec-server", "certs"):
            assert "DATABASE_URL" in _environment(name), f"{name}: no DATABASE_URL"


def test_search_attributes_registered_are_those_of_the_code() -> None:
    job = SERVICES["temporal-search-attributes"]
    expected = search_attributes.cli_flags()[1::2]  # Name=Type, as `temporal` takes them
    assert job["command"] == expected, (
        "docker-compose.yml registers other search attributes than complaints/search_attributes.py;"
        f" its command should be {expected}"
    )
    assert job["entrypoint"][-1] == "/deploy/register-search-attributes.sh"
    script = (ROOT / "deploy" / "temporal" / "register-search-attributes.sh").read_text()
    assert 'for pair in "$@"' in script
    # in the namespace the workers use, once it exists
    namespace = _environment("worker")["COMPLAINTS_TEMPORAL_NAMESPACE"]
    assert _environment("temporal-search-attributes")["TEMPORAL_NAMESPACE"] == namespace
    assert job["depends_on"]["temporal-namespace"]["condition"] == "service_completed_successfully"


def test_every_dependency_waits_on_a_condition() -> None:
    one_shots = {"temporal-certs", "temporal-schema", "temporal-namespace", "temporal-search-attributes"}
    for name, service in SERVICES.items():
        depends_on = service.get("depends_on", {})
        assert isinstance(depends_on, dict), f"{name}: depends_on without conditions"
        for other, rule in depends_on.items():
            assert other in SERVICES, f"{name} depends on unknown {other}"
            condition = rule.get("condition")
            if other in one_shots:
                assert condition == "service_completed_successfully", f"{name} → {other}"
            else:
                assert condition == "service_healthy", f"{name} → {other}: {condition}"
                assert "healthcheck" in SERVICES[other], f"{other} has no health check for {name}"
    for job in one_shots:
        assert str(SERVICES[job].get("restart", "no")) == "no", f"{job} runs once"
    # the start order: database, schema, server, namespace, search attributes, worker
    assert "postgres" in SERVICES["temporal-schema"]["depends_on"]
    assert "temporal-schema" in SERVICES["temporal"]["depends_on"]
    assert "temporal" in SERVICES["temporal-namespace"]["depends_on"]
    assert {"postgres", "temporal", "temporal-search-attributes", "mailpit"} <= set(SERVICES["worker"]["depends_on"])


def test_worker_is_given_what_it_needs_to_reach_each_service() -> None:
    env = _environment("worker")
    postgres = _environment("postgres")

    register = urlsplit(env["DATABASE_URL"])
    assert register.scheme in ("postgresql", "postgres")
    assert register.hostname == "postgres" and register.port == 5432
    assert register.path == f"/{postgres['REGISTER_DB_NAME']}"
    assert register.username == postgres["REGISTER_DB_USER"]
    assert register.password == postgres["REGISTER_DB_PASSWORD"]
    assert SERVICES["worker"]["environment"]["DATABASE_URL"].count("${REGISTER_DB_PASSWORD") == 1
    assert SERVICES["postgres"]["environment"]["REGISTER_DB_PASSWORD"].startswith("${REGISTER_DB_PASSWORD")

    host, port = env["COMPLAINTS_TEMPORAL_ADDRESS"].rsplit(":", 1)
    assert host == "temporal" and int(port) in _published("temporal")
    assert f"{port}" in SERVICES["temporal"]["healthcheck"]["test"]
    assert _environment("temporal-namespace")["TEMPORAL_ADDRESS"] == env["COMPLAINTS_TEMPORAL_ADDRESS"]
    assert _environment("temporal-ui")["TEMPORAL_ADDRESS"] == env["COMPLAINTS_TEMPORAL_ADDRESS"]

    assert env["COMPLAINTS_SMTP_HOST"] == "mailpit"
    assert int(env["COMPLAINTS_SMTP_PORT"]) in _published("mailpit")
    assert int(env["COMPLAINTS_SMTP_PORT"]) != 8025, "that is Mailpit's web UI"

    # and the app reads them as meant (the env file adds nothing by default)
    secrets = {"COMPLAINTS_PAYLOAD_KEYS", "COMPLAINTS_LINK_SECRET"}  # required: tests/test_security_deployment.py
    names = _setting_names()
    read: dict[str, Any] = {names[k]: v for k, v in env.items() if k in names and k not in secrets}
    settings = Settings(_env_file=None, **read)
    assert settings.database_url == env["DATABASE_URL"]
    assert settings.temporal_address == "temporal:7233"
    assert (settings.smtp_host, settings.smtp_port) == ("mailpit", 1025)
    assert settings.temporal_tls_cert_file is not None, "mutual TLS (tests/test_security_deployment.py)"
    env_files = SERVICES["worker"]["env_file"]
    assert [_resolved(path) for path in env_files] == [".env.example"]


def test_published_ports_are_the_documented_ones() -> None:
    documented = _documented_ports()
    assert set(documented) == set(SERVICES) - {
        "temporal-schema",
        "temporal-namespace",
        "temporal-search-attributes",
    }, "docs/deployment.md lists every long-running service"
    for service, ports in documented.items():
        assert _published(service) == ports, f"{service}: compose publishes {_published(service)}"
    assert documented["temporal"] == {7233}
    assert documented["temporal-ui"] == {8080}
    assert documented["mailpit"] == {1025, 8025}


def test_worker_can_scale() -> None:
    for name, service in SERVICES.items():
        assert "container_name" not in service, f"{name}: a fixed container name stops parallel stacks"
    worker = SERVICES["worker"]
    assert "ports" not in worker and "hostname" not in worker
    assert "build" in worker
    assert not [v for v in worker.get("volumes", []) if not str(v).endswith(":ro")], "no state of its own"


def test_named_volumes_hold_the_state() -> None:
    declared = set(COMPOSE.get("volumes", {}))
    used = set()
    for service in SERVICES.values():
        for volume in service.get("volumes", []):
            source = str(volume).split(":")[0]
            if not source.startswith((".", "/")):
                used.add(source)
            else:
                assert (ROOT / source).exists(), f"{volume}: nothing at {source}"
    assert used == declared
    assert "postgres-data:/var/lib/postgresql/data" in SERVICES["postgres"]["volumes"]


def test_env_example_lists_every_setting_with_its_default(tmp_path: Path) -> None:
    listed = _env_example()
    names = _setting_names()
    assert set(names) - set(listed) == set(), "settings missing from .env.example"
    compose_only = {"COMPLAINTS_CODEC_TOKEN"}  # the codec's and the UI's one token, in compose
    assert set(listed) - set(names) - compose_only == set(), ".env.example lists settings that do not exist"
    listed = {env: value for env, value in listed.items() if env not in compose_only}
    for env, value in listed.items():
        if value == "":
            assert Settings.model_fields[names[env]].default is None, f"{env} has a default"
    # every value shown is the default, as the app parses a .env file
    uncommented = tmp_path / "defaults.env"
    uncommented.write_text("".join(f"{env}={value}\n" for env, value in listed.items() if value))
    assert Settings(_env_file=uncommented).model_dump() == Settings(_env_file=None).model_dump()


def test_compose_variables_are_documented_in_env_example() -> None:
    lines = (ROOT / "docker-compose.yml").read_text().splitlines()
    compose_text = "\n".join(line for line in lines if not line.lstrip().startswith("#"))
    variables = {m[1] for m in _INTERPOLATION.finditer(compose_text)}
    assert variables, "the compose file takes its settings from variables"
    example = ENV_EXAMPLE.read_text()
    for variable in variables:
        assert re.search(rf"^#?\s*{variable}=", example, re.MULTILINE), f"{variable} not in .env.example"
    assert re.search(r"^APP_ENV_FILE=\.env$", example, re.MULTILINE)


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
    expected = re.escape(f"COMPLAINTS_TEMPORAL_TLS_CA_FILE={missing}: no such file")
    with pytest.raises(TemporalSettingsError, match=expected):
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
                digital_signature=True,
                key_cert_sign=True,
                crl_sign=True,
                content_commitment=False,
                key_encipherment=False,
                data_encipherment=False,
                key_agreement=False,
                encipher_only=False,
                decipher_only=False,
            ),
            critical=True,
        )
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(key.public_key()), critical=False)
        .sign(key, hashes.SHA256())
    )
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
        .add_extension(x509.AuthorityKeyIdentifier.from_issuer_public_key(ca_key.public_key()), critical=False)
    )
    if names:
        builder = builder.add_extension(x509.SubjectAlternativeName(names), critical=False)
    return builder.sign(ca_key, hashes.SHA256()), key


@pytest.fixture(scope="module")
def pki(tmp_path_factory: pytest.TempPathFactory) -> Pki:
    folder = tmp_path_factory.mktemp("pki")
    ca, ca_key = _make_ca("complaints test CA")
    server, server_key = _issue(
        ca,
        ca_key,
        SERVER_NAME,
        ExtendedKeyUsageOID.SERVER_AUTH,
        [x509.DNSName(SERVER_NAME)],
    )
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
        task = asyncio.current_task()
        assert task is not None
        self.tasks.add(task)
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
            self.tasks.discard(task)


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
