"""Deadline storm (issue 17, item 2): N complaints whose deadlines fall due
within the same minute, and how late their alerts come.

`make bench-storm N=3000` (or `.venv/bin/python -m tests.bench.deadline_storm
--count 3000`) starts the system as `make run` does (tests/bench/system.py: a
fresh data folder, free ports) with a short acknowledgement deadline
(COMPLAINTS_ACK_DEADLINE = --lead seconds), and POSTs N complaints reachable
by post only, so that nothing acknowledges them: each one's acknowledgement
deadline breaches once (that clock never warns). Each is dated back
(`received_at`) so that the N deadlines are spread evenly over --window
seconds, starting --lead minus --window seconds after the first request: all
runs exist and wait on their timers before the first falls due (it says so,
or warns how many were not yet taken in).

Then it waits for every breach's alert email (at most --timeout seconds after
the last deadline) and prints, from the register, the lag from each due time to
the alert being recorded and to the operations email being sent
(p50/p95/p99/max), the alerts per second (overall and the busiest second), the
duplicates (none expected), and the CPU and memory of each process."""

import argparse
import asyncio
import os
import time
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

import asyncpg
import httpx

from complaints.database import open_pool
from complaints.operator_commands import Role
from complaints.operators import create_operator
from complaints.process import run_until_stopped
from tests.bench.alert_lag import Alerted, breaches, duplicates, print_lags
from tests.bench.intake_load import post_complaint
from tests.bench.system import System, cpu_seconds, rss_mib, started_system

DEADLINE = "acknowledgement"


@dataclass(frozen=True)
class Storm:
    count: int
    window: float  # the deadlines are spread over this many seconds
    lead: float  # the acknowledgement deadline: received_at + lead is when one falls due
    concurrency: int
    timeout: float  # after the last deadline, how long to wait for the last alert

    def received_at(self, first_request: datetime, i: int) -> datetime:
        """Dated so that the i-th falls due at first_request + lead - window + i * window / count."""
        return first_request - timedelta(seconds=self.window * (1 - i / self.count))


def body(i: int, tag: str, received_at: datetime) -> dict[str, object]:
    return {
        "complainant": {"name": f"Client {i}", "postal_address": f"{i} rue des Tempêtes, 75011 Paris ({tag})"},
        "subject": "Colis abîmé",
        "description": f"Le colis {i} est arrivé ouvert, le contenu était cassé.",
        "desired_resolution": "Un remplacement",
        "received_at": received_at.isoformat(),
    }


async def post_all(system: System, key: str, storm: Storm, first_request: datetime) -> list[str]:
    tag, refs, queue = uuid.uuid4().hex[:6], [], asyncio.Queue[int]()
    for i in range(storm.count):
        queue.put_nowait(i)
    headers = {"Authorization": f"Bearer {key}"}
    limits = httpx.Limits(max_connections=storm.concurrency)
    async with httpx.AsyncClient(base_url=system.api, timeout=120, limits=limits) as http:

        async def sender() -> None:
            while not queue.empty():
                i = queue.get_nowait()
                payload = body(i, tag, storm.received_at(first_request, i))
                refs.append(await post_complaint(http, payload, headers, f"storm-{tag}-{i}"))

        await asyncio.gather(*(sender() for _ in range(storm.concurrency)))
    return refs


async def wait_until_taken_in(pool: asyncpg.Pool, refs: list[str], first_due: float) -> None:
    """The storm measures the alert path once every run waits on its timer: say
    when they all do, or how many did not yet when the first deadline fell due."""
    while True:
        taken_in = await pool.fetchval(
            "SELECT count(*) FROM complaints WHERE reference = ANY($1) AND intake_recorded_at IS NOT NULL", refs
        )
        if taken_in == len(refs):
            print(f"every run waits on its timer, {first_due - time.monotonic():.0f} s before the first deadline")
            return
        if time.monotonic() >= first_due:
            print(f"WARNING: {len(refs) - taken_in} runs not yet taken in at the first deadline: raise --lead")
            return
        await asyncio.sleep(2)


async def wait_for_alerts(pool: asyncpg.Pool, refs: list[str], until: float) -> list[Alerted]:
    while True:
        alerted = await breaches(pool, refs, DEADLINE)
        if sum(1 for a in alerted if a.sent_at) >= len(refs) or time.monotonic() > until:
            return alerted
        await asyncio.sleep(2)


def report(storm: Storm, refs: list[str], alerted: list[Alerted], dupes: tuple[int, int]) -> None:
    print(f"\n{len(refs)} complaints, deadlines over {storm.window:.0f} s; machine load {os.getloadavg()}")
    print_lags(alerted, len(refs))
    within = sum(1 for a in alerted if a.sent_at and (a.sent_at - a.due_at).total_seconds() <= storm.window)
    print(f"emailed within {storm.window:.0f} s of their due time: {within}")
    print(f"duplicates          {dupes[0]} complaints alerted twice, {dupes[1]} alert emails beyond one per alert")


async def storm_run(system: System, storm: Storm) -> None:
    pool = await open_pool(system.settings)
    _, key = await create_operator(pool, f"storm {uuid.uuid4().hex[:6]}", Role.INTAKE)
    cpu_before = cpu_seconds(system.processes)
    first_request, began = datetime.now(UTC), time.monotonic()
    first_due = first_request + timedelta(seconds=storm.lead - storm.window)
    last_due = first_due + timedelta(seconds=storm.window)
    print(f"{storm.count} deadlines fall due from {first_due:%H:%M:%S} to {last_due:%H:%M:%S} UTC")
    refs = await post_all(system, key, storm, first_request)
    created = time.monotonic() - began
    print(f"created {len(refs)} complaints in {created:.0f} s ({len(refs) / created:.1f}/s)")
    if created > storm.lead - storm.window:
        late = created - storm.lead + storm.window
        print(f"WARNING: creation ended {late:.0f} s after the first deadline: raise --lead")
    await wait_until_taken_in(pool, refs, began + storm.lead - storm.window)
    rows = await wait_for_alerts(pool, refs, began + storm.lead + storm.timeout)
    elapsed = time.monotonic() - began
    report(storm, refs, rows, await duplicates(pool, refs, DEADLINE))
    cpu_after, memory = cpu_seconds(system.processes), rss_mib(system.processes)
    for name, seconds in cpu_after.items():
        used = seconds - cpu_before.get(name, 0.0)
        share = 100 * used / elapsed
        print(f"cpu {name[:60]:<60} {used:7.1f} s  {share:5.0f} % of a core  rss {memory.get(name, 0):5.0f} MiB")
    await pool.close()


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--count", type=int, default=3000)
    parser.add_argument("--window", type=float, default=60, help="seconds over which the deadlines fall due")
    parser.add_argument(
        "--lead", type=float, help="the acknowledgement deadline in seconds (default: room to create N)"
    )
    parser.add_argument("--concurrency", type=int, default=24)
    parser.add_argument("--timeout", type=float, default=600, help="seconds after the last deadline to wait")
    parser.add_argument("--workers", type=int, default=1, help="worker processes of the started system")
    parser.add_argument("--code", type=Path, default=Path.cwd(), help="the checkout whose code is started")
    args = parser.parse_args()
    lead = args.lead or args.window + 120 + args.count / 6  # creation at 6/s on a loaded machine, with room
    storm = Storm(args.count, args.window, lead, args.concurrency, args.timeout)
    # Handed to every process of the system (system_env copies this environment).
    os.environ["COMPLAINTS_ACK_DEADLINE"] = f"{lead:.0f} seconds"
    os.environ["COMPLAINTS_BACKLOG_THRESHOLD"] = str(10 * args.count)  # not acknowledged on purpose
    async with started_system(args.code.resolve(), args.workers) as system:
        await storm_run(system, storm)


if __name__ == "__main__":
    run_until_stopped(main())  # Ctrl-C or SIGTERM: the system is stopped, its data removed
