"""Prometheus metrics: the SDK's runtime metrics plus the business metrics
the workflow records (replay-safe) and the open complaints gauge."""

import asyncio
import logging
from datetime import timedelta

import asyncpg
from temporalio.runtime import PrometheusConfig, Runtime, TelemetryConfig

from complaints.backlog import count_backlog
from complaints.complaint_status import Phase

log = logging.getLogger(__name__)

# Business metric names, as scraped (listed in the README).
RECEIVED = "complaints_received"
ACK_LATENCY = "complaints_acknowledgement_latency_seconds"
SLA_ALERTS = "complaints_sla_alerts"
COMPENSATION = "complaints_compensation_amount"
OPEN = "complaints_open"
BACKLOG = "complaints_intake_backlog"
HISTOGRAM_BUCKETS = {
    ACK_LATENCY: [1, 10, 60, 600, 3600, 86_400, 3 * 86_400, 7 * 86_400, 10 * 86_400, 30 * 86_400],
    COMPENSATION: [10, 25, 50, 100, 200, 500, 1000, 5000],
}


def prometheus_runtime(bind_address: str) -> Runtime:
    return Runtime(
        telemetry=TelemetryConfig(
            metrics=PrometheusConfig(
                bind_address=bind_address,
                counters_total_suffix=True,
                durations_as_seconds=True,
                histogram_bucket_overrides=HISTOGRAM_BUCKETS,
            )
        )
    )


async def count_open_complaints(pool: asyncpg.Pool, runtime: Runtime) -> None:
    """Set the open-complaints gauge, per phase, and the intake backlog, from the register."""
    gauge = runtime.metric_meter.create_gauge(OPEN, "Open complaints by phase")
    rows = await pool.fetch("SELECT phase, count(*) AS n FROM complaints WHERE phase <> 'closed' GROUP BY phase")
    counts = {row["phase"]: row["n"] for row in rows}
    for phase in Phase:
        if phase is not Phase.CLOSED:
            gauge.set(counts.get(phase.value, 0), {"phase": phase.value})
    backlog = runtime.metric_meter.create_gauge(BACKLOG, "Complaints not yet started or acknowledged")
    backlog.set(await count_backlog(pool))


async def keep_counting_open_complaints(pool: asyncpg.Pool, runtime: Runtime, every: timedelta) -> None:
    while True:
        try:
            await count_open_complaints(pool, runtime)
        except (asyncpg.PostgresError, OSError) as error:
            log.warning("could not count open complaints: %s", error)
        await asyncio.sleep(every.total_seconds())
