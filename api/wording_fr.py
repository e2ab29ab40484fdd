"""The words the complainant reads on the pages (French): phases, the steps of
the timeline, and reasons for refusing input."""

from typing import Any

from pydantic import ValidationError

from complaints.complaint_status import Phase

PHASES = {
    Phase.RECEIVED: "Reçue : l'accusé de réception est en préparation",
    Phase.INTAKE: "Reçue : l'accusé de réception est en préparation",
    Phase.ACKNOWLEDGED: "Enregistrée : elle va être évaluée",
    Phase.ASSESSMENT: "En cours d'évaluation",
    Phase.HANDLING: "En cours de traitement",
    Phase.AWAITING_CUSTOMER: "En attente des informations que nous vous avons demandées",
    Phase.AWAITING_APPROVAL: "En cours de traitement",
    Phase.RESPONDED: "Nous vous avons répondu : acceptez-vous notre réponse ?",
    Phase.REVIEW: "En cours de réexamen par un second responsable",
    Phase.SURVEY: "Traitée : donnez-nous votre avis",
    Phase.CLOSED: "Clôturée",
}

# The journal's steps the complainant sees. Emails that repeat a step already
# listed (the acknowledgement, the response) are left out.
STEPS = {
    "acknowledged": "Accusé de réception envoyé",
    "progress_update_emailed": "Point d'avancement envoyé par email",
    "progress_update_to_post": "Point d'avancement envoyé par courrier",
    "information_request_emailed": "Nous vous avons demandé des informations complémentaires",
    "information_request_to_post": "Nous vous avons demandé des informations complémentaires par courrier",
    "information_reminder_emailed": "Rappel de notre demande d'informations",
    "customer_replied": "Votre réponse nous est parvenue",
    "customer_message": "Votre message nous est parvenu",
    "analysis_extended": "L'analyse demande plus de temps : nouvelle date de réponse",
    "delay_notice_emailed": "Nous vous avons informé(e) d'un retard",
    "responded": "Notre réponse vous a été envoyée",
    "review_responded": "Notre réponse après réexamen vous a été envoyée",
    "contested": "Vous avez contesté notre réponse : elle est réexaminée",
    "response_accepted": "Vous avez accepté notre réponse",
    "survey_emailed": "Questionnaire de satisfaction envoyé",
    "survey_reminder_emailed": "Rappel du questionnaire de satisfaction",
    "survey_answered": "Merci pour votre avis",
    "closed": "Réclamation clôturée",
    "merged_emailed": "Vos réclamations sur le même sujet sont traitées ensemble",
    "merged_to_post": "Vos réclamations sur le même sujet sont traitées ensemble (courrier)",
}
HIDDEN_STEPS = {"acknowledgement_emailed", "response_emailed", "analysis_extension_emailed"}

OUTCOMES = {
    "accepted": "Votre réclamation est acceptée",
    "partially_accepted": "Votre réclamation est partiellement acceptée",
    "rejected": "Nous ne pouvons pas donner une suite favorable à votre réclamation",
}

REFUSALS = {
    "not_awaiting_verdict": "Notre réponse n'attend pas votre accord ou votre contestation pour le moment.",
    "not_awaiting_survey": "Le questionnaire de satisfaction n'est pas ouvert pour le moment.",
    "empty_reply": "Écrivez un message ou joignez un document.",
    "survey_incomplete": "Répondez aux trois premières questions ; les suivantes, de 1 à 5, sont facultatives.",
    "unavailable": "Le service est momentanément indisponible : réessayez dans quelques minutes.",
    "closed": "Cette réclamation est clôturée.",
    "document_quota": "Votre réclamation a déjà reçu tous les documents qu'elle peut recevoir : "
    "rien n'a été enregistré. Écrivez votre message sans document, ou envoyez moins de fichiers.",
}


def step(event: str, details: dict[str, Any]) -> str | None:
    """The label of a journal step, or None when it is not shown."""
    if event in HIDDEN_STEPS:
        return None
    if event == "acknowledged":
        return STEPS[event] + (" par courrier" if details.get("method") == "post" else " par email")
    return STEPS.get(event, "Votre dossier a été mis à jour")


def field_message(error: dict[str, Any]) -> str:
    """pydantic's error in words for the complaint form."""
    kind, loc = error.get("type", ""), tuple(str(p) for p in error.get("loc", ()))
    context = error.get("ctx") or {}
    message = str(error.get("msg", ""))
    if kind in ("missing", "string_too_short") and context.get("min_length", 1) <= 1:
        return "Ce champ est obligatoire."
    if kind in ("string_too_long", "too_long"):
        return f"Ce texte est trop long : {context.get('max_length')} caractères au plus."
    if loc == ("complainant",):
        return "Indiquez au moins un moyen de vous joindre : email, téléphone ou adresse postale."
    if loc[-1:] == ("email",):
        return "Cette adresse email n'est pas valide."
    if loc[:1] == ("documents",):
        if "is not accepted" in message:
            return (
                "Ce type de fichier n'est pas accepté : joignez un PDF, une image, un texte ou un document bureautique."
            )
        if "does not fit the type" in message or "the content is not" in message:
            return (
                "Ce fichier n'est pas ce que son nom ou son type annonce : joignez le document d'origine "
                "(PDF, image JPEG ou PNG, texte ou document bureautique)."
            )
        if "bytes are accepted per complaint" in message:
            return "Vos documents sont trop volumineux ensemble : envoyez-en moins, ou des fichiers plus petits."
        if "at most" in message:
            return f"Trop de documents : {message.split('at most ')[-1].split(' ')[0]} au plus."
        if "empty" in message:
            return "Un des documents est vide."
    return "Cette valeur n'est pas valide."


# The complaint form's fields (the public form's and the console's phone intake) by the submission's path.
SUBMISSION_FORM_FIELDS = {
    ("complainant", "name"): "nom",
    ("complainant", "type"): "qualite",
    ("complainant", "email"): "email",
    ("complainant", "phone"): "telephone",
    ("complainant", "postal_address"): "adresse",
    ("complainant", "customer_id"): "numero_client",
    ("complainant",): "contact",
    ("subject",): "objet",
    ("product",): "produit",
    ("description",): "description",
    ("desired_resolution",): "solution",
}


def submission_form_errors(error: ValidationError) -> dict[str, str]:
    """A refused submission's first reason per form field (a document's under
    `documents`; what fits no field under `contact`)."""
    errors: dict[str, str] = {}
    for problem in error.errors():
        loc = tuple(str(part) for part in problem["loc"])
        field = SUBMISSION_FORM_FIELDS.get(loc, "documents" if loc[:1] == ("documents",) else "contact")
        errors.setdefault(field, field_message(dict(problem)))
    return errors
