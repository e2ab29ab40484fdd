"""Which attachments of an email become supporting documents. One that breaks
the limits is refused on its own, with the reason: the message is kept."""

from dataclasses import dataclass

from pydantic import ValidationError

from complaints.submission import Document, DocumentLimits, field_reasons
from inbound.message import Attachment


@dataclass(frozen=True)
class Refusal:
    filename: str
    content_type: str
    size: int
    reason: str

    def as_details(self) -> dict[str, object]:
        return {"filename": self.filename, "content_type": self.content_type, "size": self.size, "reason": self.reason}


def sort_attachments(
    attachments: list[Attachment], limits: DocumentLimits, room: int, room_bytes: int | None = None
) -> tuple[list[Document], list[Refusal]]:
    """Documents within the limits, at most `room` of them (what is left of
    the per-complaint count) and of `room_bytes` in all (what is left of the
    per-complaint total, when there is one), and the refusals."""
    if room_bytes is None and limits.max_total_bytes is not None:
        room_bytes = limits.max_total_bytes
    accepted: list[Document] = []
    refused: list[Refusal] = []
    for attachment in attachments:
        reason = None
        try:
            document = Document.model_validate(
                {
                    "filename": attachment.filename,
                    "content_type": attachment.content_type,
                    "content": attachment.content,
                },
                context={"limits": limits},
            )
        except ValidationError as error:
            reason = "; ".join(f"{problem.where()}: {problem.reason}" for problem in field_reasons(error))
        else:
            taken = sum(len(d.content) for d in accepted)
            if len(accepted) < room and (room_bytes is None or taken + len(document.content) <= room_bytes):
                accepted.append(document)
                continue
            if len(accepted) >= room:
                reason = f"at most {limits.max_count} documents are accepted per complaint"
            else:
                reason = f"at most {limits.max_total_bytes:,} bytes of documents are accepted per complaint"
        # by name and size only, capped: a journal entry stays small whatever the message
        name, kind = attachment.filename[:200], attachment.content_type[:100]
        refused.append(Refusal(name, kind, len(attachment.content), reason[:500]))
    return accepted, refused
