"""Reply templates: text modules administrators keep in the register,
offered in the customer-facing forms, their placeholders filled with the
complaint's values (plain replacement: a template is never code)."""

from collections.abc import Mapping

import asyncpg

PLACEHOLDERS = {
    "{nom}": "the complainant's name",
    "{reference}": "the complaint's reference",
    "{date_reception}": "when it was received",
    "{date_reponse}": "the response deadline",
}
# the text each customer-facing form's template fills
TEXT_FIELD = {
    "send_progress_update": "message",
    "request_information": "questions",
    "extend_analysis": "reason",
    "decide": "justification",
}


class TemplateRefused(ValueError):
    pass


async def all_templates(pool: asyncpg.Pool) -> list[asyncpg.Record]:
    return await pool.fetch("SELECT id, title, body, created_by, created_at FROM reply_templates ORDER BY title")


async def add(pool: asyncpg.Pool, title: str, body: str, by: str) -> None:
    title, body = " ".join(title.split()), body.strip()
    if not title or not body:
        raise TemplateRefused("Donnez un titre et un texte au modèle.")
    if len(title) > 200 or len(body) > 10_000:
        raise TemplateRefused("Le titre (200 caractères) ou le texte (10 000 caractères) est trop long.")
    try:
        await pool.execute("INSERT INTO reply_templates (title, body, created_by) VALUES ($1, $2, $3)", title, body, by)
    except asyncpg.UniqueViolationError as error:
        raise TemplateRefused(f"Un modèle s'appelle déjà « {title} ».") from error


async def remove(pool: asyncpg.Pool, template_id: int) -> None:
    await pool.execute("DELETE FROM reply_templates WHERE id = $1", template_id)


async def filled(pool: asyncpg.Pool, template_id: int, values: Mapping[str, str]) -> str | None:
    body = await pool.fetchval("SELECT body FROM reply_templates WHERE id = $1", template_id)
    if body is None:
        return None
    for placeholder, value in values.items():
        body = body.replace(placeholder, value)
    return str(body)
