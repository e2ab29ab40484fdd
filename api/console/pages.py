"""How the console renders: its Jinja2 templates (autoescaped), its own
stylesheet served from /console, and a strict CSP (no inline style or script)."""

from typing import Any

from fastapi.responses import HTMLResponse
from jinja2 import Environment, PackageLoader, StrictUndefined

from api.services import Services
from complaints.dates import LocalDates

SECURITY_HEADERS = {
    "Content-Security-Policy": "default-src 'none'; style-src 'self'; script-src 'self'; connect-src 'self'; "
    "img-src 'self'; form-action 'self'; "
    "base-uri 'none'; frame-ancestors 'none'",
    "Referrer-Policy": "no-referrer",
    "X-Content-Type-Options": "nosniff",
    "Cache-Control": "no-store",
}

templates = Environment(
    loader=PackageLoader("api.console", "templates"),
    autoescape=True,
    undefined=StrictUndefined,
    trim_blocks=True,
    lstrip_blocks=True,
)


def page(svc: Services, name: str, status: int = 200, **values: Any) -> HTMLResponse:
    dates = LocalDates(svc.settings.timezone, svc.settings.locale)
    values.setdefault("operator", None)
    values.setdefault("csrf", "")
    html = templates.get_template(name).render(
        organisation=svc.settings.organisation_name, date=dates.date, moment=dates.moment, due=dates.due, **values
    )
    return HTMLResponse(html, status, headers=SECURITY_HEADERS)


def asset(name: str) -> str:
    """The console's own stylesheet or script (kept beside its templates)."""
    return templates.get_template(name).render()
