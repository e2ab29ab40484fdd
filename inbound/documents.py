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
    attachments: list[Attachment], limits: DocumentLimits, room: int
) -> tuple[list[Document], list[Refusal]]:
    """Documents within the limits, at most `room` of them (what is left of
    the per-complaint count), and the refusals."""
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
            if len(accepted) < room:
                accepted.append(document)
                continue
            reason = f"at most {limits.max_count} documents are accepted per complaint"
        # by name and size only, capped: a journal entry stays small whatever the message
        name, kind = attachment.filename[:200], attachment.content_type[:100]
        refused.append(Refusal(name, kind, len(attachment.content), reason[:500]))
    return accepted, refused
