"""The knowledge base: articles (problem, cause, the answer to give), every
change kept as a version; the articles that fit a complaint's text (French
full text, the same words weighing for the console and the public form);
which articles answered which complaints; and the self-care counts."""

from collections.abc import Iterable, Mapping
from dataclasses import dataclass

import asyncpg

STATUSES = ("draft", "published")
# an article fits a text when they share at least this many French stems
MIN_SHARED_WORDS = 2
SUGGESTED = 5
_LIMITS = {"title": 200, "problem": 5000, "cause": 5000, "answer": 10_000, "product": 200, "category": 100}
_REQUIRED = ("title", "problem", "answer")
_NAMES_FR = {
    "title": "le titre",
    "problem": "le problème",
    "cause": "la cause",
    "answer": "la réponse",
    "product": "le produit",
    "category": "la catégorie",
}
_COLUMNS = (
    "id, title, problem, cause, answer, product, category, status, public, version, author, created_at, "
    "updated_by, updated_at"
)


class ArticleRefused(ValueError):
    """What is wrong with an article as typed (French, shown beside the form)."""


@dataclass(frozen=True)
class ArticleText:
    title: str
    problem: str
    cause: str
    answer: str
    product: str
    category: str
    status: str
    public: bool

    @classmethod
    def of(cls, values: Mapping[str, str]) -> "ArticleText":
        """The article a form's values make, or ArticleRefused naming what to correct."""
        texts = {name: values.get(name, "").strip() for name in _LIMITS}
        texts["title"] = " ".join(texts["title"].split())
        missing = [_NAMES_FR[name] for name in _REQUIRED if not texts[name]]
        if missing:
            raise ArticleRefused(f"Donnez {', '.join(missing)} de l'article.")
        too_long = [
            f"{_NAMES_FR[name]} ({limit} caractères)" for name, limit in _LIMITS.items() if len(texts[name]) > limit
        ]
        if too_long:
            raise ArticleRefused(f"Trop long : {', '.join(too_long)}.")
        status = values.get("status", "draft")
        if status not in STATUSES:
            raise ArticleRefused("Choisissez le statut brouillon ou publié.")
        return cls(**texts, status=status, public=values.get("public") in ("1", "on", "true"))


class StaleArticle(ArticleRefused):
    """The article changed since the form was shown."""


async def create(pool: asyncpg.Pool, text: ArticleText, by: str) -> int:
    async with pool.acquire() as conn, conn.transaction():
        article_id = await conn.fetchval(
            """INSERT INTO articles (title, problem, cause, answer, product, category, status, public, author,
                                     updated_by)
               VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $9) RETURNING id""",
            *_values(text),
            by,
        )
        await _keep_version(conn, article_id)
    return int(article_id)


async def update(pool: asyncpg.Pool, article_id: int, text: ArticleText, seen_version: int, by: str) -> int:
    """A new version, unless nothing changed; refused when someone saved in between."""
    async with pool.acquire() as conn, conn.transaction():
        row = await conn.fetchrow(f"SELECT {_COLUMNS} FROM articles WHERE id = $1 FOR UPDATE", article_id)
        if row is None:
            raise ArticleRefused("Cet article n'existe pas.")
        if _values(text) == tuple(row[name] for name in ArticleText.__dataclass_fields__):
            return int(row["version"])  # the same form sent twice: no new version
        if row["version"] != seen_version:
            raise StaleArticle(
                f"{row['updated_by']} a modifié l'article depuis l'affichage de ce formulaire : "
                "voici sa version actuelle ; reportez-y vos changements."
            )
        await conn.execute(
            """UPDATE articles SET title = $2, problem = $3, cause = $4, answer = $5, product = $6, category = $7,
                      status = $8, public = $9, version = version + 1, updated_by = $10, updated_at = now()
                WHERE id = $1""",
            article_id,
            *_values(text),
            by,
        )
        await _keep_version(conn, article_id)
        return int(row["version"]) + 1


def _values(text: ArticleText) -> tuple:
    return (text.title, text.problem, text.cause, text.answer, text.product, text.category, text.status, text.public)


async def _keep_version(conn: asyncpg.Connection, article_id: int) -> None:
    await conn.execute(
        """INSERT INTO article_versions (article_id, version, title, problem, cause, answer, product, category,
                                         status, public, changed_by, changed_at)
           SELECT id, version, title, problem, cause, answer, product, category, status, public, updated_by,
                  updated_at
             FROM articles WHERE id = $1""",
        article_id,
    )


async def article(pool: asyncpg.Pool, article_id: int) -> asyncpg.Record | None:
    return await pool.fetchrow(f"SELECT {_COLUMNS} FROM articles WHERE id = $1", article_id)


async def all_articles(pool: asyncpg.Pool) -> list[asyncpg.Record]:
    return await pool.fetch(f"SELECT {_COLUMNS} FROM articles ORDER BY status DESC, title")


async def versions(pool: asyncpg.Pool, article_id: int) -> list[asyncpg.Record]:
    return await pool.fetch("SELECT * FROM article_versions WHERE article_id = $1 ORDER BY version DESC", article_id)


async def public_articles(pool: asyncpg.Pool) -> list[asyncpg.Record]:
    return await pool.fetch(
        f"SELECT {_COLUMNS} FROM articles WHERE status = 'published' AND public ORDER BY category, title"
    )


# The text's stems ORed (the GIN index finds the candidates), then each
# candidate's shared stems counted: one common word is not a fit.
_FITTING = """
    WITH words AS (SELECT DISTINCT unnest(tsvector_to_array(to_tsvector('french'::regconfig, $1))) AS word),
         query AS (SELECT string_agg(quote_literal(word), ' | ')::tsquery AS q FROM words)
    SELECT a.id, a.title, a.problem, a.answer, a.category, a.product, count(*) AS shared
      FROM articles a, query, words
     WHERE a.status = 'published' AND ($2 = false OR a.public)
       AND a.search_document @@ query.q
       AND a.search_document @@ quote_literal(words.word)::tsquery
     GROUP BY a.id
    HAVING count(*) >= $3
     ORDER BY shared DESC, a.updated_at DESC
     LIMIT $4"""


async def fitting(pool: asyncpg.Pool, text: str, public_only: bool = False, limit: int = SUGGESTED) -> list:
    """The published articles that fit a text, the best first."""
    if not text.strip():
        return []
    return await pool.fetch(_FITTING, text, public_only, MIN_SHARED_WORDS, limit)


def complaint_text(subject: str, description: str, product: str | None) -> str:
    return f"{subject} {description} {product or ''}"


async def record_use(
    pool: asyncpg.Pool, reference: str, article_id: int, command: str, command_key: str, by: str
) -> None:
    """The complaint keeps the article its command used (the same command key: once)."""
    await pool.execute(
        """INSERT INTO complaint_articles (complaint_reference, article_id, command, command_key, used_by)
           SELECT $1, id, $3, $4, $5 FROM articles WHERE id = $2
           ON CONFLICT DO NOTHING""",
        reference,
        article_id,
        command,
        command_key,
        by,
    )


async def used_on(pool: asyncpg.Pool, reference: str) -> list[asyncpg.Record]:
    return await pool.fetch(
        """SELECT ca.article_id, a.title, ca.command, ca.used_by, ca.used_at FROM complaint_articles ca
             JOIN articles a ON a.id = ca.article_id WHERE ca.complaint_reference = $1 ORDER BY ca.used_at""",
        reference,
    )


async def count_shown(pool: asyncpg.Pool, article_ids: Iterable[int]) -> None:
    """The public form showed these articles (a count, nothing about who saw them)."""
    await pool.execute(
        """INSERT INTO article_form_views (article_id, shown) SELECT id, 1 FROM unnest($1::bigint[]) AS id
           ON CONFLICT (article_id) DO UPDATE SET shown = article_form_views.shown + 1""",
        list(article_ids),
    )


async def record_seen(pool: asyncpg.Pool, reference: str, article_ids: Iterable[int]) -> None:
    """The complaint was sent after its complainant saw these articles (once each)."""
    await pool.execute(
        """INSERT INTO complaint_seen_articles (complaint_reference, article_id)
           SELECT $1, a.id FROM articles a WHERE a.id = ANY($2::bigint[]) ON CONFLICT DO NOTHING""",
        reference,
        list(article_ids),
    )
