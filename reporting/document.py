"""The report as documents people read: plain text and HTML (the quality
report, with its charts), from the Jinja2 templates
activities/templates/quality_report.fr.{txt,html}. Both print the figures of
reporting.figures, so they show the same numbers as the CSV and JSON."""

from dataclasses import dataclass, replace
from typing import TYPE_CHECKING

from jinja2 import Environment, PackageLoader, StrictUndefined

from reporting.figures import (
    DIMENSION_LABELS,
    KIND_LABELS,
    Section,
    group_label,
    moment,
    period_label,
    report_sections,
    sections,
)
from reporting.model import Group, KpiReport

if TYPE_CHECKING:
    from reporting.charts import Chart

QUALITY_REPORT_TITLE = "Rapport qualité des réclamations"
INDICATORS_TITLE = "Indicateurs des réclamations"
OVERALL_SCOPE = "all"


def _environment(autoescape: bool) -> Environment:
    return Environment(
        loader=PackageLoader("activities", "templates"),
        undefined=StrictUndefined,
        autoescape=autoescape,
        trim_blocks=True,
        lstrip_blocks=True,
        keep_trailing_newline=True,
    )


_html = _environment(autoescape=True)  # every value from the register is escaped
_text = _environment(autoescape=False)


@dataclass(frozen=True)
class Scope:
    name: str  # the CSV's scope column: "all", or the group's value
    label: str
    sections: list[Section]


def scope_name(group: Group) -> str:
    if group.key is None:
        return "(autres)"
    return group.key or "(non renseigné)"


def scopes(report: KpiReport) -> list[Scope]:
    """The whole period, then each group of the breakdown."""
    return [
        Scope(OVERALL_SCOPE, "Ensemble des réclamations de la période", sections(report.overall, report.currency)),
        *(
            Scope(scope_name(group), group_label(report, group), sections(group.indicators, report.currency))
            for group in report.groups
        ),
    ]


KEY_FIGURES = {  # path: label, for the top of the quality report
    "volumes.received": "Reçues",
    "volumes.open": "Encore ouvertes",
    "deadlines.acknowledgement.share_met": "Accusé de réception sous 10 jours",
    "deadlines.response.share_met": "Réponse dans les délais",
    "deadlines.regulatory.share_met": "Réponse dans le délai réglementaire",
    "times.acknowledgement_to_response.median_seconds": "Délai médian de réponse",
    "satisfaction.nps": "NPS",
    "actions.overdue": "Actions en retard",
}


def _context(report: KpiReport, title: str) -> dict[str, object]:
    found = scopes(report)
    whole = report_sections(report)
    figures = {f.path: f for section in [*found[0].sections, *whole] for f in section.figures}
    return {
        "title": title,
        "report": report,
        "period": period_label(report),
        "as_of": moment(report.as_of, report.timezone),
        "dimension": DIMENSION_LABELS[report.by] if report.by else None,
        "key_figures": [replace(figures[path], label=label) for path, label in KEY_FIGURES.items()],
        "scopes": found,
        "report_sections": whole,
        "actions": report.actions,
        "kind_labels": KIND_LABELS,
        "when": lambda value: moment(value, report.timezone),
    }


def render_text(report: KpiReport, title: str = INDICATORS_TITLE) -> str:
    return _text.get_template("quality_report.fr.txt").render(_context(report, title))


def render_html(report: KpiReport, title: str = INDICATORS_TITLE, drawn: "list[Chart] | None" = None) -> str:
    """A standalone HTML document (inline CSS and SVG: no script, no fetch)."""
    if drawn is None:
        from reporting.charts import charts  # matplotlib: loaded when a chart is drawn

        drawn = charts(report)
    return _html.get_template("quality_report.fr.html").render(_context(report, title), charts=drawn)
