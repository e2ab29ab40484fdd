"""The deadline policy: the one place that turns durations into dates.

Pure and deterministic, so the workflow can call it with `workflow.now()`:
every date it gives depends only on its arguments and on the policy's own
data, which travels in the workflow input (the calendar's closed days
included). docs/deadlines.md says how each kind of span counts and what the
regimes are.
"""

import re
from datetime import datetime, timedelta
from decimal import Decimal
from enum import StrEnum

from pydantic import BaseModel, Field, model_validator

from complaints.working_days import Counting, WorkingCalendar, add_months_to_date

_UNITS = {
    "second": timedelta(seconds=1),
    "minute": timedelta(minutes=1),
    "hour": timedelta(hours=1),
    "day": timedelta(days=1),
    "week": timedelta(weeks=1),
}
_SPAN = re.compile(r"^(\d+(?:\.\d+)?)\s*(second|minute|hour|day|week|month)s?$")
# Counted spans: "10 working days", "15 business days", "2 calendar months",
# and the texts' own words, "10 jours ouvrables", "15 jours ouvrés".
_COUNTED = re.compile(r"^(\d+)\s*(calendar|working|business)\s+(day|week|month)s?$")
_COUNTED_FR = re.compile(r"^(\d+)\s*jours?\s+(ouvrables?|ouvr[ée]s?|calendaires?)$")
_FRENCH_COUNTING = {"ouvrable": Counting.WORKING, "ouvré": Counting.BUSINESS, "ouvre": Counting.BUSINESS}
_COUNTED_UNITS = {Counting.CALENDAR: ("day", "week", "month"), Counting.WORKING: ("day",), Counting.BUSINESS: ("day",)}
_SPAN_HELP = (
    "write e.g. '10 days', '2 months', '30 seconds', or, counted in the organisation's calendar, "
    "'10 working days' (jours ouvrables), '15 business days' (jours ouvrés), '2 calendar months'"
)


class Span(BaseModel):
    """A length of time: elapsed ("10 days", "2 months": from the instant, as
    the policy always counted) or counted in the organisation's calendar
    ("10 working days", "15 business days", "2 calendar months": from the day
    after the event to the end, 24:00, of the last day, in its time zone)."""

    months: int = 0
    delta: timedelta = timedelta()
    days: int = 0  # counted days (calendar, working or business); 0 for an elapsed span
    counting: Counting = Counting.ELAPSED

    @model_validator(mode="before")
    @classmethod
    def _parse_text(cls, value: object) -> object:
        if isinstance(value, (int, float)):
            return {"delta": timedelta(seconds=value)}
        if not isinstance(value, str):
            return value
        text = re.sub(r"\s+", " ", value.strip().lower())
        counted = _counted(text)
        if counted is not None:
            return counted
        match = _SPAN.match(text)
        if not match:
            raise ValueError(f"{value!r} is not a duration; {_SPAN_HELP}")
        amount, unit = float(match[1]), match[2]
        if unit == "month":
            if not amount.is_integer():
                raise ValueError("months must be a whole number")
            return {"months": int(amount)}
        return {"delta": _UNITS[unit] * amount}

    @model_validator(mode="after")
    def _one_way_of_counting(self) -> "Span":
        if self.counting is Counting.ELAPSED:
            if self.days:
                raise ValueError("an elapsed span gives its days as a duration (delta), not as counted days")
        elif self.delta:
            raise ValueError("a span counted in days or months ends at 24:00 of its last day: it has no hours")
        elif self.counting is not Counting.CALENDAR and self.months:
            raise ValueError("working and business days are counted in days, not months")
        if self.months < 0 or self.days < 0:
            raise ValueError("a span is not negative")
        return self

    def after(self, start: datetime, calendar: WorkingCalendar | None = None) -> datetime:
        """The end of the span begun at `start`. An elapsed span adds its
        months as the calendar says (`WorkingCalendar.every_span`), then its
        duration; a counted one uses `calendar` (default: Europe/Paris without
        closed days) and ends at 24:00 of its last day, given in UTC."""
        if self.counting is Counting.ELAPSED:
            if calendar is not None and calendar.every_span and self.months:
                return calendar.add_months(start, self.months) + self.delta
            return add_months(start, self.months) + self.delta
        calendar = calendar or WorkingCalendar()
        day = add_months_to_date(calendar.local_date(start), self.months)
        return calendar.end_of(calendar.add_days(day, self.days, self.counting))

    def __str__(self) -> str:
        if self.counting is not Counting.ELAPSED:
            word = self.counting.value
            parts = [f"{self.months} {word} month{'s' * (self.months != 1)}"] if self.months else []
            if self.days or not parts:
                parts.append(f"{self.days} {word} day{'s' * (self.days != 1)}")
            return " + ".join(parts)
        parts = [f"{self.months} months"] if self.months else []
        if self.delta or not parts:
            parts.append(str(self.delta))
        return " + ".join(parts)


def _counted(text: str) -> dict[str, object] | None:
    """A counted span's fields from its text, or None if `text` is not one."""
    match = _COUNTED.match(text)
    if match:
        amount, counting, unit = int(match[1]), Counting(match[2]), match[3]
        if unit not in _COUNTED_UNITS[counting]:
            raise ValueError(f"{text!r}: {counting.value} days are counted in days; {_SPAN_HELP}")
        if unit == "month":
            return {"months": amount, "counting": counting}
        return {"days": amount * (7 if unit == "week" else 1), "counting": counting}
    match = _COUNTED_FR.match(text)
    if match:
        word = match[2].rstrip("s")
        return {"days": int(match[1]), "counting": _FRENCH_COUNTING.get(word, Counting.CALENDAR)}
    return None


def add_months(start: datetime, months: int) -> datetime:
    """Same day `months` later, clamped to the month's last day (31 Jan + 1 → 28/29 Feb)."""
    day = add_months_to_date(start.date(), months)
    return start.replace(year=day.year, month=day.month, day=day.day)


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


class CountsFrom(StrEnum):
    """The event a regulatory deadline counts from."""

    SENDING = "sending"  # when the complaint was sent (the ACPR's and the AMF's texts)
    RECEIPT = "receipt"  # when the organisation received it


class RegulatoryDeadline(BaseModel):
    """One deadline of a regime: its span and what it counts from. In the
    settings a bare span ("10 working days") counts from receipt."""

    span: Span
    counts_from: CountsFrom = CountsFrom.RECEIPT

    @model_validator(mode="before")
    @classmethod
    def _bare_span(cls, value: object) -> object:
        return {"span": value} if isinstance(value, (str, int, float)) else value

    def start(self, sent_at: datetime | None, received_at: datetime) -> datetime:
        """The event counted from; the receipt when the sending date is unknown."""
        return sent_at if self.counts_from is CountsFrom.SENDING and sent_at is not None else received_at

    def due(self, sent_at: datetime | None, received_at: datetime, calendar: WorkingCalendar) -> datetime:
        return self.span.after(self.start(sent_at, received_at), calendar)


class Regime(BaseModel):
    """The rules a complaint falls under: how soon it is acknowledged and
    answered and, where the text allows a holding reply, the latest the final
    answer may then come. A regime without an acknowledgement of its own keeps
    the policy's (the seeds' "sous 10 jours")."""

    title: str = Field(default="", max_length=200)  # the text it follows, for people
    acknowledgement: RegulatoryDeadline | None = None
    answer: RegulatoryDeadline
    holding_reply_max: RegulatoryDeadline | None = None


GENERAL = "general"


def _deadline(span: str, counts_from: CountsFrom) -> RegulatoryDeadline:
    return RegulatoryDeadline(span=Span.model_validate(span), counts_from=counts_from)


# The texts' regimes (docs/deadlines.md cites them). GENERAL is the policy's
# own acknowledgement and response, from receipt: see ComplaintPolicy.regime.
BUILT_IN_REGIMES: dict[str, Regime] = {
    "acpr": Regime(
        title="Recommandation ACPR 2024-R-02",
        acknowledgement=_deadline("10 working days", CountsFrom.SENDING),
        answer=_deadline("2 calendar months", CountsFrom.SENDING),
    ),
    "payment_services": Regime(
        title="Code monétaire et financier, art. L.133-45 (et recommandation ACPR 2024-R-02)",
        acknowledgement=_deadline("10 working days", CountsFrom.SENDING),
        answer=_deadline("15 working days", CountsFrom.RECEIPT),
        holding_reply_max=_deadline("35 working days", CountsFrom.RECEIPT),
    ),
    "investment_services": Regime(
        title="Position-recommandation AMF DOC-2012-07",
        acknowledgement=_deadline("10 working days", CountsFrom.SENDING),
        answer=_deadline("2 calendar months", CountsFrom.SENDING),
    ),
}


class RegimeRules(BaseModel):
    """Which regime a complaint falls under, by its category, its product or
    its channel, in that order of precedence (names compared without case);
    otherwise the policy's default."""

    category: dict[str, str] = {}
    product: dict[str, str] = {}
    channel: dict[str, str] = {}

    def names(self) -> set[str]:
        return {*self.category.values(), *self.product.values(), *self.channel.values()}

    def match(self, *, category: str | None, product: str | None, channel: str | None) -> str | None:
        for table, value in ((self.category, category), (self.product, product), (self.channel, channel)):
            if value:
                wanted = value.strip().casefold()
                for key, regime in table.items():
                    if key.strip().casefold() == wanted:
                        return regime
        return None


class UnknownRegime(ValueError):
    """A regime name the policy does not define."""


class RegulatoryDates(BaseModel):
    """A complaint's regulatory deadlines under its regime, each the first
    instant past it (24:00 of its last day for a counted span)."""

    regime: str
    acknowledgement_due: datetime
    answer_due: datetime
    holding_reply_max: datetime | None = None
    mediation_until: datetime  # Code de la consommation L.612-2: one year after the written complaint


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
    review: Span = Span(delta=timedelta(days=15))  # a contested response is reviewed within it
    survey_reminder: Span = Span(delta=timedelta(days=5))
    survey_wait: Span = Span(delta=timedelta(days=10))
    mediator: Mediator | None = None
    recurrence_window: timedelta = timedelta(days=365)  # history read by the assessment
    # Added with the regimes; their defaults give a policy carried by a run
    # started before them the very dates it had (general: the fields above).
    calendar: WorkingCalendar = WorkingCalendar()
    regimes: dict[str, Regime] = BUILT_IN_REGIMES
    regime_rules: RegimeRules = RegimeRules()
    default_regime: str = GENERAL
    # L.612-2: mediation can be requested up to one year after the written complaint.
    mediation_window: Span = Span(months=12, counting=Counting.CALENDAR)

    @model_validator(mode="after")
    def _regimes_named(self) -> "ComplaintPolicy":
        known = self.regime_names()
        unknown = sorted(({self.default_regime} | self.regime_rules.names()) - known)
        if unknown:
            raise ValueError(f"unknown regime(s) {', '.join(unknown)}; the regimes are {', '.join(sorted(known))}")
        return self

    def end_of(self, span: Span, start: datetime) -> datetime:
        """`span` begun at `start`, counted in the policy's calendar: the way
        every span of the policy is to be turned into a date."""
        return span.after(start, self.calendar)

    def wait_until(self, span: Span, start: datetime) -> datetime:
        """The end of a wait begun at `start` (the customer's reply, verdict or
        survey, a manager's approval), counted in the policy's calendar like its
        deadlines; in the default one where a run started before counted it so."""
        return span.after(start, self.calendar if self.calendar.every_span else None)

    def acknowledgement_due(self, received_at: datetime) -> datetime:
        return self.end_of(self.acknowledgement, received_at)

    def response_due(self, received_at: datetime) -> datetime:
        """The regulatory maximum."""
        return self.end_of(self.response, received_at)

    def assessment_due(self, priority: str, acknowledged_at: datetime) -> datetime:
        return self.end_of(self.by_priority[priority].assessment, acknowledged_at)

    def priority_response_due(self, priority: str, acknowledged_at: datetime, received_at: datetime) -> datetime:
        return min(
            self.end_of(self.by_priority[priority].response, acknowledged_at),
            self.response_due(received_at),
        )

    # --- regimes ------------------------------------------------------------

    def regime_names(self) -> set[str]:
        return {GENERAL, *self.regimes}

    def regime(self, name: str | None = None) -> Regime:
        """The regime `name` (default: the policy's default). General is the
        policy's own acknowledgement and response, from receipt, unless the
        policy defines a regime of that name."""
        name = name or self.default_regime
        if name in self.regimes:
            return self.regimes[name]
        if name == GENERAL:
            return Regime(
                title="Règles de l'organisation",
                acknowledgement=RegulatoryDeadline(span=self.acknowledgement),
                answer=RegulatoryDeadline(span=self.response),
            )
        raise UnknownRegime(f"unknown regime {name!r}; the regimes are {', '.join(sorted(self.regime_names()))}")

    def regime_for(self, *, channel: str | None = None, product: str | None = None, category: str | None = None) -> str:
        """The regime's name for a complaint of that category, product and
        channel: the rules' first match, else the default."""
        return self.regime_rules.match(category=category, product=product, channel=channel) or self.default_regime

    def acknowledgement_due_for(self, regime: str | None, sent_at: datetime | None, received_at: datetime) -> datetime:
        """When the acknowledgement is due under `regime` (the policy's own
        acknowledgement, from receipt, when the regime has none)."""
        deadline = self.regime(regime).acknowledgement
        if deadline is None:
            return self.acknowledgement_due(received_at)
        return deadline.due(sent_at, received_at, self.calendar)

    def regulatory_due(self, regime: str | None, sent_at: datetime | None, received_at: datetime) -> datetime:
        """The answer's regulatory maximum under `regime`: never paused."""
        return self.regime(regime).answer.due(sent_at, received_at, self.calendar)

    def holding_reply_max(self, regime: str | None, sent_at: datetime | None, received_at: datetime) -> datetime | None:
        """The latest a final answer may come after a holding reply, where the
        regime allows one (payment services); None where it does not."""
        deadline = self.regime(regime).holding_reply_max
        return deadline.due(sent_at, received_at, self.calendar) if deadline else None

    def mediation_until(self, sent_at: datetime | None, received_at: datetime) -> datetime:
        """The end of the year after the written complaint in which the
        customer may refer to the consumer mediator (L.612-2)."""
        return self.end_of(self.mediation_window, sent_at or received_at)

    def regulatory_dates(self, regime: str | None, sent_at: datetime | None, received_at: datetime) -> RegulatoryDates:
        """Every regulatory date of a complaint, in one call."""
        return RegulatoryDates(
            regime=regime or self.default_regime,
            acknowledgement_due=self.acknowledgement_due_for(regime, sent_at, received_at),
            answer_due=self.regulatory_due(regime, sent_at, received_at),
            holding_reply_max=self.holding_reply_max(regime, sent_at, received_at),
            mediation_until=self.mediation_until(sent_at, received_at),
        )
