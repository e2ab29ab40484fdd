"""The knowledge base's pages: the articles, one article with its versions
(written and edited by those who handle complaints; intake reads), and the
knowledge indicators; and what a complaint's page takes from it (the
articles that fit, one's answer in a form, the article a command used)."""

from typing import Any

import asyncpg
from fastapi import Depends, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from api.auth import Permission
from api.console import pages
from api.console.access import Forbidden, checked_form, may, require, router, signed_in
from api.console.frame import frame
from api.console.sessions import ConsoleSession
from api.services import Services, services
from complaints import knowledge
from complaints.knowledge_indicators import indicators

STATUSES_FR = {"draft": "Brouillon", "published": "Publié"}


async def _page(svc: Services, session: ConsoleSession, name: str, status: int = 200, **values: Any) -> HTMLResponse:
    for name_ in ("notice", "error"):
        values.setdefault(name_, None)
    return pages.page(
        svc,
        name,
        status,
        **await frame(svc, session, ""),
        statuses=STATUSES_FR,
        writer=may(session, Permission.HANDLE),
        **values,
    )


@router.get("/articles", response_class=HTMLResponse)
async def articles_page(session: ConsoleSession = Depends(signed_in), svc: Services = Depends(services)) -> Response:
    return await _page(svc, session, "articles.html", articles=await knowledge.all_articles(svc.pool))


@router.get("/articles/nouveau", response_class=HTMLResponse)
async def new_article(session: ConsoleSession = Depends(signed_in), svc: Services = Depends(services)) -> Response:
    require(session, Permission.HANDLE)
    return await _page(svc, session, "article.html", article=None, typed={}, error=None, history=[])


@router.post("/articles", response_class=HTMLResponse)
async def add_article(
    request: Request, session: ConsoleSession = Depends(signed_in), svc: Services = Depends(services)
) -> Response:
    values = await checked_form(request, session)
    require(session, Permission.HANDLE)
    try:
        article_id = await knowledge.create(svc.pool, knowledge.ArticleText.of(values), session.operator.name)
    except knowledge.ArticleRefused as refused:
        return await _page(
            svc, session, "article.html", 422, article=None, typed=values, error=str(refused), history=[]
        )
    return RedirectResponse(f"/console/articles/{article_id}?fait=1", 303)


@router.get("/articles/indicateurs", response_class=HTMLResponse)
async def knowledge_indicators(
    session: ConsoleSession = Depends(signed_in), svc: Services = Depends(services)
) -> Response:
    return await _page(svc, session, "knowledge_indicators.html", k=await indicators(svc.pool))


@router.get("/articles/{article_id}", response_class=HTMLResponse)
async def article_page(
    article_id: int,
    fait: str | None = None,
    session: ConsoleSession = Depends(signed_in),
    svc: Services = Depends(services),
) -> Response:
    return await _article(svc, session, article_id, notice="L'article est enregistré." if fait else None)


async def _article(
    svc: Services, session: ConsoleSession, article_id: int, status: int = 200, **values: Any
) -> HTMLResponse:
    found = await knowledge.article(svc.pool, article_id)
    if found is None:
        raise Forbidden("Cet article n'existe pas.")
    values.setdefault("typed", dict(found) | {"public": "1" if found["public"] else ""})
    values.setdefault("error", None)
    values.setdefault("notice", None)
    history = await knowledge.versions(svc.pool, article_id)
    return await _page(svc, session, "article.html", status, article=found, history=history, **values)


@router.post("/articles/{article_id}", response_class=HTMLResponse)
async def edit_article(
    article_id: int,
    request: Request,
    session: ConsoleSession = Depends(signed_in),
    svc: Services = Depends(services),
) -> Response:
    values = await checked_form(request, session)
    require(session, Permission.HANDLE)
    seen = int(values["version"]) if values.get("version", "").isdigit() else 0
    try:
        text = knowledge.ArticleText.of(values)
        await knowledge.update(svc.pool, article_id, text, seen, session.operator.name)
    except knowledge.StaleArticle as stale:
        return await _article(svc, session, article_id, 409, error=str(stale))
    except knowledge.ArticleRefused as refused:
        return await _article(svc, session, article_id, 422, typed=values, error=str(refused))
    return RedirectResponse(f"/console/articles/{article_id}?fait=1", 303)


async def on_complaint(pool: asyncpg.Pool, row: Any) -> dict[str, Any]:
    """The published articles that fit a complaint, and those its commands used."""
    text = knowledge.complaint_text(row["subject"], row["description"], row["product"])
    return {
        "suggested": await knowledge.fitting(pool, text),
        "articles_used": await knowledge.used_on(pool, row["reference"]),
    }


async def answer_in(pool: asyncpg.Pool, article_id: int, path: str, field: str) -> tuple[str, dict[str, str]] | None:
    """The form `path` prefilled with the article's answer, carrying the article's id."""
    found = await knowledge.article(pool, article_id)
    return (path, {field: found["answer"], "article": str(article_id)}) if found else None


async def keep_used(
    pool: asyncpg.Pool, reference: str, values: dict[str, str], command: str, key: str, by: str
) -> None:
    """After the command went through: the complaint keeps the article its form carried."""
    article_id = values.get("article", "")
    if article_id.isdigit() and len(article_id) < 12:
        await knowledge.record_use(pool, reference, int(article_id), command, key, by)
