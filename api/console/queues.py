"""The console's queues: named views over the register, each a condition on
the complaints table, narrowed by the filters in the URL (so a view can be
bookmarked), sorted by the next deadline, paged. Counts are read on each page."""

from dataclasses import dataclass, fields
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import asyncpg

PAGE_SIZE = 50
RECENTLY_CLOSED_DAYS = 30

# the next deadline still running: LEAST skips the NULLs of those met
NEXT_DEADLINE = """LEAST(
    CASE WHEN acknowledged_at IS NULL THEN ack_due_at END,
    CASE WHEN assessed_at IS NULL THEN assessment_due_at END,
    CASE WHEN responded_at IS NULL THEN response_due_at END,
    CASE WHEN responded_at IS NULL THEN regulatory_due_at END)"""

_OPEN = "phase <> 'closed'"


@dataclass(frozen=True)
class Queue:
    key: str
    label: str
    condition: str  # SQL; $1 is the signed-in operator's name
    managers_only: bool = False


QUEUES = [
    Queue("mes-reclamations", "Mes réclamations", f"{_OPEN} AND handler = $1"),
    Queue("non-attribuees", "Non attribuées", f"{_OPEN} AND handler IS NULL"),
    Queue("a-risque", "À risque", f"{_OPEN} AND sla_status = 'warning'"),
    Queue("en-depassement", "En dépassement", f"{_OPEN} AND sla_status = 'breached'"),
    Queue("attente-client", "En attente du client", "phase = 'awaiting_customer'"),
    Queue("approbations", "À approuver", "phase = 'awaiting_approval'", managers_only=True),
    Queue(
        "cloturees",
        "Clôturées récemment",
        f"phase = 'closed' AND closed_at > now() - interval '{RECENTLY_CLOSED_DAYS} days'",
    ),
    Queue("toutes", "Toutes", "true"),
]
BY_KEY = {queue.key: queue for queue in QUEUES}


@dataclass(frozen=True)
class Filters:
    """The URL's filters (French names, as shown); empty: not filtered."""

    phase: str = ""
    priorite: str = ""
    regime: str = ""
    sla: str = ""
    canal: str = ""
    responsable: str = ""
    equipe: str = ""
    produit: str = ""
    cause: str = ""
    du: str = ""
    au: str = ""

    @classmethod
    def of(cls, query: dict[str, str]) -> "Filters":
        return cls(**{f.name: query.get(f.name, "").strip()[:200] for f in fields(cls)})

    def items(self) -> dict[str, str]:
        return {f.name: getattr(self, f.name) for f in fields(self) if getattr(self, f.name)}

    def where(self, values: list[object], zone: ZoneInfo) -> str:
        """Clauses for the set filters, their values appended to `values`."""
        columns = {
            "phase": "phase",
            "priorite": "priority",
            "regime": "regime",
            "sla": "sla_status",
            "canal": "channel",
            "responsable": "handler",
            "equipe": "team",
            "produit": "product",
            "cause": "root_cause_category",
        }
        clauses = []
        for name, column in columns.items():
            if value := getattr(self, name):
                values.append(value)
                clauses.append(f"{column} = ${len(values)}")
        for name, operator, shift in (("du", ">=", 0), ("au", "<", 1)):
            if day := _day(getattr(self, name)):
                values.append(datetime.combine(day + timedelta(days=shift), time(), zone))
                clauses.append(f"received_at {operator} ${len(values)}")
        return "".join(f" AND {clause}" for clause in clauses)


def _day(text: str) -> date | None:
    try:
        return date.fromisoformat(text) if text else None
    except ValueError:
        return None


def visible_queues(is_manager: bool) -> list[Queue]:
    return [queue for queue in QUEUES if is_manager or not queue.managers_only]


async def counts(pool: asyncpg.Pool, operator: str, queues: list[Queue]) -> dict[str, int]:
    """Each queue's count, in one scan of the register."""
    selects = ", ".join(f"count(*) FILTER (WHERE {queue.condition}) AS q{i}" for i, queue in enumerate(queues))
    row = await pool.fetchrow(f"SELECT {selects} FROM complaints", operator)
    return {queue.key: row[f"q{i}"] for i, queue in enumerate(queues)}


async def queue_page(
    pool: asyncpg.Pool, queue: Queue, operator: str, filters: Filters, page: int, zone: ZoneInfo
) -> tuple[list[asyncpg.Record], int]:
    values: list[object] = [operator] if "$1" in queue.condition else []
    where = f"WHERE ({queue.condition}){filters.where(values, zone)}"
    total = await pool.fetchval(f"SELECT count(*) FROM complaints {where}", *values)
    rows = await pool.fetch(
        f"""SELECT reference, subject, complainant_name, priority, regime, phase, sla_status, handler, channel,
                   {NEXT_DEADLINE} AS next_deadline
              FROM complaints {where}
             ORDER BY next_deadline ASC NULLS LAST, received_at DESC, reference
             LIMIT {PAGE_SIZE} OFFSET {max(page - 1, 0) * PAGE_SIZE}""",
        *values,
    )
    return rows, total


def time_left(due: datetime | None, now: datetime) -> tuple[str, bool]:
    """« dans 3 j 4 h » or « dépassé de 2 h », and whether it is overdue."""
    if due is None:
        return "", False
    late = due < now
    seconds = abs((due - now).total_seconds())
    days, rest = divmod(int(seconds), 86400)
    hours, rest = divmod(rest, 3600)
    span = f"{days} j {hours} h" if days else (f"{hours} h {rest // 60} min" if hours else f"{rest // 60} min")
    return (f"dépassé de {span}" if late else f"dans {span}"), late
