"""One erasure, end to end: an open complaint ended first (only when forced),
the register's personal data erased, then the complaint's runs deleted from
Temporal. Each step can be run again: a request interrupted between them
(Temporal down) is completed by repeating it."""

import asyncpg
from temporalio.client import Client

from complaints.erasure import ComplaintNotFound, Erased, close_for_erasure, erase_complaint
from complaints.run_deletion import delete_runs


async def erase(pool: asyncpg.Pool, client: Client, reference: str, *, by: str, reason: str, force: bool) -> Erased:
    """Erase a complaint's personal data everywhere. An open complaint is
    refused (ComplaintStillOpen) unless `force`: then its run is terminated
    and it is closed in the register, journaled with the reason."""
    phase = await pool.fetchval("SELECT phase FROM complaints WHERE reference = $1", reference)
    if phase is None:
        raise ComplaintNotFound(f"{reference}: no such complaint")
    if force and phase != "closed":
        # deleting a running execution terminates it first: nothing of it runs on
        await delete_runs(client, reference)
        await close_for_erasure(pool, reference, by, reason)
    erased = await erase_complaint(pool, reference, by, reason)
    await delete_runs(client, reference)
    return erased
