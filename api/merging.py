"""A merge carried out on both runs, for the API, the console and the command
line: the register says whether the two complaints may be merged
(complaints/merges.py), then the absorbed complaint's run closes it as merged
(`merge_into`), then the survivor's run takes it in (`absorb`). Each update
has an id of its own pair, and a merge whose first half is done (the absorbed
complaint names the survivor already) goes on with the second: a merge posted
twice, or again after a failure between the halves, is carried out once."""

import asyncpg
from temporalio.client import Client

from api.problems import ProblemError
from api.workflow_calls import run_update
from complaints.complaint_status import ComplaintStatus
from complaints.merges import MergeRefused, check_merge
from complaints.operator_commands import Absorption, MergeInto, Operator
from workflows.complaint import ComplaintWorkflow


async def merge(client: Client, pool: asyncpg.Pool, absorbed: str, survivor: str, by: Operator) -> ComplaintStatus:
    """Merge `absorbed` into `survivor`; returns the survivor's status."""
    try:
        pair = await check_merge(pool, absorbed, survivor)
    except MergeRefused as refused:
        raise ProblemError(404 if refused.code == "unknown_complaint" else 409, str(refused)) from None
    if not pair.already:
        command = MergeInto(into=pair.survivor, by=by)
        update_id = f"merge:{pair.absorbed}:{pair.survivor}"
        await run_update(client, pool, pair.absorbed, ComplaintWorkflow.merge_into, command, update_id)
    absorption = Absorption(absorbed=pair.absorbed, absorbed_sent_at=pair.absorbed_sent_at, by=by)
    update_id = f"absorb:{pair.absorbed}"
    return await run_update(client, pool, pair.survivor, ComplaintWorkflow.absorb, absorption, update_id)
