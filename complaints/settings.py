"""Settings from the environment (prefix COMPLAINTS_, plus DATABASE_URL);
every one has a working default for `make run`."""

from pathlib import Path

from typing import Annotated

from pydantic import AliasChoices, Field, field_validator
from pydantic_settings import BaseSettings, NoDecode, SettingsConfigDict

from complaints.policy import DeadlinePolicy, Span
from complaints.submission import DocumentLimits

DEFAULT_DOCUMENT_TYPES = [
    "application/pdf",
    "image/jpeg",
    "image/png",
    "image/heic",
    "text/plain",
    "message/rfc822",
    "application/msword",
    "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
    "application/vnd.oasis.opendocument.text",
]


class Settings(BaseSettings):
    model_config = SettingsConfigDict(
        env_prefix="COMPLAINTS_", env_file=".env", extra="ignore", populate_by_name=True
    )

    data_dir: Path = Path("data")
    database_url: str | None = Field(
        default=None,
        validation_alias=AliasChoices("DATABASE_URL", "COMPLAINTS_DATABASE_URL"),
        description="PostgreSQL URL; unset means the embedded server under data_dir.",
    )
    database_pool_max: int = 10

    temporal_address: str = "localhost:7233"
    temporal_namespace: str = "default"
    temporal_ui_url: str = "http://localhost:8233"
    task_queue: str = "complaints"
    # Reaching a Temporal service other than the local dev server (self-hosted
    # cluster, Temporal Cloud). Any TLS file, the server name or an API key
    # turns TLS on; cert and key go together (mutual TLS). See connect_options().
    temporal_tls: bool = False
    temporal_tls_ca_file: Path | None = None
    temporal_tls_cert_file: Path | None = None
    temporal_tls_key_file: Path | None = None
    temporal_tls_server_name: str | None = None
    temporal_api_key: str | None = None

    smtp_host: str = "localhost"
    smtp_port: int = 1025
    smtp_username: str | None = None
    smtp_password: str | None = None
    smtp_starttls: bool = False
    smtp_timeout_seconds: float = 10.0
    mail_from: str = "reclamations@example.org"
    organisation_name: str = "Service clients"
    operations_email: str = "operations@example.org"
    email_retry_max_interval_seconds: float = 60.0

    # Plain text in the environment: "10 days", "2 months", "30 seconds".
    ack_deadline: Annotated[Span, NoDecode] = Span.model_validate("10 days")
    response_deadline: Annotated[Span, NoDecode] = Span.model_validate("2 months")

    reference_prefix: str = "REC"
    locale: str = "fr_FR"
    timezone: str = "Europe/Paris"

    max_document_bytes: int = 10 * 1024 * 1024
    max_documents: int = 10
    allowed_document_types: Annotated[list[str], NoDecode] = Field(
        default_factory=lambda: list(DEFAULT_DOCUMENT_TYPES)
    )

    @field_validator("allowed_document_types", mode="before")
    @classmethod
    def _comma_separated(cls, value: object) -> object:
        if isinstance(value, str):
            return [item.strip() for item in value.split(",") if item.strip()]
        return value

    @property
    def deadline_policy(self) -> DeadlinePolicy:
        return DeadlinePolicy(acknowledgement=self.ack_deadline, response=self.response_deadline)

    @property
    def document_limits(self) -> DocumentLimits:
        return DocumentLimits(
            max_bytes=self.max_document_bytes,
            max_count=self.max_documents,
            allowed_types=self.allowed_document_types,
        )

    @property
    def mail_dir(self) -> Path:
        """Where the local SMTP sink keeps every message it receives."""
        return self.data_dir / "mail"

    @property
    def postgres_dir(self) -> Path:
        return self.data_dir / "postgres"
