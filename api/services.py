"""What every endpoint works with, set on the app once: settings, the
register's pool, the Temporal client, the link signer."""

from dataclasses import dataclass
from urllib.parse import quote

import asyncpg
from fastapi import Request
from temporalio.client import Client

from api.schemas import Links
from complaints.links import LinkSigner
from complaints.settings import Settings
from complaints.temporal_client import workflow_ui_url


@dataclass
class Services:
    settings: Settings
    pool: asyncpg.Pool
    client: Client
    links: LinkSigner

    @property
    def base_url(self) -> str:
        return self.settings.public_base_url.rstrip("/")

    def links_of(self, reference: str) -> Links:
        return Links(
            self=f"{self.base_url}/complaints/{quote(reference)}",
            temporal_ui=workflow_ui_url(self.settings, reference),
        )


def services(request: Request) -> Services:
    found: Services = request.app.state.services
    return found
