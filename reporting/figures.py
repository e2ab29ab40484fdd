"""A report as labelled figures: the one list the text, CSV and HTML outputs
print, so each shows the same numbers under the same names.

`path` names a figure in the CSV (and matches the JSON field it comes from);
`value` is the raw number (seconds, ratios in [0, 1], amounts); `display` is
how people read it (French conventions)."""

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal
from typing import Literal, TypeVar
from zoneinfo import ZoneInfo

from babel.numbers import format_decimal

from complaints.dates import LocalDates
from reporting.model import AGE_BUCKETS, COMPENSATION_KINDS, OPEN_PHASES, Group, Indicators, KpiReport

T = TypeVar("T")

Unit = Literal["count", "seconds", "share", "score", "nps", "amount"]
LOCALE = "fr_FR"

PHASE_LABELS = {
    "received": "reçue",
    "intake": "prise en charge",
    "acknowledged": "accusé de réception envoyé",
    "assessment": "évaluation",
    "handling": "traitement",
    "awaiting_customer": "en attente du client",
    "awaiting_approval": "en attente d'approbation",
    "responded": "réponse envoyée",
    "review": "réexamen",
    "survey": "enquête de satisfaction",
    "closed": "clôturée",
}
# The survey's process-card questions, by their mean's name (problem_mean, ...).
PROCESS_LABELS = {
    "problem": "problème pris en compte, clarifié et expliqué (1 à 5)",
    "actions": "actions correctives et d'amélioration menées (1 à 5)",
    "relationship": "suite de la relation évoquée (1 à 5)",
}
AGE_LABELS = {
    "under_10_days": "moins de 10 jours",
    "10_to_30_days": "10 à 30 jours",
    "30_to_60_days": "30 à 60 jours",
    "over_60_days": "60 jours et plus",
}
SPAN_LABELS = {
    "receipt_to_acknowledgement": "réception → accusé de réception",
    "acknowledgement_to_response": "accusé de réception → réponse",
    "receipt_to_closure": "réception → clôture (réclamations clôturées)",
}
DEADLINE_LABELS = {
    "acknowledgement": "accusé de réception (10 jours)",
    "assessment": "évaluation (selon la priorité)",
    "response": "réponse (selon la priorité)",
    "regulatory": "réponse dans le délai réglementaire (selon le régime)",
}
KIND_LABELS = {
    "credit_note": "avoir",
    "refund": "remboursement",
    "complimentary_service": "prestation complémentaire",
    "commercial_gesture": "geste commercial",
    "apology": "excuses",
}
DIMENSION_LABELS = {
    "product": "produit ou service",
    "category": "catégorie",
    "channel": "canal",
    "priority": "priorité",
    "handler": "responsable du traitement",
    "customer": "client",
    "regime": "régime réglementaire",
}


@dataclass(frozen=True)
class Figure:
    path: str
    label: str
    value: int | float | Decimal | None
    unit: Unit
    currency: str = "EUR"

    @property
    def display(self) -> str:
        return display(self.value, self.unit, self.currency)


@dataclass(frozen=True)
class Section:
    title: str
    figures: list[Figure]


def number(value: float | Decimal, digits: int = 0) -> str:
    return format_decimal(value, format=f"#,##0.{'0' * digits}" if digits else "#,##0", locale=LOCALE)


def display(value: int | float | Decimal | None, unit: Unit, currency: str = "EUR") -> str:
    if value is None:
        return "—"
    if unit == "count":
        return number(value)
    if unit == "share":
        return f"{number(100 * value, 1)} %"
    if unit == "score":
        return number(value, 2)
    if unit == "nps":
        return ("+" if value > 0 else "") + number(value, 1)
    if unit == "amount":
        return f"{number(value, 2)} {currency}"
    return duration(float(value))


def duration(seconds: float) -> str:
    """The largest unit that reads well: 3,2 j / 5,5 h / 12 min / 40 s."""
    for size, suffix, digits in ((86400, "j", 1), (3600, "h", 1), (60, "min", 0)):
        if abs(seconds) >= size:
            return f"{number(seconds / size, digits)} {suffix}"
    return f"{number(seconds)} s"


def ordered(values: Mapping[str, T], order: Iterable[str]) -> list[tuple[str, T]]:
    """A mapping's items in their usual order (a report read back from jsonb
    has its keys reordered), any other key after."""
    known = [key for key in order if key in values]
    return [(key, values[key]) for key in [*known, *sorted(set(values) - set(known))]]


def sections(indicators: Indicators, currency: str = "EUR") -> list[Section]:
    """The indicators of one scope (the whole period, or one group)."""
    i = indicators
    found = [
        Section(
            "Volumes",
            [
                Figure("volumes.received", "reçues", i.volumes.received, "count"),
                Figure("volumes.closed", "clôturées", i.volumes.closed, "count"),
                Figure("volumes.open", "encore ouvertes", i.volumes.open, "count"),
                Figure("volumes.merged", "doublons fusionnés (hors indicateurs)", i.volumes.merged, "count"),
            ],
        ),
        Section(
            "Réclamations ouvertes par phase",
            [
                Figure(f"backlog.by_phase.{phase}", PHASE_LABELS.get(phase, phase), n, "count")
                for phase, n in ordered(i.backlog.by_phase, OPEN_PHASES)
            ],
        ),
        Section(
            "Réclamations ouvertes par ancienneté",
            [
                Figure(f"backlog.by_age.{age}", AGE_LABELS.get(age, age), n, "count")
                for age, n in ordered(i.backlog.by_age, AGE_BUCKETS)
            ],
        ),
    ]
    for name, stats in i.times:
        label = SPAN_LABELS[name]
        found.append(
            Section(
                f"Délai {label}",
                [
                    Figure(f"times.{name}.count", "réclamations mesurées", stats.count, "count"),
                    Figure(f"times.{name}.mean_seconds", "moyenne", stats.mean_seconds, "seconds"),
                    Figure(f"times.{name}.median_seconds", "médiane", stats.median_seconds, "seconds"),
                    Figure(f"times.{name}.p90_seconds", "90e centile", stats.p90_seconds, "seconds"),
                ],
            )
        )
    deadlines = []
    for name, compliance in i.deadlines:
        label = DEADLINE_LABELS[name]
        deadlines += [
            Figure(f"deadlines.{name}.share_met", f"{label} : taux de respect", compliance.share_met, "share"),
            Figure(f"deadlines.{name}.met", f"{label} : respectées", compliance.met, "count"),
            Figure(f"deadlines.{name}.missed", f"{label} : manquées", compliance.missed, "count"),
            Figure(f"deadlines.{name}.pending", f"{label} : en cours", compliance.pending, "count"),
        ]
    found.append(Section("Respect des échéances", deadlines))
    s, d, c = i.satisfaction, i.decisions, i.compensations
    found += [
        Section(
            "Alertes SLA",
            [
                Figure("alerts.warnings", "alertes avant échéance", i.alerts.warnings, "count"),
                Figure("alerts.breaches", "dépassements", i.alerts.breaches, "count"),
                Figure("alerts.complaints_warned", "réclamations alertées", i.alerts.complaints_warned, "count"),
                Figure(
                    "alerts.complaints_breached", "réclamations en dépassement", i.alerts.complaints_breached, "count"
                ),
            ],
        ),
        Section(
            "Décisions et recours",
            [
                Figure("decisions.accepted", "acceptées", d.accepted, "count"),
                Figure("decisions.partially_accepted", "partiellement acceptées", d.partially_accepted, "count"),
                Figure("decisions.rejected", "rejetées", d.rejected, "count"),
                Figure("decisions.contests", "contestations", d.contests, "count"),
                Figure("decisions.reviews", "réexamens répondus", d.reviews, "count"),
                Figure(
                    "decisions.mediation_referrals", "orientations vers le médiateur", d.mediation_referrals, "count"
                ),
            ],
        ),
        Section(
            "Dédommagements",
            [
                Figure("compensations.count", "accordés", c.count, "count"),
                Figure("compensations.amount", "montant total", c.amount, "amount", currency),
                *(
                    figure
                    for kind, total in ordered(c.by_kind, COMPENSATION_KINDS)
                    for figure in (
                        Figure(
                            f"compensations.by_kind.{kind}.count",
                            f"{KIND_LABELS.get(kind, kind)} : nombre",
                            total.count,
                            "count",
                        ),
                        Figure(
                            f"compensations.by_kind.{kind}.amount",
                            f"{KIND_LABELS.get(kind, kind)} : montant",
                            total.amount,
                            "amount",
                            currency,
                        ),
                    )
                ),
            ],
        ),
        Section(
            "Satisfaction",
            [
                Figure("satisfaction.surveyed", "enquêtes envoyées", s.surveyed, "count"),
                Figure("satisfaction.answered", "réponses", s.answered, "count"),
                Figure("satisfaction.response_rate", "taux de réponse", s.response_rate, "share"),
                Figure("satisfaction.csat_mean", "CSAT moyen (1 à 5)", s.csat_mean, "score"),
                Figure("satisfaction.csat_satisfied_share", "CSAT 4 ou 5", s.csat_satisfied_share, "share"),
                *(
                    Figure(f"satisfaction.csat_counts.{score}", f"CSAT {score}", n, "count")
                    for score, n in ordered(s.csat_counts, ("1", "2", "3", "4", "5"))
                ),
                Figure("satisfaction.ces_mean", "CES moyen (1 à 5)", s.ces_mean, "score"),
                Figure("satisfaction.problem_mean", PROCESS_LABELS["problem"], s.problem_mean, "score"),
                Figure("satisfaction.actions_mean", PROCESS_LABELS["actions"], s.actions_mean, "score"),
                Figure("satisfaction.relationship_mean", PROCESS_LABELS["relationship"], s.relationship_mean, "score"),
                Figure("satisfaction.nps", "NPS (promoteurs − détracteurs)", s.nps, "nps"),
                Figure("satisfaction.promoters", "promoteurs (9–10)", s.promoters, "count"),
                Figure("satisfaction.passives", "passifs (7–8)", s.passives, "count"),
                Figure("satisfaction.detractors", "détracteurs (0–6)", s.detractors, "count"),
            ],
        ),
        Section(
            "Réclamants récurrents",
            [
                Figure("recurrence.recurring", "réclamations récurrentes", i.recurrence.recurring, "count"),
                Figure("recurrence.one_off", "réclamations ponctuelles", i.recurrence.one_off, "count"),
                Figure("recurrence.not_assessed", "pas encore évaluées", i.recurrence.not_assessed, "count"),
            ],
        ),
        Section(
            "Principales causes racines (période, période précédente, écart)",
            [
                figure
                for cause in i.root_causes
                for figure in (
                    Figure(f"root_causes.{cause.category}.count", f"{cause.category} : période", cause.count, "count"),
                    Figure(
                        f"root_causes.{cause.category}.previous",
                        f"{cause.category} : période précédente",
                        cause.previous,
                        "count",
                    ),
                    Figure(f"root_causes.{cause.category}.change", f"{cause.category} : écart", cause.change, "count"),
                )
            ],
        ),
    ]
    return found


def report_sections(report: KpiReport) -> list[Section]:
    """What belongs to the report as a whole: volumes over time and actions."""
    a = report.actions
    return [
        Section(
            f"Réclamations reçues par {SERIES_LABELS[report.series_unit]} (dont encore ouvertes)",
            [
                figure
                for point in report.series
                for figure in (
                    Figure(
                        f"series.{point.start.isoformat()}.received",
                        f"{bucket_label(point.start, report.series_unit)} : reçues",
                        point.received,
                        "count",
                    ),
                    Figure(
                        f"series.{point.start.isoformat()}.open",
                        f"{bucket_label(point.start, report.series_unit)} : ouvertes",
                        point.open,
                        "count",
                    ),
                )
            ],
        ),
        Section(
            "Actions correctives et d'amélioration",
            [
                Figure("actions.open", "ouvertes", a.open, "count"),
                Figure("actions.overdue", "en retard", a.overdue, "count"),
                Figure("actions.done_in_period", "terminées dans la période", a.done_in_period, "count"),
                *(
                    figure
                    for owner in a.by_owner
                    for figure in (
                        Figure(
                            f"actions.by_owner.{owner.owner}.open", f"{owner.owner} : ouvertes", owner.open, "count"
                        ),
                        Figure(
                            f"actions.by_owner.{owner.owner}.overdue",
                            f"{owner.owner} : en retard",
                            owner.overdue,
                            "count",
                        ),
                    )
                ),
            ],
        ),
    ]


SERIES_LABELS = {"day": "jour", "week": "semaine", "month": "mois"}


def bucket_label(start: date, unit: str) -> str:
    dates = LocalDates("UTC", LOCALE)  # a calendar day: no zone to convert from
    if unit == "month":
        return dates.day(start, "MMMM y")
    if unit == "week":
        return "semaine du " + dates.day(start, "d MMM y")
    return dates.day(start, "EEE d MMM y")


def group_label(report: KpiReport, group: Group) -> str:
    dimension = DIMENSION_LABELS[report.by] if report.by else ""
    if group.key is None:
        return f"{dimension} : les autres"
    return f"{dimension} : {group.key or '(non renseigné)'}"


def period_label(report: KpiReport) -> str:
    return period_text(report.period_from, report.period_to, report.timezone)


def period_text(period_from: datetime, period_to: datetime, timezone: str) -> str:
    """ "du 1 janvier 2026 au 31 mars 2026" (the end is exclusive: its day before
    when the period ends at midnight), in local time."""
    zone, dates = ZoneInfo(timezone), LocalDates(timezone, LOCALE)
    start, end = period_from.astimezone(zone), period_to.astimezone(zone)

    def at_midnight(moment: datetime) -> bool:
        return moment.time() == datetime.min.time()

    if at_midnight(start) and at_midnight(end):
        last = date.fromordinal(end.date().toordinal() - 1)
        return f"du {dates.date(start)} au {dates.day(last)}"
    return f"du {dates.moment(start)} au {dates.moment(end)}"


def moment(value: datetime, timezone: str) -> str:
    return LocalDates(timezone, LOCALE).moment(value)
