"""`complaints merge A B`: merge complaint A, a duplicate, into complaint B of
the same customer (api/merging.py): A is closed as merged into B, B keeps the
earlier sending date and takes A's documents and messages; the customer is
told once. Run again, it merges once."""

import argparse
import asyncio
import sys

from api.merging import merge
from api.problems import ProblemError
from complaints.complaint_status import ComplaintStatus
from complaints.database import register_pool
from complaints.operator_commands import Operator, Role
from complaints.settings import Settings
from complaints.temporal_client import connect
from starter.database import with_database

Subparsers = argparse._SubParsersAction


def add_parser(commands: Subparsers) -> None:
    merged = commands.add_parser(
        "merge", help="merge a duplicate complaint into another of the same customer (the first is closed as merged)"
    )
    merged.add_argument("absorbed", help="the duplicate: closed as merged")
    merged.add_argument("survivor", help="the complaint that goes on, with the earlier sending date")
    merged.add_argument("--by", default="operator", help="who merges them (journaled on both)")
    merged.set_defaults(command=_merge)


def _merge(args: argparse.Namespace) -> int:
    settings = Settings()
    by = Operator(name=args.by, role=Role.HANDLER)

    async def run() -> ComplaintStatus:
        client = await connect(settings)
        async with register_pool(with_database(settings)) as pool:
            return await merge(client, pool, args.absorbed.strip().upper(), args.survivor.strip().upper(), by)

    try:
        status = asyncio.run(run())
    except ProblemError as refused:
        print(f"not merged: {refused.detail}", file=sys.stderr)
        return 1
    sent = f"{status.sent_at:%Y-%m-%d %H:%M} UTC" if status.sent_at else "not recorded"
    print(f"{args.absorbed.strip().upper()} merged into {status.reference} (sent {sent}, "
          f"regulatory answer due {status.regulatory_due_at:%Y-%m-%d %H:%M} UTC)")  # fmt: skip
    return 0
