"""Idle scale (issue 17, item 3): N open complaints waiting on their timers,
what that costs, and whether deadlines still fire on time.

`make bench-idle N=10000` (or `.venv/bin/python -m tests.bench.idle_scale
--count 10000`) starts the system as `make run` does (tests/bench/system.py) and
POSTs N complaints through the API as fast as it takes them (slowing down as
its Retry-After says when it is behind). Each is acknowledged and assessed, then
waits for a handler with its deadlines running: a real, open run. One in
--sample-every is reachable by post only, so nothing acknowledges it: its
acknowledgement deadline (COMPLAINTS_ACK_DEADLINE = --lead seconds) breaches
--lead seconds after it was taken in, while the others stay open around it.

While it runs and at the end it prints the worker's RSS (bounded by the sticky
cache, COMPLAINTS_WORKER_MAX_CACHED_WORKFLOWS: it must stay under 1 GiB), the
dev server's RSS, the size of its SQLite file and of the register, the open
runs Temporal counts, and the sampled breaches' lag from due time to alert.
At 100,000 complaints it takes an hour or more on a small machine.

`--by-post`: every complaint is reachable by post only, so each waits in
intake for an operator to confirm its acknowledgement letter, with its
acknowledgement (BY_POST_DEADLINE) and regulatory deadlines running: open runs
on their timers too, taken in about ten times faster (no email, no
assessment), which brings 100,000 within an hour here (as fast as the
workers take them in: the API's backlog counts the runs not yet past their
first workflow task). The sampled ones
are dated back (`received_at`) so that theirs breaches --lead seconds after
intake."""

import argparse
import asyncio
import contextlib
import os
import time
import uuid
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path

import asyncpg
import httpx
import psutil
from temporalio.client import Client

from complaints.database import open_pool
from complaints.operator_commands import Role
from complaints.operators import create_operator
from complaints.process import run_until_stopped
from complaints.temporal_client import connect
from tests.bench.alert_lag import breaches, duplicates, print_lags
from tests.bench.intake_load import post_complaint
from tests.bench.system import System, started_system

GIB = 2**30
DEADLINE = "acknowledgement"
BY_POST_DEADLINE = timedelta(days=2)  # --by-post: the acknowledgement deadline of every complaint


@dataclass
class Peaks:
    """The highest memory seen of the system's parts."""

    worker: float = 0.0  # the largest worker process (each has its own sticky cache)
    server: float = 0.0
    samples: list[str] = field(default_factory=list)


def part(system: System, marker: str) -> list[psutil.Process]:
    return [p for p in system.processes if any(marker in arg for arg in _cmdline(p))]


def _cmdline(process: psutil.Process) -> list[str]:
    try:
        return process.cmdline()
    except psutil.Error:
        return []


def rss(processes: list[psutil.Process]) -> float:
    total = 0.0
    for process in processes:
        with contextlib.suppress(psutil.Error):
            total += process.memory_info().rss
    return total


def sqlite_bytes(system: System) -> int:
    """The dev server's SQLite file with its write-ahead log (which may come and go)."""
    total = 0
    for path in system.settings.data_dir.glob("temporal.sqlite*"):
        with contextlib.suppress(FileNotFoundError):
            total += path.stat().st_size
    return total


@dataclass(frozen=True)
class Load:
    count: int
    every: int  # one complaint in `every` is sampled: by post, breaching `lead` seconds after intake
    lead: float
    concurrency: int
    by_post: bool  # every complaint by post (see the module's text)

    def body(self, i: int, tag: str) -> dict[str, object]:
        sampled = self.sampled(i)
        if self.by_post or sampled:
            reach: dict[str, str] = {"postal_address": f"{i} rue du Calme, 75011 Paris ({tag})"}
        else:
            reach = {"email": f"client{i}-{tag}@example.com"}
        complaint: dict[str, object] = {
            "complainant": {"name": f"Client {i}", **reach},
            "subject": "Facture erronée",
            "description": f"La facture {i} compte deux fois le même article.",
            "desired_resolution": "Un avoir",
        }
        if self.by_post and sampled:  # due `lead` seconds from now, where the others are due in two days
            complaint["received_at"] = (datetime.now(UTC) - BY_POST_DEADLINE + timedelta(seconds=self.lead)).isoformat()
        return complaint

    def sampled(self, i: int) -> bool:
        return i % self.every == self.every - 1


async def create_all(system: System, key: str, load: Load, peaks: Peaks) -> tuple[list[str], list[str], float]:
    """All the complaints, and the sampled ones among them; the seconds it took."""
    count = load.count
    tag, queue = uuid.uuid4().hex[:6], asyncio.Queue[int]()
    refs: list[str] = []
    sampled: list[str] = []
    for i in range(count):
        queue.put_nowait(i)
    headers = {"Authorization": f"Bearer {key}"}
    began = time.monotonic()
    limits = httpx.Limits(max_connections=load.concurrency)
    async with httpx.AsyncClient(base_url=system.api, timeout=120, limits=limits) as http:

        async def sender() -> None:
            while not queue.empty():
                i = queue.get_nowait()
                reference = await post_complaint(http, load.body(i, tag), headers, f"idle-{tag}-{i}")
                (sampled if load.sampled(i) else refs).append(reference)

        async def progress() -> None:
            step = max(count // 10, 1)
            shown = 0
            while True:
                await asyncio.sleep(5)
                done = len(refs) + len(sampled)
                observe(system, peaks)
                if done >= shown + step:
                    shown = done
                    line = (
                        f"{done:7d} created in {time.monotonic() - began:5.0f} s "
                        f"({done / (time.monotonic() - began):5.1f}/s)  worker {peaks.samples[-1]}"
                    )
                    print(line, flush=True)

        reporter = asyncio.create_task(progress())
        await asyncio.gather(*(sender() for _ in range(load.concurrency)))
        reporter.cancel()
    return refs + sampled, sampled, time.monotonic() - began


def observe(system: System, peaks: Peaks) -> None:
    worker = max((rss([process]) for process in part(system, "worker")), default=0.0)
    server = rss(part(system, "start-dev"))
    peaks.worker, peaks.server = max(peaks.worker, worker), max(peaks.server, server)
    peaks.samples.append(
        f"rss {worker / 2**20:6.0f} MiB, dev server rss {server / 2**20:6.0f} MiB, "
        f"sqlite {sqlite_bytes(system) / 2**20:7.1f} MiB"
    )


async def open_runs(client: Client) -> int:
    return (await client.count_workflows("WorkflowType = 'ComplaintWorkflow' AND ExecutionStatus = 'Running'")).count


async def events_per_run(client: Client, refs: list[str]) -> float:
    sample = refs[:: max(len(refs) // 20, 1)][:20]
    lengths = [len((await client.get_workflow_handle(ref).fetch_history()).events) for ref in sample]
    return sum(lengths) / len(lengths)


async def wait_for_sample(pool: asyncpg.Pool, sampled: list[str], until: float, system: System, peaks: Peaks) -> None:
    while time.monotonic() < until:
        alerted = await breaches(pool, sampled, DEADLINE)
        observe(system, peaks)
        if sum(1 for a in alerted if a.sent_at) >= len(sampled):
            return
        await asyncio.sleep(5)


async def idle_run(system: System, load: Load) -> None:
    pool = await open_pool(system.settings)
    client = await connect(system.settings)
    _, key = await create_operator(pool, f"idle {uuid.uuid4().hex[:6]}", Role.INTAKE)
    peaks = Peaks()
    reach = "all by post only, waiting for their letter" if load.by_post else "acknowledged by email and assessed"
    print(
        f"creating {load.count} complaints ({reach}; one in {load.every} sampled: by post only, "
        f"breaching {load.lead:.0f} s after intake)"
    )
    if load.count >= 50_000:
        print("at this scale creation takes an hour (--by-post) to several hours on a small machine")
    started = datetime.now(UTC)
    refs, sampled, took = await create_all(system, key, load, peaks)
    print(f"created {len(refs)} in {took:.0f} s ({len(refs) / took:.1f}/s); waiting for the sampled deadlines")
    last_due = started + timedelta(seconds=took + load.lead)
    wait = (last_due - datetime.now(UTC)).total_seconds() + 120
    await wait_for_sample(pool, sampled, time.monotonic() + wait, system, peaks)
    await report(system, pool, client, refs, sampled, peaks, load.lead)
    await pool.close()


async def report(
    system: System, pool: asyncpg.Pool, client: Client, refs: list[str], sampled: list[str], peaks: Peaks, lead: float
) -> None:
    n = len(refs)
    register = await pool.fetchval("SELECT pg_database_size(current_database())")
    runs, events = await open_runs(client), await events_per_run(client, [r for r in refs if r not in set(sampled)])
    cached = system.settings.worker_max_cached_workflows
    sqlite = sqlite_bytes(system)
    print(f"\n{n} complaints open; machine load {os.getloadavg()}")
    print(f"open runs (Temporal)   {runs}")
    print(f"events per run         {events:.0f} (sampled histories)")
    verdict = "under" if peaks.worker < GIB else "OVER"
    workers = len(part(system, "worker"))
    print(
        f"worker rss peak        {peaks.worker / 2**20:7.0f} MiB, the largest of {workers} "
        f"({verdict} 1 GiB; sticky cache {cached} runs each)"
    )
    print(f"dev server rss peak    {peaks.server / 2**20:7.0f} MiB  ({peaks.server / n / 1024:.1f} KiB per complaint)")
    print(f"sqlite file            {sqlite / 2**20:7.0f} MiB  ({sqlite / n / 1024:.1f} KiB per complaint)")
    print(f"register (PostgreSQL)  {register / 2**20:7.0f} MiB  ({register / n / 1024:.1f} KiB per complaint)")
    print(f"sampled deadlines ({len(sampled)}, each breaching {lead:.0f} s after intake):")
    print_lags(await breaches(pool, sampled, DEADLINE), len(sampled))
    alerted_twice, extra = await duplicates(pool, sampled, DEADLINE)
    print(f"duplicates             {alerted_twice} alerted twice, {extra} extra alert emails")
    per = 100_000 / n
    print(
        f"per 100,000 open: Temporal persistence ~{sqlite * per / GIB:.1f} GiB (SQLite here), "
        f"register ~{register * per / GIB:.1f} GiB"
    )


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--count", type=int, default=10_000)
    parser.add_argument("--sample-every", type=int, default=100, help="one complaint in this many breaches")
    parser.add_argument("--lead", type=float, default=600, help="seconds from a sampled intake to its breach")
    parser.add_argument("--concurrency", type=int, default=16)
    parser.add_argument("--workers", type=int, default=1, help="worker processes of the started system")
    parser.add_argument("--by-post", action="store_true", help="every complaint by post only (see above)")
    parser.add_argument("--code", type=Path, default=Path.cwd(), help="the checkout whose code is started")
    args = parser.parse_args()
    load = Load(args.count, args.sample_every, args.lead, args.concurrency, args.by_post)
    # Handed to every process. The API counts as its backlog the complaints
    # their runs have not taken in, and those waiting for their email: the
    # sampled ones by post wait for no email, so they are not counted.
    deadline = BY_POST_DEADLINE.total_seconds() if load.by_post else load.lead
    os.environ["COMPLAINTS_ACK_DEADLINE"] = f"{deadline:.0f} seconds"
    os.environ["COMPLAINTS_BACKLOG_THRESHOLD"] = "300"
    async with started_system(args.code.resolve(), args.workers) as system:
        await idle_run(system, load)


if __name__ == "__main__":
    run_until_stopped(main())  # Ctrl-C or SIGTERM: the system is stopped, its data removed
