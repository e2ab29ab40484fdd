"""`complaints register`: the register of a period exported for auditors and
the regulator (CSV or XLSX), and its summary by category and outcome for the
supervisor's yearly questionnaire (docs/reports.md)."""

import argparse
import sys
from datetime import date
from pathlib import Path

from complaints.settings import Settings
from reporting.periods import FIRST_DAY_HELP, LAST_DAY_HELP, days, report_period
from reporting.register_export import EXPORT_FORMATS
from reporting.register_files import register_file
from reporting.register_summary import register_summary, summary_csv
from starter.database import on_register

Subparsers = argparse._SubParsersAction


def _period_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--from", dest="first", type=date.fromisoformat, metavar="YYYY-MM-DD", help=FIRST_DAY_HELP)
    parser.add_argument("--to", dest="last", type=date.fromisoformat, metavar="YYYY-MM-DD", help=LAST_DAY_HELP)
    parser.add_argument("--output", type=Path, metavar="FILE", help="write there instead of the terminal")


def add_parsers(commands: Subparsers) -> None:
    register = commands.add_parser("register", help="the register exported for auditors and the regulator")
    verbs = register.add_subparsers(required=True, metavar="ACTION")
    export = verbs.add_parser("export", help="one row per complaint received in the period")
    _period_arguments(export)
    export.add_argument("--format", choices=EXPORT_FORMATS, default="csv")
    export.set_defaults(command=_export)
    summary = verbs.add_parser("summary", help="the complaints by category and outcome, with delays (CSV)")
    _period_arguments(summary)
    summary.add_argument("--year", type=int, help="a calendar year (instead of --from and --to)")
    summary.set_defaults(command=_summary, format="csv")


def _write(args: argparse.Namespace, content: bytes) -> int:
    if args.output:
        args.output.write_bytes(content)
        print(f"{args.output}: {args.format}, {len(content)} bytes")
    else:
        sys.stdout.buffer.write(content)
        sys.stdout.flush()
    return 0


def _export(args: argparse.Namespace) -> int:
    settings = Settings()
    try:
        period = report_period(args.first, args.last, settings.timezone)
    except ValueError as error:
        print(error, file=sys.stderr)
        return 2

    return _write(
        args, on_register(settings, lambda pool: register_file(pool, *period, args.format, settings.timezone))
    )


def _summary(args: argparse.Namespace) -> int:
    settings = Settings()
    try:
        if args.year is not None:
            period = days(date(args.year, 1, 1), date(args.year, 12, 31), settings.timezone)
        else:
            period = report_period(args.first, args.last, settings.timezone)
    except ValueError as error:
        print(error, file=sys.stderr)
        return 2

    return _write(args, summary_csv(on_register(settings, lambda pool: register_summary(pool, *period))).encode())
