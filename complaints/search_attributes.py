"""The custom search attributes, one list shared by the workflow, the dev
server start and the tests. Never personal data: these are not encrypted."""

from typing import Any

from temporalio.common import SearchAttributeKey

PHASE = SearchAttributeKey.for_keyword("ComplaintPhase")
CHANNEL = SearchAttributeKey.for_keyword("ComplaintChannel")
PRIORITY = SearchAttributeKey.for_keyword("ComplaintPriority")
SLA_STATUS = SearchAttributeKey.for_keyword("ComplaintSlaStatus")
ESCALATION_LEVEL = SearchAttributeKey.for_int("ComplaintEscalationLevel")
CATEGORY = SearchAttributeKey.for_keyword("ComplaintCategory")
HANDLER = SearchAttributeKey.for_keyword("ComplaintHandler")
NEXT_DEADLINE = SearchAttributeKey.for_datetime("ComplaintNextDeadline")

ALL: list[SearchAttributeKey[Any]] = [
    PHASE,
    CHANNEL,
    PRIORITY,
    SLA_STATUS,
    ESCALATION_LEVEL,
    CATEGORY,
    HANDLER,
    NEXT_DEADLINE,
]

_CLI_TYPES = {"KEYWORD": "Keyword", "INT": "Int", "DATETIME": "Datetime"}


def cli_flags() -> list[str]:
    """`--search-attribute Name=Type` flags for `temporal server start-dev`."""
    flags: list[str] = []
    for key in ALL:
        flags += ["--search-attribute", f"{key.name}={_CLI_TYPES[key.indexed_value_type.name]}"]
    return flags
