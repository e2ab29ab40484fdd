"""What an intake channel hands over: the complaint as received, validated at
the edge. Only what cannot be processed is refused; the error names the field."""

import hashlib
import re
from collections.abc import Iterable, Mapping
from datetime import UTC, datetime, timedelta
from enum import StrEnum
from typing import Annotated, Any, NamedTuple

from pydantic import (
    AwareDatetime,
    BaseModel,
    BeforeValidator,
    ConfigDict,
    EmailStr,
    Field,
    StringConstraints,
    ValidationError,
    ValidationInfo,
    field_validator,
    model_validator,
)

from complaints.document_signatures import signature_problem


class Channel(StrEnum):
    PHONE = "phone"
    IN_PERSON = "in_person"
    WEB = "web"
    EMAIL = "email"
    LETTER = "letter"
    API = "api"
    SOCIAL = "social"
    IMPORT = "import"


def _one_line(value: object) -> object:
    """Collapse line breaks and runs of spaces: these fields go into headers and lists."""
    return re.sub(r"\s+", " ", value).strip() if isinstance(value, str) else value


OneLine = Annotated[str, BeforeValidator(_one_line)]  # each field says how long it may be
# The longest a text may be unless its field says less (a note, a message, a
# justification): beyond, the input is refused with the field (the API's 422),
# never carried into a workflow's history.
TEXT_MAX = 20_000
Text = Annotated[str, StringConstraints(strip_whitespace=True, max_length=TEXT_MAX)]


# A sending date a little ahead of this clock, or of the receipt, is a clock
# set fast, not a date in the future: taken as the receipt (complaints.intake).
CLOCK_SKEW = timedelta(minutes=5)


class DocumentLimits(BaseModel):
    max_bytes: int
    max_count: int  # per complaint, as max_total_bytes
    allowed_types: list[str]
    max_total_bytes: int | None = None


class Document(BaseModel):
    """A supporting document (pièce justificative), kept in the register only."""

    filename: OneLine = Field(min_length=1, max_length=255)
    content_type: OneLine = Field(min_length=3, max_length=255)
    content: bytes = Field(repr=False)

    @field_validator("filename")
    @classmethod
    def _base_name(cls, value: str) -> str:
        return value.replace("\\", "/").rsplit("/", 1)[-1] or "document"

    @field_validator("content_type")
    @classmethod
    def _allowed_type(cls, value: str, info: ValidationInfo) -> str:
        value = value.lower().split(";")[0].strip()
        limits = _limits(info)
        if limits and value not in limits.allowed_types:
            raise ValueError(f"type {value!r} is not accepted; accepted: {', '.join(limits.allowed_types)}")
        return value

    @field_validator("content")
    @classmethod
    def _size(cls, value: bytes, info: ValidationInfo) -> bytes:
        if not value:
            raise ValueError("the document is empty")
        limits = _limits(info)
        if limits and len(value) > limits.max_bytes:
            raise ValueError(f"the document is {len(value):,} bytes; the limit is {limits.max_bytes:,} bytes")
        return value

    @model_validator(mode="after")
    def _signature(self, info: ValidationInfo) -> "Document":
        """Checked where documents come in (with the limits), not when the register is read."""
        if _limits(info) and (problem := signature_problem(self.filename, self.content_type, self.content)):
            raise ValueError(problem)
        return self

    @property
    def sha256(self) -> str:
        return hashlib.sha256(self.content).hexdigest()


class ComplainantType(StrEnum):
    """What the register tells the supervisor: a consumer or a professional."""

    CONSUMER = "consumer"
    PROFESSIONAL = "professional"


class Complainant(BaseModel):
    name: OneLine = Field(min_length=1, max_length=200)
    type: ComplainantType | None = Field(default=None, description="consumer or professional; unset if not said")
    email: EmailStr | None = None
    phone: OneLine | None = Field(default=None, max_length=40)
    postal_address: Text | None = Field(default=None, max_length=500)
    customer_id: OneLine | None = Field(default=None, max_length=100)

    @field_validator("phone", "postal_address", "customer_id", "email", "type", mode="before")
    @classmethod
    def _blank_is_none(cls, value: object) -> object:
        return None if isinstance(value, str) and not value.strip() else value

    @model_validator(mode="after")
    def _reachable(self) -> "Complainant":
        if not (self.email or self.phone or self.postal_address):
            raise ValueError("no way to reach the complainant: give an email, a phone number or a postal address")
        return self


class ComplaintSubmission(BaseModel):
    """A complaint as an intake channel received it."""

    model_config = ConfigDict(str_max_length=20_000)

    channel: Channel
    complainant: Complainant
    subject: OneLine = Field(min_length=1, max_length=200)
    description: Text = Field(min_length=1)
    desired_resolution: Text | None = Field(default=None, max_length=5_000)
    product: OneLine | None = Field(default=None, max_length=200)
    persons_concerned: list[OneLine] = Field(default_factory=list, max_length=20)
    received_at: AwareDatetime | None = None
    # When the complaint was sent: an email's Date, the date on a letter. The
    # regulatory clocks count from it; unset, from the receipt (a form, a call).
    sent_at: AwareDatetime | None = Field(
        default=None,
        description="when the complaint was sent (a letter's date, an email's Date); not in the future, "
        "not after received_at; default: the receipt",
    )
    idempotency_key: OneLine | None = Field(default=None, max_length=200)
    external_reference: OneLine | None = Field(default=None, max_length=200)
    documents: list[Document] = Field(default_factory=list)

    @field_validator("sent_at")
    @classmethod
    def _sent_before_received(cls, value: datetime | None, info: ValidationInfo) -> datetime | None:
        if value is None:
            return None
        if value > datetime.now(UTC) + CLOCK_SKEW:
            raise ValueError(f"the sending date {value.isoformat()} is in the future")
        received = info.data.get("received_at")
        if received is not None and value > received + CLOCK_SKEW:
            raise ValueError(
                f"the sending date {value.isoformat()} is after the receipt ({received.isoformat()}): "
                "a complaint is received after it is sent"
            )
        return value

    @field_validator("documents")
    @classmethod
    def _document_count(cls, value: list[Document], info: ValidationInfo) -> list[Document]:
        limits = _limits(info)
        if limits and len(value) > limits.max_count:
            raise ValueError(f"{len(value)} documents; at most {limits.max_count} are accepted")
        total = sum(len(document.content) for document in value)
        if limits and limits.max_total_bytes is not None and total > limits.max_total_bytes:
            raise ValueError(
                f"the documents total {total:,} bytes; "
                f"at most {limits.max_total_bytes:,} bytes are accepted per complaint"
            )
        return value


def _limits(info: ValidationInfo) -> DocumentLimits | None:
    return (info.context or {}).get("limits")


def validate_submission(data: object, limits: DocumentLimits) -> ComplaintSubmission:
    """Validate raw input against the configured document limits."""
    return ComplaintSubmission.model_validate(data, context={"limits": limits})


class FieldReason(NamedTuple):
    """One problem of a validation: where (the path into the input) and why."""

    loc: tuple[str, ...]  # e.g. ("complainant", "email"); () for the input as a whole
    reason: str

    def where(self, whole: str = "") -> str:
        """The dotted path, e.g. complainant.email; `whole` for the input as a whole."""
        return ".".join(self.loc) or whole


def field_reasons(errors: ValidationError | Iterable[Mapping[str, Any]]) -> list[FieldReason]:
    """pydantic's errors (or error details alike: loc, msg) as a path and a
    reason a person can read, without pydantic's "Value error, " prefix."""
    details = errors.errors() if isinstance(errors, ValidationError) else errors
    return [
        FieldReason(
            tuple(str(part) for part in detail.get("loc", ())),
            str(detail.get("msg", "invalid")).removeprefix("Value error, "),
        )
        for detail in details
    ]
