"""The recorded histories the replay test replays, and the one converter that
reads them.

Histories are encrypted like every payload, so they need a key that outlives
the test session: this fixed key, for recorded histories only. It protects
nothing (it is in the repository) and must never be a deployment's key."""

from pathlib import Path

from complaints.settings import Settings
from complaints.temporal_client import data_converter

FOLDER = Path(__file__).parent.parent / "histories"
HISTORY_PAYLOAD_KEYS = "history-1:X8RSKN9I0+s1ym1cQsNBH6jigAZFSGOzAM0szQmEA2E="
# Also reads histories recorded before payloads were encrypted (the codec passes them through).
HISTORY_CONVERTER = data_converter(Settings(_env_file=None, payload_keys=HISTORY_PAYLOAD_KEYS))


def recorded() -> list[Path]:
    return sorted(FOLDER.glob("*.json"))
