"""The per-address limits that apply by path, checked before the request's
body is read (a flood costs no parsing): the public form's submissions
(COMPLAINTS_PUBLIC_FORM_RATE) and every request through a customer's signed
link, pages and JSON alike (COMPLAINTS_CUSTOMER_LINK_RATE).

Over the limit: 429 with Retry-After — a French page for the pages (the
browser's back button keeps what was typed), a problem for the JSON API.
The register unreachable: the request goes on unlimited, and the endpoint,
which needs the same register, answers 503 with Retry-After itself (the
form comes back filled in); nothing can be stored or read meanwhile."""

import json
import logging
import math
import re
from http import HTTPStatus

from starlette.types import ASGIApp, Receive, Scope, Send

from api.problems import MEDIA_TYPE
from api.rate_limit import SharedLimit
from complaints.database import REGISTER_ERRORS, register_unavailable
from complaints.settings import Settings

log = logging.getLogger(__name__)

_CUSTOMER_API = re.compile(r"^/complaints/[^/]+/customer(/|$)")
_CUSTOMER_PAGES = ("/suivi/", "/reclamation/enregistree", "/reclamation/reponses-proches")
# No script, no third party: the pages' own policy.
_PAGE_HEADERS = [
    (
        b"content-security-policy",
        b"default-src 'none'; style-src 'unsafe-inline'; base-uri 'none'; frame-ancestors 'none'",
    ),
    (b"referrer-policy", b"no-referrer"),
    (b"x-content-type-options", b"nosniff"),
    (b"cache-control", b"no-store"),
]
_PAGE = """<!doctype html><html lang="fr"><head><meta charset="utf-8"><title>{title}</title></head>
<body><h1>{title}</h1><p>{message}</p></body></html>"""


class RequestLimits:
    def __init__(self, app: ASGIApp, settings: Settings) -> None:
        self.app = app
        self.form = SharedLimit("form", settings.public_form_rate)
        self.customer = SharedLimit("customer", settings.customer_link_rate)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        limit = self._limit_of(scope) if scope["type"] == "http" else None
        if limit is None:
            await self.app(scope, receive, send)
            return
        client = scope["client"][0] if scope.get("client") else "unknown"
        try:
            wait = await limit.acquire(scope["app"].state.services.pool, client)
        except REGISTER_ERRORS as error:
            if not register_unavailable(error):
                raise
            # Fail open: the endpoint needs the same register and answers 503 itself
            # (the form comes back filled in), so nothing gets through unlimited.
            log.warning("the register is unavailable: %s %s is not limited: %s", scope["method"], scope["path"], error)
            wait = None
        if wait is None:
            await self.app(scope, receive, send)
        else:
            await self._refuse(scope, send, wait, limit is self.form)

    def _limit_of(self, scope: Scope) -> SharedLimit | None:
        path = scope["path"]
        if path == "/reclamation" and scope["method"] == "POST":
            return self.form
        if _CUSTOMER_API.match(path) or path.startswith(_CUSTOMER_PAGES):
            return self.customer
        return None

    async def _refuse(self, scope: Scope, send: Send, retry_after: int, form: bool) -> None:
        path: str = scope["path"]
        headers = [(b"retry-after", str(retry_after).encode()), (b"connection", b"close")]  # the body is not read
        if _CUSTOMER_API.match(path):
            detail = f"too many requests from your address: retry in {retry_after} seconds"
            problem = {"type": "about:blank", "title": HTTPStatus(429).phrase, "status": 429, "detail": detail}
            body = json.dumps({**problem, "instance": path}).encode()
            headers.append((b"content-type", MEDIA_TYPE.encode()))
        else:
            body = _page(retry_after, form).encode()
            headers += [(b"content-type", b"text/html; charset=utf-8"), *_PAGE_HEADERS]
        headers.append((b"content-length", str(len(body)).encode()))
        await send({"type": "http.response.start", "status": 429, "headers": headers})
        await send({"type": "http.response.body", "body": body})


def _page(wait: int, form: bool) -> str:
    minutes = math.ceil(wait / 60)
    later = "une minute" if minutes <= 1 else f"{minutes} minutes"
    if form:
        message = (
            "Trop de formulaires envoyés depuis votre connexion : votre réclamation n'est pas encore envoyée. "
            f"Revenez à la page précédente (ce que vous avez écrit y est encore) et renvoyez-la dans {later}."
        )
    else:
        message = f"Trop de demandes depuis votre connexion : réessayez dans {later}."
    return _PAGE.format(title="Trop de demandes", message=message)
