"""Issue 14, findings 1, 3 (the compose part) and 13 (the secret file's mode):
no secret ships with a known value, compose refuses to start without its
secrets, the settings refuse short ones, the local secrets are private from
their creation, and every client of the compose Temporal frontend presents a
certificate of the stack's own CA."""

import os
import re
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
import yaml
from cryptography import x509
from cryptography.hazmat.primitives.asymmetric import ec
from pydantic import ValidationError
from temporalio.service import TLSConfig

from complaints import links, payload_codec
from complaints.settings import Settings
from complaints.temporal_client import connect_options
from starter.certs import make_certificates
from tests.helpers.settings import without_outside_settings

ROOT = Path(__file__).resolve().parent.parent
COMPOSE_TEXT = (ROOT / "docker-compose.yml").read_text()
SERVICES: dict[str, dict[str, Any]] = yaml.safe_load(COMPOSE_TEXT)["services"]
SECRETS = {
    "COMPLAINTS_LINK_SECRET",
    "COMPLAINTS_PAYLOAD_KEYS",
    "COMPLAINTS_CODEC_TOKEN",
    "TEMPORAL_DB_PASSWORD",
    "REGISTER_DB_PASSWORD",
}
_REFERENCE = re.compile(r"\$\{(\w+)(:?[-?])?([^}]*)\}")
TEMPORAL_CLIENTS = {"worker", "api", "inbound"}


@pytest.fixture(autouse=True)
def _no_settings_from_outside(monkeypatch: pytest.MonkeyPatch) -> None:
    without_outside_settings(monkeypatch)


def _generated_secrets() -> str:
    script = ROOT / "deploy" / "generate-secrets.py"
    return subprocess.run([sys.executable, str(script)], check=True, capture_output=True, text=True).stdout


# --- finding 1: no known secret in docker-compose.yml ----------------------------


def test_no_secret_in_the_compose_file_has_a_default() -> None:
    used: dict[str, set[str]] = {}
    for match in _REFERENCE.finditer(COMPOSE_TEXT):
        if match[1] in SECRETS:
            used.setdefault(match[1], set()).add(match[2])
    assert set(used) == SECRETS, f"not every secret is taken from the environment: {SECRETS - set(used)}"
    for name, operators in used.items():
        assert operators == {":?"}, f"{name} must be required (${{{name}:?...}}), not given a default"
    for service, definition in SERVICES.items():
        environment = definition.get("environment", {})
        for key, value in environment.items():
            if any(word in key for word in ("SECRET", "PASSWORD", "PAYLOAD_KEYS", "TOKEN")):
                assert str(value).startswith("${") or "${" in str(value), f"{service}: {key} is written out"


@pytest.mark.skipif(shutil.which("docker-compose") is None, reason="docker-compose is not installed")
def test_compose_refuses_to_start_without_the_secrets_and_accepts_a_generated_set(tmp_path: Path) -> None:
    command = ["docker-compose", "--file", str(ROOT / "docker-compose.yml"), "--env-file"]
    environment = {"PATH": os.environ["PATH"], "HOME": str(tmp_path)}
    nothing = tmp_path / "empty.env"
    nothing.write_text("")
    refused = subprocess.run([*command, str(nothing), "config", "--quiet"], env=environment, capture_output=True)
    assert refused.returncode != 0
    assert b"README" in refused.stderr, "the refusal says where the command that generates them is"
    secrets_file = tmp_path / "throwaway.env"
    secrets_file.write_text(_generated_secrets())
    accepted = subprocess.run([*command, str(secrets_file), "config", "--quiet"], env=environment, capture_output=True)
    assert accepted.returncode == 0, accepted.stderr.decode()


def test_the_generated_secrets_are_what_the_settings_accept() -> None:
    values = dict(line.split("=", 1) for line in _generated_secrets().splitlines())
    assert set(values) == SECRETS
    settings = Settings(
        _env_file=None,
        link_secret=values["COMPLAINTS_LINK_SECRET"],
        payload_keys=values["COMPLAINTS_PAYLOAD_KEYS"],
        codec_tokens=values["COMPLAINTS_CODEC_TOKEN"],
        database_url=f"postgresql://complaints:{values['REGISTER_DB_PASSWORD']}@postgres:5432/complaints",
    )
    assert len(payload_codec.parse_keys(settings.payload_keys or "")) == 1


@pytest.mark.parametrize(
    ("setting", "value", "named"),
    [
        ("link_secret", "9ObZkJ6dQ3xhfYj9LRZGeGBnJUalW2b", "COMPLAINTS_LINK_SECRET"),
        ("payload_keys", "k:" + "QUJD" * 4, "COMPLAINTS_PAYLOAD_KEYS"),
        ("codec_tokens", "x" * 40 + ",short", "COMPLAINTS_CODEC_TOKENS"),
        ("database_url", "postgresql://complaints:complaints@postgres/complaints", "DATABASE_URL"),
    ],
)
def test_settings_refuse_a_secret_shorter_than_32_bytes(setting: str, value: str, named: str) -> None:
    with pytest.raises(ValidationError, match=named):
        values: dict[str, Any] = {setting: value}
        Settings(_env_file=None, **values)


def test_make_run_still_works_without_any_secret_configured(tmp_path: Path) -> None:
    settings = Settings(_env_file=None, data_dir=tmp_path)
    assert len(links.link_secret(settings).encode()) >= 32
    assert len(payload_codec.parse_keys(payload_codec.local_key(tmp_path))) == 1


# --- finding 13: the local secret files are private from their creation ----------


def test_the_local_secrets_are_created_private(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    """Each file is opened with its mode (os.open(..., 0o600)), never written
    first and chmod-ed after: no moment where another user could read it."""
    created: list[tuple[str, int, int]] = []
    real_open = os.open

    def recording_open(path: Any, flags: int, mode: int = 0o777, **kwargs: Any) -> int:
        created.append((str(path), flags, mode))
        return real_open(path, flags, mode, **kwargs)

    monkeypatch.setattr(os, "open", recording_open)
    previous = os.umask(0)  # a permissive umask: only the mode given at creation protects the file
    try:
        links._local_secret.cache_clear()
        secret = links.link_secret(Settings(_env_file=None, data_dir=tmp_path))
        payload_codec.local_key(tmp_path)
    finally:
        os.umask(previous)
        links._local_secret.cache_clear()
    for stem in (links.SECRET_FILE, "payload.key"):
        [(_, flags, mode)] = [entry for entry in created if stem in Path(entry[0]).name]
        assert flags & os.O_CREAT and flags & os.O_EXCL, f"{stem}: not created exclusively"
        assert mode == 0o600, f"{stem}: created with mode {oct(mode)}"
    assert (tmp_path / links.SECRET_FILE).stat().st_mode & 0o777 == 0o600
    assert (tmp_path / "payload.key").stat().st_mode & 0o777 == 0o600
    assert (tmp_path / links.SECRET_FILE).read_text() == secret


# --- finding 3: mutual TLS between every client and the compose frontend -------------


def test_every_temporal_client_in_compose_presents_the_stacks_certificate() -> None:
    server = SERVICES["temporal"]["environment"]
    assert server["TEMPORAL_TLS_REQUIRE_CLIENT_AUTH"] == "true"
    assert server["TEMPORAL_TLS_CLIENT1_CA_CERT"] == "/certs/ca.pem"
    assert {"temporal-certs"} <= set(SERVICES["temporal"]["depends_on"])
    for name in TEMPORAL_CLIENTS:
        environment = SERVICES[name]["environment"]
        assert environment["COMPLAINTS_TEMPORAL_TLS_CERT_FILE"] == "/certs/client.pem", name
        assert environment["COMPLAINTS_TEMPORAL_TLS_KEY_FILE"] == "/certs/client.key", name
        assert environment["COMPLAINTS_TEMPORAL_TLS_CA_FILE"] == "/certs/ca.pem", name
        assert "temporal-certs:/certs:ro" in SERVICES[name]["volumes"], name
    for name in ("temporal-ui", "temporal-namespace", "temporal-search-attributes"):
        environment = SERVICES[name]["environment"]
        assert environment["TEMPORAL_TLS_CERT"] == "/certs/client.pem", name
        assert environment["TEMPORAL_TLS_KEY"] == "/certs/client.key", name
    for name, service in SERVICES.items():
        mounts = [str(volume) for volume in service.get("volumes", [])]
        assert not any(m.startswith("temporal-ca:") for m in mounts) or name == "temporal-certs", (
            f"{name} mounts the CA's key"
        )


def test_the_certs_command_makes_a_chain_the_clients_settings_load(tmp_path: Path) -> None:
    out, ca_dir = tmp_path / "certs", tmp_path / "ca"
    assert make_certificates(out, ca_dir, "temporal")
    assert not make_certificates(out, ca_dir, "temporal"), "made once, kept after"
    assert not (out / "ca.key").exists() and (ca_dir / "ca.key").stat().st_mode & 0o777 == 0o600
    ca = x509.load_pem_x509_certificate((out / "ca.pem").read_bytes())
    server = x509.load_pem_x509_certificate((out / "server.pem").read_bytes())
    client = x509.load_pem_x509_certificate((out / "client.pem").read_bytes())
    for leaf in (server, client):
        leaf.verify_directly_issued_by(ca)
        assert isinstance(leaf.public_key(), ec.EllipticCurvePublicKey)
    names = server.extensions.get_extension_for_class(x509.SubjectAlternativeName).value
    assert "temporal" in names.get_values_for_type(x509.DNSName)

    # the settings the compose clients are given, with the files where they are mounted
    environment = SERVICES["worker"]["environment"]
    mounted = {key: str(value).replace("/certs", str(out)) for key, value in environment.items() if "TLS" in key}
    values: dict[str, Any] = {key.removeprefix("COMPLAINTS_").lower(): v for key, v in mounted.items()}
    settings = Settings(_env_file=None, **values)
    options = connect_options(settings)
    tls = options["tls"]
    assert isinstance(tls, TLSConfig)
    assert tls.client_cert == (out / "client.pem").read_bytes()
    assert tls.client_private_key == (out / "client.key").read_bytes()
    assert tls.server_root_ca_cert == (out / "ca.pem").read_bytes()
    assert tls.domain == "temporal"


# --- finding 4: the codec server in compose asks for its token -------------------


def test_the_compose_codec_server_trusts_no_network_and_the_ui_carries_its_token() -> None:
    codec = SERVICES["codec"]["environment"]
    assert codec["COMPLAINTS_CODEC_TOKENS"].startswith("${COMPLAINTS_CODEC_TOKEN:?")
    assert codec["COMPLAINTS_CODEC_TRUSTED_NETWORKS"] == ""
    assert "COMPLAINTS_CODEC_ENCODE_ENABLED" not in codec, "the UI only decodes"
    endpoint = SERVICES["temporal-ui"]["environment"]["TEMPORAL_CODEC_ENDPOINT"]
    assert re.fullmatch(r"http://localhost:8234/\$\{COMPLAINTS_CODEC_TOKEN:\?[^}]*\}", endpoint), endpoint
    assert all(str(port).startswith("${PUBLISH_ADDRESS:-127.0.0.1}:") for port in SERVICES["codec"]["ports"])
