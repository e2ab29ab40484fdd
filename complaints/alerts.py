"""An SLA alert: a deadline's warning or breach (or an overdue action), keyed
so that each is recorded and delivered once."""

from datetime import datetime

from pydantic import BaseModel

from complaints.complaint_status import AlertKind, DeadlineName


class DeadlineAlert(BaseModel):
    reference: str
    deadline: DeadlineName
    kind: AlertKind
    due_at: datetime
    generation: int = 0

    @property
    def key(self) -> str:
        return f"{self.reference}:{self.deadline}:{self.generation}:{self.kind}"


class EmailRefusalAlert(BaseModel):
    """Operations told that a complainant's address refuses mail for good: the
    complaint's letters now go by post, to print and confirm."""

    reference: str
    template: str  # the letter the address refused
    reason: str  # the SMTP server's reply (no address in it)
    step: int  # the journal step of the refusal: one alert per refusal

    @property
    def key(self) -> str:
        return f"{self.reference}:email_refused:{self.step}"
