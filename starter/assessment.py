"""`complaints assess REF --by NAME`: confirm a complaint's assessment, as the
console and `POST /complaints/{ref}/assessment` do; with `--regime` and a
`--reason`, put it under another regime (its regulatory deadlines move)."""

import argparse
import asyncio
import sys

from pydantic import ValidationError
from temporalio.client import WorkflowUpdateFailedError
from temporalio.exceptions import FailureError
from temporalio.service import RPCError, RPCStatusCode

from complaints.complaint_status import ComplaintStatus
from complaints.operator_commands import ConfirmAssessment, Operator
from complaints.settings import Settings
from complaints.temporal_client import Update, connect
from starter.due_times import due_text
from workflows.complaint import ComplaintWorkflow

Subparsers = argparse._SubParsersAction


def add_parser(commands: Subparsers) -> None:
    assess = commands.add_parser(
        "assess", help="confirm a complaint's assessment; change its priority, category or regime (with a reason)"
    )
    assess.add_argument("reference")
    assess.add_argument("--by", required=True, help="the handler confirming (journaled)")
    assess.add_argument("--priority", choices=("P1", "P2", "P3", "P4"), help="override the suggested priority")
    assess.add_argument("--category", help="the complaint's category")
    assess.add_argument("--regime", help="general, acpr, payment_services, investment_services or one of your own")
    assess.add_argument("--reason", help="why the priority or the regime changes (required then)")
    assess.set_defaults(command=_assess)


def _assess(args: argparse.Namespace) -> int:
    try:
        command = ConfirmAssessment(
            by=Operator(name=args.by),
            priority=args.priority,
            category=args.category,
            regime=args.regime,
            reason=args.reason,
        )
    except ValidationError as error:
        print(f"refused: {error.errors()[0]['msg']}", file=sys.stderr)
        return 1
    try:
        status = asyncio.run(_confirm(args.reference.strip(), command))
    except WorkflowUpdateFailedError as error:
        cause = error.cause
        print(f"refused: {cause.message if isinstance(cause, FailureError) else error}", file=sys.stderr)
        return 1
    except RPCError as error:
        if error.status != RPCStatusCode.NOT_FOUND:
            raise
        print(f"{args.reference}: no such complaint", file=sys.stderr)
        return 1
    print(
        f"{status.reference}: priority {status.priority}, regime {status.regime}, answer due by "
        f"{due_text(status.regulatory_due_at, Settings())} at the latest"
    )
    return 0


async def _confirm(reference: str, command: ConfirmAssessment) -> ComplaintStatus:
    client = await connect(Settings())
    update: Update = ComplaintWorkflow.confirm_assessment
    status: ComplaintStatus = await client.get_workflow_handle(reference).execute_update(update, command)
    return status
