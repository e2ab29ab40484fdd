"""The deadline policy: the one place that turns durations into dates.

Pure and deterministic, so the workflow can call it with `workflow.now()`.
"""

import calendar
import re
from datetime import datetime, timedelta
from decimal import Decimal

from pydantic import BaseModel, model_validator

_UNITS = {
    "second": timedelta(seconds=1),
    "minute": timedelta(minutes=1),
    "hour": timedelta(hours=1),
    "day": timedelta(days=1),
    "week": timedelta(weeks=1),
}
_SPAN = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*(second|minute|hour|day|week|month)s?\s*$")


class Span(BaseModel):
    """A length of time that may count calendar months ("2 months", "10 days")."""

    months: int = 0
    delta: timedelta = timedelta()

    @model_validator(mode="before")
    @classmethod
    def _parse_text(cls, value: object) -> object:
        if isinstance(value, (int, float)):
            return {"delta": timedelta(seconds=value)}
        if not isinstance(value, str):
            return value
        match = _SPAN.match(value.lower())
        if not match:
            raise ValueError(f"{value!r} is not a duration; write e.g. '10 days', '2 months', '30 seconds'")
        amount, unit = float(match[1]), match[2]
        if unit == "month":
            if not amount.is_integer():
                raise ValueError("months must be a whole number")
            return {"months": int(amount)}
        return {"delta": _UNITS[unit] * amount}

    def after(self, start: datetime) -> datetime:
        return add_months(start, self.months) + self.delta

    def __str__(self) -> str:
        parts = [f"{self.months} months"] if self.months else []
        if self.delta or not parts:
            parts.append(str(self.delta))
        return " + ".join(parts)


def add_months(start: datetime, months: int) -> datetime:
    """Same day `months` later, clamped to the month's last day (31 Jan + 1 → 28/29 Feb)."""
    month_index = start.month - 1 + months
    year, month = start.year + month_index // 12, month_index % 12 + 1
    day = min(start.day, calendar.monthrange(year, month)[1])
    return start.replace(year=year, month=month, day=day)


class PriorityDeadlines(BaseModel):
    """Counted from the acknowledgement."""

    assessment: Span
    response: Span


DEFAULT_PRIORITY_DEADLINES = {
    "P1": PriorityDeadlines(assessment=Span.model_validate("1 day"), response=Span.model_validate("7 days")),
    "P2": PriorityDeadlines(assessment=Span.model_validate("3 days"), response=Span.model_validate("15 days")),
    "P3": PriorityDeadlines(assessment=Span.model_validate("5 days"), response=Span.model_validate("1 month")),
    "P4": PriorityDeadlines(assessment=Span.model_validate("10 days"), response=Span.model_validate("2 months")),
}


class Mediator(BaseModel):
    name: str
    contact: str


class ComplaintPolicy(BaseModel):
    """Deadline lengths and handling rules, carried in the workflow input so a
    running complaint keeps the policy it started with."""

    acknowledgement: Span = Span(delta=timedelta(days=10))
    # The regulatory maximum, from receipt: never paused, never exceeded.
    response: Span = Span(months=2)
    by_priority: dict[str, PriorityDeadlines] = DEFAULT_PRIORITY_DEADLINES
    warning_fraction: float = 0.75
    pause_while_awaiting_customer: bool = True
    information_reminder: Span = Span(delta=timedelta(days=7))
    information_timeout: Span = Span(delta=timedelta(days=15))
    approval_threshold: Decimal = Decimal(200)
    approval_wait: Span = Span(delta=timedelta(days=2))
    verdict_wait: Span = Span(delta=timedelta(days=15))
    survey_reminder: Span = Span(delta=timedelta(days=5))
    survey_wait: Span = Span(delta=timedelta(days=10))
    mediator: Mediator | None = None
    recurrence_window: timedelta = timedelta(days=365)  # history read by the assessment

    def acknowledgement_due(self, received_at: datetime) -> datetime:
        return self.acknowledgement.after(received_at)

    def response_due(self, received_at: datetime) -> datetime:
        """The regulatory maximum."""
        return self.response.after(received_at)

    def assessment_due(self, priority: str, acknowledged_at: datetime) -> datetime:
        return self.by_priority[priority].assessment.after(acknowledged_at)

    def priority_response_due(self, priority: str, acknowledged_at: datetime, received_at: datetime) -> datetime:
        return min(
            self.by_priority[priority].response.after(acknowledged_at),
            self.response_due(received_at),
        )
