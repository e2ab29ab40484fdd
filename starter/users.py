"""`complaints users add|passwd|list|revoke`: operators, their API keys and console passwords."""

import argparse
import getpass
import sys
from datetime import UTC, date, datetime, time, timedelta
from typing import Any

from complaints.credentials import WeakPassword, check_password, set_password
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
from starter.database import on_register


def add_parser(commands: Any) -> None:
    users = commands.add_parser("users", help="operators and their API keys")
    actions = users.add_subparsers(required=True, metavar="ACTION")
    add = actions.add_parser("add", help="issue an API key (shown once)")
    add.add_argument("name", help="the operator's name, journaled with every action")
    add.add_argument("--role", required=True, choices=[role.value for role in Role])
    add.add_argument(
        "--expires",
        type=_expiry,
        help="when the key stops working: a date (2027-06-30), a number of days (90d) or `never`; "
        "default: COMPLAINTS_API_KEY_LIFETIME_DAYS from now",
    )
    add.add_argument("--password-stdin", action="store_true", help="read the console password from standard input")
    add.add_argument("--no-password", action="store_true", help="an API key only (a machine): no console sign-in")
    add.set_defaults(command=_add)
    passwd = actions.add_parser("passwd", help="set or change an operator's console password")
    passwd.add_argument("name")
    passwd.add_argument("--password-stdin", action="store_true", help="read the password from standard input")
    passwd.set_defaults(command=_passwd)
    listing = actions.add_parser("list", help="every operator, revoked keys included")
    listing.set_defaults(command=_list)
    revoke = actions.add_parser("revoke", help="revoke an operator's key")
    revoke.add_argument("name")
    revoke.set_defaults(command=_revoke)


def _read_password(from_stdin: bool) -> str:
    """The password, from standard input (one line) or typed twice."""
    if from_stdin:
        password = sys.stdin.readline().rstrip("\r\n")
    else:
        try:
            password = getpass.getpass("Console password: ")
            again = getpass.getpass("Again: ")
        except EOFError as error:  # no terminal and nothing on standard input
            raise WeakPassword("no password typed: use --password-stdin, or --no-password for a machine") from error
        if again != password:
            raise WeakPassword("the two passwords differ")
    check_password(password)
    return password


_NEVER = "never"


def _expiry(text: str) -> datetime | str:
    """--expires: an aware end of validity, or `never`."""
    text = text.strip().lower()
    if text == _NEVER:
        return _NEVER
    try:
        if text.endswith("d") and text[:-1].isdigit():
            return datetime.now(UTC) + timedelta(days=int(text[:-1]))
        day = date.fromisoformat(text)
    except ValueError as error:
        raise argparse.ArgumentTypeError(f"{text!r}: give a date (2027-06-30), days (90d) or `never`") from error
    return datetime.combine(day, time.max, tzinfo=UTC)  # valid through that day


def _add(args: argparse.Namespace) -> int:
    settings = Settings()
    expires_at: datetime | None
    if args.expires == _NEVER:
        expires_at = None
    elif args.expires is not None:
        expires_at = args.expires
    else:
        lifetime = settings.api_key_lifetime_days
        expires_at = datetime.now(UTC) + timedelta(days=lifetime) if lifetime else None
    if expires_at is not None and expires_at <= datetime.now(UTC):  # said before a password is asked for
        print(f"the expiry {expires_at:%Y-%m-%d %H:%M} is already past", file=sys.stderr)
        return 1
    try:
        password = None if args.no_password else _read_password(args.password_stdin)
    except WeakPassword as error:
        print(error, file=sys.stderr)
        return 1

    async def add(pool: Any) -> tuple[OperatorRecord, str]:
        record, key = await create_operator(pool, args.name, Role(args.role), expires_at)
        if password is not None:
            await set_password(pool, record.name, password)
        return record, key

    try:
        record, key = on_register(Settings(), add)
    except (OperatorExists, ValueError) as error:
        print(error, file=sys.stderr)
        return 1
    if password is not None:
        print(f"{record.name} can sign in to the console (/console) with this password.")
    until = f"until {record.expires_at:%Y-%m-%d %H:%M} UTC" if record.expires_at else "until revoked"
    print(f"{record.name} ({record.role.value}) can use the API with this key {until}; it is shown only now:")
    print(key)
    return 0


def _passwd(args: argparse.Namespace) -> int:
    try:
        password = _read_password(args.password_stdin)
        on_register(Settings(), lambda pool: set_password(pool, args.name, password))
    except (WeakPassword, UnknownOperator) as error:
        print(error, file=sys.stderr)
        return 1
    print(f"{' '.join(args.name.split())}'s console password is set")
    return 0


def _list(args: argparse.Namespace) -> int:
    records: list[OperatorRecord] = on_register(Settings(), list_operators)
    if not records:
        print("no operators: add one with `complaints users add NAME --role ROLE`")
    now = datetime.now(UTC)
    for record in records:
        if record.revoked_at:
            state = f"revoked {record.revoked_at:%Y-%m-%d %H:%M}"
        elif record.expires_at and record.expires_at <= now:
            state = f"expired {record.expires_at:%Y-%m-%d %H:%M}"
        else:
            state = f"active until {record.expires_at:%Y-%m-%d %H:%M}" if record.expires_at else "active"
        used = f"last used {record.last_used_at:%Y-%m-%d %H:%M}" if record.last_used_at else "never used"
        print(f"{record.name:<30} {record.role.value:<8} created {record.created_at:%Y-%m-%d %H:%M}  {state}  {used}")
    return 0


def _revoke(args: argparse.Namespace) -> int:
    try:
        record = on_register(Settings(), lambda pool: revoke_operator(pool, args.name))
    except UnknownOperator as error:
        print(error, file=sys.stderr)
        return 1
    assert record.revoked_at is not None
    print(f"{record.name}'s key is revoked (since {record.revoked_at:%Y-%m-%d %H:%M})")
    return 0
