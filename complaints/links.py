"""Signed, expiring links for the complainant: no account, the link is the key.

A token is an itsdangerous URL-safe timed signature (HMAC-SHA1 over a key
derived from the secret and a salt) of the complaint's reference. The salt
names the action the token allows, so a token for one action or one complaint
opens nothing else. The status link goes in every email to the complainant;
the status page hands out the tokens of the actions it offers."""

import functools
import os
import secrets
import time
from collections.abc import Callable
from datetime import timedelta
from enum import StrEnum
from pathlib import Path
from urllib.parse import quote, urlencode

from itsdangerous import BadSignature, URLSafeTimedSerializer
from itsdangerous.timed import TimestampSigner

from complaints.private_files import create_private
from complaints.settings import Settings

SECRET_FILE = "link_secret"
CONFIRMATION_MAX_AGE = timedelta(days=1)  # the web form's confirmation page


class LinkAction(StrEnum):
    STATUS = "status"  # see where the complaint stands
    REPLY = "reply"  # answer an information request, with documents
    VERDICT = "verdict"  # accept or contest the response
    SURVEY = "survey"  # answer the satisfaction survey
    CONFIRMATION = "confirmation"  # the page right after the web form


class LinkRefused(Exception):
    """The token is not a valid, current token for this complaint and action."""

    def __init__(self, reason: str, message: str) -> None:
        super().__init__(message)
        self.reason = reason  # "expired" or "invalid"
        self.message = message


class LinkSigner:
    def __init__(self, secret: str, max_age: timedelta, clock: Callable[[], float] = time.time) -> None:
        self._secret = secret
        self.max_age = max_age
        self._clock = clock

    def _serializer(self, action: LinkAction) -> URLSafeTimedSerializer:
        clock = self._clock

        class Signer(TimestampSigner):
            def get_timestamp(self) -> int:
                return int(clock())

        return URLSafeTimedSerializer(self._secret, salt=f"complaints.link.{action.value}", signer=Signer)

    def sign(self, reference: str, action: LinkAction) -> str:
        return self._serializer(action).dumps(reference)

    def verify(self, token: str, action: LinkAction, reference: str, max_age: timedelta | None = None) -> None:
        """Refuse (LinkRefused) unless `token` allows `action` on `reference` now."""
        if self.reference(token, action, max_age) != reference:
            raise LinkRefused("invalid", "this link belongs to another complaint")

    def reference(self, token: str, action: LinkAction, max_age: timedelta | None = None) -> str:
        """The complaint a valid, current `token` for `action` names."""
        serializer = self._serializer(action)
        age = (max_age or self.max_age).total_seconds()
        try:
            # the age is checked below against this signer's clock
            value, signed_at = serializer.loads(token, max_age=None, return_timestamp=True)
        except BadSignature as error:
            raise LinkRefused("invalid", "this link is not valid: copy the whole link from the email") from error
        if self._clock() - signed_at.timestamp() > age:
            raise LinkRefused("expired", "this link has expired: use the link in the latest email we sent you")
        if not isinstance(value, str):
            raise LinkRefused("invalid", "this link is not valid")
        return value


def link_secret(settings: Settings) -> str:
    """COMPLAINTS_LINK_SECRET, or a random secret generated once under data_dir
    (so the local stack works without configuration; every process that
    signs or checks links must share it)."""
    if settings.link_secret:
        return settings.link_secret
    return _local_secret(settings.data_dir.resolve())


@functools.cache
def _local_secret(data_dir: Path) -> str:
    path = data_dir / SECRET_FILE
    if not path.exists():
        data_dir.mkdir(parents=True, exist_ok=True)
        draft = data_dir / f".{SECRET_FILE}.{os.getpid()}.{secrets.token_hex(4)}"
        create_private(draft, secrets.token_urlsafe(32))
        try:
            os.link(draft, path)  # atomic: the first process to create it wins
        except FileExistsError:
            pass
        finally:
            draft.unlink()
    return path.read_text().strip()


def signer(settings: Settings) -> LinkSigner:
    return LinkSigner(link_secret(settings), timedelta(days=settings.link_max_age_days))


def status_link(settings: Settings, reference: str) -> str:
    """The link to the complaint's status page, put in every email."""
    token = signer(settings).sign(reference, LinkAction.STATUS)
    base = settings.public_base_url.rstrip("/")
    return f"{base}/suivi/{quote(reference)}?{urlencode({'token': token})}"
