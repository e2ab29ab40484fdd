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
