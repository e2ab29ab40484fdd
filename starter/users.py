"""`complaints users add|list|revoke`: operators' API keys."""

import argparse
import asyncio
import sys
from collections.abc import Awaitable, Callable
from typing import Any

from complaints.database import register_pool
from complaints.operator_commands import Role
from complaints.operators import (
    OperatorExists,
    OperatorRecord,
    UnknownOperator,
    create_operator,
    list_operators,
    revoke_operator,
)
from complaints.settings import Settings
from starter.database import with_database


def add_parser(commands: Any) -> None:
    users = commands.add_parser("users", help="operators and their API keys")
    actions = users.add_subparsers(required=True, metavar="ACTION")
    add = actions.add_parser("add", help="issue an API key (shown once)")
    add.add_argument("name", help="the operator's name, journaled with every action")
    add.add_argument("--role", required=True, choices=[role.value for role in Role])
    add.set_defaults(command=_add)
    listing = actions.add_parser("list", help="every operator, revoked keys included")
    listing.set_defaults(command=_list)
    revoke = actions.add_parser("revoke", help="revoke an operator's key")
    revoke.add_argument("name")
    revoke.set_defaults(command=_revoke)


def _with_pool(work: Callable[[Any], Awaitable[Any]]) -> Any:
    async def run() -> Any:
        async with register_pool(with_database(Settings())) as pool:
            return await work(pool)

    return asyncio.run(run())


def _add(args: argparse.Namespace) -> int:
    try:
        record, key = _with_pool(lambda pool: create_operator(pool, args.name, Role(args.role)))
    except (OperatorExists, ValueError) as error:
        print(error, file=sys.stderr)
        return 1
    print(f"{record.name} ({record.role.value}) can use the API with this key; it is shown only now:")
    print(key)
    return 0


def _list(args: argparse.Namespace) -> int:
    records: list[OperatorRecord] = _with_pool(list_operators)
    if not records:
        print("no operators: add one with `complaints users add NAME --role ROLE`")
    for record in records:
        state = f"revoked {record.revoked_at:%Y-%m-%d %H:%M}" if record.revoked_at else "active"
        print(f"{record.name:<30} {record.role.value:<8} created {record.created_at:%Y-%m-%d %H:%M}  {state}")
    return 0


def _revoke(args: argparse.Namespace) -> int:
    try:
        record = _with_pool(lambda pool: revoke_operator(pool, args.name))
    except UnknownOperator as error:
        print(error, file=sys.stderr)
        return 1
    assert record.revoked_at is not None
    print(f"{record.name}'s key is revoked (since {record.revoked_at:%Y-%m-%d %H:%M})")
    return 0
