"""Benchmark: complaints from submission to acknowledgement email received,
against a minimal one-activity workflow on the same server.

Run it on the `make run` stack (another terminal): `make bench`, or
`.venv/bin/python -m tests.bench.ack_throughput --rate 10 --count 200 --burst 400`.
Prints throughput, latency percentiles and the worker's memory."""

import argparse
import asyncio
import statistics
import subprocess
import sys
import time
import uuid
from collections.abc import Awaitable, Callable
from pathlib import Path

from complaints.database import open_pool
from complaints.intake import submit_complaint
from complaints.settings import Settings
from complaints.submission import validate_submission
from complaints.temporal_client import connect
from devstack.mail_sink import message_files, read_message
from starter.database import with_database
from tests.bench.minimal import MinimalWorkflow

Job = Callable[[int], Awaitable[None]]


def percentile(values: list[float], p: float) -> float:
    return statistics.quantiles(values, n=100, method="inclusive")[int(p) - 1]


async def drive(job: Job, count: int, rate: float, concurrency: int) -> float:
    """Run `count` jobs at `rate` per second (0: as fast as `concurrency`
    allows); returns the time the first one started."""
    began = time.monotonic()
    gate = asyncio.Semaphore(concurrency)

    async def one(i: int) -> None:
        async with gate:
            await job(i)

    tasks = []
    for i in range(count):
        if rate:
            await asyncio.sleep(max(0.0, began + i / rate - time.monotonic()))
        tasks.append(asyncio.create_task(one(i)))
    await asyncio.gather(*tasks)
    return began


def report(label: str, began: float, finished: dict[int, float], started: dict[int, float]) -> float:
    latencies = [finished[i] - started[i] for i in finished]
    throughput = len(finished) / (max(finished.values()) - began)
    print(
        f"{label:<34} n={len(finished):4d}  {throughput:6.1f}/s  latency p50 {percentile(latencies, 50) * 1000:6.0f} ms"
        f"  p95 {percentile(latencies, 95) * 1000:6.0f} ms  p99 {percentile(latencies, 99) * 1000:6.0f} ms"
    )
    return throughput


class ComplaintPath:
    """submit_complaint → acknowledgement .eml written by the stack's SMTP sink."""

    def __init__(self, settings: Settings, pool, client) -> None:
        self.settings, self.pool, self.client = settings, pool, client
        self.run_id = uuid.uuid4().hex[:8]
        self.started: dict[int, float] = {}
        self.references: dict[str, int] = {}

    async def submit(self, i: int) -> None:
        submission = validate_submission(
            {
                "channel": "api",
                "complainant": {"name": f"Client {i}", "email": f"client{i}@example.com"},
                "subject": "Retard de livraison",
                "description": "Commande reçue avec trois semaines de retard.",
                "desired_resolution": "Remboursement des frais de port",
                "idempotency_key": f"bench-{self.run_id}-{i}",
            },
            self.settings.document_limits,
        )
        self.started[i] = time.monotonic()
        submitted = await submit_complaint(self.pool, self.client, self.settings, submission, actor="bench")
        self.references[submitted.reference] = i

    async def acknowledged(self, seen_before: set[Path], timeout: float = 120) -> dict[int, float]:
        """When each acknowledgement arrived (sink file mtime, on the monotonic clock)."""
        offset = time.time() - time.monotonic()
        finished: dict[int, float] = {}
        deadline = time.monotonic() + timeout
        while len(finished) < len(self.references) and time.monotonic() < deadline:
            for path in message_files(self.settings.mail_dir):
                if path in seen_before:
                    continue
                seen_before.add(path)
                subject = str(read_message(path)["Subject"])
                reference = subject.rsplit(" ", 1)[-1]
                if reference in self.references:
                    finished[self.references[reference]] = path.stat().st_mtime - offset
            await asyncio.sleep(0.2)
        return finished


async def measure_complaints(settings: Settings, rate: float, count: int, concurrency: int) -> tuple[float, dict, dict]:
    pool = await open_pool(settings)
    client = await connect(settings)
    path = ComplaintPath(settings, pool, client)
    seen = set(message_files(settings.mail_dir))
    began = await drive(path.submit, count, rate, concurrency)
    finished = await path.acknowledged(seen)
    await pool.close()
    return began, finished, path.started


async def measure_minimal(
    settings: Settings, rate: float, count: int, concurrency: int, task_queue: str
) -> tuple[float, dict, dict]:
    """Start minimal workflows at the same arrival pattern; each finishes when
    the server closed it."""
    client = await connect(settings)
    started: dict[int, float] = {}
    handles = {}
    run_id = uuid.uuid4().hex[:8]

    async def job(i: int) -> None:
        started[i] = time.monotonic()
        handles[i] = await client.start_workflow(
            MinimalWorkflow.run, str(i), id=f"bench-{run_id}-{i}", task_queue=task_queue
        )

    began = await drive(job, count, rate, concurrency)
    offset = time.time() - time.monotonic()
    finished: dict[int, float] = {}
    for i, handle in handles.items():
        await handle.result()
        closed = (await handle.describe()).close_time
        assert closed is not None  # the result came: the run is closed
        finished[i] = closed.timestamp() - offset
    return began, finished, started


def rss_mib(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    return float("nan")


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--rate", type=float, default=10.0, help="fixed arrival rate (per second)")
    parser.add_argument("--count", type=int, default=200, help="complaints at the fixed rate")
    parser.add_argument("--burst", type=int, default=400, help="complaints as fast as possible")
    parser.add_argument("--concurrency", type=int, default=32)
    args = parser.parse_args()
    settings = with_database(Settings())  # the stack's register: DATABASE_URL or the embedded one

    task_queue = f"bench-minimal-{uuid.uuid4().hex[:6]}"
    baseline = subprocess.Popen([sys.executable, "-m", "tests.bench.minimal", "--task-queue", task_queue])
    try:
        await asyncio.sleep(3)  # let the baseline worker poll
        if baseline.poll() is not None:
            raise SystemExit("the baseline worker exited: see its error above")
        print(f"rate {args.rate}/s x {args.count}, then a burst of {args.burst} (concurrency {args.concurrency})")
        report(
            f"complaint → ack email @ {args.rate:g}/s",
            *await measure_complaints(settings, args.rate, args.count, args.concurrency),
        )
        report(
            f"minimal workflow @ {args.rate:g}/s",
            *await measure_minimal(settings, args.rate, args.count, args.concurrency, task_queue),
        )
        complaint_max = report(
            "complaint → ack email, burst", *await measure_complaints(settings, 0, args.burst, args.concurrency)
        )
        minimal_max = report(
            "minimal workflow, burst", *await measure_minimal(settings, 0, args.burst, args.concurrency, task_queue)
        )
        print(f"complaint path at {complaint_max / minimal_max:.0%} of the minimal workflow's throughput")
        print(f"baseline worker peak RSS {rss_mib(baseline.pid):.0f} MiB")
    finally:
        baseline.terminate()
        baseline.wait()


if __name__ == "__main__":
    asyncio.run(main())
