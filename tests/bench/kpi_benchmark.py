"""Benchmark: the KPI report over a register of 1,000,000 complaints, and the
register's write path with and without the reporting schema.

`.venv/bin/python -m tests.bench.kpi_benchmark [--count 1000000]`

Starts its own embedded PostgreSQL in a temporary folder, with two registers:
"plain" (the migrations before reporting, 0006) and "reporting" (all of
them). The same generated complaints (tests/bench/kpi_data.py) are loaded
into both with COPY, each load timed, and the reporting register's
projection is built from its journal. Then single-row intake inserts and
lifecycle writes are timed on both, alternately, from a client and inside the
server. Then the full KPI report for the last year is timed on the reporting
register: just after those writes (it brings the projection up to date
first), then warm, and with breakdowns."""

import argparse
import asyncio
import shutil
import statistics
import tempfile
import time
import uuid
from collections.abc import Awaitable, Callable
from datetime import timedelta
from pathlib import Path

import asyncpg
import pgserver

from complaints.database import _migrations
from devstack.postgres import start_embedded_postgres
from reporting import projection
from reporting.kpis import kpi_report
from reporting.model import Dimension
from tests.bench.kpi_data import (
    ACTION_COLUMNS,
    ALERT_COLUMNS,
    COMPENSATION_COLUMNS,
    COMPLAINT_COLUMNS,
    DEFAULT_END,
    JOURNAL_COLUMNS,
    SURVEY_COLUMNS,
    RegisterGenerator,
)

REPORTING_VERSION = 6
ROUNDS = 6
TABLES = {
    "complaints": COMPLAINT_COLUMNS,
    "journal": JOURNAL_COLUMNS,
    "surveys": SURVEY_COLUMNS,
    "compensations": COMPENSATION_COLUMNS,
    "alerts": ALERT_COLUMNS,
    "actions": ACTION_COLUMNS,
}


async def create_register(admin_url: str, name: str, up_to: int | None) -> str:
    conn = await asyncpg.connect(admin_url)
    await conn.execute(f"CREATE DATABASE {name}")
    await conn.close()
    url = admin_url.replace("/postgres?", f"/{name}?")
    conn = await asyncpg.connect(url)
    for version, _, sql in _migrations():
        if up_to is None or version <= up_to:
            await conn.execute(sql)
    await conn.close()
    return url


async def load(registers: dict[str, asyncpg.Pool], count: int) -> dict[str, dict[str, float]]:
    """Load the same chunks into every register; seconds spent in COPY per table."""
    spent: dict[str, dict[str, float]] = {name: dict.fromkeys(TABLES, 0.0) for name in registers}
    rows = dict.fromkeys(TABLES, 0)
    began = time.monotonic()
    for chunk in RegisterGenerator(count, DEFAULT_END).chunks():
        for table, columns in TABLES.items():
            records = getattr(chunk, table)
            rows[table] += len(records)
            for name, pool in registers.items():
                start = time.perf_counter()
                await pool.copy_records_to_table(table, records=records, columns=columns)
                spent[name][table] += time.perf_counter() - start
        print(f"\r  loaded {rows['complaints']:>9,} complaints ({time.monotonic() - began:5.0f} s)", end="", flush=True)
    print()
    spent["rows"] = {table: float(n) for table, n in rows.items()}
    return spent


async def timed_statements(pool: asyncpg.Pool, statements: list[tuple[str, tuple]], concurrency: int) -> float:
    """Statements per second, each in its own transaction, `concurrency` at a time."""
    queue = list(reversed(statements))

    async def run() -> None:
        async with pool.acquire() as conn:
            while queue:
                sql, args = queue.pop()
                await conn.execute(sql, *args)

    start = time.perf_counter()
    await asyncio.gather(*(run() for _ in range(concurrency)))
    return len(statements) / (time.perf_counter() - start)


def intake_inserts(references: list[str]) -> list[tuple[str, tuple]]:
    now = DEFAULT_END
    return [
        (
            """INSERT INTO complaints (reference, received_at, channel, complainant_name, complainant_email,
                                       subject, description, product, desired_resolution, ack_due_at)
               VALUES ($1, $2, 'email', 'Jeanne Martin', 'jeanne@example.com', 'Colis abîmé',
                       'Le colis est arrivé ouvert et le vase était cassé.', 'Vase Médicis',
                       'Le remplacement du vase', $3)""",
            (reference, now, now + timedelta(days=10)),
        )
        for reference in references
    ]


def lifecycle_steps(references: list[str]) -> list[tuple[str, tuple]]:
    """What a complaint's steps write after intake: register updates, journal
    entries and an SLA alert (journaled too)."""
    journal = (
        "INSERT INTO journal (complaint_reference, event, actor, step_key) VALUES ($1, $2, 'system', $1 || ':' || $2)"
    )
    steps: list[tuple[str, tuple]] = []
    for ref in references:
        steps += [
            (
                "UPDATE complaints SET phase = 'acknowledged', acknowledged_at = received_at + interval '40 seconds', "
                "ack_method = 'email', ack_deadline_met = true, updated_at = now() WHERE reference = $1",
                (ref,),
            ),
            (journal, (ref, "acknowledged")),
            (
                "UPDATE complaints SET phase = 'handling', priority = 'P3', category = 'livraison', recurring = false, "
                "assessed_at = acknowledged_at + interval '1 day', handler = 'conseiller-01', updated_at = now() "
                "WHERE reference = $1",
                (ref,),
            ),
            (journal, (ref, "assessed")),
            (
                "INSERT INTO alerts (key, complaint_reference, deadline, kind, due_at) "
                "VALUES ($1 || ':response:0:warning', $1, 'response', 'warning', now())",
                (ref,),
            ),
            (journal, (ref, "response_deadline_warning")),
            (
                "UPDATE complaints SET phase = 'survey', outcome = 'accepted', "
                "responded_at = acknowledged_at + interval '9 days', "
                "response_deadline_met = true, updated_at = now() WHERE reference = $1",
                (ref,),
            ),
            (journal, (ref, "survey_emailed")),
            (
                "UPDATE complaints SET phase = 'closed', closed_at = acknowledged_at + interval '20 days', "
                "root_cause_category = 'cause 01', updated_at = now() WHERE reference = $1",
                (ref,),
            ),
            (journal, (ref, "closed")),
        ]
    return steps


# The same writes run inside the server, one function call per batch: no
# client, network or commit in the measure, only what each statement costs
# the server — where indexes and triggers show.
SERVER_SIDE = """
CREATE FUNCTION bench_writes(refs text[]) RETURNS void LANGUAGE plpgsql AS $$
DECLARE ref text;
BEGIN
    FOREACH ref IN ARRAY refs LOOP
        INSERT INTO complaints (reference, received_at, channel, complainant_name, complainant_email, subject,
                                description, product, desired_resolution, ack_due_at)
        VALUES (ref, now(), 'email', 'Jeanne Martin', 'jeanne@example.com', 'Colis abîmé',
                'Le colis est arrivé ouvert et le vase était cassé.', 'Vase Médicis', 'Le remplacement du vase',
                now() + interval '10 days');
    END LOOP;
    FOREACH ref IN ARRAY refs LOOP
        UPDATE complaints SET phase = 'acknowledged', acknowledged_at = received_at + interval '40 seconds',
               ack_method = 'email', ack_deadline_met = true, updated_at = now() WHERE reference = ref;
        INSERT INTO journal (complaint_reference, event, actor, step_key)
        VALUES (ref, 'acknowledged', 'system', ref || ':a');
        UPDATE complaints SET phase = 'handling', priority = 'P3', category = 'livraison', recurring = false,
               assessed_at = acknowledged_at + interval '1 day', handler = 'conseiller-01', updated_at = now()
         WHERE reference = ref;
        INSERT INTO journal (complaint_reference, event, actor, step_key)
        VALUES (ref, 'assessed', 'system', ref || ':b');
        INSERT INTO alerts (key, complaint_reference, deadline, kind, due_at)
        VALUES (ref || ':response:0:warning', ref, 'response', 'warning', now());
        INSERT INTO journal (complaint_reference, event, actor, step_key)
        VALUES (ref, 'response_deadline_warning', 'system', ref || ':w');
        UPDATE complaints SET phase = 'survey', outcome = 'accepted',
               responded_at = acknowledged_at + interval '9 days',
               response_deadline_met = true, updated_at = now() WHERE reference = ref;
        INSERT INTO journal (complaint_reference, event, actor, step_key)
        VALUES (ref, 'survey_emailed', 'system', ref || ':c');
        UPDATE complaints SET phase = 'closed', closed_at = acknowledged_at + interval '20 days',
               root_cause_category = 'cause 01', updated_at = now() WHERE reference = ref;
        INSERT INTO journal (complaint_reference, event, actor, step_key) VALUES (ref, 'closed', 'system', ref || ':d');
    END LOOP;
END $$;
"""


async def server_side(pools: dict[str, asyncpg.Pool], batch: int, rounds: int) -> dict[str, list[float]]:
    """Complaints (intake and their ten lifecycle writes) per second of server time, alternately."""
    for pool in pools.values():
        await pool.execute(SERVER_SIDE)
    rates: dict[str, list[float]] = {name: [] for name in pools}
    for round_number in range(rounds):
        order = list(pools.items()) if round_number % 2 == 0 else list(reversed(pools.items()))
        references = [f"SRV-{uuid.uuid4().hex[:12]}" for _ in range(batch)]
        for name, pool in order:
            start = time.perf_counter()
            await pool.execute("SELECT bench_writes($1)", references)
            rates[name].append(batch / (time.perf_counter() - start))
    return rates


async def best_of(runs: int, call: Callable[[], Awaitable[object]]) -> list[float]:
    times = []
    for _ in range(runs):
        start = time.perf_counter()
        await call()
        times.append(time.perf_counter() - start)
    return times


def start_server(folder: Path, shared_buffers: str) -> pgserver.PostgresServer:
    """The embedded server, restarted once with the cache a database server has."""
    server = start_embedded_postgres(folder)
    server.psql(f"ALTER SYSTEM SET shared_buffers = '{shared_buffers}';")
    server.cleanup()
    return start_embedded_postgres(folder)


def year_report(pool: asyncpg.Pool, by: Dimension | None = None) -> Callable[[], Awaitable[object]]:
    period_to = DEFAULT_END
    return lambda: kpi_report(pool, period_to - timedelta(days=365), period_to, by, as_of=period_to)


async def report_times(pool: asyncpg.Pool, runs: int = 5) -> None:
    size = await pool.fetchval("SELECT pg_size_pretty(pg_total_relation_size('report_complaints'))")
    [first] = await best_of(1, year_report(pool))
    warm = await best_of(runs, year_report(pool))
    print(f"  projection current (report_complaints and its indexes: {size})")
    print(
        f"    full report          first {first * 1000:6.0f} ms   warm median {statistics.median(warm) * 1000:6.0f} ms"
        f"   (runs: {', '.join(f'{t * 1000:.0f}' for t in warm)})"
    )
    dimensions: tuple[Dimension, ...] = ("product", "handler", "customer")
    for by in dimensions:
        times = await best_of(3, year_report(pool, by))
        print(f"    --by {by:<15} warm median {statistics.median(times) * 1000:6.0f} ms")


async def main(count: int, writes: int, shared_buffers: str) -> None:
    folder = Path(tempfile.mkdtemp(prefix="kpi-bench-"))
    server = start_server(folder / "pg", shared_buffers)
    admin = server.get_uri()
    try:
        urls = {
            "plain": await create_register(admin, "plain", REPORTING_VERSION - 1),
            "reporting": await create_register(admin, "reporting", None),
        }
        pools = {name: await asyncpg.create_pool(url, min_size=1, max_size=4) for name, url in urls.items()}
        print(f"Loading {count:,} complaints into both registers (COPY) ...")
        spent = await load(pools, count)
        rows = spent.pop("rows")
        for pool in pools.values():
            await pool.execute("VACUUM ANALYZE")  # what autovacuum does after a bulk load
        start = time.perf_counter()
        built = await projection.refresh(pools["reporting"], wait=True)
        spent_building = time.perf_counter() - start

        print(f"\nCOPY, rows/s            {'plain':>12} {'reporting':>12}   rows")
        for table in ("complaints", "journal", "alerts"):
            per_second = [rows[table] / spent[name][table] for name in ("plain", "reporting")]
            print(f"  {table:<21} {per_second[0]:>12,.0f} {per_second[1]:>12,.0f}   {rows[table]:,.0f}")
        print(
            f"Projection built from the journal: {built:,} complaints in {spent_building:.1f} s"
            f" ({built / spent_building:,.0f}/s)"
        )

        print(
            f"\nThe write path, statements/s on 4 connections: {writes:,} complaints taken in, then their"
            f" {len(lifecycle_steps(['x']))} lifecycle writes each; {ROUNDS} rounds, the registers alternately"
        )
        inserts: dict[str, list[float]] = {"plain": [], "reporting": []}
        updates: dict[str, list[float]] = {"plain": [], "reporting": []}
        for round_number in range(ROUNDS):
            references = [f"NEW-{uuid.uuid4().hex[:12]}" for _ in range(writes)]
            order = list(pools.items()) if round_number % 2 == 0 else list(reversed(pools.items()))
            for name, pool in order:
                inserts[name].append(await timed_statements(pool, intake_inserts(references), 4))
            for name, pool in order:
                updates[name].append(await timed_statements(pool, lifecycle_steps(references), 4))
        for label, found in (("intake INSERT", inserts), ("lifecycle steps", updates)):
            plain, reporting = (statistics.mean(found[name]) for name in ("plain", "reporting"))
            print(
                f"  {label:<21} {plain:>12,.0f} {reporting:>12,.0f}   ({100 * (reporting / plain - 1):+.1f} %)"
                f"   rounds: {', '.join(f'{v:,.0f}' for v in found['plain'])} / "
                f"{', '.join(f'{v:,.0f}' for v in found['reporting'])}"
            )

        rates = await server_side(pools, 2_000, 10)
        plain, reporting = (statistics.median(rates[name]) for name in ("plain", "reporting"))
        print(
            f"  server side, complaints/s (intake + 10 writes, median of {len(rates['plain'])} alternate batches)"
            f"\n  {'':<21} {plain:>12,.0f} {reporting:>12,.0f}   ({100 * (reporting / plain - 1):+.1f} %)"
            f"   batches: {', '.join(f'{v:,.0f}' for v in rates['plain'])} / "
            f"{', '.join(f'{v:,.0f}' for v in rates['reporting'])}"
        )

        pool = pools["reporting"]
        await pool.execute("VACUUM ANALYZE")
        in_year = await pool.fetchval(
            "SELECT count(*) FROM complaints WHERE received_at >= $1 AND received_at < $2",
            DEFAULT_END - timedelta(days=365),
            DEFAULT_END,
        )
        total = await pool.fetchval("SELECT count(*) FROM complaints")
        unread = await pool.fetchval(
            "SELECT count(DISTINCT complaint_reference) FROM journal WHERE id > (SELECT watermark FROM report_state)"
        )
        print(
            f"\nKPI report for the year to {DEFAULT_END:%Y-%m-%d}: {in_year:,} of {total:,} complaints,"
            f" shared_buffers {shared_buffers}"
        )
        [behind] = await best_of(1, year_report(pool))
        print(
            f"  just after the writes above ({unread:,} complaints not projected yet): full report"
            f" {behind * 1000:6.0f} ms, bringing the projection up to date first"
        )
        await pool.execute("VACUUM ANALYZE report_complaints")
        await report_times(pool)
        for pool in pools.values():
            await pool.close()
    finally:
        server.cleanup()
        shutil.rmtree(folder, ignore_errors=True)  # several gigabytes for a million complaints


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--count", type=int, default=1_000_000, help="complaints in the register")
    parser.add_argument("--writes", type=int, default=5_000, help="complaints inserted, then updated, per round")
    parser.add_argument(
        "--shared-buffers", default="1GB", help="PostgreSQL's cache (its default, 128MB, is a laptop's)"
    )
    arguments = parser.parse_args()
    asyncio.run(main(arguments.count, arguments.writes, arguments.shared_buffers))
