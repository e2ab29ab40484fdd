"""One KpiReport in every output format: text, JSON, CSV and HTML.

JSON is the report itself; CSV lists every figure of reporting.figures, one
per row (raw values: seconds, ratios, amounts); text and HTML print the same
figures for people (reporting.document)."""

import csv
import io
from collections.abc import Iterator
from typing import Literal

from reporting.cells import neutralised_row
from reporting.document import INDICATORS_TITLE, OVERALL_SCOPE, render_html, render_text, scopes
from reporting.figures import Figure, report_sections
from reporting.model import KpiReport

Format = Literal["text", "json", "csv", "html"]
FORMATS: tuple[Format, ...] = ("text", "json", "csv", "html")
CSV_COLUMNS = ["group_by", "scope", "indicator", "value", "unit"]


def render(report: KpiReport, format: Format, title: str = INDICATORS_TITLE) -> str:
    if format == "json":
        return as_json(report)
    if format == "csv":
        return as_csv(report)
    if format == "html":
        return render_html(report, title)
    return render_text(report, title)


def as_json(report: KpiReport) -> str:
    return report.model_dump_json(indent=2) + "\n"


def figures(report: KpiReport) -> Iterator[tuple[str, Figure]]:
    """(scope, figure) for every figure of the report."""
    for scope in scopes(report):
        for section in scope.sections:
            for figure in section.figures:
                yield scope.name, figure
    for section in report_sections(report):
        for figure in section.figures:
            yield OVERALL_SCOPE, figure


def as_csv(report: KpiReport) -> str:
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(CSV_COLUMNS)
    for scope, figure in figures(report):
        value = "" if figure.value is None else figure.value
        writer.writerow(neutralised_row([report.by or "", scope, figure.path, value, figure.unit]))
    return out.getvalue()
