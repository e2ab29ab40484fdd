"""How far an API client may date a complaint's receipt: `received_at` moves
its deadlines, the indicators and the reference's year, so it is bounded —
never in the future (beyond a little clock skew), and no older than the
configured window, except for an admin key (the bulk import, on the command
line, is not bound by it)."""

from datetime import UTC, datetime, timedelta

from api.problems import field_problems, invalid_input
from complaints.operator_commands import Role
from complaints.operators import OperatorRecord
from complaints.settings import Settings

CLOCK_SKEW = timedelta(minutes=5)


def check_received_at(received_at: datetime | None, operator: OperatorRecord, settings: Settings) -> None:
    """Refuse (422) a receipt date out of bounds for this operator."""
    if received_at is None:
        return
    now = datetime.now(UTC)
    problem = None
    if received_at > now + CLOCK_SKEW:
        problem = f"{received_at.isoformat()} is in the future: a complaint is dated when it was received"
    elif received_at < now - timedelta(days=settings.received_at_window_days) and operator.role is not Role.ADMIN:
        problem = (
            f"{received_at.isoformat()} is more than {settings.received_at_window_days} days ago: "
            "older complaints are taken in by the bulk import or with an admin key"
        )
    if problem:
        raise invalid_input(field_problems([{"loc": ("received_at",), "msg": problem}], drop=()))
