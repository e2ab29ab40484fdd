"""Overload benchmark (issue 19): N complaints POSTed to the HTTP API with C
requests in flight, as a CRM replaying a day of complaints would.

Prints the intake rate, the acknowledgement rate during and after the load
(from the register's acknowledged_at), the time from the first request to the
last acknowledgement, the worker's workflow-task figures from its Prometheus
metrics and the WorkflowTaskTimedOut events in the runs' histories, and the CPU
of each process of the system.

`make bench-overload` (or `.venv/bin/python -m tests.bench.overload_benchmark
--count 5000 --concurrency 24`) starts the system as `make run` does, on a fresh
data folder and free ports, and stops it at the end; `--against URL` measures a
system already running (DATABASE_URL and the settings of that system in the
environment); `--code DIR` starts the code of another checkout (a before/after)."""

import argparse
import asyncio
import contextlib
import os
import re
import time
import uuid
from datetime import datetime
from pathlib import Path

import asyncpg
import httpx
from temporalio.api.enums.v1 import EventType, TimeoutType
from temporalio.client import Client

from complaints.database import open_pool
from complaints.operator_commands import Role
from complaints.operators import create_operator
from complaints.settings import Settings
from complaints.temporal_client import connect
from tests.bench.system import System, cpu_seconds, rss_mib, started_system

TASK_METRICS = re.compile(
    r"^(temporal_workflow_task_\w+|temporal_sticky_cache_\w+|temporal_activity_\w+_latency_\w+)(\{[^}]*\})? (\S+)$"
)


# What the SDK logs when a workflow task runs long, or completes after it timed out.
SDK_WARNINGS = ("Workflow task duration exceeded 5 seconds", "Task not found when completing")


def body(i: int, tag: str) -> dict[str, object]:
    return {
        "complainant": {"name": f"Client {i}", "email": f"client{i}-{tag}@example.com"},
        "subject": "Colis abîmé",
        "description": f"Le colis {i} est arrivé ouvert, le contenu était cassé.",
        "desired_resolution": "Un remplacement",
        "product": "Vase Médicis",
    }


async def post_all(system: System, key: str, count: int, concurrency: int) -> tuple[list[str], float]:
    """POST `count` complaints, `concurrency` in flight; their references and the load's duration."""
    tag, refs, queue = uuid.uuid4().hex[:6], [], asyncio.Queue[int]()
    for i in range(count):
        queue.put_nowait(i)
    headers = {"Authorization": f"Bearer {key}"}
    limits = httpx.Limits(max_connections=concurrency)
    async with httpx.AsyncClient(base_url=system.api, timeout=120, limits=limits) as http:

        async def sender() -> None:
            while not queue.empty():
                i = queue.get_nowait()
                answer = await http.post("/complaints", json=body(i, tag), headers=headers)
                answer.raise_for_status()
                refs.append(answer.json()["reference"])

        began = time.monotonic()
        await asyncio.gather(*(sender() for _ in range(concurrency)))
        return refs, time.monotonic() - began


async def acknowledged(pool: asyncpg.Pool, refs: list[str]) -> int:
    found: int = await pool.fetchval(
        "SELECT count(*) FROM complaints WHERE reference = ANY($1) AND acknowledged_at IS NOT NULL", refs
    )
    return found


async def scrape(urls: list[str]) -> dict[str, float]:
    """The worker's workflow-task and sticky-cache series, summed over processes and labels."""
    totals: dict[str, float] = {}
    async with httpx.AsyncClient(timeout=5) as http:
        for url in urls:
            with contextlib.suppress(httpx.HTTPError):
                for line in (await http.get(url)).text.splitlines():
                    match = TASK_METRICS.match(line)
                    if (match and 'le="' not in (match.group(2) or "")) or (match and 'le="5"' in match.group(2)):
                        name = match.group(1) + ("{le=5}" if 'le="5"' in (match.group(2) or "") else "")
                        totals[name] = totals.get(name, 0.0) + float(match.group(3))
    return totals


async def timed_out_tasks(client: Client, refs: list[str]) -> dict[str, int]:
    """WorkflowTaskTimedOut events over the runs' histories, by timeout type (a sticky
    task not picked up in time is SCHEDULE_TO_START; one run too long, START_TO_CLOSE)."""
    gate, found = asyncio.Semaphore(16), dict[str, int]()

    async def one(ref: str) -> None:
        async with gate:
            history = await client.get_workflow_handle(ref).fetch_history()
        for event in history.events:
            if event.event_type == EventType.EVENT_TYPE_WORKFLOW_TASK_TIMED_OUT:
                kind = TimeoutType.Name(event.workflow_task_timed_out_event_attributes.timeout_type)
                found[kind] = found.get(kind, 0) + 1

    await asyncio.gather(*(one(ref) for ref in refs))
    return found


async def measure(system: System, count: int, concurrency: int, drain_timeout: float) -> None:
    settings = system.settings
    pool = await open_pool(settings)
    client = await connect(settings)
    _, key = await create_operator(pool, f"bench {uuid.uuid4().hex[:6]}", Role.INTAKE)
    cpu_before, metrics_before = cpu_seconds(system.processes), await scrape(system.metrics)
    started_wall, began = datetime.now().astimezone(), time.monotonic()
    refs, load = await post_all(system, key, count, concurrency)
    acked_at_load_end = await acknowledged(pool, refs)
    while (acked := await acknowledged(pool, refs)) < len(refs) and time.monotonic() - began < load + drain_timeout:
        await asyncio.sleep(1)
    drained = time.monotonic() - began - load
    last_ack = await pool.fetchval("SELECT max(acknowledged_at) FROM complaints WHERE reference = ANY($1)", refs)
    cpu_after, metrics_after = cpu_seconds(system.processes), await scrape(system.metrics)
    elapsed = time.monotonic() - began
    print(f"\n{count} complaints, {concurrency} in flight, machine load {os.getloadavg()[0]:.1f} at the end")
    print(f"intake             {len(refs) / load:6.1f}/s ({load:.0f} s)")
    print(f"acks during load   {acked_at_load_end / load:6.1f}/s ({acked_at_load_end} acknowledged)")
    after = (acked - acked_at_load_end) / drained if drained > 0 else float("nan")
    print(f"acks after load    {after:6.1f}/s ({acked - acked_at_load_end} in {drained:.0f} s)")
    if last_ack:
        print(f"last ack           {(last_ack - started_wall).total_seconds():6.0f} s after the first request")
    print(f"not acknowledged   {len(refs) - acked}")
    for name in sorted(set(metrics_after) | set(metrics_before)):
        print(f"metric {name:<58} {metrics_after.get(name, 0) - metrics_before.get(name, 0):10.1f}")
    timed_out = await timed_out_tasks(client, refs)
    print(f"WorkflowTaskTimedOut events in the histories: {sum(timed_out.values())} {timed_out}")
    if system.log:
        logged = system.log.read_text(errors="replace")
        for warning in SDK_WARNINGS:
            print(f"worker log: {logged.count(warning):5d} x {warning!r}")
    memory = rss_mib(system.processes)
    for name, seconds in cpu_after.items():
        used = seconds - cpu_before.get(name, 0.0)
        print(
            f"cpu {name[:60]:<60} {used:7.1f} s  {100 * used / elapsed:5.0f} % of a core"
            f"  rss {memory.get(name, 0):5.0f} MiB"
        )
    await pool.close()


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--count", type=int, default=1000)
    parser.add_argument("--concurrency", type=int, default=24)
    parser.add_argument("--drain-timeout", type=float, default=900, help="seconds to wait for the last ack")
    parser.add_argument("--against", help="the API of a running system (else one is started)")
    parser.add_argument("--metrics", action="append", default=[], help="a worker's /metrics URL (with --against)")
    parser.add_argument("--code", type=Path, default=Path.cwd(), help="the checkout whose code is started")
    parser.add_argument("--workers", type=int, default=1, help="worker processes of the started system")
    args = parser.parse_args()
    if args.against:
        await measure(System(args.against, Settings(), args.metrics), args.count, args.concurrency, args.drain_timeout)
        return
    async with started_system(args.code.resolve(), args.workers) as system:
        await measure(system, args.count, args.concurrency, args.drain_timeout)


if __name__ == "__main__":
    asyncio.run(main())
