"""Whether a message was authenticated for its From domain, as our own MX
recorded it in an `Authentication-Results` header (RFC 8601).

Anyone can write that header into a message: only one whose authserv-id is our
MX's counts (an MX removes such headers claiming its own id from what it
receives, RFC 8601 §5). A pass counts when it is aligned with the From domain
(DMARC's relaxed alignment: the same domain, or one a subdomain of the other):
a DKIM signature by `header.d`, or SPF for the `smtp.mailfrom` domain."""

import logging
from typing import Literal

import authres  # type: ignore[import-untyped]

log = logging.getLogger(__name__)

Required = Literal["dkim", "dkim_or_spf"]


def authenticated(headers: list[str], from_domain: str, trusted_ids: list[str], required: Required) -> bool:
    """True when a header of a trusted authserv-id records an aligned pass."""
    trusted = {authserv_id.lower() for authserv_id in trusted_ids}
    for value in headers:
        try:
            header = authres.AuthenticationResultsHeader.parse_value(value)
        except Exception:  # authres raises its own syntax errors, and others on odd input
            log.info("unreadable Authentication-Results header ignored")
            continue
        if str(header.authserv_id or "").lower() not in trusted:
            continue
        for result in header.results:
            if _aligned_pass(result, from_domain.lower(), required):
                return True
    return False


def _aligned_pass(result: object, from_domain: str, required: Required) -> bool:
    method = str(getattr(result, "method", "")).lower()
    if str(getattr(result, "result", "")).lower() != "pass":
        return False
    if method == "dkim":
        return _aligned(_property(result, "header", "d"), from_domain)
    if method == "spf" and required == "dkim_or_spf":
        mail_from = _property(result, "smtp", "mailfrom")
        return _aligned(mail_from.rsplit("@", 1)[-1], from_domain)
    return False


def _property(result: object, kind: str, name: str) -> str:
    for prop in getattr(result, "properties", []):
        if str(prop.type).lower() == kind and str(prop.name).lower() == name:
            return str(prop.value or "")
    return ""


def _aligned(domain: str, from_domain: str) -> bool:
    domain = domain.lower().strip(".")
    if "." not in domain or not from_domain:  # a bare top-level domain aligns with nothing
        return False
    return domain == from_domain or domain.endswith(f".{from_domain}") or from_domain.endswith(f".{domain}")
