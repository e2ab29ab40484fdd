"""What every signed-in console page shows around its own content: the
operator and the sign-out form (with the session's CSRF token), the queues
the role sees with their counts, the words pages share."""

import uuid
from typing import Any

from api.console import queues
from api.console.phases_fr import PHASES_FR
from api.console.sessions import ConsoleSession
from api.services import Services
from complaints.operator_commands import Role

# the journal's steps as operators read them; any other shows its name
EVENTS_FR = {
    "received": "Réclamation reçue",
    "intake_recorded": "Enregistrée au registre",
    "assessed": "Évaluée (suggestion)",
    "assessment_confirmed": "Évaluation confirmée",
    "assigned": "Attribuée",
    "internal_note": "Note interne",
    "progress_update_requested": "Point d'avancement demandé",
    "information_requested": "Informations demandées",
    "decided": "Décision prise",
    "approval_requested": "Approbation demandée",
    "acknowledgement_emailed": "Accusé de réception envoyé par email",
    "response_emailed": "Réponse envoyée par email",
    "email_refused": "Email refusé",
    "acknowledged": "Accusé de réception fait",
    "progress_update_emailed": "Point d'avancement envoyé au client",
    "information_request_emailed": "Demande d'informations envoyée au client",
    "customer_replied": "Réponse du client reçue",
    "customer_message": "Message du client reçu",
    "analysis_extended": "Analyse prolongée",
    "responded": "Réponse envoyée",
    "response_accepted": "Réponse acceptée par le client",
    "contested": "Réponse contestée par le client",
    "survey_emailed": "Questionnaire de satisfaction envoyé",
    "survey_answered": "Questionnaire de satisfaction rempli",
    "related_complaint_linked": "Liée à une autre réclamation",
    "checklist_item_added": "Ajouté à la liste de contrôle",
    "checklist_item_done": "Fait dans la liste de contrôle",
    "rule_emailed": "Email envoyé par une règle",
    "rule_called_subscriber": "Événement envoyé à un abonné par une règle",
    "rule_action_refused": "Action d'une règle refusée",
    "merged_into": "Fusionnée dans une autre réclamation (clôturée)",
    "merged_in": "A repris une réclamation fusionnée",
    "merged_emailed": "Client informé de la fusion",
    "closed": "Clôturée",
}


def is_manager(session: ConsoleSession) -> bool:
    return session.operator.role in (Role.MANAGER, Role.ADMIN)


async def frame(svc: Services, session: ConsoleSession, current: str) -> dict[str, Any]:
    """What every signed-in page shows: the operator, the queues and their counts."""
    visible = queues.visible_queues(is_manager(session))
    return {
        "operator": session.operator,
        "csrf": session.csrf_token,
        "queue_links": [(queue.key, queue.label) for queue in visible],
        "counts": await queues.counts(svc.pool, session.operator.name, visible),
        "current_queue": current,
        "phases": PHASES_FR,
        "new_id": lambda: uuid.uuid4().hex,
        "events": EVENTS_FR,
    }
