"""`complaints erase REF` and `complaints erase --complainant EMAIL`: a
person's data erased from the register and their complaints' runs deleted
from Temporal (GDPR, right to erasure)."""

import argparse
import asyncio
import sys
from typing import Any

from complaints.database import register_pool
from complaints.erasure import ComplaintNotFound, ComplaintStillOpen, Erased, references_of_complainant
from complaints.erasure_request import erase
from complaints.settings import Settings
from complaints.temporal_client import connect
from starter.database import with_database

DEFAULT_REASON = "demande d'effacement de la personne concernée (RGPD, article 17)"


def add_parser(commands: Any) -> None:
    parser = commands.add_parser("erase", help="erase a complainant's personal data (GDPR)")
    parser.add_argument("reference", nargs="?", help="the complaint to erase")
    parser.add_argument("--complainant", metavar="EMAIL", help="every complaint of this email address")
    parser.add_argument("--by", required=True, help="who erases (journaled)")
    parser.add_argument("--reason", default=DEFAULT_REASON, help="why (journaled; no personal data)")
    parser.add_argument(
        "--force", action="store_true", help="an open complaint too: its run is terminated and it is closed first"
    )
    parser.set_defaults(command=_erase)


def _erase(args: argparse.Namespace) -> int:
    if (args.reference is None) == (args.complainant is None):
        print("erase: give either a reference or --complainant EMAIL", file=sys.stderr)
        return 2
    return asyncio.run(_run(args))


async def _run(args: argparse.Namespace) -> int:
    settings = with_database(Settings())
    client = await connect(settings)
    async with register_pool(settings) as pool:
        references = [args.reference] if args.reference else await references_of_complainant(pool, args.complainant)
        if not references:
            print(f"no complaint of {args.complainant}", file=sys.stderr)
            return 1
        code = 0
        for reference in references:
            try:
                erased = await erase(pool, client, reference, by=args.by, reason=args.reason, force=args.force)
            except (ComplaintNotFound, ComplaintStillOpen) as error:
                print(error, file=sys.stderr)
                code = 1
                continue
            print(_said(erased))
    return code


def _said(erased: Erased) -> str:
    when = f"{erased.erased_at:%Y-%m-%d %H:%M}"
    if erased.already:
        return f"{erased.reference}: erased already ({when}); its runs are deleted from Temporal"
    return f"{erased.reference}: personal data erased ({when}); its runs are deleted from Temporal"
