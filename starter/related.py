"""`complaints link A B`: relate two complaints without merging them
(complaints/related.py), journaled on both."""

import argparse
import sys

from complaints.related import LinkRefused, link
from complaints.settings import Settings
from starter.database import on_register

Subparsers = argparse._SubParsersAction


def add_parser(commands: Subparsers) -> None:
    linked = commands.add_parser("link", help="relate two complaints without merging them (journaled on both)")
    linked.add_argument("reference")
    linked.add_argument("other", help="the related complaint's reference")
    linked.add_argument("--by", default="operator", help="who links them (journaled)")
    linked.add_argument("--note", help="why they are related")
    linked.set_defaults(command=_link)


def _link(args: argparse.Namespace) -> int:
    settings = Settings()

    try:
        made = on_register(
            settings, lambda pool: link(pool, args.reference.strip().upper(), args.other, args.by, args.note)
        )
    except LinkRefused as refused:
        print(f"not linked: {refused}", file=sys.stderr)
        return 1
    print(f"{args.reference} and {args.other.strip().upper()} " + ("linked" if made else "were linked already"))
    return 0
