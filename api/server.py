"""`complaints api`: the HTTP API and the customer pages on their own."""

import uvicorn

from api.app import create_app
from complaints.process import configure_logging
from complaints.settings import Settings


def main(settings: Settings | None = None) -> None:
    configure_logging()
    settings = settings or Settings()
    print(
        f"API and customer pages on http://{settings.api_host}:{settings.api_port} "
        f"(OpenAPI: /docs; complaint form: /reclamation; links in emails: {settings.public_base_url})",
        flush=True,
    )
    # proxy headers are the app's own (COMPLAINTS_TRUSTED_PROXIES), not uvicorn's default trust of 127.0.0.1
    uvicorn.run(
        create_app(settings), host=settings.api_host, port=settings.api_port, log_level="info", proxy_headers=False
    )
