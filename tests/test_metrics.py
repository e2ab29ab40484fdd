"""The worker's Prometheus endpoint exposes the SDK's metrics and the
business counters after a complaint went through."""

from collections.abc import Callable

import asyncpg
import httpx

from complaints.intake import submit_complaint
from complaints.metrics import count_open_complaints, prometheus_runtime
from complaints.settings import Settings
from complaints.submission import ComplaintSubmission
from complaints.temporal_client import connect
from tests.helpers.complaint_workflow import wait_for_acknowledgement
from tests.helpers.mailbox import Mailbox
from tests.helpers.network import free_port
from tests.helpers.polling import eventually
from worker.main import build_worker

Make = Callable[..., ComplaintSubmission]


async def test_metrics_expose_business_counters_after_a_run(
    pool: asyncpg.Pool, settings: Settings, mailbox: Mailbox, complaint: Make
) -> None:
    address = f"127.0.0.1:{free_port()}"
    runtime = prometheus_runtime(address)
    client = await connect(settings, runtime)
    async with build_worker(client, pool, settings):
        for channel in ("phone", "phone", "letter"):
            await submit_complaint(pool, client, settings, complaint(channel=channel), actor="t")
        await mailbox.wait_for("jeanne@example.com", count=3)
        for row in await pool.fetch("SELECT reference FROM complaints"):
            await wait_for_acknowledgement(client, row["reference"])
        await count_open_complaints(pool, runtime)

        async def scraped() -> str:
            async with httpx.AsyncClient() as http:
                text = (await http.get(f"http://{address}/metrics")).text
            return text if 'complaints_received_total{channel="letter"' in text else ""

        text = await eventually(scraped, timeout=15, every=0.5)
    lines = text.splitlines()

    def value(prefix: str) -> float:
        [line] = [line for line in lines if line.startswith(prefix)]
        return float(line.rsplit(" ", 1)[1])

    assert value('complaints_received_total{channel="phone"') == 2
    assert value('complaints_received_total{channel="letter"') == 1
    assert value("complaints_acknowledgement_latency_seconds_count") == 3
    assert value('complaints_open{phase="assessment"') == 3
    assert value("complaints_intake_backlog") == 0  # every one started and acknowledged
    assert any(line.startswith("temporal_workflow_task_") for line in lines)  # the SDK's own
