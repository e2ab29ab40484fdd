"""What a KPI report holds: one object every output (text, JSON, CSV, the
HTML quality report and its charts) is rendered from, so their figures agree.

Durations are in seconds, shares are ratios in [0, 1], amounts in the
register's currency; a figure that has nothing to be computed from is None."""

from datetime import date, datetime
from decimal import Decimal
from typing import Literal

from pydantic import BaseModel, computed_field

from complaints.complaint_status import Phase
from complaints.operator_commands import CompensationKind

Dimension = Literal["product", "category", "channel", "priority", "handler", "customer", "regime"]
DIMENSIONS: tuple[Dimension, ...] = ("product", "category", "channel", "priority", "handler", "customer", "regime")
SeriesUnit = Literal["day", "week", "month"]


def share(part: int, whole: int) -> float | None:
    return part / whole if whole else None


class Volumes(BaseModel):
    received: int = 0  # received in the period
    open: int = 0  # of those, not closed at `as_of`
    closed: int = 0
    # duplicates received in the period and merged into another complaint (the
    # survivor, counted above): in none of the indicators
    merged: int = 0


class Backlog(BaseModel):
    """The period's complaints still open at `as_of`."""

    by_phase: dict[str, int]  # every open phase, in lifecycle order
    by_age: dict[str, int]  # AGE_BUCKETS, age = as_of − received_at


class DurationStats(BaseModel):
    count: int = 0  # complaints that have both ends of the span
    mean_seconds: float | None = None
    # nearest rank: of n durations sorted, the one at rank ⌈p·n⌉ (percentile_disc)
    median_seconds: float | None = None
    p90_seconds: float | None = None


class Times(BaseModel):
    receipt_to_acknowledgement: DurationStats = DurationStats()
    acknowledgement_to_response: DurationStats = DurationStats()
    receipt_to_closure: DurationStats = DurationStats()  # closed complaints only


class DeadlineCompliance(BaseModel):
    met: int = 0
    missed: int = 0
    pending: int = 0  # neither met nor missed yet

    @computed_field  # type: ignore[prop-decorator]
    @property
    def share_met(self) -> float | None:
        return share(self.met, self.met + self.missed)


class Deadlines(BaseModel):
    acknowledgement: DeadlineCompliance = DeadlineCompliance()
    assessment: DeadlineCompliance = DeadlineCompliance()
    response: DeadlineCompliance = DeadlineCompliance()
    # answered within the regime's maximum (by `regime`: the share per regime)
    regulatory: DeadlineCompliance = DeadlineCompliance()


class SlaAlerts(BaseModel):
    """SLA alerts raised on the period's complaints (every deadline but actions')."""

    warnings: int = 0
    breaches: int = 0
    complaints_warned: int = 0
    complaints_breached: int = 0


class Decisions(BaseModel):
    accepted: int = 0  # the complaint's last decision (after a review, the review's)
    partially_accepted: int = 0
    rejected: int = 0
    contests: int = 0
    reviews: int = 0  # review answers sent after a contest
    mediation_referrals: int = 0  # reviews not fully accepted: the mediator is what is left


class KindTotal(BaseModel):
    count: int = 0
    amount: Decimal = Decimal("0.00")


class Compensations(BaseModel):
    count: int = 0  # grants in the ledger
    amount: Decimal = Decimal("0.00")
    by_kind: dict[str, KindTotal]


class Satisfaction(BaseModel):
    surveyed: int = 0  # survey emailed (or answered)
    answered: int = 0
    csat_counts: dict[str, int]  # "1".."5"
    csat_mean: float | None = None
    ces_mean: float | None = None
    # The process card's questions (1–5, optional): the mean of those answered.
    problem_mean: float | None = None  # the problem taken into account, clarified and explained
    actions_mean: float | None = None  # the corrective and improvement actions planned and carried out
    relationship_mean: float | None = None  # continuing the relationship
    promoters: int = 0  # NPS 9–10
    passives: int = 0  # 7–8
    detractors: int = 0  # 0–6

    @computed_field  # type: ignore[prop-decorator]
    @property
    def response_rate(self) -> float | None:
        return share(self.answered, self.surveyed)

    @computed_field  # type: ignore[prop-decorator]
    @property
    def csat_satisfied_share(self) -> float | None:
        return share(self.csat_counts.get("4", 0) + self.csat_counts.get("5", 0), self.answered)

    @computed_field  # type: ignore[prop-decorator]
    @property
    def nps(self) -> float | None:
        """% promoters − % detractors, from −100 to 100."""
        return None if not self.answered else 100 * (self.promoters - self.detractors) / self.answered


class Recurrence(BaseModel):
    """Recurring vs one-off, as the assessment found from the complainant's history."""

    recurring: int = 0
    one_off: int = 0
    not_assessed: int = 0


class RootCause(BaseModel):
    category: str
    count: int  # in the period
    previous: int  # in the period of the same length just before

    @computed_field  # type: ignore[prop-decorator]
    @property
    def change(self) -> int:
        return self.count - self.previous


class Indicators(BaseModel):
    volumes: Volumes = Volumes()
    backlog: Backlog
    times: Times = Times()
    deadlines: Deadlines = Deadlines()
    alerts: SlaAlerts = SlaAlerts()
    decisions: Decisions = Decisions()
    compensations: Compensations
    satisfaction: Satisfaction
    recurrence: Recurrence = Recurrence()
    root_causes: list[RootCause] = []  # the top categories, most frequent first


class Group(BaseModel):
    """One value of the breakdown dimension. `key` "" is "not given"; None
    gathers the values beyond the largest groups."""

    key: str | None
    indicators: Indicators


class VolumePoint(BaseModel):
    start: date  # first day of the bucket, local time
    received: int
    open: int


class ActionRecurrence(BaseModel):
    """Complaints of the action's root cause received in the 30 days before its
    completion and in the days observed since (up to 30)."""

    before: int
    after: int
    after_days: float  # < 30 while the window after completion is not over


class ActionItem(BaseModel):
    id: int
    kind: Literal["corrective", "improvement"]
    description: str
    owner: str
    due_on: date
    status: Literal["open", "done"]
    complaint_reference: str
    root_cause_category: str | None
    done_at: datetime | None = None
    done_note: str | None = None  # what was done (none for an action completed before it was asked)
    done_by: str | None = None
    overdue: bool = False  # open and due before as_of's day
    recurrence: ActionRecurrence | None = None  # done actions with a root cause


class OwnerActions(BaseModel):
    owner: str
    open: int
    overdue: int


class Actions(BaseModel):
    """Corrective and improvement actions: open ones whenever planned, done
    ones completed in the period."""

    open: int = 0
    overdue: int = 0
    done_in_period: int = 0
    by_owner: list[OwnerActions] = []  # open actions per owner, most first
    open_items: list[ActionItem] = []  # overdue first, then by due date (capped)
    done_items: list[ActionItem] = []  # most recent first (capped)


class KpiReport(BaseModel):
    period_from: datetime  # inclusive
    period_to: datetime  # exclusive
    as_of: datetime  # when "open", ages and "overdue" are judged
    timezone: str
    currency: str = "EUR"  # of the compensation amounts
    by: Dimension | None = None
    overall: Indicators
    groups: list[Group] = []  # largest first; the "others" group last
    series_unit: SeriesUnit
    series: list[VolumePoint] = []
    actions: Actions = Actions()


AGE_BUCKETS: dict[str, tuple[int, int | None]] = {  # days, [from, to)
    "under_10_days": (0, 10),
    "10_to_30_days": (10, 30),
    "30_to_60_days": (30, 60),
    "over_60_days": (60, None),
}
OPEN_PHASES = tuple(phase.value for phase in Phase if phase is not Phase.CLOSED)
COMPENSATION_KINDS = tuple(kind.value for kind in CompensationKind)
