"""The managers' dashboard: the figures of a period from the same KpiReport
as `complaints report` and the quality report (broken down by regime), drawn
as inline SVG bars; every figure links to the queue that lists its
complaints (the queues' URL filters: phase, regime, alert state, root cause,
receipt dates)."""

from datetime import UTC, date, datetime, timedelta
from typing import Any
from urllib.parse import urlencode
from zoneinfo import ZoneInfo

from fastapi import Depends, Request
from fastapi.responses import HTMLResponse, Response

from api.auth import Permission
from api.console import pages
from api.console.access import require, router, signed_in
from api.console.bar_charts import Bar, bar_chart
from api.console.frame import frame
from api.console.sessions import ConsoleSession
from api.services import Services, services
from reporting.figures import AGE_LABELS, PHASE_LABELS, PROCESS_LABELS, display
from reporting.kpis import kpi_report
from reporting.model import AGE_BUCKETS, OPEN_PHASES, Indicators, KpiReport
from reporting.periods import report_period

# the deadlines as a chart's labels have room for (reporting.figures.DEADLINE_LABELS says more)
DEADLINES_SHORT = {
    "acknowledgement": "accusé de réception (10 jours)",
    "assessment": "évaluation",
    "response": "réponse",
    "regulatory": "délai réglementaire (régime)",
}


def queue_link(queue: str, first: date, last: date, **filters: str) -> str:
    """The queue `queue` narrowed to the complaints received in the period (and `filters`)."""
    query = {"du": first.isoformat(), "au": last.isoformat(), **{k: v for k, v in filters.items() if v}}
    return f"/console/files/{queue}?{urlencode(query)}"


def _age_range(age: str, as_of: date, first: date, last: date) -> tuple[date, date]:
    """The receipt days of an age bucket, within the period."""
    low, high = AGE_BUCKETS[age]
    newest = as_of - timedelta(days=low)
    oldest = first if high is None else as_of - timedelta(days=high - 1)
    return max(first, oldest), min(last, newest)


def _percent(value: float | None) -> str:
    return display(value, "share")


def charts(report: KpiReport, first: date, last: date, zone: ZoneInfo) -> dict[str, Any]:
    """The dashboard's charts and figures, each with its queue."""
    o = report.overall
    as_of = report.as_of.astimezone(zone).date()
    phases = [
        Bar(PHASE_LABELS.get(p, p), n, str(n), queue_link("toutes", first, last, phase=p))
        for p in OPEN_PHASES
        if (n := o.backlog.by_phase.get(p, 0))
    ]
    ages = []
    for age in AGE_BUCKETS:
        n = o.backlog.by_age.get(age, 0)
        low, high = _age_range(age, as_of, first, last)
        ages.append(Bar(AGE_LABELS[age], n, str(n), f"/console/files/toutes?du={low}&au={high}"))
    deadlines = [
        Bar(
            DEADLINES_SHORT[name],
            (c.share_met or 0) * 100,
            f"{_percent(c.share_met)} ({c.met}/{c.met + c.missed})",
            queue_link("toutes", first, last),
        )
        for name, c in o.deadlines
    ]
    causes = [
        Bar(
            cause.category,
            cause.count,
            f"{cause.count} ({cause.change:+d})",
            queue_link("toutes", first, last, cause=cause.category),
        )
        for cause in o.root_causes
    ]
    regimes = [
        {
            "regime": group.key or "",
            "href": queue_link("toutes", first, last, regime=group.key or ""),
            "at_risk": queue_link("a-risque", first, last, regime=group.key or ""),
            "breached": queue_link("en-depassement", first, last, regime=group.key or ""),
            "indicators": group.indicators,
            "shares": {name: _percent(c.share_met) for name, c in group.indicators.deadlines},
        }
        for group in report.groups
    ]
    return {
        "backlog_phase": bar_chart("Réclamations ouvertes par phase", phases),
        "backlog_age": bar_chart("Réclamations ouvertes par ancienneté", ages),
        "deadlines_chart": bar_chart("Part des délais tenus", deadlines, "#2a7f62"),
        "causes_chart": bar_chart("Principales causes racines (écart à la période précédente)", causes, "#e0a43a"),
        "regimes": regimes,
        "satisfaction": _satisfaction(o, first, last),
    }


def _satisfaction(o: Indicators, first: date, last: date) -> list[tuple[str, str, str]]:
    s = o.satisfaction
    closed = queue_link("toutes", first, last, phase="closed")
    return [
        ("CSAT moyen (1 à 5)", display(s.csat_mean, "score"), closed),
        ("CES moyen (1 à 5)", display(s.ces_mean, "score"), closed),
        *((PROCESS_LABELS[name], display(getattr(s, f"{name}_mean"), "score"), closed) for name in PROCESS_LABELS),
        ("NPS", display(s.nps, "nps"), closed),
        ("Taux de réponse à l'enquête", f"{_percent(s.response_rate)} ({s.answered}/{s.surveyed})", closed),
        ("Réclamants récurrents", str(o.recurrence.recurring), queue_link("toutes", first, last)),
    ]


def _days(values: dict[str, str], zone: str) -> tuple[date, date] | str:
    try:
        first = date.fromisoformat(values["du"]) if values.get("du") else None
        last = date.fromisoformat(values["au"]) if values.get("au") else None
        start, end = report_period(first, last, zone)
    except ValueError:
        return "Choisissez une période valide (AAAA-MM-JJ, la fin après le début)."
    return start.date(), (end - timedelta(days=1)).date()


@router.get("/tableau", response_class=HTMLResponse)
async def dashboard(
    request: Request, session: ConsoleSession = Depends(signed_in), svc: Services = Depends(services)
) -> Response:
    require(session, Permission.READ_REPORTS)
    settings = svc.settings
    days = _days(dict(request.query_params), settings.timezone)
    if isinstance(days, str):
        return pages.page(svc, "dashboard.html", 422, **await frame(svc, session, "tableau"), error=days, report=None)
    first, last = days
    period_from, period_to = report_period(first, last, settings.timezone)
    report = await kpi_report(
        svc.pool,
        period_from,
        period_to,
        "regime",
        as_of=datetime.now(UTC),
        timezone=settings.timezone,
        currency=settings.currency,
    )
    o = report.overall
    return pages.page(
        svc,
        "dashboard.html",
        **await frame(svc, session, "tableau"),
        error=None,
        report=report,
        o=o,
        first=first,
        last=last,
        received=queue_link("toutes", first, last),
        at_risk=queue_link("a-risque", first, last),
        breached=queue_link("en-depassement", first, last),
        **charts(report, first, last, ZoneInfo(settings.timezone)),
    )
