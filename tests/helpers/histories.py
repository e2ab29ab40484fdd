"""The recorded histories the replay test replays, and the one converter that
reads them.

Histories are encrypted like every payload, so they need a key that outlives
the test session: this fixed key, for recorded histories only. It protects
nothing (it is in the repository) and must never be a deployment's key."""

import base64
import json
from pathlib import Path
from typing import Any

from complaints.settings import Settings
from complaints.temporal_client import data_converter

FOLDER = Path(__file__).parent.parent / "histories"
HISTORY_PAYLOAD_KEYS = "history-1:X8RSKN9I0+s1ym1cQsNBH6jigAZFSGOzAM0szQmEA2E="
# Also reads histories recorded before payloads were encrypted (complete_lifecycle.json), with
# the migration switch on, as a deployment that still has runs from then must run.
HISTORY_CONVERTER = data_converter(
    Settings(_env_file=None, payload_keys=HISTORY_PAYLOAD_KEYS, accept_plaintext_payloads=True)
)


def recorded() -> list[Path]:
    return sorted(FOLDER.glob("*.json"))


def load(path: Path) -> dict[str, Any]:
    history: dict[str, Any] = json.loads(path.read_text())
    return history


def patches(history: dict[str, Any]) -> set[str]:
    """The patch ids the run recorded (marker details are not encoded by the codec)."""
    found = set()
    for event in history["events"]:
        marker = event.get("markerRecordedEventAttributes")
        if marker and "patch-data" in marker.get("details", {}):
            found.add(json.loads(_decoded(marker["details"]["patch-data"]["payloads"][0]))["id"])
    return found


def search_attributes(history: dict[str, Any]) -> tuple[dict[str, str | None], list[dict[str, str | None]]]:
    """The run's search attributes at start, and each upsert of the workflow's
    own (the SDK's TemporalChangeVersion upserts left out); values as JSON text,
    None when unset. Search attributes are never encrypted."""
    events = history["events"]
    started = events[0]["workflowExecutionStartedEventAttributes"]
    upserts = []
    for event in events:
        attributes = event.get("upsertWorkflowSearchAttributesEventAttributes")
        if attributes:
            fields = _values(attributes["searchAttributes"]["indexedFields"])
            fields.pop(SDK_PATCH_ATTRIBUTE, None)
            if fields:
                upserts.append(fields)
    return _values(started.get("searchAttributes", {}).get("indexedFields", {})), upserts


SDK_PATCH_ATTRIBUTE = "TemporalChangeVersion"


def _values(fields: dict[str, Any]) -> dict[str, str | None]:
    return {name: _decoded(payload) if payload.get("data") else None for name, payload in fields.items()}


def _decoded(payload: dict[str, Any]) -> str:
    return base64.b64decode(payload["data"]).decode()
