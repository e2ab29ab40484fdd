"""`complaints users add|list|revoke`, as an administrator runs them: a key is
shown once, stored hashed, works until it is revoked."""

import hashlib

import asyncpg
import httpx

from tests.helpers.cli import complaints


async def test_keys_are_issued_once_stored_hashed_and_revoked(
    http: httpx.AsyncClient, pool: asyncpg.Pool, settings
) -> None:
    added = await complaints(settings, "users", "add", "Alice  Martin", "--role", "handler", "--no-password")
    assert added.returncode == 0, added.stderr
    first_line, key = added.stdout.strip().splitlines()
    assert first_line.startswith("Alice Martin (handler) can use the API with this key until ")  # the default lifetime
    assert first_line.endswith(" UTC; it is shown only now:")
    stored = await pool.fetchrow("SELECT name, role, key_hash FROM operators")
    assert (stored["name"], stored["role"]) == ("Alice Martin", "handler")
    assert stored["key_hash"] == hashlib.sha256(key.encode()).hexdigest() and key not in stored["key_hash"]
    headers = {"Authorization": f"Bearer {key}"}
    assert (await http.get("/complaints", headers=headers)).status_code == 200

    again = await complaints(settings, "users", "add", "Alice Martin", "--role", "admin", "--no-password")
    assert again.returncode == 1 and "already has an active key: revoke it first" in again.stderr
    wrong_role = await complaints(settings, "users", "add", "Bob", "--role", "boss", "--no-password")
    assert wrong_role.returncode == 2 and "invalid choice: 'boss'" in wrong_role.stderr

    revoked = await complaints(settings, "users", "revoke", "Alice Martin")
    assert revoked.returncode == 0 and "Alice Martin's key is revoked" in revoked.stdout
    assert (await http.get("/complaints", headers=headers)).status_code == 401
    listed = await complaints(settings, "users", "list")
    assert "Alice Martin" in listed.stdout and "handler" in listed.stdout and "revoked" in listed.stdout
    unknown = await complaints(settings, "users", "revoke", "Nobody")
    assert unknown.returncode == 1 and "no operator named 'Nobody'" in unknown.stderr


async def test_a_console_password_is_read_from_stdin_stored_hashed_and_changed(pool: asyncpg.Pool, settings) -> None:
    added = await complaints(
        settings, "users", "add", "Chloé", "--role", "manager", "--password-stdin", stdin="un mot de passe long\n"
    )
    assert added.returncode == 0, added.stderr
    assert "can sign in to the console" in added.stdout and added.stdout.strip().splitlines()[-1].startswith("cmp_")
    stored = await pool.fetchval("SELECT password_hash FROM operator_credentials WHERE operator_name = 'Chloé'")
    assert stored.startswith("$argon2id$") and "un mot de passe long" not in stored

    short = await complaints(settings, "users", "passwd", "Chloé", "--password-stdin", stdin="court\n")
    assert short.returncode == 1 and "at least 12 characters" in short.stderr
    changed = await complaints(
        settings, "users", "passwd", "Chloé", "--password-stdin", stdin="un autre mot de passe\n"
    )
    assert changed.returncode == 0 and "password is set" in changed.stdout
    assert await pool.fetchval("SELECT password_hash FROM operator_credentials") != stored
    unknown = await complaints(
        settings, "users", "passwd", "Nobody", "--password-stdin", stdin="un mot de passe long\n"
    )
    assert unknown.returncode == 1 and "no active operator named 'Nobody'" in unknown.stderr


async def test_no_password_typed_is_a_clear_refusal_and_no_operator(pool: asyncpg.Pool, settings) -> None:
    """Without a terminal or standard input (a script), `users add` says what to pass."""
    added = await complaints(settings, "users", "add", "Jean Script", "--role", "intake")
    assert added.returncode == 1 and "--password-stdin" in added.stderr and "Traceback" not in added.stderr
    assert await pool.fetchval("SELECT count(*) FROM operators") == 0
