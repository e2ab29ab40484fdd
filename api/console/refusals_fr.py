"""The workflow's refusals (its validators' reasons, in English for the API)
as the console's operators read them, in French. A reason not listed here
is shown as it came, after a French sentence saying it is a refusal."""

import re

from api.console.phases_fr import PHASES_FR
from complaints.complaint_status import Phase

_EXACT = {
    "a corrective action on a P1 complaint needs a root-cause analysis (root_cause)": (
        "Une action corrective sur une réclamation P1 demande une analyse de cause racine."
    ),
    "a decision is already being carried out": "Une décision est déjà en cours d'exécution.",
    "a rejection grants no compensation; decide 'partially_accepted' instead": (
        "Un rejet n'accorde aucune compensation : choisissez « Partiellement acceptée »."
    ),
    "the review must be made by another handler than the first decision's": (
        "Le réexamen doit être fait par un autre responsable que celui de la première décision."
    ),
    "the compensation is already being approved or refused": "La compensation est déjà en cours d'approbation.",
    "only a manager approves a compensation above the threshold": (
        "Seul un manager approuve une compensation au-delà du seuil."
    ),
    "the compensation's proposer cannot approve it: another manager must": (
        "L'auteur de la proposition ne peut pas l'approuver : un autre manager doit le faire."
    ),
    "the customer has contested the response: a second handler reviews it first": (
        "Le client a contesté la réponse : un second responsable doit d'abord la réexaminer."
    ),
    "the letter's sending date is in the future": "La date d'envoi du courrier est dans le futur.",
    "the complaint is not assessed yet": "La réclamation n'est pas encore évaluée.",
}
_PATTERNS = [
    (r"overriding the priority \S+ with (\S+) needs a reason", "Changer la priorité en {0} demande un motif."),
    (r"changing the regime \S+ to (\S+) needs a reason", "Changer le régime en {0} demande un motif."),
    (r"unknown regime '([^']*)'; the regimes are (.*)", "Régime inconnu « {0} » ; les régimes sont : {1}."),
    (r"cannot .* while the response is being sent", "Impossible : la réponse est en cours d'envoi."),
    (r"every answer, positive or negative, must be argued.* at least (\d+) characters.*",
     "Toute réponse doit être argumentée : écrivez une justification d'au moins {0} caractères."),
    (r"the new date must be after the current response deadline \((.*)\)",
     "La nouvelle date doit suivre l'échéance de réponse actuelle ({0})."),
    (r"the new date may not pass .* \((.*)\)", "La nouvelle date ne peut dépasser le maximum réglementaire ({0})."),
    (r"\S+ is already acknowledged.*", "La réclamation a déjà reçu son accusé de réception."),
    (r"\S+ is closed: no command can change it now", "La réclamation est clôturée : plus aucune commande possible."),
    (r"cannot .*: (\S+) was merged into (\S+)", "Impossible : {0} a été fusionnée dans {1}."),
    (r"cannot merge the complaint while a decision is being carried out",
     "Impossible de fusionner : une décision est en cours d'exécution."),
    (r"(\S+) is being closed", "Impossible : {0} est en cours de clôture."),
    (r"(\S+) was merged into (\S+): it cannot take it in turn",
     "{0} a été fusionnée dans {1} : elle ne peut pas la reprendre à son tour."),
    (r"this complaint's run was started before merges.*",
     "Cette réclamation a été ouverte avant les fusions : elle ne peut pas encore être fusionnée."),
]  # fmt: skip
_PHASE_REFUSAL = re.compile(r"cannot .* while the complaint is (\w+) \(possible when (.*)\)")


def in_french(reason: str) -> str:
    if reason in _EXACT:
        return _EXACT[reason]
    if found := _PHASE_REFUSAL.fullmatch(reason):
        now = _phase(found[1])
        possible = ", ".join(_phase(name.strip()) for name in found[2].split(","))
        return f"Cette commande n'est pas possible en phase « {now} » (possible en : {possible})."
    for pattern, french in _PATTERNS:
        if found := re.fullmatch(pattern, reason):
            return french.format(*found.groups())
    return f"Le dossier refuse cette commande : {reason}"


def _phase(name: str) -> str:
    try:
        return PHASES_FR[Phase(name)]
    except ValueError:
        return name
