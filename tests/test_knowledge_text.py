"""An article as typed: what is required, how long each part may be, the statuses."""

import pytest

from complaints.knowledge import ArticleRefused, ArticleText
from tests.helpers.knowledge import BROKEN_PARCEL


def test_an_article_is_cleaned_and_its_public_box_read() -> None:
    text = ArticleText.of({**BROKEN_PARCEL, "title": "  Colis   arrivé\nendommagé ", "public": "1"})
    assert text.title == "Colis arrivé endommagé" and text.public and text.status == "published"
    assert not ArticleText.of({**BROKEN_PARCEL, "public": ""}).public


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"title": " ", "answer": ""}, "Donnez le titre, la réponse de l'article."),
        ({"problem": "x" * 5001}, "Trop long : le problème (5000 caractères)."),
        ({"status": "archived"}, "Choisissez le statut brouillon ou publié."),
    ],
)
def test_an_article_missing_a_part_or_too_long_is_refused(change: dict[str, str], message: str) -> None:
    with pytest.raises(ArticleRefused, match=message.replace("(", r"\(").replace(")", r"\)")):
        ArticleText.of({**BROKEN_PARCEL, **change})
