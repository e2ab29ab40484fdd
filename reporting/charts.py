"""The quality report's charts as inline SVG (matplotlib, no JavaScript):
volumes over time, deadline compliance, satisfaction, top root causes, open
actions. Each is drawn from the KpiReport the tables show, so they agree.

matplotlib's object API (no pyplot) keeps each figure to itself, so charts
can be drawn in a worker thread; text stays text in the SVG (searchable,
escaped by matplotlib), and ids are salted per chart so several charts can
share one HTML page. The same report gives the same SVG."""

import io
import re
from dataclasses import dataclass

import matplotlib
from matplotlib.axes import Axes
from matplotlib.figure import Figure
from matplotlib.ticker import MaxNLocator

from reporting.figures import DEADLINE_LABELS, bucket_label, display
from reporting.model import KpiReport

COLOURS = {
    "done": "#2a7f62",
    "open": "#e0a43a",
    "missed": "#c0392b",
    "pending": "#b8c2cc",
    "previous": "#b8c2cc",
    "current": "#35618f",
}
WIDTH, HEIGHT = 7.5, 3.2  # inches at 96 dpi: fits an A4 page and an email


@dataclass(frozen=True)
class Chart:
    name: str
    title: str
    description: str  # what the chart shows, for readers who cannot see it
    svg: str


def charts(report: KpiReport) -> list[Chart]:
    return [
        _volumes(report),
        _deadlines(report),
        _satisfaction(report),
        _root_causes(report),
        _actions(report),
    ]


def _figure(height: float = HEIGHT) -> Figure:
    figure = Figure(figsize=(WIDTH, height), dpi=96)
    figure.patch.set_alpha(0)
    return figure


def _style(axes: Axes, counts: str = "y") -> None:
    axes.spines[["top", "right"]].set_visible(False)
    axes.tick_params(labelsize=8)
    # the axis of counts: no half complaints
    (axes.yaxis if counts == "y" else axes.xaxis).set_major_locator(MaxNLocator(integer=True))


def _empty(axes: Axes, text: str = "Aucune donnée sur la période") -> None:
    axes.set_axis_off()
    axes.text(0.5, 0.5, text, ha="center", va="center", fontsize=10, color="#555")


# No date, tool or RDF block: the same report draws the same bytes, and the page fetches nothing.
_NO_METADATA = {"Date": None, "Creator": None, "Format": None, "Type": None}


def _svg(figure: Figure, name: str) -> str:
    buffer = io.StringIO()
    with matplotlib.rc_context({"svg.fonttype": "none", "svg.hashsalt": name, "font.family": "DejaVu Sans"}):
        figure.savefig(buffer, format="svg", metadata=_NO_METADATA, bbox_inches="tight")
    text = buffer.getvalue()
    text = text[text.index("<svg") :]  # inline: no XML declaration or doctype
    # ids unique in a page of several charts (matplotlib numbers them per figure)
    return re.sub(r'(\bid="|url\(#|xlink:href="#)', rf"\g<1>{name}-", text)


def _volumes(report: KpiReport) -> Chart:
    figure = _figure()
    axes = figure.add_subplot()
    _style(axes)
    points = report.series
    total = sum(point.received for point in points)
    if total:
        positions = range(len(points))
        closed = [point.received - point.open for point in points]
        axes.bar(positions, closed, color=COLOURS["done"], label="clôturées")
        axes.bar(positions, [p.open for p in points], bottom=closed, color=COLOURS["open"], label="encore ouvertes")
        step = max(1, len(points) // 12)
        axes.set_xticks(list(positions)[::step])
        axes.set_xticklabels(
            [bucket_label(p.start, report.series_unit) for p in points][::step], rotation=30, ha="right"
        )
        axes.set_ylabel("réclamations", fontsize=8)
        axes.legend(fontsize=8, frameon=False, ncols=2, loc="lower left", bbox_to_anchor=(0, 1))
    else:
        _empty(axes)
    unit = {"day": "jour", "week": "semaine", "month": "mois"}[report.series_unit]
    return Chart(
        "volumes",
        f"Réclamations reçues par {unit}",
        f"{display(total, 'count')} réclamations reçues, dont {display(report.overall.volumes.open, 'count')} "
        "encore ouvertes.",
        _svg(figure, "volumes"),
    )


def _deadlines(report: KpiReport) -> Chart:
    figure = _figure(2.6)
    axes = figure.add_subplot()
    _style(axes, counts="x")
    rows = list(report.overall.deadlines)
    if report.overall.volumes.received:
        names = [DEADLINE_LABELS[name] for name, _ in rows]
        met = [c.met for _, c in rows]
        missed = [c.missed for _, c in rows]
        pending = [c.pending for _, c in rows]
        axes.barh(names, met, color=COLOURS["done"], label="respectées")
        axes.barh(names, missed, left=met, color=COLOURS["missed"], label="manquées")
        axes.barh(
            names,
            pending,
            left=[a + b for a, b in zip(met, missed, strict=True)],
            color=COLOURS["pending"],
            label="en cours",
        )
        for y, (_, compliance) in enumerate(rows):
            axes.text(
                compliance.met + compliance.missed + compliance.pending,
                y,
                "  " + display(compliance.share_met, "share"),
                va="center",
                fontsize=8,
            )
        axes.invert_yaxis()
        axes.legend(fontsize=8, frameon=False, ncols=3, loc="upper center", bbox_to_anchor=(0.5, -0.15))
    else:
        _empty(axes)
    summary = "; ".join(f"{DEADLINE_LABELS[name]} {display(c.share_met, 'share')}" for name, c in rows)
    return Chart("deadlines", "Respect des échéances", f"Taux de respect : {summary}.", _svg(figure, "deadlines"))


def _satisfaction(report: KpiReport) -> Chart:
    s = report.overall.satisfaction
    figure = _figure()
    csat, nps = figure.subplots(1, 2)
    for axes in (csat, nps):
        _style(axes)
    if s.answered:
        csat.bar(list(s.csat_counts), list(s.csat_counts.values()), color=COLOURS["current"])
        csat.set_title(f"CSAT (moyenne {display(s.csat_mean, 'score')})", fontsize=9)
        csat.set_xlabel("note de 1 à 5", fontsize=8)
        nps.bar(
            ["détracteurs", "passifs", "promoteurs"],
            [s.detractors, s.passives, s.promoters],
            color=[COLOURS["missed"], COLOURS["pending"], COLOURS["done"]],
        )
        nps.set_title(f"NPS {display(s.nps, 'nps')}", fontsize=9)
    else:
        _empty(csat, "Aucune réponse à l'enquête")
        nps.set_axis_off()
    return Chart(
        "satisfaction",
        "Satisfaction",
        f"{display(s.answered, 'count')} réponses sur {display(s.surveyed, 'count')} enquêtes "
        f"({display(s.response_rate, 'share')}) ; "
        f"CSAT {display(s.csat_mean, 'score')}, CES {display(s.ces_mean, 'score')}, NPS {display(s.nps, 'nps')}.",
        _svg(figure, "satisfaction"),
    )


def _root_causes(report: KpiReport) -> Chart:
    causes = report.overall.root_causes
    figure = _figure(max(2.0, 0.35 * len(causes) + 1))
    axes = figure.add_subplot()
    _style(axes, counts="x")
    if causes:
        names = [cause.category for cause in causes]
        positions = range(len(causes))
        axes.barh(
            [y + 0.2 for y in positions],
            [c.previous for c in causes],
            height=0.4,
            color=COLOURS["previous"],
            label="période précédente",
        )
        axes.barh(
            [y - 0.2 for y in positions],
            [c.count for c in causes],
            height=0.4,
            color=COLOURS["current"],
            label="période",
        )
        axes.set_yticks(list(positions))
        axes.set_yticklabels(names)
        axes.invert_yaxis()
        axes.legend(fontsize=8, frameon=False)
    else:
        _empty(axes, "Aucune cause racine enregistrée")
    summary = ", ".join(f"{c.category} {c.count} ({c.change:+d})" for c in causes[:5])
    return Chart(
        "root_causes",
        "Principales causes racines",
        summary or "Aucune cause racine enregistrée.",
        _svg(figure, "root_causes"),
    )


def _actions(report: KpiReport) -> Chart:
    owners = report.actions.by_owner[:10]
    figure = _figure(max(2.0, 0.35 * len(owners) + 1))
    axes = figure.add_subplot()
    _style(axes, counts="x")
    if owners:
        names = [owner.owner for owner in owners]
        on_time = [owner.open - owner.overdue for owner in owners]
        axes.barh(names, on_time, color=COLOURS["open"], label="dans les temps")
        axes.barh(names, [o.overdue for o in owners], left=on_time, color=COLOURS["missed"], label="en retard")
        axes.invert_yaxis()
        axes.legend(fontsize=8, frameon=False)
    else:
        _empty(axes, "Aucune action ouverte")
    a = report.actions
    return Chart(
        "actions",
        "Actions ouvertes par responsable",
        f"{display(a.open, 'count')} actions ouvertes, dont {display(a.overdue, 'count')} en retard ; "
        f"{display(a.done_in_period, 'count')} terminées dans la période.",
        _svg(figure, "actions"),
    )
