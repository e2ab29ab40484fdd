"""A register of complaints with realistic distributions, for the KPI benchmark.

Complaints arrive over two years, growing, mostly on weekdays in business
hours, by channel, product (a long tail), category and priority; returning
customers are recurring. Each goes through its lifecycle as far as `end`
allows: acknowledged (by email at once, by post within days, some late),
assessed and answered within its priority's deadlines (some late: warnings
and breaches), accepted, partially accepted or rejected, contested and
reviewed now and then, compensated, surveyed, closed. Corrective and
improvement actions are planned on some, most of them done.

Rows come in chunks of tuples ready for `copy_records_to_table`; the same
seed gives the same register."""

import bisect
import itertools
import json
import math
import random
import uuid
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta

DAY = timedelta(days=1)
ACK_DEADLINE = timedelta(days=10)
REGULATORY = timedelta(days=61)  # 2 months
DEADLINES = {  # assessment, response, from the acknowledgement
    "P1": (timedelta(days=1), timedelta(days=7)),
    "P2": (timedelta(days=3), timedelta(days=15)),
    "P3": (timedelta(days=5), timedelta(days=30)),
    "P4": (timedelta(days=10), timedelta(days=61)),
}
WARNING_FRACTION = 0.75

CHANNELS = {"email": 35, "web": 25, "phone": 20, "letter": 8, "in_person": 5, "social": 4, "api": 2, "import": 1}
PRIORITIES = {"P1": 3, "P2": 15, "P3": 52, "P4": 30}
CATEGORIES = {
    "livraison": 24,
    "qualité produit": 20,
    "facturation": 15,
    "service client": 11,
    "retard": 9,
    "remboursement": 7,
    "garantie": 6,
    "site web": 4,
    "sécurité": 1,
    "autre": 3,
}
OUTCOMES = {"accepted": 45, "partially_accepted": 30, "rejected": 25}
COMPENSATION_KINDS = {
    "credit_note": 35,
    "refund": 25,
    "commercial_gesture": 20,
    "complimentary_service": 12,
    "apology": 8,
}
WEEKDAY_WEIGHTS = [1.3, 1.2, 1.1, 1.1, 1.0, 0.5, 0.3]
SENTENCES = [
    "Le colis est arrivé ouvert et le produit était endommagé.",
    "La facture mentionne deux fois les frais de livraison.",
    "Le conseiller ne m'a jamais rappelé malgré sa promesse.",
    "Le produit a cessé de fonctionner après trois semaines d'utilisation.",
    "La livraison annoncée pour mardi n'est arrivée que le lundi suivant.",
    "Le remboursement promis n'apparaît toujours pas sur mon compte.",
    "Le site refuse ma carte bancaire au moment de payer la commande.",
    "Je demande le remplacement de l'article ou son remboursement intégral.",
]

COMPLAINT_COLUMNS = [
    "reference",
    "received_at",
    "channel",
    "complainant_name",
    "complainant_email",
    "complainant_phone",
    "customer_id",
    "subject",
    "description",
    "product",
    "desired_resolution",
    "phase",
    "sla_status",
    "ack_due_at",
    "response_due_at",
    "regulatory_due_at",
    "assessment_due_at",
    "workflow_started_at",
    "intake_recorded_at",
    "acknowledged_at",
    "ack_method",
    "assessed_at",
    "responded_at",
    "closed_at",
    "escalation_level",
    "priority",
    "severity",
    "complexity",
    "recurring",
    "category",
    "assessment",
    "handler",
    "team",
    "outcome",
    "customer_verdict",
    "root_cause_category",
    "ack_deadline_met",
    "assessment_deadline_met",
    "response_deadline_met",
    "compensation_total",
]
JOURNAL_COLUMNS = ["complaint_reference", "occurred_at", "actor", "event", "details", "step_key", "visible_to_customer"]
SURVEY_COLUMNS = ["complaint_reference", "csat", "ces", "nps", "comment", "answered_at"]
COMPENSATION_COLUMNS = [
    "key",
    "complaint_reference",
    "kind",
    "amount",
    "currency",
    "description",
    "proposed_by",
    "approved_by",
    "granted_at",
]
ALERT_COLUMNS = ["key", "complaint_reference", "deadline", "kind", "due_at", "raised_at"]
ACTION_COLUMNS = [
    "step_key",
    "complaint_reference",
    "kind",
    "description",
    "owner",
    "due_on",
    "status",
    "root_cause_category",
    "root_cause_analysis",
    "created_by",
    "created_at",
    "done_at",
]


@dataclass
class Chunk:
    complaints: list[tuple] = field(default_factory=list)
    journal: list[tuple] = field(default_factory=list)
    surveys: list[tuple] = field(default_factory=list)
    compensations: list[tuple] = field(default_factory=list)
    alerts: list[tuple] = field(default_factory=list)
    actions: list[tuple] = field(default_factory=list)


def _zipf(names: list[str], s: float) -> dict[str, float]:
    return {name: 1 / (rank**s) for rank, name in enumerate(names, start=1)}


class RegisterGenerator:
    def __init__(self, count: int, end: datetime, years: float = 2.0, seed: int = 6) -> None:
        self.count = count
        self.end = end
        self.start = end - timedelta(days=round(365 * years))
        self.rng = random.Random(seed)
        days = (self.end - self.start).days
        # growth of 20 % a year, weekly rhythm
        self.day_weights = [
            (1 + 0.2 * d / 365) * WEEKDAY_WEIGHTS[(self.start + d * DAY).weekday()] for d in range(days)
        ]
        self.products = _zipf([f"Produit {i:03d}" for i in range(1, 301)], 1.1)
        self.root_causes = _zipf([f"cause {i:02d}" for i in range(1, 26)], 0.9)
        self.handlers = [f"conseiller-{i:02d}" for i in range(1, 81)]
        self.owners = [f"responsable-{i:02d}" for i in range(1, 41)]
        self.last_seen: dict[str, datetime] = {}
        self.customers: list[str] = []
        self._tables: dict[int, tuple[list[str], list[float]]] = {}

    def _pick(self, weights: Mapping[str, float]) -> str:
        names, cumulative = self._tables.get(id(weights)) or self._table(weights)
        return names[bisect.bisect(cumulative, self.rng.random() * cumulative[-1])]

    def _table(self, weights: Mapping[str, float]) -> tuple[list[str], list[float]]:
        self._tables[id(weights)] = (list(weights), list(itertools.accumulate(weights.values())))
        return self._tables[id(weights)]

    def _received(self, n: int) -> list[datetime]:
        days = self.rng.choices(range(len(self.day_weights)), self.day_weights, k=n)
        moments = []
        for d in days:
            hour = self.rng.uniform(8, 19) if self.rng.random() < 0.85 else self.rng.uniform(0, 24)
            moments.append(self.start + d * DAY + timedelta(hours=hour - 1))  # local business hours, UTC+1
        moments.sort()
        return moments

    def _lognormal(self, median: timedelta, sigma: float) -> timedelta:
        return median * math.exp(self.rng.gauss(0, sigma))

    def chunks(self, size: int = 50_000) -> Iterator[Chunk]:
        """In order of receipt, as a register is written."""
        received = self._received(self.count)
        for start in range(0, self.count, size):
            chunk = Chunk()
            for number in range(start + 1, min(start + size, self.count) + 1):
                self._complaint(chunk, number, received[number - 1])
            yield chunk

    def _customer(self, received: datetime) -> tuple[str, bool]:
        if self.customers and self.rng.random() < 0.3:
            known = len(self.customers)  # rather recent customers come back
            customer = self.customers[self.rng.randrange(max(0, known - 200_000), known)]
        else:
            customer = f"C{len(self.customers) + 1:07d}"
            self.customers.append(customer)
        seen = self.last_seen.get(customer)
        self.last_seen[customer] = received
        return customer, seen is not None and received - seen <= timedelta(days=365)

    def _complaint(self, chunk: Chunk, number: int, received: datetime) -> None:
        rng, end = self.rng, self.end
        ref = f"REC-{received.year}-{number:07d}"
        channel = self._pick(CHANNELS)
        has_email = rng.random() < 0.85
        customer, recurring = self._customer(received)
        priority = self._pick(PRIORITIES)
        category = self._pick(CATEGORIES)
        assess_span, response_span = DEADLINES[priority]
        ack_due = received + ACK_DEADLINE
        regulatory = received + REGULATORY
        journal: list[tuple] = []
        alerts: list[tuple] = []

        def happened(moment: datetime | None) -> datetime | None:
            return moment if moment is not None and moment <= end else None

        def step(
            event: str,
            at: datetime,
            actor: str = "system",
            visible: bool = True,
            details: str = "{}",
            key: str | None = None,
        ) -> None:
            journal.append((ref, at, actor, event, details, key or f"{ref}:{event}", visible))

        def raise_alert(deadline: str, kind: str, due: datetime, at: datetime) -> None:
            """As the register records an alert: its row, journaled under its key."""
            key = f"{ref}:{deadline}:0:{kind}"
            alerts.append((key, ref, deadline, kind, due, at))
            step(f"{deadline}_deadline_{'breached' if kind == 'breach' else 'warning'}", at, visible=False, key=key)

        def watch(deadline: str, started: datetime, due: datetime, done: datetime | None) -> bool | None:
            """Alerts raised on the way to `done`; whether the deadline was met (None: not yet)."""
            warning_at = started + (due - started) * WARNING_FRACTION
            finished = done or end
            if finished > warning_at and warning_at <= end:
                raise_alert(deadline, "warning", due, warning_at)
            if finished > due and due <= end:
                raise_alert(deadline, "breach", due, due)
            return None if done is None else done <= due

        step("received", received, visible=False)
        # acknowledgement: by email within minutes, else by post within days
        if has_email:
            ack = received + self._lognormal(timedelta(seconds=40), 1.0)
        else:
            ack = received + self._lognormal(timedelta(days=3), 0.7)
        acknowledged = happened(ack)
        ack_met = watch("acknowledgement", received, ack_due, acknowledged)
        if acknowledged:
            step("acknowledged", acknowledged)
        assessed = responded = closed = None
        outcome = verdict = root_cause = None
        assess_met = response_met = None
        phase = "acknowledged" if acknowledged else "intake"
        compensation_total = None
        if acknowledged:
            assess_due = min(acknowledged + assess_span, regulatory)
            response_due = min(acknowledged + response_span, regulatory)
            assessed = happened(acknowledged + self._lognormal(assess_span * 0.35, 0.6))
            assess_met = watch("assessment", acknowledged, assess_due, assessed)
            phase = "handling" if assessed else "assessment"
            responded = happened(acknowledged + self._lognormal(response_span * 0.45, 0.5))
            response_met = watch("response", acknowledged, response_due, responded)
        if responded:
            outcome = self._pick(OUTCOMES)
            step("responded", responded, rng.choice(self.handlers))
            phase = "responded"
            if outcome != "rejected" and rng.random() < (0.4 if outcome == "accepted" else 0.6):
                kind = self._pick(COMPENSATION_KINDS)
                amount = (
                    0 if kind == "apology" else round(self._lognormal(timedelta(seconds=35), 0.8).total_seconds(), 2)
                )
                compensation_total = amount
                chunk.compensations.append(
                    (f"{ref}:compensation:1", ref, kind, amount, "EUR", "dédommagement", "conseiller", None, responded)
                )
                granted = json.dumps({"kind": kind, "amount": f"{amount:.2f}", "currency": "EUR"})
                step("compensation_granted", responded, "conseiller", details=granted, key=f"{ref}:compensation:1")
            contest_chance = 0.02 if outcome == "accepted" else 0.12
            verdict_at = responded + self._lognormal(timedelta(days=4), 0.6)
            survey_from = None
            if rng.random() < contest_chance:
                if happened(verdict_at):
                    verdict = "contested"
                    step("contested", verdict_at, "complainant")
                    phase = "review"
                    review = happened(verdict_at + self._lognormal(timedelta(days=8), 0.5))
                    if review:
                        outcome = self._pick(OUTCOMES)
                        step("review_responded", review, rng.choice(self.handlers))
                        phase, survey_from = "survey", review
            else:
                verdict_at = min(verdict_at, responded + timedelta(days=15))
                if happened(verdict_at):
                    verdict = "accepted" if rng.random() < 0.7 else None
                    phase, survey_from = "survey", verdict_at
            if survey_from:
                answer_by = survey_from + timedelta(days=10)
                if has_email:
                    step("survey_emailed", survey_from)
                    if rng.random() < 0.35:
                        answered = happened(survey_from + self._lognormal(timedelta(days=2), 0.8))
                        if answered and answered < answer_by:
                            base = {"accepted": 4.2, "partially_accepted": 3.2, "rejected": 2.1}[outcome]
                            csat = min(5, max(1, round(rng.gauss(base, 0.9))))
                            ces = min(5, max(1, round(rng.gauss(6 - base, 0.9))))
                            nps = min(10, max(0, round(rng.gauss(base * 2, 2))))
                            chunk.surveys.append((ref, csat, ces, nps, None, answered))
                            answer_by = answered
                closed = happened(answer_by)
                if closed:
                    phase = "closed"
                    root_cause = self._pick(self.root_causes)
                    step("closed", closed)
        if root_cause is None and rng.random() < 0.02 and assessed:
            root_cause = self._pick(self.root_causes)  # a root-cause analysis before closure
        if assessed and rng.random() < 0.02:
            self._action(chunk, ref, assessed, root_cause)
        breached = any(a[3] == "breach" for a in alerts)
        chunk.complaints.append(
            (
                ref,
                received,
                channel,
                f"Client {customer}",
                f"{customer.lower()}@example.com" if has_email else None,
                None if has_email else "+33 1 23 45 67 89",
                customer,
                "Réclamation " + category,
                " ".join(rng.sample(SENTENCES, 4)),
                self._pick(self.products),
                "Un geste commercial",
                phase,
                "breached" if breached else ("warning" if alerts else "on_track"),
                ack_due,
                responded and regulatory,
                regulatory,
                acknowledged and min(acknowledged + DEADLINES[priority][0], regulatory),
                received,
                received,
                acknowledged,
                ("email" if has_email else "post") if acknowledged else None,
                assessed,
                responded,
                closed,
                sum(a[3] == "breach" for a in alerts),
                priority if acknowledged else None,
                rng.randint(1, 4),
                rng.randint(1, 4),
                recurring if acknowledged else None,
                category,
                _ASSESSMENT if acknowledged else None,
                rng.choice(self.handlers) if assessed else None,
                "équipe",
                outcome,
                verdict,
                root_cause,
                ack_met,
                assess_met,
                response_met,
                compensation_total,
            )
        )
        chunk.journal.extend(journal)
        chunk.alerts.extend(alerts)

    def _action(self, chunk: Chunk, ref: str, planned: datetime, root_cause: str | None) -> None:
        rng = self.rng
        corrective = rng.random() < 0.6
        due_on: date = (planned + timedelta(days=rng.randint(15, 60))).date()
        done_at = planned + self._lognormal(timedelta(days=30), 0.6)
        done = happened_by(done_at, self.end) and rng.random() < 0.85
        chunk.actions.append(
            (
                f"{ref}:action:{uuid.uuid4().hex[:6]}",
                ref,
                "corrective" if corrective else "improvement",
                "Revoir la procédure d'emballage",
                rng.choice(self.owners),
                due_on,
                "done" if done else "open",
                root_cause if corrective else None,
                "analyse des causes" if corrective and root_cause else None,
                "conseiller",
                planned,
                done_at if done else None,
            )
        )


def happened_by(moment: datetime, end: datetime) -> bool:
    return moment <= end


_ASSESSMENT = json.dumps(
    {
        "priority": "P3",
        "severity": {"level": 2, "reasons": ["produit endommagé"]},
        "complexity": {"level": 2, "reasons": ["un seul produit concerné"]},
        "impacts": [{"kind": "financial", "reason": "montant inférieur à 100 EUR"}],
        "recurrence": {"recurring": False, "earlier": []},
        "category": "livraison",
    }
)
DEFAULT_END = datetime(2026, 11, 1, tzinfo=UTC)
