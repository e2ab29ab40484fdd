"""The complaint, the people and the wording the tests use again and again."""

from collections.abc import Callable

from complaints.operator_commands import Operator
from complaints.submission import ComplaintSubmission

CUSTOMER = "jeanne@example.com"
# A valid complaint as a client sends it (the API's JSON; the `complaint` fixture adds the channel).
COMPLAINT = {
    "complainant": {"name": "Jeanne Martin", "email": CUSTOMER},
    "subject": "Colis abîmé",
    "description": "Le colis est arrivé ouvert et le vase était cassé.",
    "desired_resolution": "Le remplacement du vase",
    "product": "Vase Médicis",
}
ALICE = Operator(name="Alice", role="handler")
BRUNO = Operator(name="Bruno", role="handler")
CHLOE = Operator(name="Chloé", role="manager")
DENIS = Operator(name="Denis", role="manager")
# A justification long enough to count as argued.
ARGUED = "Le transporteur a reconnu avoir endommagé le colis lors de la livraison."


def without_email(complaint: Callable[..., ComplaintSubmission]) -> ComplaintSubmission:
    return complaint(
        channel="in_person",
        complainant={"name": "Paul Petit", "phone": "06 12 34 56 78", "postal_address": "3 rue Haute, 75011 Paris"},
    )
