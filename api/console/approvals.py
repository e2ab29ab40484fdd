"""The managers' approvals queue: the compensations waiting for a manager,
oldest request first, with the amount, the proposer and the justification,
and the approval form of the complaint page (the same command, posted to the
same route) beside each. A manager sees no form for a compensation of their
own: the workflow refuses the proposer's verdict anyway."""

import json
from typing import Any

import asyncpg
from fastapi.responses import HTMLResponse

from api.console import command_forms, pages
from api.console.frame import frame
from api.console.sessions import ConsoleSession
from api.services import Services
from api.workflow_calls import live_status

QUEUE_KEY = "approbations"
LIMIT = 100
FORM_PATH = "approval"  # api/commands.py's row for approve_compensation

_WAITING = """
SELECT c.reference, c.subject, c.complainant_name, r.occurred_at AS requested_at, r.actor AS proposer,
       d.details AS decision, (SELECT max(id) FROM journal WHERE complaint_reference = c.reference
                                  AND actor <> 'system') AS last_step
  FROM complaints c
 CROSS JOIN LATERAL (SELECT occurred_at, actor FROM journal
                      WHERE complaint_reference = c.reference AND event = 'approval_requested'
                      ORDER BY id DESC LIMIT 1) r
  LEFT JOIN LATERAL (SELECT details FROM journal
                      WHERE complaint_reference = c.reference AND event IN ('decided', 'review_decided')
                      ORDER BY id DESC LIMIT 1) d ON true
 WHERE c.phase = 'awaiting_approval'
 ORDER BY r.occurred_at, c.reference
 LIMIT $1
"""


def _details(value: Any) -> dict[str, Any]:
    return json.loads(value) if isinstance(value, str) else (value or {})


async def waiting(svc: Services, pool: asyncpg.Pool) -> list[dict[str, Any]]:
    """Each compensation waiting, oldest request first; the justification
    from the run (the journal keeps the decision's figures, not its text)."""
    found = []
    for row in await pool.fetch(_WAITING, LIMIT):
        compensation = _details(row["decision"]).get("compensation") or {}
        live = await live_status(svc.client, row["reference"])
        proposal = live.proposal if live else None
        found.append(
            {
                **dict(row),
                "amount": compensation.get("amount"),
                "kind": compensation.get("kind"),
                "description": compensation.get("description"),
                "justification": proposal.justification if proposal else None,
                "proposer": proposal.decided_by if proposal else row["proposer"],
                # the complaint page's version (routes._version): phase and last step by a person
                "version": f"awaiting_approval-{row['last_step'] or 0}",
            }
        )
    return found


async def approvals_page(svc: Services, session: ConsoleSession, done: str | None) -> HTMLResponse:
    """`done`: the complaint whose verdict was just recorded."""
    rows = await waiting(svc, svc.pool)
    if done and not await svc.pool.fetchval("SELECT 1 FROM complaints WHERE reference = $1", done):
        done = None  # only a reference of the register is shown back
    return pages.page(
        svc,
        "approvals.html",
        **await frame(svc, session, QUEUE_KEY),
        rows=rows,
        form_path=FORM_PATH,
        me=session.operator.name,
        kinds=command_forms.CHOICES_FR,
        notice=f"Votre décision sur {done} est enregistrée." if done else None,
    )
