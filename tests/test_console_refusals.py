"""The workflow's refusals in French, as the console shows them (pure)."""

from collections.abc import Callable

import pytest

from api.console.refusals_fr import in_french
from complaints.complaint_status import Phase
from complaints.operator_commands import ApprovalVerdict, ConfirmAssessment, Decision
from tests.helpers.complaint_states import ALICE, CHLOE, POLICY, decision, status
from workflows.complaint import rules


def test_a_phase_refusal_names_the_phases_in_french() -> None:
    reason = "cannot close while the complaint is handling (possible when responded, survey)"
    assert in_french(reason) == (
        "Cette commande n'est pas possible en phase « Traitement » (possible en : Répondue, Enquête de satisfaction)."
    )


def test_the_rules_reasons_read_in_french() -> None:
    assert (
        in_french("overriding the priority P3 with P1 needs a reason") == "Changer la priorité en P1 demande un motif."
    )
    assert in_french("REC-2026-000001 is closed: no command can change it now").startswith(
        "La réclamation est clôturée"
    )
    argued = (
        "every answer, positive or negative, must be argued: write a justification "
        "of at least 20 characters the customer can understand"
    )
    assert (
        in_french(argued) == "Toute réponse doit être argumentée : écrivez une justification d'au moins 20 caractères."
    )


def test_an_unknown_reason_is_kept_after_a_french_sentence() -> None:
    assert in_french("something new") == "Le dossier refuse cette commande : something new"


def _refusal(check: Callable[[], object]) -> str:
    with pytest.raises(ValueError) as refused:
        check()
    return str(refused.value)


def test_what_the_rules_raise_reads_in_french() -> None:
    handling, approval = status(Phase.HANDLING), status(Phase.AWAITING_APPROVAL, proposal=decision(by=CHLOE))
    refusals = [
        _refusal(lambda: rules.check_close(handling)),
        _refusal(lambda: rules.check_decide(handling, POLICY, Decision(by=ALICE, outcome="accepted"))),
        _refusal(lambda: rules.check_confirm_assessment(handling, ConfirmAssessment(by=ALICE, priority="P1"))),
        _refusal(lambda: rules.check_approve_compensation(approval, ApprovalVerdict(by=CHLOE, approved=True))),
        _refusal(lambda: rules.check_approve_compensation(approval, ApprovalVerdict(by=ALICE, approved=True))),
        _refusal(lambda: rules.check_request_information(status(Phase.AWAITING_CUSTOMER))),
    ]
    for reason in refusals:
        assert not in_french(reason).startswith("Le dossier refuse"), reason
