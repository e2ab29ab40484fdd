"""The assessment of a complaint: gravité, complexité, répercussions, and whether
it is a one-off or the latest sign of a slow decline of products and services.

Explainable rules: every score, impact and priority carries reasons that quote
what triggered it. Pure and deterministic, so a workflow can call it.
"""

import re
import unicodedata
from datetime import datetime, timedelta
from decimal import Decimal
from enum import StrEnum

from pydantic import BaseModel, Field

from complaints.submission import Channel


class Priority(StrEnum):
    P1 = "P1"  # most urgent
    P2 = "P2"
    P3 = "P3"
    P4 = "P4"


class ImpactKind(StrEnum):
    FINANCIAL = "financial"
    HEALTH_SAFETY = "health_safety"
    LEGAL = "legal"
    REPUTATIONAL = "reputational"


class Score(BaseModel):
    level: int = Field(ge=1, le=4)  # 1 (low) .. 4 (high)
    reasons: list[str]


class Impact(BaseModel):
    kind: ImpactKind
    reason: str


class EarlierComplaint(BaseModel):
    reference: str
    received_at: datetime
    product: str | None = None
    subject: str


class ComplaintFacts(BaseModel):
    reference: str
    received_at: datetime
    channel: Channel
    subject: str
    description: str
    desired_resolution: str | None = None
    product: str | None = None
    persons_concerned: list[str] = []
    document_count: int = 0


class Recurrence(BaseModel):
    recurring: bool
    evidence: list[str]
    earlier: list[str]  # references of the earlier complaints counted


class Assessment(BaseModel):
    severity: Score
    complexity: Score
    impacts: list[Impact]
    recurrence: Recurrence
    priority: Priority
    priority_reasons: list[str]
    category: str  # suggested root-cause category, one of CATEGORIES


CATEGORIES: tuple[str, ...] = ("delivery", "billing", "product_quality", "service", "staff", "safety", "other")
HIGH_AMOUNT = Decimal(500)
LONG_DESCRIPTION = 1500

_LABELS = {**{k: k.value for k in ImpactKind}, ImpactKind.HEALTH_SAFETY: "health and safety"}

# Written as people write them; matching ignores case and accents and allows a
# plural or feminine ending. Some words are only taken in a phrase because alone
# they mean something else in French: "court" (short), "avoir" (to have), "plainte"
# (customers call their own complaint that; filing one with the police is legal).
_IMPACT_WORDS: dict[ImpactKind, tuple[str, ...]] = {
    ImpactKind.FINANCIAL: (
        "remboursement",
        "rembourser",
        "remboursé",
        "facture",
        "prélèvement",
        "prélevé",
        "débité",
        "surfacturation",
        "un avoir",
        "bon d'avoir",
        "refund",
        "invoice",
        "overcharged",
        "charged twice",
        "direct debit",
        "credit note",
    ),
    ImpactKind.HEALTH_SAFETY: (
        "blessé",
        "blessure",
        "brûlure",
        "brûlé",
        "allergie",
        "allergique",
        "intoxication",
        "intoxiqué",
        "empoisonnement",
        "hôpital",
        "urgences",
        "danger",
        "dangereux",
        "dangereuse",
        "incendie",
        "feu",
        "électrocution",
        "électrocuté",
        "choc électrique",
        "accident",
        "sécurité",
        "étouffement",
        "injury",
        "injured",
        "burn",
        "burnt",
        "burned",
        "allergy",
        "allergic",
        "poisoning",
        "hospital",
        "emergency room",
        "fire",
        "electric shock",
        "safety",
        "hurt",
    ),
    ImpactKind.LEGAL: (
        "avocat",
        "tribunal",
        "mise en demeure",
        "porter plainte",
        "déposer plainte",
        "dépôt de plainte",
        "plainte contre",
        "justice",
        "procès",
        "DGCCRF",
        "association de consommateurs",
        "UFC",
        "que choisir",
        "juridique",
        "lawyer",
        "attorney",
        "to court",
        "in court",
        "legal action",
        "sue",
    ),
    ImpactKind.REPUTATIONAL: (
        "réseaux sociaux",
        "Twitter",
        "sur X",
        "Facebook",
        "Instagram",
        "TikTok",
        "avis en ligne",
        "Trustpilot",
        "Google",
        "presse",
        "journaliste",
        "médias",
        "je vais en parler",
        "publier",
        "social media",
        "online review",
        "journalist",
        "the press",
    ),
}

# Root-cause categories after "safety", in the order they are tried: the first
# with a match wins. Read in the subject and description only: the desired
# resolution names the remedy (often a refund), not the cause. "reçu" only in a
# phrase: alone it opens most complaints ("j'ai reçu un vase cassé").
_CATEGORY_WORDS: tuple[tuple[str, tuple[str, ...]], ...] = (
    (
        "billing",
        (
            "facture",
            "facturation",
            "prélèvement",
            "paiement",
            "remboursement",
            "tarif",
            "prix",
            "débité",
            "surfacturation",
            "invoice",
            "billing",
            "payment",
            "refund",
            "price",
            "overcharged",
        ),
    ),
    (
        "delivery",
        (
            "livraison",
            "livré",
            "colis",
            "livreur",
            "retard de livraison",
            "transporteur",
            "pas reçu",
            "jamais reçu",
            "non reçu",
            "expédition",
            "delivery",
            "delivered",
            "parcel",
            "package",
            "courier",
            "shipping",
            "not received",
        ),
    ),
    (
        "product_quality",
        (
            "cassé",
            "défectueux",
            "défectueuse",
            "défaut",
            "panne",
            "abîmé",
            "ne fonctionne pas",
            "ne fonctionne plus",
            "qualité",
            "fissuré",
            "rayé",
            "broken",
            "defective",
            "faulty",
            "damaged",
            "does not work",
            "doesn't work",
            "quality",
        ),
    ),
    (
        "staff",
        (
            "accueil",
            "vendeur",
            "vendeuse",
            "conseiller",
            "conseillère",
            "impoli",
            "comportement",
            "personnel",
            "employé",
            "rude",
            "staff",
            "employee",
            "salesperson",
            "behaviour",
            "behavior",
        ),
    ),
    (
        "service",
        (
            "service",
            "attente",
            "délai",
            "rendez-vous",
            "injoignable",
            "waiting",
            "appointment",
            "customer service",
        ),
    ),
)

# An amount with its currency, before or after: "250 €", "1 200,50 EUR", "€ 99.90".
_NUMBER = r"(\d{1,3}(?:[ \u00a0\u202f.,]\d{3})+|\d+)(?:[.,](\d{1,2}))?"
_CURRENCY = r"(?:€|(?<![a-z])eur(?:os?)?(?![a-z]))"
_AMOUNT = re.compile(rf"(?<!\d){_NUMBER}\s*{_CURRENCY}|{_CURRENCY}\s*{_NUMBER}", re.IGNORECASE)


def _fold(text: str) -> str:
    """Lower case without accents, so that 'BRULURE' matches 'brûlure'."""
    decomposed = unicodedata.normalize("NFKD", text.replace("\u2019", "'"))
    return "".join(c for c in decomposed if not unicodedata.combining(c)).casefold()


def _compile(words: tuple[str, ...]) -> tuple[tuple[str, re.Pattern[str]], ...]:
    """Whole words only; a hyphen binds, so 'pare-feu' or 'presse-agrumes' do not count."""
    rules = []
    for word in words:
        body = r"[\s-]+".join(map(re.escape, re.split(r"[\s-]+", _fold(word))))
        rules.append((word, re.compile(rf"(?<![\w-]){body}(?:e|s|es|x)?(?![\w-])")))
    return tuple(rules)


_IMPACT_RULES = {kind: _compile(words) for kind, words in _IMPACT_WORDS.items()}
_CATEGORY_RULES = tuple((category, _compile(words)) for category, words in _CATEGORY_WORDS)
_PRIORITY_BY_SEVERITY = {4: Priority.P1, 3: Priority.P2, 2: Priority.P3, 1: Priority.P4}


def _mentions(rules: tuple[tuple[str, re.Pattern[str]], ...], folded: str) -> list[str]:
    return [word for word, pattern in rules if pattern.search(folded)]


def _largest_amount(text: str) -> tuple[Decimal, str] | None:
    """The largest amount in `text` and how it was written."""
    found = []
    for match in _AMOUNT.finditer(text):
        whole, cents = (match[1], match[2]) if match[1] else (match[3], match[4])
        digits = re.sub(r"\D", "", whole)
        found.append((Decimal(f"{digits}.{cents or 0}"), match[0].strip()))
    return max(found, key=lambda amount: amount[0], default=None)


def _impacts(facts: ComplaintFacts) -> tuple[list[Impact], tuple[Decimal, str] | None]:
    text = "\n".join(filter(None, (facts.subject, facts.description, facts.desired_resolution)))
    folded, amount = _fold(text), _largest_amount(text)
    impacts = []
    for kind in ImpactKind:
        quoted = _mentions(_IMPACT_RULES[kind], folded)
        if kind is ImpactKind.FINANCIAL and amount:
            quoted.insert(0, amount[1])
        triggers = ["mentions " + ", ".join(f"'{q}'" for q in quoted)] if quoted else []
        if kind is ImpactKind.REPUTATIONAL and facts.channel is Channel.SOCIAL:
            triggers.insert(0, "came in through social media")
        if triggers:
            impacts.append(Impact(kind=kind, reason=f"{'; '.join(triggers)} ({_LABELS[kind]})"))
    return impacts, amount


def _tally(name: str, steps: list[str]) -> Score:
    """1 plus one for each step, at most 4; the reasons show every step."""
    reasons = [f"{name} starts at 1", *steps]
    if len(steps) > 3:
        reasons.append("capped at 4")
    return Score(level=min(1 + len(steps), 4), reasons=reasons)


def _severity(impacts: dict[ImpactKind, Impact], amount: tuple[Decimal, str] | None, recurring: bool) -> Score:
    if safety := impacts.get(ImpactKind.HEALTH_SAFETY):
        return Score(level=4, reasons=[f"severity 4 at once: {safety.reason}"])
    steps = []
    if amount and amount[0] >= HIGH_AMOUNT:
        steps.append(f"+1: '{amount[1]}' is {HIGH_AMOUNT} € or more (high financial impact)")
    steps += [f"+1: {impacts[k].reason}" for k in (ImpactKind.LEGAL, ImpactKind.REPUTATIONAL) if k in impacts]
    if recurring:
        steps.append("+1: recurring complaint")
    return _tally("severity", steps)


def _complexity(facts: ComplaintFacts, impacts: list[Impact], recurring: bool) -> Score:
    steps, crowd, people = [], [], len(facts.persons_concerned)
    if people > 1:
        crowd.append(f"{people} persons concerned")
    if facts.document_count > 3:
        crowd.append(f"{facts.document_count} documents")
    if crowd:
        steps.append(f"+1: {' and '.join(crowd)}")
    if (length := len(facts.description)) > LONG_DESCRIPTION:
        steps.append(f"+1: description of {length} characters (more than {LONG_DESCRIPTION})")
    if len(impacts) >= 2:
        kinds = ", ".join(_LABELS[i.kind] for i in impacts)
        steps.append(f"+1: {len(impacts)} kinds of impact ({kinds})")
    if recurring:
        steps.append("+1: recurring complaint")
    return _tally("complexity", steps)


def _category(facts: ComplaintFacts, impacts: dict[ImpactKind, Impact]) -> str:
    if ImpactKind.HEALTH_SAFETY in impacts:
        return "safety"
    folded = _fold(f"{facts.subject}\n{facts.description}")
    return next((c for c, rules in _CATEGORY_RULES if _mentions(rules, folded)), "other")


def _earlier(count: int) -> str:
    return f"{count} earlier complaint{'s' if count > 1 else ''}"


def _listing(complaints: list[EarlierComplaint]) -> str:
    return ", ".join(f"{c.reference} ({c.received_at.date().isoformat()})" for c in complaints)


def _period(window: timedelta) -> str:
    if window % timedelta(days=1):
        return f"in the last {window}"
    return f"in the last {window.days} day{'s' if window.days != 1 else ''}"


def recurrence(facts: ComplaintFacts, history: list[EarlierComplaint], window: timedelta) -> Recurrence:
    """Recurring if at least 2 earlier complaints fall in the window, or 1 about the
    same product. `earlier` lists every earlier complaint in the window, oldest first."""
    since = facts.received_at - window
    unique = {
        c.reference: c for c in history if c.reference != facts.reference and since <= c.received_at < facts.received_at
    }
    earlier = sorted(unique.values(), key=lambda c: (c.received_at, c.reference))
    if not earlier:  # a one-off, as far as this complainant goes
        return Recurrence(recurring=False, evidence=[f"no earlier complaint {_period(window)}"], earlier=[])
    evidence = [f"{_earlier(len(earlier))} {_period(window)}: {_listing(earlier)}"]
    product = _fold(facts.product or "").strip()
    same = [c for c in earlier if product and _fold(c.product or "").strip() == product]
    if same:
        evidence.append(f"{_earlier(len(same))} about the same product '{facts.product}': {_listing(same)}")
    return Recurrence(
        recurring=len(earlier) >= 2 or bool(same),
        evidence=evidence,
        earlier=[c.reference for c in earlier],
    )


def assess(
    facts: ComplaintFacts,
    history: list[EarlierComplaint],
    *,
    window: timedelta = timedelta(days=365),
) -> Assessment:
    """Score a complaint; `history` holds the same complainant's earlier complaints."""
    impacts, amount = _impacts(facts)
    by_kind = {impact.kind: impact for impact in impacts}
    found = recurrence(facts, history, window)
    severity = _severity(by_kind, amount, found.recurring)
    if ImpactKind.HEALTH_SAFETY in by_kind:
        priority, why = Priority.P1, ["health and safety complaints are top priority"]
    else:
        priority = _PRIORITY_BY_SEVERITY[severity.level]
        why = [f"severity {severity.level} of 4 gives {priority}"]
    return Assessment(
        severity=severity,
        complexity=_complexity(facts, impacts, found.recurring),
        impacts=impacts,
        recurrence=found,
        priority=priority,
        priority_reasons=why,
        category=_category(facts, by_kind),
    )
