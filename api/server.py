"""`complaints api`: the HTTP API and the customer pages on their own."""

import logging

import uvicorn

from api.app import create_app
from complaints.settings import Settings


def main() -> None:
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    settings = Settings()
    print(
        f"API and customer pages on http://{settings.api_host}:{settings.api_port} "
        f"(OpenAPI: /docs; complaint form: /reclamation; links in emails: {settings.public_base_url})",
        flush=True,
    )
    uvicorn.run(create_app(settings), host=settings.api_host, port=settings.api_port, log_level="info")
