"""What the knowledge base does for the organisation: complaints answered
with an article, the articles most used, the complaints no article fits by
category (what to write next), and self-care on the public form."""

from dataclasses import dataclass

import asyncpg

from complaints.knowledge import MIN_SHARED_WORDS

# the newest complaints the "no fitting article" count reads (each is matched on its own)
RECENT_COMPLAINTS = 2000


@dataclass(frozen=True)
class KnowledgeIndicators:
    complaints: int
    answered_with_article: int
    most_used: list[asyncpg.Record]
    unanswered_by_category: list[asyncpg.Record]
    self_care: list[asyncpg.Record]


async def indicators(pool: asyncpg.Pool) -> KnowledgeIndicators:
    return KnowledgeIndicators(
        complaints=await pool.fetchval("SELECT count(*) FROM complaints"),
        answered_with_article=await pool.fetchval("SELECT count(DISTINCT complaint_reference) FROM complaint_articles"),
        most_used=await pool.fetch(
            """SELECT a.id, a.title, count(DISTINCT ca.complaint_reference) AS complaints FROM complaint_articles ca
                 JOIN articles a ON a.id = ca.article_id GROUP BY a.id ORDER BY complaints DESC, a.title LIMIT 10"""
        ),
        unanswered_by_category=await pool.fetch(_UNANSWERED, RECENT_COMPLAINTS, MIN_SHARED_WORDS),
        self_care=await pool.fetch(
            """SELECT a.id, a.title, coalesce(v.shown, 0) AS shown,
                      (SELECT count(*) FROM complaint_seen_articles s WHERE s.article_id = a.id) AS complained
                 FROM articles a LEFT JOIN article_form_views v ON v.article_id = a.id
                WHERE v.shown > 0 OR EXISTS (SELECT 1 FROM complaint_seen_articles s WHERE s.article_id = a.id)
                ORDER BY shown DESC, a.title"""
        ),
    )


# a complaint fits an article when they share MIN_SHARED_WORDS French stems (as the suggestions count
# them); its stems ORed find the candidate articles through the index first
_UNANSWERED = """
    WITH recent AS (
        SELECT reference, coalesce(category, 'non classée') AS category,
               to_tsvector('french'::regconfig, subject || ' ' || description || ' ' || coalesce(product, '')) AS doc
          FROM complaints ORDER BY received_at DESC LIMIT $1)
    SELECT r.category, count(*) AS complaints
      FROM recent r,
           LATERAL (SELECT string_agg(quote_literal(word), ' | ')::tsquery AS q
                      FROM unnest(tsvector_to_array(r.doc)) AS word) AS query
     WHERE NOT EXISTS (
        SELECT 1 FROM articles a
         WHERE a.status = 'published' AND a.search_document @@ query.q
           AND (SELECT count(*) FROM unnest(tsvector_to_array(r.doc)) AS word
                 WHERE a.search_document @@ quote_literal(word)::tsquery) >= $2)
     GROUP BY r.category ORDER BY complaints DESC, r.category"""
