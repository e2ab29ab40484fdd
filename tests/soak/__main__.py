"""The soak (issue 17): the real processes — the Temporal dev server on a SQLite
file, the embedded PostgreSQL, the SMTP sink, the HTTP API and two (or more)
`complaints worker` processes — under a load of R complaints a second for D
minutes through the API, each carried through a whole lifecycle, while every
part is killed or stopped on a timetable (tests/soak/faults.py). Then it checks
that nothing was lost, done twice or left stuck, and that the API never
answered 500, prints the table and exits 1 if any check failed.

`make soak` (or `.venv/bin/python -m tests.soak --rate 0.5 --minutes 8`); not part
of `make test` (no test_*.py here). Deadlines are short (settings, by flags) so
that warnings and breaches fall due during the run."""

import argparse
import asyncio
import json
import logging
import os
import platform
import signal
import sys
import time
import uuid
from datetime import UTC, datetime
from pathlib import Path

import asyncpg
import httpx

from complaints.database import open_pool
from complaints.operator_commands import Role
from complaints.operators import create_operator
from complaints.temporal_client import connect
from tests.bench.system import fresh_data
from tests.soak.checks import table, verify
from tests.soak.faults import Timetable, run_faults
from tests.soak.load import Api, Keys, Lifecycles, Phases, Tally, expected_alerts
from tests.soak.parts import SoakSystem


def arguments() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--rate", type=float, default=0.5, help="complaints a second")
    parser.add_argument("--minutes", type=float, default=8.0, help="minutes of load (and of faults)")
    parser.add_argument("--workers", type=int, default=2, help="worker processes")
    parser.add_argument("--assessment", default="90 seconds", help="every priority's assessment deadline")
    parser.add_argument("--response", default="3 minutes", help="every priority's response deadline")
    parser.add_argument("--drain", type=float, default=300, help="seconds to wait after the load for the last steps")
    parser.add_argument("--code", type=Path, default=Path.cwd(), help="the checkout whose code is started")
    return parser.parse_args()


def overrides(args: argparse.Namespace) -> dict[str, str]:
    deadlines = {p: {"assessment": args.assessment, "response": args.response} for p in ("P1", "P2", "P3", "P4")}
    return {
        "COMPLAINTS_PRIORITY_DEADLINES": json.dumps(deadlines),
        "COMPLAINTS_CUSTOMER_LINK_RATE": "",  # every customer comes from 127.0.0.1 here
        "COMPLAINTS_INTAKE_SWEEP_SECONDS": "15",
        "COMPLAINTS_WORKER_SHUTDOWN_GRACE_SECONDS": "2",
    }


async def keys_of(pool: asyncpg.Pool) -> Keys:
    tag, made = uuid.uuid4().hex[:4], {}
    for name, role in [
        ("intake", Role.INTAKE),
        ("handler", Role.HANDLER),
        ("handler2", Role.HANDLER),
        ("manager", Role.MANAGER),
        ("manager2", Role.MANAGER),
    ]:
        _, key = await create_operator(pool, f"Soak {name} {tag}", role)
        made[name] = {"Authorization": f"Bearer {key}"}
    return Keys(**made)


async def settled(pool: asyncpg.Pool, lifecycles: Lifecycles, deadline: float) -> None:
    """Until every email is sent, every alert delivered to each sink and every
    expected alert raised (or the drain's deadline passes)."""
    expected = expected_alerts(lifecycles.all)
    while time.monotonic() < deadline:
        try:
            unsent = await pool.fetchval("SELECT count(*) FROM outbox WHERE status <> 'sent'")
            undelivered = await pool.fetchval(
                """SELECT count(*) FROM alerts a
                    WHERE (SELECT count(*) FROM alert_deliveries d WHERE d.alert_key = a.key) < 3"""
            )
            raised = {
                (row["complaint_reference"], row["deadline"], row["kind"])
                for row in await pool.fetch("SELECT complaint_reference, deadline, kind FROM alerts")
            }
        except Exception:
            await asyncio.sleep(2)
            continue
        if unsent == 0 and undelivered == 0 and expected <= raised:
            return
        await asyncio.sleep(2)


async def soak(args: argparse.Namespace) -> int:
    data = fresh_data("soak-")
    system = SoakSystem(args.code.resolve(), data, args.workers, overrides(args))
    started_at = datetime.now(UTC)
    try:
        settings = await system.start()
        print(f"soak: data {data}, API {system.api_url}, {args.workers} workers", flush=True)
        pool = await open_pool(settings)
        client = await connect(settings)
        tally, timetable = Tally(), Timetable(args.minutes)
        watcher = asyncio.create_task(system.watch())
        limits = httpx.Limits(max_connections=64)
        async with httpx.AsyncClient(base_url=system.api_url, timeout=60, limits=limits) as http:
            began = time.monotonic()
            api = Api(http, tally, began)
            phases = Phases(pool)
            follower = asyncio.create_task(phases.follow())
            lifecycles = Lifecycles(
                api, await keys_of(pool), system.sink, phases, settings.compensation_approval_threshold
            )
            await load_and_faults(args, system, lifecycles, timetable, began, pool)
            checks = await verify(system, pool, client, lifecycles.all, tally)
        watcher.cancel()
        follower.cancel()
        report = "\n".join([*header(args, started_at, system, timetable, lifecycles, tally), "", table(checks)])
        print("\n" + report, flush=True)
        (data / "soak-report.txt").write_text(report + "\n")
        failures = [f"{life.reference} {life.scenario}: {life.failure}" for life in lifecycles.all if life.failure]
        (data / "lifecycle-failures.txt").write_text("\n".join(failures) + "\n")
        await pool.close()
    finally:
        await system.stop()  # however the soak ended: no part left running
    failed = [check.name.strip() for check in checks if not check.ok]
    print(f"\n{len(failed)} check(s) failed" + (": " + ", ".join(failed) if failed else ""))
    print(f"data, logs and report kept in {data}")
    return 1 if failed else 0


async def load_and_faults(
    args: argparse.Namespace,
    system: SoakSystem,
    lifecycles: Lifecycles,
    timetable: Timetable,
    began: float,
    pool: asyncpg.Pool,
) -> None:
    """The load and the faults together, then the lifecycles' last steps and the
    system's settling, both within the drain: the run's length stays bounded."""
    faults = asyncio.create_task(run_faults(system, timetable, began))
    count, tasks = int(args.rate * args.minutes * 60), []
    for number in range(count):
        await asyncio.sleep(max(0.0, began + number / args.rate - time.monotonic()))
        tasks.append(asyncio.create_task(lifecycles.run(number)))
    print(f"{time.monotonic() - began:6.0f} s  load over: {count} complaints sent", flush=True)
    await faults
    drained = time.monotonic() + args.drain
    _, late = await asyncio.wait(tasks, timeout=args.drain)
    for task in late:
        task.cancel()
    await asyncio.gather(*late, return_exceptions=True)
    for life in lifecycles.all:
        if not life.done and not life.failure:
            life.failure = f"not carried out within the drain ({args.drain:.0f} s after the load)"
    print(f"{time.monotonic() - began:6.0f} s  lifecycles over ({len(late)} cut short)", flush=True)
    await settled(pool, lifecycles, drained)
    print(f"{time.monotonic() - began:6.0f} s  settled; verifying", flush=True)


def header(
    args: argparse.Namespace,
    started_at: datetime,
    system: SoakSystem,
    timetable: Timetable,
    lifecycles: Lifecycles,
    tally: Tally,
) -> list[str]:
    operators = lifecycles.operators
    return [
        f"soak of {started_at:%Y-%m-%d %H:%M} UTC: {len(lifecycles.all)} complaints at {args.rate}/s for "
        f"{args.minutes} min, {args.workers} workers, deadlines: assessment {args.assessment}, "
        f"response {args.response}",
        f"machine: {platform.machine()} {os.cpu_count()} cores, {platform.python_implementation()} "
        f"{platform.python_version()}, load average {os.getloadavg()[0]:.1f} at the end",
        "faults: "
        + "; ".join(line.strip() for line in timetable.log if "worker" not in line)
        + f"; workers SIGKILLed {system.restarts.counts['worker killed']} times",
        "parts that stopped on their own (started again): " + (", ".join(system.exits) or "none"),
        f"commands refused as not yet possible and sent again: {operators.not_yet}"
        + (f" (e.g. {operators.not_yet_example[:200]})" if operators.not_yet else ""),
        "requests without an answer (sent again): " + ("; ".join(tally.transport_errors[:5]) or "none"),
        "HTTP answers: " + ", ".join(f"{status} {n}" for status, n in sorted(tally.statuses.items())),
    ]


def main() -> None:
    logging.getLogger("asyncpg.pool").setLevel(logging.CRITICAL)  # the register's outage is on the timetable
    signal.signal(signal.SIGTERM, signal.default_int_handler)  # stopped, the soak stops its parts too
    sys.exit(asyncio.run(soak(arguments())))


if __name__ == "__main__":
    main()
