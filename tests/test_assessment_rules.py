import ast
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from complaints import assessment
from complaints.assessment import (
    Assessment,
    ComplaintFacts,
    EarlierComplaint,
    Impact,
    ImpactKind,
    Priority,
    Recurrence,
    Score,
    assess,
    recurrence,
)
from complaints.submission import Channel

RECEIVED = datetime(2026, 5, 1, 10, 0, tzinfo=UTC)


def facts(**changes: object) -> ComplaintFacts:
    fields: dict[str, object] = {
        "reference": "REC-2026-000010",
        "received_at": RECEIVED,
        "channel": Channel.WEB,
        "subject": "Commande",
        "description": "Bonjour.",
    }
    return ComplaintFacts.model_validate(fields | changes)


def earlier(reference: str, received_at: datetime, product: str | None = None) -> EarlierComplaint:
    return EarlierComplaint(reference=reference, received_at=received_at, product=product, subject="Réclamation")


def test_a_burn_or_an_allergy_is_top_priority_and_a_safety_matter() -> None:
    result = assess(
        facts(
            subject="Brûlure après utilisation",
            description="Mon fils a eu une réaction allergique et une brûlure à la main.",
        ),
        [],
    )
    reason = "mentions 'brûlure', 'allergique' (health and safety)"
    assert result.impacts == [Impact(kind=ImpactKind.HEALTH_SAFETY, reason=reason)]
    assert result.severity == Score(level=4, reasons=[f"severity 4 at once: {reason}"])
    assert result.priority is Priority.P1
    assert result.priority_reasons == ["health and safety complaints are top priority"]
    assert result.category == "safety"


def test_keywords_match_whatever_the_case_and_accents() -> None:
    result = assess(facts(description="BRULURE au bras, passage a l'HOPITAL."), [])
    assert result.impacts == [
        Impact(
            kind=ImpactKind.HEALTH_SAFETY,
            reason="mentions 'brûlure', 'hôpital' (health and safety)",
        )
    ]


def test_keywords_match_plural_and_feminine_forms() -> None:
    result = assess(facts(description="Ma fille est BLESSÉE ; deux factures prélevées."), [])
    assert [impact.reason for impact in result.impacts] == [
        "mentions 'facture', 'prélevé' (financial)",
        "mentions 'blessé' (health and safety)",
    ]


def test_words_inside_other_words_or_with_another_meaning_do_not_count() -> None:
    result = assess(
        facts(
            subject="Presse-agrumes",
            description="Ma plainte : le pare-feu de la box coupe, et le délai est trop court.",
        ),
        [],
    )
    assert result.impacts == []
    assert result.category == "service"
    assert assess(facts(description="Je vais porter plainte."), []).impacts == [
        Impact(kind=ImpactKind.LEGAL, reason="mentions 'porter plainte' (legal)")
    ]


def test_the_largest_amount_is_read_in_french_format_from_all_the_text() -> None:
    result = assess(
        facts(
            subject="Facture erronée",
            description="J'ai payé 250 euros, puis 1 200,50 € de plus.",
            desired_resolution="Remboursement de 99 EUR.",
        ),
        [],
    )
    assert result.impacts == [
        Impact(
            kind=ImpactKind.FINANCIAL,
            reason="mentions '1 200,50 €', 'remboursement', 'facture' (financial)",
        )
    ]
    assert result.severity == Score(
        level=2,
        reasons=[
            "severity starts at 1",
            "+1: '1 200,50 €' is 500 € or more (high financial impact)",
        ],
    )
    assert result.category == "billing"


@pytest.mark.parametrize(
    ("amount", "severity"),
    [
        ("250 euros", 1),
        ("499,99 €", 1),
        ("500 €", 2),
        ("500,00 euros", 2),
        ("1.200 EUR", 2),
        ("€ 2 000", 2),
    ],
)
def test_an_amount_of_500_or_more_is_a_high_financial_impact(amount: str, severity: int) -> None:
    result = assess(facts(description=f"Montant en jeu : {amount}."), [])
    assert result.impacts == [Impact(kind=ImpactKind.FINANCIAL, reason=f"mentions '{amount}' (financial)")]
    assert result.severity.level == severity


def test_legal_threats_and_social_media_raise_severity_quoting_the_trigger() -> None:
    result = assess(
        facts(channel=Channel.SOCIAL, description="Sans réponse, je saisis mon avocat et la DGCCRF."),
        [],
    )
    assert result.impacts == [
        Impact(kind=ImpactKind.LEGAL, reason="mentions 'avocat', 'DGCCRF' (legal)"),
        Impact(kind=ImpactKind.REPUTATIONAL, reason="came in through social media (reputational)"),
    ]
    assert result.severity == Score(
        level=3,
        reasons=[
            "severity starts at 1",
            "+1: mentions 'avocat', 'DGCCRF' (legal)",
            "+1: came in through social media (reputational)",
        ],
    )
    assert result.complexity == Score(
        level=2, reasons=["complexity starts at 1", "+1: 2 kinds of impact (legal, reputational)"]
    )
    assert result.priority is Priority.P2
    assert result.priority_reasons == ["severity 3 of 4 gives P2"]


def test_a_threat_to_publish_is_reputational() -> None:
    result = assess(facts(description="Je vais publier un avis sur Trustpilot et Facebook."), [])
    assert result.impacts == [
        Impact(
            kind=ImpactKind.REPUTATIONAL,
            reason="mentions 'Facebook', 'Trustpilot', 'publier' (reputational)",
        )
    ]
    assert result.severity.level == 2


def test_two_earlier_complaints_in_the_window_make_it_recurring() -> None:
    history = [
        earlier("REC-2026-000003", datetime(2026, 3, 1, tzinfo=UTC), "Lampe"),
        earlier("REC-2025-000042", datetime(2025, 11, 15, tzinfo=UTC), "Vase"),
    ]
    assert recurrence(facts(product="Table"), history, timedelta(days=365)) == Recurrence(
        recurring=True,
        evidence=[
            "2 earlier complaints in the last 365 days: REC-2025-000042 (2025-11-15), REC-2026-000003 (2026-03-01)"
        ],
        earlier=["REC-2025-000042", "REC-2026-000003"],
    )


def test_one_earlier_complaint_about_the_same_product_makes_it_recurring() -> None:
    history = [earlier("REC-2026-000003", datetime(2026, 3, 1, tzinfo=UTC), "VASE MEDICIS")]
    assert recurrence(facts(product="Vase Médicis"), history, timedelta(days=365)) == Recurrence(
        recurring=True,
        evidence=[
            "1 earlier complaint in the last 365 days: REC-2026-000003 (2026-03-01)",
            "1 earlier complaint about the same product 'Vase Médicis': REC-2026-000003 (2026-03-01)",
        ],
        earlier=["REC-2026-000003"],
    )


def test_one_earlier_complaint_about_something_else_is_not_recurring() -> None:
    history = [earlier("REC-2026-000003", datetime(2026, 3, 1, tzinfo=UTC), "Lampe")]
    assert recurrence(facts(product="Vase"), history, timedelta(days=365)) == Recurrence(
        recurring=False,
        evidence=["1 earlier complaint in the last 365 days: REC-2026-000003 (2026-03-01)"],
        earlier=["REC-2026-000003"],
    )


def test_complaints_outside_the_window_after_this_one_or_this_one_itself_are_ignored() -> None:
    history = [
        earlier("REC-2025-000001", RECEIVED - timedelta(days=365, seconds=1), "Vase"),
        earlier("REC-2025-000002", RECEIVED - timedelta(days=365), "Lampe"),
        earlier("REC-2026-000010", RECEIVED, "Vase"),
        earlier("REC-2026-000011", RECEIVED, "Vase"),
        earlier("REC-2026-000012", RECEIVED + timedelta(days=1), "Vase"),
    ]
    assert recurrence(facts(product="Vase"), history, timedelta(days=365)) == Recurrence(
        recurring=False,
        evidence=["1 earlier complaint in the last 365 days: REC-2025-000002 (2025-05-01)"],
        earlier=["REC-2025-000002"],
    )


def test_without_earlier_complaints_it_is_a_one_off() -> None:
    old = [earlier("REC-2026-000001", RECEIVED - timedelta(days=31), "Vase")]
    assert recurrence(facts(product="Vase"), old, timedelta(days=30)) == Recurrence(
        recurring=False, evidence=["no earlier complaint in the last 30 days"], earlier=[]
    )
    assert assess(facts(), []).recurrence == Recurrence(
        recurring=False, evidence=["no earlier complaint in the last 365 days"], earlier=[]
    )


def test_recurrence_raises_severity_and_complexity() -> None:
    history = [
        earlier("REC-2026-000001", datetime(2026, 1, 5, tzinfo=UTC)),
        earlier("REC-2026-000002", datetime(2026, 2, 5, tzinfo=UTC)),
    ]
    result = assess(facts(), history)
    assert result.severity == Score(level=2, reasons=["severity starts at 1", "+1: recurring complaint"])
    assert result.complexity == Score(level=2, reasons=["complexity starts at 1", "+1: recurring complaint"])
    assert result.priority is Priority.P3


def test_complexity_adds_one_per_rule_and_stops_at_4() -> None:
    base = "Vase cassé, facture de 80 € et mon avocat est prévenu. "
    description = base + "." * (1600 - len(base))
    history = [
        earlier("REC-2026-000001", datetime(2026, 1, 5, tzinfo=UTC)),
        earlier("REC-2026-000002", datetime(2026, 2, 5, tzinfo=UTC)),
    ]
    result = assess(facts(description=description, persons_concerned=["A", "B"], document_count=4), history)
    assert result.complexity == Score(
        level=4,
        reasons=[
            "complexity starts at 1",
            "+1: 2 persons concerned and 4 documents",
            "+1: description of 1600 characters (more than 1500)",
            "+1: 2 kinds of impact (financial, legal)",
            "+1: recurring complaint",
            "capped at 4",
        ],
    )


def test_complexity_thresholds_are_strict() -> None:
    simple = assess(facts(description="." * 1500, persons_concerned=["A"], document_count=3), [])
    assert simple.complexity == Score(level=1, reasons=["complexity starts at 1"])
    assert assess(facts(document_count=4), []).complexity.reasons[1] == "+1: 4 documents"
    assert assess(facts(persons_concerned=["A", "B", "C"]), []).complexity.reasons[1] == ("+1: 3 persons concerned")


@pytest.mark.parametrize(
    ("changes", "severity", "priority"),
    [
        ({"description": "Vase cassé."}, 1, Priority.P4),
        ({"description": "Mon avocat vous écrira."}, 2, Priority.P3),
        ({"description": "Mon avocat vous écrira.", "channel": Channel.SOCIAL}, 3, Priority.P2),
        (
            {"description": "Mon avocat réclame 600 €.", "channel": Channel.SOCIAL},
            4,
            Priority.P1,
        ),
    ],
)
def test_priority_follows_severity(changes: dict[str, object], severity: int, priority: Priority) -> None:
    result = assess(facts(**changes), [])
    assert result.severity.level == severity
    assert result.priority is priority
    assert result.priority_reasons == [f"severity {severity} of 4 gives {priority}"]


def test_severity_is_capped_at_4() -> None:
    history = [
        earlier("REC-2026-000001", datetime(2026, 1, 5, tzinfo=UTC)),
        earlier("REC-2026-000002", datetime(2026, 2, 5, tzinfo=UTC)),
    ]
    result = assess(facts(channel=Channel.SOCIAL, description="Mon avocat réclame 600 €."), history)
    assert result.severity == Score(
        level=4,
        reasons=[
            "severity starts at 1",
            "+1: '600 €' is 500 € or more (high financial impact)",
            "+1: mentions 'avocat' (legal)",
            "+1: came in through social media (reputational)",
            "+1: recurring complaint",
            "capped at 4",
        ],
    )


@pytest.mark.parametrize(
    ("subject", "description", "category"),
    [
        ("Facture", "Le colis est arrivé avec une facture fausse.", "billing"),
        ("Colis", "Colis jamais reçu, le transporteur ne répond pas.", "delivery"),
        ("Vase", "J'ai reçu un vase cassé.", "product_quality"),
        ("Accueil", "Le vendeur a été impoli.", "staff"),
        ("Attente", "Une heure d'attente au téléphone.", "service"),
        ("Question", "Bonjour, je vous écris.", "other"),
    ],
)
def test_the_first_matching_category_is_suggested(subject: str, description: str, category: str) -> None:
    result = assess(facts(subject=subject, description=description), [])
    assert result.category == category
    assert category in assessment.CATEGORIES


def test_the_desired_resolution_does_not_set_the_category() -> None:
    result = assess(facts(description="Bonjour.", desired_resolution="Un remboursement."), [])
    assert result.category == "other"


def test_the_same_facts_always_give_the_same_assessment() -> None:
    complaint = facts(channel=Channel.SOCIAL, description="Facture de 700 €, mon avocat.")
    first = assess(complaint, [])
    assert isinstance(first, Assessment)
    assert first == assess(complaint, [])


def test_the_module_imports_only_what_a_workflow_sandbox_allows() -> None:
    tree = ast.parse(Path(assessment.__file__).read_text(encoding="utf-8"))
    imported = {alias.name for node in ast.walk(tree) if isinstance(node, ast.Import) for alias in node.names}
    imported |= {"." * node.level + (node.module or "") for node in ast.walk(tree) if isinstance(node, ast.ImportFrom)}
    assert imported == {"re", "unicodedata", "datetime", "decimal", "enum", "pydantic", "complaints.submission"}
