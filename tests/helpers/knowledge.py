"""Articles of the knowledge base as tests write them through the console."""

import httpx

from tests.helpers.console import hidden

BROKEN_PARCEL = {
    "title": "Colis arrivé endommagé",
    "problem": "Le colis est arrivé ouvert, l'objet est cassé.",
    "cause": "Choc pendant le transport.",
    "answer": "Nous vous renvoyons un article neuf à nos frais et ouvrons une réclamation auprès du transporteur.",
    "product": "Vase Médicis",
    "category": "livraison",
    "status": "published",
    "public": "1",
}
DOUBLE_CHARGE = {
    "title": "Double prélèvement",
    "problem": "La facture a été prélevée deux fois sur le compte bancaire.",
    "cause": "Un incident du prestataire de paiement.",
    "answer": "Le second prélèvement vous est remboursé sous cinq jours ouvrés.",
    "product": "Abonnement",
    "category": "facturation",
    "status": "published",
    "public": "",
}


async def write_article(http: httpx.AsyncClient, fields: dict[str, str]) -> int:
    """An article saved from the console's form (the operator signed in); its id."""
    form = await http.get("/console/articles/nouveau")
    saved = await http.post("/console/articles", data={"csrf": hidden(form, "csrf"), **fields})
    assert saved.status_code == 303, saved.text
    return int(saved.headers["location"].split("/")[-1].split("?")[0])
