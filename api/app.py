"""The application: the operators' API, the customer endpoints and pages.

`create_app(settings, pool, client)` serves over the given register pool and
Temporal client (tests, an embedding process); without them, the app opens
its own at startup and closes them at shutdown (`complaints api`)."""

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

import asyncpg
from fastapi import FastAPI
from fastapi.openapi.utils import get_openapi
from temporalio.client import Client
from uvicorn.middleware.proxy_headers import ProxyHeadersMiddleware

from api import access_log, admission, commands, complaint_endpoints, customer, docs_page, problems, reports, web
from api.body_limit import BodyLimit, request_body_limit
from api.console import routes as console
from api.rate_limit import SharedLimit
from api.request_limits import RequestLimits
from api.schemas import ComplaintRequest
from api.services import Services
from api.transport_security import StrictTransportSecurity
from complaints.database import register_pool
from complaints.links import signer
from complaints.settings import Settings
from complaints.temporal_client import connect

DESCRIPTION = """Complaint intake and handling.

* **Operators** authenticate with an API key (`Authorization: Bearer <key>`, issued by
  `complaints users add`); each endpoint needs a role: intake, handler, manager or admin.
* **Complainants** act through the signed, expiring links sent in their emails.
* Errors are RFC 9457 problem details (`application/problem+json`).
"""


def create_app(settings: Settings, pool: asyncpg.Pool | None = None, client: Client | None = None) -> FastAPI:
    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        access_log.install()  # after the server configured its loggers
        if pool is not None and client is not None:
            app.state.services = Services(settings, pool, client, signer(settings))
            yield
            return
        own_client = await connect(settings)
        async with register_pool(settings) as own_pool:
            app.state.services = Services(settings, own_pool, own_client, signer(settings))
            yield

    access_log.install()
    app = FastAPI(
        title="Complaints",
        version="1.0",
        description=DESCRIPTION,
        lifespan=lifespan,
        docs_url=None,  # FastAPI's pages load Swagger UI and ReDoc from a CDN: api/docs_page.py serves its own
        redoc_url=None,
        openapi_tags=[
            {"name": "complaints", "description": "Take complaints in; read them from the register."},
            {"name": "operator commands", "description": "One per workflow update; the actor is the key's operator."},
            {"name": "reports", "description": "Indicators over the register (managers)."},
            {
                "name": "customer (signed links)",
                "description": "What the complainant does through the links in the emails.",
            },
        ],
    )
    if pool is not None and client is not None:  # usable without running the lifespan
        app.state.services = Services(settings, pool, client, signer(settings))
    app.state.failed_key_limit = SharedLimit("failed_key", settings.failed_key_rate)
    problems.install(app)
    app.add_middleware(BodyLimit, limit=request_body_limit(settings))
    app.add_middleware(RequestLimits, settings=settings)
    app.add_middleware(StrictTransportSecurity)
    if settings.trusted_proxies:  # outermost: every part sees the client's address and scheme
        app.add_middleware(ProxyHeadersMiddleware, trusted_hosts=[str(net) for net in settings.trusted_proxies])
    app.include_router(complaint_endpoints.router)
    app.include_router(commands.router)
    app.include_router(customer.router)
    app.include_router(reports.router)
    app.include_router(web.router)
    app.include_router(console.router)
    app.include_router(admission.router)
    docs_page.install(app)
    app.openapi = lambda: _openapi(app)  # type: ignore[method-assign]
    return app


def _openapi(app: FastAPI) -> dict[str, Any]:
    """FastAPI's document, plus the models of the bodies endpoints parse
    themselves (JSON or multipart)."""
    if app.openapi_schema is None:
        document = get_openapi(
            title=app.title,
            version=app.version,
            description=app.description,
            routes=app.routes,
            tags=app.openapi_tags,
        )
        found = document.setdefault("components", {}).setdefault("schemas", {})
        schema = ComplaintRequest.model_json_schema(ref_template="#/components/schemas/{model}")
        for name, definition in schema.pop("$defs", {}).items():
            found.setdefault(name, definition)
        found["ComplaintRequest"] = schema
        app.openapi_schema = document
    return app.openapi_schema
