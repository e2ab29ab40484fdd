"""`complaints`: the command line of operations and of the local stack."""

import argparse
import asyncio
import atexit
import mimetypes
import os
import sys
from datetime import datetime
from pathlib import Path
from zoneinfo import ZoneInfo

from pydantic import ValidationError
from temporalio.client import WorkflowUpdateFailedError
from temporalio.exceptions import FailureError
from temporalio.service import RPCError, RPCStatusCode

from complaints.complaint_status import ComplaintStatus
from complaints.database import NoDatabaseUrl, register_pool
from complaints.dates import parse_local_moment
from complaints.intake import submit_complaint
from complaints.operator_commands import PostalLetter
from complaints.settings import Settings
from complaints.submission import Channel, field_reasons, validate_submission
from complaints.temporal_client import TemporalUnavailable, Update, connect, workflow_ui_url
from devstack.mail_sink import message_files, read_message
from starter import assessment, certs, erase, events, merge, register, related, reports, users
from starter.database import NoLocalDatabase, with_database
from starter.due_times import due_text
from workflows.complaint import ComplaintWorkflow


def main(argv: list[str] | None = None) -> None:
    args = _parser().parse_args(argv)
    try:
        code = args.command(args) or 0
    except (TemporalUnavailable, NoLocalDatabase) as error:
        print(error, file=sys.stderr)
        code = 1
    _exit(code)


def _exit(code: int) -> None:
    """Exit without the interpreter's final teardown: the Temporal client's
    native threads can abort it (PyGILState_Release). Exit handlers (the
    embedded PostgreSQL's) still run, and the output is flushed first."""
    atexit._run_exitfuncs()
    sys.stdout.flush()
    sys.stderr.flush()
    os._exit(code)


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="complaints", description=__doc__)
    commands = parser.add_subparsers(required=True, metavar="COMMAND")

    run = commands.add_parser("run", help="start the whole system on embedded parts")
    run.set_defaults(command=_run)
    worker = commands.add_parser("worker", help="run a worker only")
    worker.set_defaults(command=_worker)
    codec = commands.add_parser("codec-server", help="decode payloads for the Temporal UI")
    codec.set_defaults(command=_codec_server)
    api = commands.add_parser("api", help="serve the HTTP API and the customer pages")
    api.set_defaults(command=_api)
    users.add_parser(commands)
    certs.add_parser(commands)
    reports.add_parsers(commands)  # report, actions
    register.add_parsers(commands)  # register export, register summary
    erase.add_parser(commands)
    related.add_parser(commands)  # link
    assessment.add_parser(commands)  # assess
    merge.add_parser(commands)  # merge
    events.add_parsers(commands)  # subscribers, rules

    submit = commands.add_parser("submit", help="take in a complaint (phone, face to face)")
    submit.add_argument("--name", required=True)
    submit.add_argument("--email")
    submit.add_argument("--phone")
    submit.add_argument("--address", help="postal address")
    submit.add_argument("--customer-id")
    submit.add_argument("--complainant-type", choices=["consumer", "professional"])
    submit.add_argument("--subject", required=True)
    submit.add_argument("--description", required=True)
    submit.add_argument("--desired-resolution")
    submit.add_argument("--product", help="product or service concerned")
    submit.add_argument("--person", action="append", default=[], help="person concerned (repeat)")
    submit.add_argument("--attach", action="append", default=[], type=Path, metavar="FILE")
    submit.add_argument("--channel", default=Channel.PHONE.value, choices=[c.value for c in Channel])
    submit.add_argument(
        "--sent-on",
        metavar="DATE",
        help="when the complainant sent it: the date on the letter (2026-03-14 or 14/03/2026, a time may follow, "
        "in COMPLAINTS_TIMEZONE); default: now, as for a call",
    )
    submit.add_argument("--idempotency-key", help="the same key never makes a second complaint")
    submit.add_argument("--operator", default="operator", help="who takes the complaint in")
    submit.set_defaults(command=_submit)

    status = commands.add_parser("status", help="where a complaint stands")
    status.add_argument("reference")
    status.set_defaults(command=_status)

    postal = commands.add_parser("ack-postal", help="confirm an acknowledgement sent by post")
    postal.add_argument("reference")
    postal.add_argument("--by", required=True, help="the operator confirming")
    postal.set_defaults(command=_ack_postal)

    answered = commands.add_parser(
        "response-postal", help="confirm the response letter went by post (a complainant without email)"
    )
    answered.add_argument("reference")
    answered.add_argument("--by", required=True, help="the operator confirming")
    answered.set_defaults(command=_response_postal)

    mail = commands.add_parser("mail", help="messages kept by the local SMTP sink")
    mail_commands = mail.add_subparsers(required=True, metavar="ACTION")
    mail_commands.add_parser("list").set_defaults(command=_mail_list)
    show = mail_commands.add_parser("show")
    show.add_argument("number", type=int)
    show.set_defaults(command=_mail_show)
    _add_inbound_and_import(commands)
    return parser


def _run(args: argparse.Namespace) -> None:
    from starter.run import main as run_main

    run_main()


def _codec_server(args: argparse.Namespace) -> None:
    from codec.server import main as codec_main

    codec_main()


def _api(args: argparse.Namespace) -> None:
    from api.server import main as api_main

    api_main(with_database(Settings()))


def _worker(args: argparse.Namespace) -> None:
    from worker.main import main as worker_main

    worker_main(with_database(Settings()))


def _submit(args: argparse.Namespace) -> int:
    settings = Settings()
    data = {
        "channel": args.channel,
        "complainant": {
            "name": args.name,
            "email": args.email,
            "phone": args.phone,
            "postal_address": args.address,
            "customer_id": args.customer_id,
            "type": args.complainant_type,
        },
        "subject": args.subject,
        "description": args.description,
        "desired_resolution": args.desired_resolution,
        "product": args.product,
        "persons_concerned": args.person,
        "idempotency_key": args.idempotency_key,
        "documents": [],
    }
    if args.sent_on:
        try:
            data["sent_at"] = parse_local_moment(args.sent_on, ZoneInfo(settings.timezone))
        except ValueError as error:
            print(f"--sent-on: {error}", file=sys.stderr)
            return 2
    for path in args.attach:
        if not path.is_file():
            print(f"--attach {path}: no such file", file=sys.stderr)
            return 2
        content_type = mimetypes.guess_type(path.name)[0] or "application/octet-stream"
        data["documents"].append({"filename": path.name, "content_type": content_type, "content": path.read_bytes()})
    try:
        submission = validate_submission(data, settings.document_limits)
    except ValidationError as error:
        print(describe_errors(error), file=sys.stderr)
        return 2

    async def submit() -> str:
        async with register_pool(with_database(settings)) as pool:
            client = await connect(settings)
            result = await submit_complaint(pool, client, settings, submission, actor=args.operator)
            return result.reference

    print(asyncio.run(submit()))
    return 0


def describe_errors(error: ValidationError) -> str:
    """One line per problem: which field, and why."""
    lines = ["The complaint was not recorded:"]
    lines += [f"  {problem.where('complaint')}: {problem.reason}" for problem in field_reasons(error)]
    return "\n".join(lines)


def _status(args: argparse.Namespace) -> int:
    settings = Settings()

    async def query() -> ComplaintStatus | None:
        client = await connect(settings)
        try:
            return await client.get_workflow_handle(args.reference).query(ComplaintWorkflow.status)
        except RPCError as error:
            if error.status == RPCStatusCode.NOT_FOUND:
                return None
            raise

    status = asyncio.run(query())
    if status is None:
        print(f"{args.reference}: no such complaint", file=sys.stderr)
        return 1
    registered = asyncio.run(_sending_and_regime(settings, args.reference))
    ui = workflow_ui_url(settings, status.reference)
    when = lambda value: value.astimezone().strftime("%Y-%m-%d %H:%M:%S %Z") if value else "—"  # noqa: E731
    due = lambda value: due_text(value, settings)  # noqa: E731
    acknowledged = f"{when(status.acknowledged_at)} by {status.ack_method}" if status.acknowledged_at else "not yet"
    if registered is None:
        sent, regime = "— (no register to read it from)", ""
    else:
        sent = when(registered[0]) if registered[0] else "not recorded"
        regime = f"\n  regime           {registered[1]}"
    print(
        f"""{status.reference}
  phase            {status.phase.value} (waiting for {status.waiting_for})
  channel          {status.channel.value}
  sent             {sent}
  received         {when(status.received_at)}{regime}
  acknowledgement  {acknowledged}; due {due(status.ack_due_at)}
  response due     {due(status.response_due_at)}
  regulatory due   {due(status.regulatory_due_at)} (the regime's maximum, never paused)
  SLA              {status.sla_status.value}{" — breached: " + ", ".join(status.breaches) if status.breaches else ""}
  Temporal UI      {ui}"""
    )
    return 0


async def _sending_and_regime(settings: Settings, reference: str) -> tuple[datetime | None, str] | None:
    """When the complaint was sent and its regime, as the register keeps them;
    None when there is no register to read (the status comes from Temporal)."""
    try:
        async with register_pool(with_database(settings)) as pool:
            row = await pool.fetchrow("SELECT sent_at, regime FROM complaints WHERE reference = $1", reference)
    except (NoDatabaseUrl, NoLocalDatabase, OSError):
        return None
    return (row["sent_at"], row["regime"]) if row else None


def _ack_postal(args: argparse.Namespace) -> int:
    status = _confirm_letter(args, ComplaintWorkflow.confirm_postal_acknowledgement)
    if status is None:
        return 1
    print(f"{status.reference} acknowledged by post on {status.acknowledged_at:%Y-%m-%d %H:%M} UTC")
    return 0


def _response_postal(args: argparse.Namespace) -> int:
    status = _confirm_letter(args, ComplaintWorkflow.confirm_postal_response)
    if status is None:
        return 1
    print(f"{status.reference}: response sent by post on {status.responded_at:%Y-%m-%d %H:%M} UTC")
    return 0


def _confirm_letter(args: argparse.Namespace, update: Update) -> ComplaintStatus | None:
    """Run a letter's confirmation; None (and the reason on stderr) when refused."""
    settings = Settings()

    async def confirm() -> ComplaintStatus:
        client = await connect(settings)
        status: ComplaintStatus = await client.get_workflow_handle(args.reference).execute_update(
            update, PostalLetter(confirmed_by=args.by)
        )
        return status

    try:
        return asyncio.run(confirm())
    except WorkflowUpdateFailedError as error:
        cause = error.cause
        print(f"refused: {cause.message if isinstance(cause, FailureError) else error}", file=sys.stderr)
        return None


def _mail_list(args: argparse.Namespace) -> int:

    files = message_files(Settings().mail_dir)
    if not files:
        print("no messages")
    for number, path in enumerate(files, start=1):
        message = read_message(path)
        print(f"{number:4d}  {message['Date']}  to {message['To']}  {message['Subject']}")
    return 0


def _mail_show(args: argparse.Namespace) -> int:

    files = message_files(Settings().mail_dir)
    if not 1 <= args.number <= len(files):
        print(f"no message {args.number}; there are {len(files)}", file=sys.stderr)
        return 1
    message = read_message(files[args.number - 1])
    for header in ("Date", "From", "To", "Subject", "Message-ID"):
        print(f"{header}: {message[header]}")
    print()
    body = message.get_body(preferencelist=("plain",))
    print(body.get_content() if body else "")
    return 0


# --- inbound mailbox and bulk import ------------------------------------------


def _add_inbound_and_import(commands: argparse._SubParsersAction) -> None:
    inbound = commands.add_parser("inbound", help="run the inbound SMTP mailbox of the complaints address")
    inbound.set_defaults(command=_inbound)

    bulk = commands.add_parser("import", help="import complaints from a CSV file (columns: docs/inbound-and-import.md)")
    bulk.add_argument("file", type=Path, metavar="FILE.csv")
    bulk.add_argument(
        "--channel",
        default=Channel.IMPORT.value,
        choices=[c.value for c in Channel],
        help="channel of the rows whose channel column is empty (default: import)",
    )
    bulk.add_argument("--operator", default="import", help="who imports the file (journaled)")
    bulk.add_argument("--dry-run", action="store_true", help="check every row, import nothing")
    bulk.set_defaults(command=_import)


def _inbound(args: argparse.Namespace) -> None:
    from inbound.server import main as inbound_main

    inbound_main(with_database(Settings()))


def _import(args: argparse.Namespace) -> int:
    """Exit 0: every row valid (imported or already present); 1: some rows
    invalid, the others imported; 2: nothing could be imported or the import stopped."""
    from datetime import UTC, datetime

    from bulk_import.csv_rows import CsvFileError, iter_problems, read_rows
    from bulk_import.importer import ImportInterrupted, ImportReport, import_rows

    settings = Settings()
    if not args.file.is_file():
        print(f"{args.file}: no such file", file=sys.stderr)
        return 2
    try:
        rows = read_rows(
            args.file, Channel(args.channel), settings.document_limits, settings.timezone, datetime.now(UTC)
        )
    except CsvFileError as error:
        print(f"{args.file}: nothing imported: {error}", file=sys.stderr)
        return 2
    for problem in iter_problems(rows):
        print(problem, file=sys.stderr)
    invalid = [row for row in rows if row.submission is None]
    if args.dry_run:
        print(f"{len(rows)} rows: {len(rows) - len(invalid)} valid, {len(invalid)} invalid (dry run: nothing imported)")
        return 1 if invalid else 0

    async def run() -> ImportReport:
        async with register_pool(with_database(settings)) as pool:
            client = await connect(settings)
            return await import_rows(pool, client, settings, rows, actor=args.operator, source=args.file.name)

    try:
        report = asyncio.run(run()) if len(invalid) < len(rows) else ImportReport(invalid=invalid)
    except ImportInterrupted as error:
        print("\n".join(error.report.lines()))
        print(
            f"{args.file}: stopped at line {error.line}: {error.__cause__!r}\n"
            "The rows before it are imported. Run the same command again once the register and "
            "Temporal are reachable: nothing is imported twice.",
            file=sys.stderr,
        )
        return 2
    except NoLocalDatabase:
        raise  # main() says to set DATABASE_URL
    except Exception as error:  # the register or Temporal unreachable before the first row
        print(f"{args.file}: nothing imported: {error!r}", file=sys.stderr)
        return 2
    print("\n".join([*report.lines(), report.summary()]))
    return 1 if report.invalid else 0
