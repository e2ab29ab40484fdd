"""The phases as the console shows them."""

from complaints.complaint_status import Phase

PHASES_FR = {
    Phase.RECEIVED: "Reçue",
    Phase.INTAKE: "Prise en charge",
    Phase.ACKNOWLEDGED: "Accusée",
    Phase.ASSESSMENT: "Évaluation",
    Phase.HANDLING: "Traitement",
    Phase.AWAITING_CUSTOMER: "En attente du client",
    Phase.AWAITING_APPROVAL: "En attente d'approbation",
    Phase.RESPONDED: "Répondue",
    Phase.REVIEW: "Réexamen",
    Phase.SURVEY: "Enquête de satisfaction",
    Phase.CLOSED: "Clôturée",
}
