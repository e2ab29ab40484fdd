"""AES-GCM encryption of every workflow payload, so whoever reads a history
(the Temporal UI, the CLI, the server's database) sees no personal data.

Each payload names the key that encrypted it: keys rotate by adding a new
current key and keeping the old ones for the histories they wrote.

A payload that is not encrypted was written by someone without the keys (a
client reaching the frontend with a plain converter): it is refused, unless
the migration switch accepts payloads written before encryption. Decoding must
not raise for it — a codec error fails the whole workflow task, retried
forever, and one forged signal would wedge the run. So it decodes into a
payload of the REFUSED encoding, which only `RefusingPayloadConverter` reads,
by raising a non-retryable ApplicationError for that argument alone: the SDK
drops such a signal (with a warning), rejects such an update, and fails a
workflow started with such an input — no handler ever sees it."""

import base64
import os
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from temporalio.api.common.v1 import Payload
from temporalio.contrib.pydantic import PydanticPayloadConverter
from temporalio.converter import EncodingPayloadConverter, PayloadCodec
from temporalio.exceptions import ApplicationError

from complaints.private_files import create_private

ENCODING = b"binary/encrypted"
REFUSED = b"binary/unencrypted-refused"
UNENCRYPTED_ERROR = "UnencryptedPayload"
KEY_ID = "encryption-key-id"
NONCE_BYTES = 12


class EncryptionCodec(PayloadCodec):
    def __init__(self, keys: dict[str, bytes], current: str, accept_plaintext: bool = False) -> None:
        if current not in keys:
            raise ValueError(f"the current payload key {current!r} is not among the keys")
        self._ciphers = {key_id: AESGCM(key) for key_id, key in keys.items()}
        self._current = current
        self._accept_plaintext = accept_plaintext

    async def encode(self, payloads: Sequence[Payload]) -> list[Payload]:
        cipher = self._ciphers[self._current]
        encoded = []
        for payload in payloads:
            nonce = os.urandom(NONCE_BYTES)
            sealed = cipher.encrypt(nonce, payload.SerializeToString(), None)
            encoded.append(
                Payload(
                    metadata={"encoding": ENCODING, KEY_ID: self._current.encode()},
                    data=nonce + sealed,
                )
            )
        return encoded

    async def decode(self, payloads: Sequence[Payload]) -> list[Payload]:
        decoded = []
        for payload in payloads:
            if payload.metadata.get("encoding") != ENCODING:
                decoded.append(payload if self._accept_plaintext else Payload(metadata={"encoding": REFUSED}))
                continue
            key_id = payload.metadata.get(KEY_ID, b"").decode()
            cipher = self._ciphers.get(key_id)
            if cipher is None:
                raise ValueError(f"payload encrypted with unknown key {key_id!r}")
            nonce, sealed = payload.data[:NONCE_BYTES], payload.data[NONCE_BYTES:]
            decoded.append(Payload.FromString(cipher.decrypt(nonce, sealed, None)))
        return decoded


class RefusingPayloadConverter(EncodingPayloadConverter):
    """Reads the payloads the codec refused: each one raises, non-retryable."""

    @property
    def encoding(self) -> str:
        return REFUSED.decode()

    def to_payload(self, value: Any) -> Payload | None:
        return None  # never writes one

    def from_payload(self, payload: Payload, type_hint: type | None = None) -> Any:
        raise ApplicationError(
            "an unencrypted payload was refused (COMPLAINTS_ACCEPT_PLAINTEXT_PAYLOADS is off)",
            type=UNENCRYPTED_ERROR,
            non_retryable=True,
        )


class ComplaintsPayloadConverter(PydanticPayloadConverter):
    """pydantic's converter, and the refusal of unencrypted payloads."""

    def __init__(self) -> None:
        super().__init__()
        refusing = RefusingPayloadConverter()
        self.converters = {**self.converters, REFUSED: refusing}


def parse_keys(text: str) -> dict[str, bytes]:
    """`id:base64key[,id:base64key...]`, each key 32 bytes (AES-256)."""
    keys = {}
    for item in filter(None, (part.strip() for part in text.split(","))):
        key_id, _, encoded = item.partition(":")
        key = base64.b64decode(encoded)
        if not key_id or len(key) != 32:
            raise ValueError(f"payload key {key_id or item!r}: write id:base64 of 32 random bytes")
        keys[key_id] = key
    return keys


def local_key(folder: Path) -> str:
    """The key the local stack keeps under its data folder, made on first use."""
    path = folder / "payload.key"
    folder.mkdir(parents=True, exist_ok=True)
    create_private(path, f"{new_key_line('local-1')}\n")
    return path.read_text().strip()


def new_key_line(key_id: str) -> str:
    return f"{key_id}:{base64.b64encode(os.urandom(32)).decode()}"
