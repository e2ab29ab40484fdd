"""Benchmark: the console's search over a register of 1,000,000 complaints.

`.venv/bin/python -m tests.bench.console_search [--count 1000000] [--rounds 20]`

Starts its own embedded PostgreSQL in a temporary folder, migrates a register,
fills it with generated complaints (French names, subjects and descriptions,
in SQL: generate_series), then times the console's own query
(api/console/search.py) for a reference, an email, a name, rare and common
words and a phrase, and prints the median, p95 and worst of each against the
200 ms goal."""

import argparse
import asyncio
import shutil
import statistics
import tempfile
import time
from pathlib import Path

import asyncpg

from api.console.search import search
from complaints.database import apply_migrations
from devstack.postgres import start_embedded_postgres

GOAL_MS = 200
FIRST = ["Jeanne", "Paul", "Marie", "Louis", "Camille", "Hugo", "Léa", "Nathan", "Chloé", "Lucas", "Inès", "Jules"]
LAST = ["Martin", "Bernard", "Dubois", "Thomas", "Robert", "Richard", "Petit", "Durand", "Leroy", "Moreau", "Simon"]
SUBJECTS = [
    "Colis abîmé",
    "Facture erronée",
    "Retard de livraison",
    "Produit défectueux",
    "Remboursement attendu",
    "Service client injoignable",
    "Commande incomplète",
    "Prélèvement en double",
    "Garantie refusée",
]
WORDS = ["colis", "vase", "transporteur", "facture", "remboursement", "livraison", "carton", "écran", "batterie",
         "conseiller", "téléphone", "magasin", "commande", "retard", "cassé", "ouvert", "abonnement", "prélèvement",
         "garantie", "réparation", "échange", "avoir", "promotion", "adresse", "boîte", "étiquette"]  # fmt: skip


def _sql_array(words: list[str]) -> str:
    return "ARRAY[" + ", ".join("'" + word.replace("'", "''") + "'" for word in words) + "]"


async def fill(conn: asyncpg.Connection, count: int) -> None:
    """`count` complaints in batches; descriptions of 12 to 40 words, one rare
    marker word per 10,000 complaints."""
    batch = 100_000
    for start in range(1, count + 1, batch):
        stop = min(start + batch - 1, count)
        await conn.execute(
            f"""INSERT INTO complaints (reference, received_at, channel, complainant_name, complainant_email,
                                        subject, description, phase, regime)
                SELECT format('REC-2026-%s', lpad(n::text, 7, '0')),
                       now() - (n % 700) * interval '1 day' - (n % 86400) * interval '1 second',
                       'web',
                       f[1 + n % {len(FIRST)}] || ' ' || l[1 + (n / {len(FIRST)}) % {len(LAST)}] || ' ' || n,
                       format('client%s@example.com', n),
                       s[1 + n % {len(SUBJECTS)}],
                       (SELECT string_agg(w[1 + ((n::bigint * 7919 + i * 104729) % {len(WORDS)})], ' ')
                          FROM generate_series(1, 12 + n % 29) AS i)
                       || CASE WHEN n % 10000 = 0 THEN ' zéphyrin' ELSE '' END,
                       'handling', 'general'
                  FROM generate_series({start}, {stop}) AS n,
                       LATERAL (SELECT {_sql_array(FIRST)} AS f, {_sql_array(LAST)} AS l,
                                       {_sql_array(SUBJECTS)} AS s, {_sql_array(WORDS)} AS w) AS words"""
        )
        print(f"  {stop:>9,} complaints", flush=True)
    await conn.execute("ANALYZE complaints")


def _name(n: int) -> str:
    """The generated complainant's name of complaint `n` (as `fill` writes it)."""
    return f"{FIRST[n % len(FIRST)]} {LAST[(n // len(FIRST)) % len(LAST)]} {n}"


async def time_queries(pool: asyncpg.Pool, count: int, rounds: int) -> bool:
    queries = {
        "a reference": f"REC-2026-{count // 2:07d}",
        "an email": f"client{count // 3}@example.com",
        "a name": _name(count // 7),
        "a rare word": "zéphyrin",
        "a common word": "colis",
        "two words": "transporteur cassé",
        "a phrase": '"retard de livraison"',
    }
    ok = True
    print(f"\nsearch over {count:,} complaints, {rounds} rounds each (goal: under {GOAL_MS} ms)")
    for label, text in queries.items():
        spent = []
        for _ in range(rounds):
            began = time.perf_counter()
            rows = await search(pool, text)
            spent.append((time.perf_counter() - began) * 1000)
        spent.sort()
        p95 = spent[min(len(spent) - 1, int(len(spent) * 0.95))]
        ok &= p95 < GOAL_MS
        print(
            f"  {label:<26} {text!r:<30} {len(rows):>3} found  median {statistics.median(spent):7.1f} ms"
            f"  p95 {p95:7.1f} ms  worst {spent[-1]:7.1f} ms"
        )
    print("within the goal" if ok else "OVER THE GOAL")
    return ok


async def main(count: int, rounds: int) -> None:
    folder = Path(tempfile.mkdtemp(prefix="console-search-"))
    server = start_embedded_postgres(folder / "pg")
    try:
        admin = server.get_uri()
        conn = await asyncpg.connect(admin)
        await conn.execute("CREATE DATABASE bench")
        await conn.close()
        url = server.get_uri("bench")
        await apply_migrations(url)
        began = time.monotonic()
        conn = await asyncpg.connect(url)
        await fill(conn, count)
        await conn.close()
        print(f"loaded in {time.monotonic() - began:.0f} s")
        async with asyncpg.create_pool(url, min_size=1, max_size=2) as pool:
            await time_queries(pool, count, rounds)
    finally:
        server.cleanup()
        shutil.rmtree(folder, ignore_errors=True)


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--count", type=int, default=1_000_000)
    parser.add_argument("--rounds", type=int, default=20)
    args = parser.parse_args()
    asyncio.run(main(args.count, args.rounds))
