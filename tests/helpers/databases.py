"""Registers on the session's PostgreSQL: every test's is a copy of a migrated template."""

import uuid

import asyncpg

TEMPLATE_DB = "register_template"


async def fresh_database(admin_url: str) -> str:
    """A new, migrated register database; returns its URL."""
    name = f"t_{uuid.uuid4().hex[:12]}"
    conn = await asyncpg.connect(admin_url)
    await conn.execute(f"CREATE DATABASE {name} TEMPLATE {TEMPLATE_DB}")
    await conn.close()
    return admin_url.replace("/postgres?", f"/{name}?")
