"""Signing in to the console: a password checked against its argon2 hash, a
server-side session in an HttpOnly SameSite cookie that ends on sign-out and
when idle, failed attempts counted and limited per account and per address."""

import asyncpg
import httpx

from complaints.settings import Settings
from tests.helpers.console import PASSWORD, hidden, sign_in, with_password
from tests.helpers.web import shown


async def test_an_anonymous_visitor_is_sent_to_the_sign_in_page(http: httpx.AsyncClient) -> None:
    answer = await http.get("/console/files/non-attribuees?priorite=P1")
    assert answer.status_code == 303
    assert answer.headers["location"] == "/console/connexion?suite=/console/files/non-attribuees%3Fpriorite%3DP1"
    page = await http.get(answer.headers["location"])
    assert page.status_code == 200 and "Connexion à la console" in shown(page)
    assert "'unsafe-inline'" not in page.headers["content-security-policy"]


async def test_signed_in_the_operator_sees_the_queues_and_signs_out(
    http: httpx.AsyncClient, pool: asyncpg.Pool, keys: dict
) -> None:
    await with_password(pool, "Alice")
    signed = await sign_in(http, "Alice")
    assert signed.status_code == 303 and signed.headers["location"] == "/console"
    cookie = signed.headers["set-cookie"]
    assert "HttpOnly" in cookie and "SameSite=strict" in cookie and "Path=/console" in cookie
    token = http.cookies["console_session"]
    assert await pool.fetchval("SELECT count(*) FROM console_sessions WHERE token_hash LIKE '%' || $1", token) == 0

    queue = await http.get("/console/files/mes-reclamations")
    assert queue.status_code == 200 and "Alice (handler)" in shown(queue) and "Non attribuées" in shown(queue)
    assert "À approuver" not in shown(queue)  # a handler has no approvals queue
    assert "script-src 'self'" in queue.headers["content-security-policy"]
    live = await http.get("/console/compteurs")  # what the page's script refreshes the counts from
    assert live.json() == dict.fromkeys(
        ["mes-reclamations", "non-attribuees", "a-risque", "en-depassement", "attente-client", "cloturees", "toutes"], 0
    )

    refused = await http.post("/console/deconnexion", data={})
    assert refused.status_code == 403
    out = await http.post("/console/deconnexion", data={"csrf": hidden(queue, "csrf")})
    assert out.status_code == 303
    http.cookies.set("console_session", token, domain="complaints.test", path="/console")  # a copied cookie
    assert (await http.get("/console/files/mes-reclamations")).status_code == 303


async def test_a_wrong_password_is_refused_and_counted_until_the_limit(
    http: httpx.AsyncClient, pool: asyncpg.Pool, keys: dict, settings: Settings
) -> None:
    await with_password(pool, "Alice")
    for _attempt in range(settings.console_sign_in_attempts):
        wrong = await sign_in(http, "Alice", "not the password")
        assert wrong.status_code == 401 and "Nom ou mot de passe incorrect" in shown(wrong)
        assert "console_session" not in http.cookies
    failures = await pool.fetch("SELECT operator_name, address FROM console_sign_in_failures")
    assert [(row["operator_name"]) for row in failures] == ["Alice"] * settings.console_sign_in_attempts

    limited = await sign_in(http, "Alice", PASSWORD)  # even the right password, now
    assert limited.status_code == 429 and "Trop de tentatives" in shown(limited)
    assert int(limited.headers["retry-after"]) == settings.console_sign_in_window_minutes * 60
    await with_password(pool, "Bruno")
    from_there = await sign_in(http, "Bruno", PASSWORD)  # the same address, another account
    assert from_there.status_code == 429
    assert await pool.fetchval("SELECT count(*) FROM console_sessions") == 0


async def test_an_unknown_name_is_refused_like_a_wrong_password(http: httpx.AsyncClient, pool: asyncpg.Pool) -> None:
    answer = await sign_in(http, "Personne", PASSWORD)
    assert answer.status_code == 401 and "Nom ou mot de passe incorrect" in shown(answer)


async def test_the_sign_in_form_needs_its_csrf_token(http: httpx.AsyncClient, pool: asyncpg.Pool, keys: dict) -> None:
    await with_password(pool, "Alice")
    await http.get("/console/connexion")
    forged = await http.post("/console/connexion", data={"nom": "Alice", "mot_de_passe": PASSWORD, "csrf": "x"})
    assert forged.status_code == 403 and "console_session" not in http.cookies


async def test_a_session_ends_when_idle_and_when_too_old(
    http: httpx.AsyncClient, pool: asyncpg.Pool, keys: dict, settings: Settings
) -> None:
    await with_password(pool, "Alice")
    await sign_in(http, "Alice")
    assert (await http.get("/console/files/toutes")).status_code == 200
    await pool.execute(
        "UPDATE console_sessions SET last_seen_at = now() - make_interval(mins => $1 + 1)",
        settings.console_idle_minutes,
    )
    assert (await http.get("/console/files/toutes")).status_code == 303

    await sign_in(http, "Alice")
    assert (await http.get("/console/files/toutes")).status_code == 200
    await pool.execute(
        "UPDATE console_sessions SET created_at = now() - make_interval(hours => $1) WHERE ended_at IS NULL",
        settings.console_session_hours,
    )
    assert (await http.get("/console/files/toutes")).status_code == 303


async def test_a_revoked_key_ends_the_operators_sessions(
    http: httpx.AsyncClient, pool: asyncpg.Pool, keys: dict
) -> None:
    await with_password(pool, "Alice")
    await sign_in(http, "Alice")
    await pool.execute("UPDATE operators SET revoked_at = now() WHERE name = 'Alice'")
    assert (await http.get("/console/files/toutes")).status_code == 303
