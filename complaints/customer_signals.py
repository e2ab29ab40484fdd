"""What the complainant sends: the messages the complaint workflow takes as
signals (through the signed links, the inbound mailbox)."""

from pydantic import BaseModel, Field

from complaints.submission import Text


class CustomerReply(BaseModel):
    message: Text = ""
    document_ids: list[int] = Field(default_factory=list)
    # The channel's id of the message (e.g. its Message-ID): a reply is taken once.
    message_id: str | None = None


class Contest(BaseModel):
    reason: Text = ""


class SurveyAnswer(BaseModel):
    csat: int = Field(ge=1, le=5)
    ces: int = Field(ge=1, le=5)
    nps: int = Field(ge=0, le=10)
    comment: Text | None = None
    # The process card's three questions, each optional (runs started before
    # have none): the problem taken into account, clarified and explained; the
    # corrective and improvement actions planned and carried out; continuing
    # the relationship.
    problem: int | None = Field(default=None, ge=1, le=5)
    actions: int | None = Field(default=None, ge=1, le=5)
    relationship: int | None = Field(default=None, ge=1, le=5)
