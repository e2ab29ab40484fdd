"""`complaints certs`: the compose stack's certificate authority and the
certificates of mutual TLS to the Temporal frontend: one for the server, one
that every client of the stack presents (workers, API, inbound mailbox, the
Temporal UI, the admin tools).

Made once: what exists is kept, so every `docker compose up` can run it.
The CA's key goes to a folder of its own (a volume no other service mounts)."""

import argparse
import datetime
from pathlib import Path
from typing import Any

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

from complaints.private_files import create_private

VALIDITY = datetime.timedelta(days=825)
CLIENT_NAME = "complaints"
# Readable by the services that mount the volume, each under its own user (the
# Temporal images do not run as ours): isolation is by mount, not by mode.
SHARED_MODE = 0o644


def add_parser(commands: Any) -> None:
    certs = commands.add_parser("certs", help="make the compose stack's CA and mutual TLS certificates")
    certs.add_argument("--out", type=Path, required=True, help="folder of the certificates and their keys")
    certs.add_argument("--ca-dir", type=Path, required=True, help="folder of the CA's private key")
    certs.add_argument("--server-name", default="temporal", help="the frontend's host name, as clients dial it")
    certs.set_defaults(command=_certs)


def _certs(args: argparse.Namespace) -> None:
    made = make_certificates(args.out, args.ca_dir, args.server_name)
    print(f"certificates in {args.out}: {'made' if made else 'kept'}")


def make_certificates(out: Path, ca_dir: Path, server_name: str) -> bool:
    """The CA, server and client certificates; False when they already exist."""
    if (out / "client.pem").exists():
        return False
    out.mkdir(parents=True, exist_ok=True)
    ca_dir.mkdir(parents=True, exist_ok=True)
    ca_key = _ca_key(ca_dir)
    ca = _ca_certificate(ca_key)
    _write(out / "ca.pem", ca.public_bytes(serialization.Encoding.PEM))
    # the server's certificate also serves its own services as clients (internode)
    server_usages = [ExtendedKeyUsageOID.SERVER_AUTH, ExtendedKeyUsageOID.CLIENT_AUTH]
    _leaf(out, "server", ca, ca_key, server_name, [server_name, "localhost"], server_usages)
    _leaf(out, "client", ca, ca_key, CLIENT_NAME, [CLIENT_NAME], [ExtendedKeyUsageOID.CLIENT_AUTH])
    return True


def _ca_key(ca_dir: Path) -> ec.EllipticCurvePrivateKey:
    path = ca_dir / "ca.key"
    key = ec.generate_private_key(ec.SECP256R1())
    create_private(path, _pem_key(key).decode())  # kept if a run before made it
    loaded = serialization.load_pem_private_key(path.read_bytes(), password=None)
    assert isinstance(loaded, ec.EllipticCurvePrivateKey)
    return loaded


def _ca_certificate(key: ec.EllipticCurvePrivateKey) -> x509.Certificate:
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "complaints stack CA")])
    return (
        _builder(name, name, key.public_key())
        .add_extension(x509.BasicConstraints(ca=True, path_length=0), critical=True)
        .add_extension(_usage(cert_sign=True), critical=True)
        .sign(key, hashes.SHA256())
    )


def _leaf(
    out: Path,
    stem: str,
    ca: x509.Certificate,
    ca_key: ec.EllipticCurvePrivateKey,
    common_name: str,
    dns_names: list[str],
    usages: list[x509.ObjectIdentifier],
) -> None:
    key = ec.generate_private_key(ec.SECP256R1())
    subject = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, common_name)])
    certificate = (
        _builder(subject, ca.subject, key.public_key())
        .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
        .add_extension(_usage(cert_sign=False), critical=True)
        .add_extension(x509.ExtendedKeyUsage(usages), critical=False)
        .add_extension(x509.SubjectAlternativeName([x509.DNSName(n) for n in dns_names]), critical=False)
        .sign(ca_key, hashes.SHA256())
    )
    _write(out / f"{stem}.key", _pem_key(key))
    _write(out / f"{stem}.pem", certificate.public_bytes(serialization.Encoding.PEM))


def _builder(subject: x509.Name, issuer: x509.Name, public_key: ec.EllipticCurvePublicKey) -> x509.CertificateBuilder:
    now = datetime.datetime.now(datetime.UTC)
    return (
        x509.CertificateBuilder()
        .subject_name(subject)
        .issuer_name(issuer)
        .public_key(public_key)
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(minutes=5))
        .not_valid_after(now + VALIDITY)
    )


def _usage(cert_sign: bool) -> x509.KeyUsage:
    return x509.KeyUsage(
        digital_signature=True,
        content_commitment=False,
        key_encipherment=False,
        data_encipherment=False,
        key_agreement=False,
        key_cert_sign=cert_sign,
        crl_sign=cert_sign,
        encipher_only=False,
        decipher_only=False,
    )


def _pem_key(key: ec.EllipticCurvePrivateKey) -> bytes:
    return key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    )


def _write(path: Path, data: bytes) -> None:
    path.write_bytes(data)
    path.chmod(SHARED_MODE)
