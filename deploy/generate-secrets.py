"""Prints a fresh set of the compose stack's secrets as .env lines:

    python3 deploy/generate-secrets.py >> .env

Python's standard library only, so it runs before anything is installed. Run
it once: new database passwords do not change those of an existing volume,
and a new payload key must be put first beside the old ones (rotation,
docs/security/deployment.md)."""

import base64
import secrets


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


if __name__ == "__main__":
    print("\n".join(secret_lines()))
