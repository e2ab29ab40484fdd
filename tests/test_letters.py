"""The letters say what the law asks (issue 12 #5): deadlines given as their
last day, the recourse with the mediator, how to refer and until when, the
mediation opened at the regulatory breach. Rendered from the templates, no server."""

from typing import Any

from activities.letters import Letters
from complaints.settings import Settings
from tests.helpers.complaint_states import POLICY, RECEIVED, decision, status
from workflows.complaint import entries

COMMON = {
    "reference": "REC-2026-000001",
    "name": "Jeanne Martin",
    "received_at": RECEIVED,
    "subject": "Colis abîmé",
    "product": None,
    "desired_resolution": None,
    "mediator_name": "Médiateur de la consommation",
    "mediator_contact": "https://www.economie.gouv.fr/mediation-conso",
    "currency": "EUR",
    "status_link": "https://example.com/s/REC",
}


def letters() -> Letters:
    return Letters(Settings(_env_file=None, timezone="Europe/Paris", locale="fr_FR"))


def rendered(template: str, **values: Any) -> str:
    return letters().render(template, **COMMON, **values)[1]


def test_a_rejection_states_the_mediator_how_to_refer_and_the_one_year_date() -> None:
    values = entries.response_letter(status(), POLICY, decision("rejected"), RECEIVED)
    assert values["mediation_until"] == POLICY.mediation_until(None, RECEIVED)
    body = rendered("response", **values)
    assert "Médiateur de la consommation" in body and "Adressez-lui votre demande" in body
    # Received 2 November 2026: mediation may be requested until the end of 2 November 2027.
    assert "jusqu'au\n    2 novembre 2027" in body and "L.612-2" in body


def test_a_full_acceptance_states_no_recourse() -> None:
    body = rendered("response", **entries.response_letter(status(), POLICY, decision("accepted"), RECEIVED))
    assert "médiateur" not in body


def test_a_counted_deadline_is_given_as_its_last_day() -> None:
    due = POLICY.regulatory_due("acpr", None, RECEIVED)  # 24:00 on 2 January 2027, Paris
    body = rendered("acknowledgement", description_excerpt="…", documents=[], response_due_at=due)
    assert "au plus tard le 2 janvier 2027" in body


def test_the_delay_notice_at_the_regulatory_breach_opens_mediation_now() -> None:
    until = POLICY.mediation_until(None, RECEIVED)
    body = rendered("delay_notice", deadline_label="réglementaire", mediation=True, mediation_until=until)
    assert "dès maintenant saisir gratuitement le" in body and "2 novembre 2027" in body
    late = rendered("delay_notice", deadline_label="de traitement", response_due_at=RECEIVED)
    assert "dès maintenant" not in late and "2 novembre 2026" in late


def test_a_holding_reply_gives_its_reasons_and_the_final_date() -> None:
    due = RECEIVED.replace(day=30)
    values = {"reason": "Une enquête auprès de la banque du bénéficiaire.", "new_due_at": due}
    held = rendered("analysis_extension", **values, holding_reply=True)
    assert "réponse d'attente" in held and "L.133-45" in held and "30 novembre 2026" in held
    assert "enquête auprès de la banque" in held
    assert "réponse d'attente" not in rendered("analysis_extension", **values)


def test_every_date_a_letter_sets_for_a_deadline_is_its_last_day() -> None:
    # A holding reply up to the payment-services maximum: 24:00 of its last day, Paris.
    maximum = POLICY.holding_reply_max("payment_services", None, RECEIVED)
    assert maximum is not None
    last = f"{POLICY.calendar.last_day(maximum).day} "
    held = rendered("analysis_extension", reason="Une enquête.", new_due_at=maximum, holding_reply=True)
    assert f"au plus tard le {last}" in held
    asked = rendered("information_request", questions="La facture ?", reply_by=maximum)
    reminded = rendered("information_reminder", questions="La facture ?", reply_by=maximum)
    assert f"au plus tard le\n{last}" in asked
    assert f"jusqu'au {last}" in reminded
