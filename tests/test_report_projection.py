"""The projection reports read (report_complaints), kept up to date from the
journal off the register's write path: a report is the same whether the
projection is current, behind or rebuilt, and a journal entry committed late
(its id handed out before a newer one's) is not lost."""

import asyncio
import random
from datetime import timedelta

import asyncpg

from complaints import journal
from complaints.settings import Settings
from reporting import projection
from reporting.kpis import kpi_report
from tests.helpers.cli import complaints
from tests.helpers.seeded_register import AS_OF, HOUR, MARCH, add_complaint, at, seed_register


async def projected(pool: asyncpg.Pool) -> dict[str, asyncpg.Record]:
    return {row["reference"]: row for row in await pool.fetch("SELECT * FROM report_complaints")}


async def test_a_report_is_the_same_from_the_register_and_from_the_projection(pool: asyncpg.Pool) -> None:
    await seed_register(pool)
    assert await projected(pool) == {}
    from_register = await kpi_report(pool, *MARCH, "product", as_of=AS_OF, refresh=False)

    recomputed = await projection.refresh(pool)

    assert recomputed == 8  # every seeded complaint, each once
    assert set(await projected(pool)) == {f"T-{name}" for name in "ABCDEFGH"}
    assert await pool.fetchval("SELECT count(*) FROM report_gaps") == 0
    assert await kpi_report(pool, *MARCH, "product", as_of=AS_OF, refresh=False) == from_register
    assert await projection.refresh(pool) == 0  # nothing new in the journal
    assert await projection.rebuild(pool) == 8
    assert await kpi_report(pool, *MARCH, "product", as_of=AS_OF, refresh=False) == from_register


async def test_a_change_after_a_refresh_counts_at_once_and_is_projected_by_the_next(pool: asyncpg.Pool) -> None:
    await seed_register(pool)
    await projection.refresh(pool)
    before = await kpi_report(pool, *MARCH, as_of=AS_OF, refresh=False)

    async with pool.acquire() as conn:  # D, open, is sent its survey
        await journal.append(conn, "T-D", "survey_emailed", "system", step_key="T-D:survey:sent")
    after = await kpi_report(pool, *MARCH, as_of=AS_OF, refresh=False)

    assert after.overall.satisfaction.surveyed == before.overall.satisfaction.surveyed + 1
    assert not (await projected(pool))["T-D"]["surveyed"]
    assert await projection.refresh(pool) == 1
    assert (await projected(pool))["T-D"]["surveyed"]
    assert await kpi_report(pool, *MARCH, as_of=AS_OF, refresh=False) == after


async def test_a_journal_entry_committed_after_a_newer_one_is_not_lost(pool: asyncpg.Pool) -> None:
    await seed_register(pool)
    await projection.refresh(pool)
    before = await kpi_report(pool, *MARCH, as_of=AS_OF, refresh=False)
    async with pool.acquire() as slow, pool.acquire() as quick:
        transaction = slow.transaction()
        await transaction.start()
        await journal.append(slow, "T-D", "survey_emailed", "system", step_key="T-D:survey:sent")  # id n
        await journal.append(quick, "T-E", "reminded", "system", step_key="T-E:reminded")  # id n + 1, committed
        gap = await slow.fetchval("SELECT id FROM journal WHERE step_key = 'T-D:survey:sent'")

        # even with no grace, a gap stays while a transaction that may hold it runs
        await projection.refresh(pool, gap_grace=timedelta(0))
        assert await pool.fetchval("SELECT array_agg(id) FROM report_gaps") == [gap]
        await transaction.commit()

    report = await kpi_report(pool, *MARCH, as_of=AS_OF, refresh=False)  # D read from the register
    assert report.overall.satisfaction.surveyed == before.overall.satisfaction.surveyed + 1
    assert await projection.refresh(pool) == 1
    assert await pool.fetchval("SELECT count(*) FROM report_gaps") == 0
    assert (await projected(pool))["T-D"]["surveyed"]
    assert await kpi_report(pool, *MARCH, as_of=AS_OF, refresh=False) == report


async def test_an_id_no_transaction_will_commit_is_given_up_after_the_grace(pool: asyncpg.Pool) -> None:
    await seed_register(pool)
    async with pool.acquire() as conn:
        transaction = conn.transaction()
        await transaction.start()
        await journal.append(conn, "T-D", "noted", "system", step_key="T-D:noted")
        await transaction.rollback()
        await journal.append(conn, "T-D", "noted", "system", step_key="T-D:noted")

    await projection.refresh(pool)
    assert await pool.fetchval("SELECT count(*) FROM report_gaps") == 1
    await projection.refresh(pool)  # within the grace: kept
    assert await pool.fetchval("SELECT count(*) FROM report_gaps") == 1
    await projection.refresh(pool, gap_grace=timedelta(0))
    assert await pool.fetchval("SELECT count(*) FROM report_gaps") == 0


async def test_refreshing_in_small_batches_projects_the_same(pool: asyncpg.Pool) -> None:
    await seed_register(pool)
    await projection.refresh(pool, batch=3)
    in_batches = await projected(pool)
    await projection.rebuild(pool)
    assert await projected(pool) == in_batches
    assert await pool.fetchval("SELECT watermark FROM report_state") == await pool.fetchval(
        "SELECT max(id) FROM journal"
    )


async def test_a_hand_edit_is_projected_by_a_rebuild_from_the_command_line(
    pool: asyncpg.Pool, settings: Settings
) -> None:
    await seed_register(pool)
    await projection.refresh(pool)
    # an edit outside the register's write paths: not journaled, so not seen by a refresh
    await pool.execute("UPDATE complaints SET product = 'Vase Médicis' WHERE reference = 'T-C'")
    await projection.refresh(pool)
    assert (await projected(pool))["T-C"]["product"] == "Lampe"

    rebuilt = await complaints(settings, "report", "--rebuild")

    assert rebuilt.returncode == 0, rebuilt.stderr
    assert rebuilt.stdout.strip() == "reports' projection rebuilt from the journal: 8 complaints"
    assert (await projected(pool))["T-C"]["product"] == "Vase Médicis"


async def test_refreshes_running_among_concurrent_writers_miss_nothing(pool: asyncpg.Pool) -> None:
    """Writers commit out of id order (each holds its transaction a moment
    after taking its id) while refreshes run: the projection ends up as a
    rebuild from scratch would make it."""
    references = [await add_complaint(pool, f"T-W{n:02d}", at(2, 9) + n * HOUR) for n in range(12)]
    stop = asyncio.Event()

    async def writer(number: int) -> None:
        for step in range(15):
            reference = references[(number * 7 + step) % len(references)]
            async with pool.acquire() as conn, conn.transaction():
                await journal.append(
                    conn, reference, "survey_emailed", "system", step_key=f"{reference}:{number}:{step}"
                )
                await conn.execute("UPDATE complaints SET handler = $2 WHERE reference = $1", reference, f"h{number}")
                await asyncio.sleep(random.uniform(0, 0.02))  # commits after ids taken later

    async def refresher() -> None:
        while not stop.is_set():
            await projection.refresh(pool, batch=4)
            await asyncio.sleep(0.003)

    refreshing = asyncio.create_task(refresher())
    await asyncio.gather(*(writer(number) for number in range(4)))
    stop.set()
    await refreshing
    await projection.refresh(pool)

    assert await pool.fetchval("SELECT count(*) FROM report_gaps") == 0
    kept = await projected(pool)
    await projection.rebuild(pool)
    assert kept == await projected(pool)
    assert all(row["surveyed"] for row in kept.values())
