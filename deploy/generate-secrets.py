"""Prints a fresh set of the compose stack's secrets as .env lines:

    python3 deploy/generate-secrets.py >> .env

or, with --kubernetes, those of the Kubernetes Secret `complaints`
(deploy/k8s/; the register's URL comes from your managed PostgreSQL):

    kubectl create secret generic complaints \
        --from-env-file=<(python3 deploy/generate-secrets.py --kubernetes) --from-literal=DATABASE_URL=...

Python's standard library only, so it runs before anything is installed. Run
it once: new database passwords do not change those of an existing volume,
and a new payload key must be put first beside the old ones (rotation,
docs/security/deployment.md)."""

import base64
import secrets
import sys


def secret_lines() -> list[str]:
    token = secrets.token_urlsafe  # 32 random bytes: 43 URL-safe characters
    payload_key = base64.b64encode(secrets.token_bytes(32)).decode()  # AES-256, as the codec reads it
    return [
        f"TEMPORAL_DB_PASSWORD={token(32)}",
        f"REGISTER_DB_PASSWORD={token(32)}",
        f"COMPLAINTS_LINK_SECRET={token(32)}",
        f"COMPLAINTS_CODEC_TOKEN={token(32)}",
        f"COMPLAINTS_PAYLOAD_KEYS=key-1:{payload_key}",
    ]


def kubernetes_lines() -> list[str]:
    """The application's secrets only, named as the processes read them: the
    databases are managed elsewhere and the codec token has no UI of ours to share."""
    lines = dict(line.split("=", 1) for line in secret_lines())
    return [
        f"COMPLAINTS_LINK_SECRET={lines['COMPLAINTS_LINK_SECRET']}",
        f"COMPLAINTS_CODEC_TOKENS={lines['COMPLAINTS_CODEC_TOKEN']}",
        f"COMPLAINTS_PAYLOAD_KEYS={lines['COMPLAINTS_PAYLOAD_KEYS']}",
    ]


if __name__ == "__main__":
    print("\n".join(kubernetes_lines() if "--kubernetes" in sys.argv[1:] else secret_lines()))
