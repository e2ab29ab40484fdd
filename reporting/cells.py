"""Text cells a spreadsheet would not take as a formula.

A spreadsheet evaluates a CSV cell beginning with =, +, - or @ (and a tab or
carriage return before one) as a formula: a product name typed on the public
form such as `=HYPERLINK(...)` would run when a manager opens the export. Such
text is prefixed with an apostrophe, which spreadsheets read as "text"
(OWASP's CSV injection advice). Numbers are left as they are: a negative
amount is a number, not a formula.

A carriage return inside a text is written as a line feed: the csv module
quotes a field holding a line feed, but not one holding a lone carriage
return, which would split the row for a reader."""

from typing import Any

FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def neutralised(value: Any) -> Any:
    """`value`, with a text that would start a formula prefixed by an apostrophe
    (and its carriage returns made line feeds)."""
    if not isinstance(value, str):
        return value
    if value.startswith(FORMULA_STARTS):
        value = "'" + value
    return value.replace("\r\n", "\n").replace("\r", "\n")


def neutralised_row(values: list[Any]) -> list[Any]:
    return [neutralised(value) for value in values]
