"""The managers' board of corrective and improvement actions: the open ones
overdue first, then by owner and due date; each marked done with what was
done; the done ones with the recurrence of their root cause since
(reporting.actions, the same as `complaints actions list --all`)."""

from datetime import UTC, datetime

from fastapi import Depends, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from api.auth import Permission
from api.console import pages
from api.console.access import checked_form, require, router, signed_in
from api.console.frame import frame
from api.console.sessions import ConsoleSession
from api.services import Services, services
from reporting.actions import complete_action, list_actions
from reporting.model import ActionItem

NOTE_MAX = 2_000
KINDS_FR = {"corrective": "Corrective", "improvement": "Amélioration"}


def board_order(items: list[ActionItem]) -> list[ActionItem]:
    """Open ones first, the overdue before the others, each by owner and due date; then the done, latest first."""
    open_items = sorted(
        (i for i in items if i.status == "open"), key=lambda i: (not i.overdue, i.owner, i.due_on, i.id)
    )
    done = sorted((i for i in items if i.status == "done"), key=lambda i: i.done_at or datetime.min, reverse=True)
    return open_items + done


async def _page(
    svc: Services, session: ConsoleSession, status: int = 200, error: str | None = None, failed: int | None = None
) -> HTMLResponse:
    items = await list_actions(svc.pool, as_of=datetime.now(UTC), timezone=svc.settings.timezone, include_done=True)
    return pages.page(
        svc,
        "actions.html",
        status,
        **await frame(svc, session, "actions"),
        items=board_order(items),
        kinds=KINDS_FR,
        error=error,
        failed=failed,
    )


@router.get("/actions", response_class=HTMLResponse)
async def actions_board(session: ConsoleSession = Depends(signed_in), svc: Services = Depends(services)) -> Response:
    require(session, Permission.READ_REPORTS)
    return await _page(svc, session)


@router.post("/actions/{action_id}/fait", response_class=HTMLResponse)
async def mark_done(
    action_id: int, request: Request, session: ConsoleSession = Depends(signed_in), svc: Services = Depends(services)
) -> Response:
    values = await checked_form(request, session)
    require(session, Permission.READ_REPORTS)
    note = values.get("realise", "").strip()
    if not note:
        return await _page(svc, session, 422, "Dites ce qui a été fait.", action_id)
    done = await complete_action(
        svc.pool, action_id, session.operator.name, datetime.now(UTC), svc.settings.timezone, note[:NOTE_MAX]
    )
    if done is None:
        return await _page(svc, session, 404, "Cette action n'existe pas.", action_id)
    return RedirectResponse(f"/console/actions#action-{action_id}", 303)
