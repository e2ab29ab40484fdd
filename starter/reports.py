"""`complaints report` and `complaints actions`: the indicators of a period in
any format, the quality report on demand, and corrective actions tracked to
completion."""

import argparse
import asyncio
import sys
import uuid
from datetime import UTC, date, datetime
from pathlib import Path

from complaints.settings import Settings
from reporting import projection
from reporting.actions import complete_action, list_actions
from reporting.figures import period_text
from reporting.formats import FORMATS, render
from reporting.kpis import DEFAULT_GROUP_LIMIT, DIMENSION_COLUMNS, kpi_report
from reporting.model import ActionItem
from reporting.periods import FIRST_DAY_HELP, LAST_DAY_HELP, report_period
from starter.database import on_register

Subparsers = argparse._SubParsersAction


def add_parsers(commands: Subparsers) -> None:
    report = commands.add_parser("report", help="indicators of the complaints received in a period (docs/reports.md)")
    report.add_argument(
        "--from",
        dest="first",
        type=date.fromisoformat,
        metavar="YYYY-MM-DD",
        help=FIRST_DAY_HELP,
    )
    report.add_argument("--to", dest="last", type=date.fromisoformat, metavar="YYYY-MM-DD", help=LAST_DAY_HELP)
    report.add_argument("--by", choices=list(DIMENSION_COLUMNS), help="the same indicators per value of")
    report.add_argument(
        "--limit",
        type=int,
        default=DEFAULT_GROUP_LIMIT,
        help=f"largest groups shown apart, the others together (default {DEFAULT_GROUP_LIMIT})",
    )
    report.add_argument("--format", choices=FORMATS, default="text")
    report.add_argument("--output", type=Path, metavar="FILE", help="write there instead of the terminal")
    report.add_argument(
        "--quality",
        action="store_true",
        help="make the quality report now (a worker draws, stores and emails it to the quality list)",
    )
    report.add_argument(
        "--rebuild",
        action="store_true",
        help="recompute the projection reports read from the whole journal (after the register was edited by hand)",
    )
    report.set_defaults(command=_report)

    actions = commands.add_parser("actions", help="corrective and improvement actions")
    verbs = actions.add_subparsers(required=True, metavar="ACTION")
    listing = verbs.add_parser("list", help="open actions by due date")
    listing.add_argument("--overdue", action="store_true", help="only those past their due date")
    listing.add_argument("--all", action="store_true", help="done ones too, with the recurrence of their root cause")
    listing.set_defaults(command=_actions_list)
    done = verbs.add_parser("done", help="mark an action done (once: done again, it keeps its first date)")
    done.add_argument("id", type=int)
    done.add_argument("--by", default="operator", help="who confirms it is done (journaled)")
    done.add_argument("--note", help="what was done (kept with the action, journaled)")
    done.set_defaults(command=_actions_done)


def _report(args: argparse.Namespace) -> int:
    settings = Settings()
    try:
        period_from, period_to = report_period(args.first, args.last, settings.timezone)
    except ValueError as error:
        print(error, file=sys.stderr)
        return 2
    if args.quality:
        return _quality(settings, period_from if args.first else None, period_to if args.first else None)
    if args.rebuild:
        return _rebuild(settings)

    report = on_register(
        settings,
        lambda pool: kpi_report(
            pool,
            period_from,
            period_to,
            args.by,
            timezone=settings.timezone,
            currency=settings.currency,
            limit=args.limit,
        ),
    )
    text = render(report, args.format)
    if args.output:
        args.output.write_text(text, encoding="utf-8")
        print(f"{args.output}: {args.format}, {len(text.encode())} bytes")
    else:
        sys.stdout.write(text)
    return 0


def _quality(settings: Settings, period_from: datetime | None, period_to: datetime | None) -> int:
    """Run the quality report workflow now and wait for it (a worker must be running)."""
    from activities.reporting import StoredReport
    from complaints.temporal_client import connect
    from workflows.quality_report import QualityReportRequest, QualityReportWorkflow

    async def run() -> StoredReport:
        client = await connect(settings)
        return await client.execute_workflow(
            QualityReportWorkflow.run,
            QualityReportRequest(period_from=period_from, period_to=period_to),
            id=f"{settings.task_queue}-quality-report-{uuid.uuid4().hex[:12]}",
            task_queue=settings.task_queue,
            static_summary="Quality report made on demand",
        )

    stored = asyncio.run(run())
    period = period_text(stored.period_from, stored.period_to, settings.timezone)
    print(f"quality report {stored.id} ({period}) stored and emailed to {stored.recipient}")
    return 0


def _rebuild(settings: Settings) -> int:
    print(f"reports' projection rebuilt from the journal: {on_register(settings, projection.rebuild)} complaints")
    return 0


def _line(item: ActionItem) -> str:
    state = "DONE " + item.done_at.strftime("%Y-%m-%d") if item.done_at else ("OVERDUE" if item.overdue else "open")
    line = (
        f"{item.id:>6}  {item.due_on}  {state:<15} {item.kind:<11} {item.owner:<20} "
        f"{item.complaint_reference}  {item.root_cause_category or '—'}: {item.description}"
    )
    if item.recurrence:
        r = item.recurrence
        line += (
            f"\n        root cause since done: {r.before} complaints in the 30 days before, "
            f"{r.after} in {r.after_days:.0f} days after"
        )
    return line


def _actions_list(args: argparse.Namespace) -> int:
    settings = Settings()

    items = on_register(
        settings,
        lambda pool: list_actions(
            pool,
            as_of=datetime.now(UTC),
            timezone=settings.timezone,
            overdue_only=args.overdue,
            include_done=args.all,
        ),
    )
    if not items:
        print("no overdue action" if args.overdue else "no open action")
    for item in items:
        print(_line(item))
    return 0


def _actions_done(args: argparse.Namespace) -> int:
    settings = Settings()

    item = on_register(
        settings, lambda pool: complete_action(pool, args.id, args.by, datetime.now(UTC), settings.timezone, args.note)
    )
    if item is None:
        print(f"no action {args.id}", file=sys.stderr)
        return 1
    print(_line(item))
    return 0
