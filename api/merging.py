"""A merge carried out on both runs, for the API, the console and the command
line: the register checks the two complaints and claims the merge
(complaints/merge_claims.py: two merges sharing a complaint are checked one
after the other, the second refused), then the absorbed complaint's run
closes it as merged (`merge_into`), then the survivor's run takes it in
(`absorb`), and the claim is done. Each update has an id of its own pair, and
a merge whose first half is done (the absorbed complaint names the survivor
already) goes on with the second: a merge posted twice, or again after a
failure between the halves, is carried out once."""

import asyncpg
from temporalio.client import Client

from api.problems import ProblemError
from api.workflow_calls import run_update
from complaints.complaint_status import ComplaintStatus
from complaints.merge_claims import claim_merge, merge_done, withdraw
from complaints.merges import MergePair, MergeRefused
from complaints.operator_commands import Absorption, MergeInto, Operator
from workflows.complaint import ComplaintWorkflow


async def merge(client: Client, pool: asyncpg.Pool, absorbed: str, survivor: str, by: Operator) -> ComplaintStatus:
    """Merge `absorbed` into `survivor`; returns the survivor's status. A
    refusal of the register is a problem caused by its MergeRefused."""
    try:
        pair = await claim_merge(pool, absorbed, survivor)
    except MergeRefused as refused:
        raise ProblemError(404 if refused.code == "unknown_complaint" else 409, str(refused)) from refused
    if not pair.already:
        await _close_absorbed(client, pool, pair, by)
    absorption = Absorption(absorbed=pair.absorbed, absorbed_sent_at=pair.absorbed_sent_at, by=by)
    update_id = f"absorb:{pair.absorbed}"
    status = await run_update(client, pool, pair.survivor, ComplaintWorkflow.absorb, absorption, update_id)
    await merge_done(pool, pair)
    return status


async def _close_absorbed(client: Client, pool: asyncpg.Pool, pair: MergePair, by: Operator) -> None:
    """The first half; refused by the run (a 4xx), nothing was done and the
    claim is withdrawn. Unanswered (a 5xx), it may be done: the claim stays
    for the merge posted again."""
    command = MergeInto(into=pair.survivor, by=by)
    try:
        await run_update(
            client, pool, pair.absorbed, ComplaintWorkflow.merge_into, command, f"merge:{pair.absorbed}:{pair.survivor}"
        )
    except ProblemError as problem:
        if problem.status < 500:
            await withdraw(pool, pair)
        raise
